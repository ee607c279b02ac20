/* The async client's calls: the FIFO of requests sent and not yet
 * answered, matching replies to the oldest one (netfw/aclient.h), and the
 * deadlines.
 *
 * Deadlines share one timer, armed for the earliest one. When it fires,
 * the FIFO is scanned: O(n) in the requests in flight, once per firing,
 * and a firing happens at most once per distinct deadline that was the
 * earliest when a call was added (calls answered before their deadline
 * leave the timer armed; the scan then finds nothing and re-arms). A
 * timed-out call keeps its place as a tombstone so that its late reply is
 * recognised, dropped and counted. */
#include <stdlib.h>

#include "aclient.h"
#include "netfw/error.h"

#define NO_DEADLINE UINT64_MAX

static void on_deadline(uv_timer_t *t);

/* Arms the timer for deadline when nothing earlier is armed. */
static void arm(netfw_aclient *a, uint64_t deadline) {
  uint64_t now = uv_now(a->loop);

  if (a->armed != 0 && a->armed <= deadline)
    return;
  a->armed = deadline;
  uv_timer_start(&a->deadline_timer, on_deadline,
                 deadline > now ? deadline - now : 0, 0);
}

int netfw__acalls_push(netfw_aclient *a, uint16_t req_id, int timeout_ms,
                       netfw_call_cb cb, void *arg) {
  netfw__acall *c = malloc(sizeof(*c));

  if (c == NULL)
    return NETFW_ENOMEM;
  c->next = c->xnext = NULL;
  c->cb = cb;
  c->arg = arg;
  c->req_id = req_id;
  c->kind = cb != NULL ? NETFW__AC_CALL : NETFW__AC_SEND;
  c->deadline = NO_DEADLINE;
  if (cb != NULL && timeout_ms > 0) {
    /* The loop's time is that of the iteration's start; a callback that
     * ran long would make the deadline early. */
    uv_update_time(a->loop);
    c->deadline = uv_now(a->loop) + (uint64_t)timeout_ms;
    a->ntimed++;
    arm(a, c->deadline);
  }
  if (a->tail != NULL)
    a->tail->next = c;
  else
    a->head = c;
  a->tail = c;
  netfw__aconn_hold(a);
  return 0;
}

/* Unlinks and returns the head (NULL when empty). */
static netfw__acall *pop_head(netfw_aclient *a) {
  netfw__acall *c = a->head;

  if (c == NULL)
    return NULL;
  a->head = c->next;
  if (a->head == NULL)
    a->tail = NULL;
  if (c->kind == NETFW__AC_CALL && c->deadline != NO_DEADLINE)
    a->ntimed--;
  return c;
}

void netfw__acalls_pop_tail(netfw_aclient *a) {
  netfw__acall *c = a->tail, *p;

  if (c == NULL)
    return;
  if (a->head == c) {
    a->head = a->tail = NULL;
  } else {
    for (p = a->head; p->next != c; p = p->next)
      ;
    p->next = NULL;
    a->tail = p;
  }
  if (c->kind == NETFW__AC_CALL && c->deadline != NO_DEADLINE)
    a->ntimed--;
  free(c);
  netfw__aconn_hold(a);
}

/* Marks the calls past their deadline as tombstones and chains them;
 * re-arms for the earliest deadline left. */
static netfw__acall *collect_expired(netfw_aclient *a) {
  uint64_t now = uv_now(a->loop), next = NO_DEADLINE;
  netfw__acall *c, *chain = NULL, **tailp = &chain;

  for (c = a->head; c != NULL; c = c->next) {
    if (c->kind != NETFW__AC_CALL || c->deadline == NO_DEADLINE)
      continue;
    if (c->deadline <= now) {
      c->kind = NETFW__AC_LATE;
      a->ntimed--;
      c->xnext = NULL;
      *tailp = c;
      tailp = &c->xnext;
    } else if (c->deadline < next)
      next = c->deadline;
  }
  a->armed = 0;
  if (next != NO_DEADLINE)
    arm(a, next);
  return chain;
}

/* Ends the expired calls with NETFW_ETIMEDOUT. A callback may close the
 * client (the tombstones stay until the loop frees them) or call again
 * (appended behind them). */
static void on_deadline(uv_timer_t *t) {
  netfw_aclient *a = t->data;
  netfw__acall *c = collect_expired(a), *next;

  for (; c != NULL; c = next) {
    next = c->xnext;
    c->cb(c->arg, NETFW_ETIMEDOUT, NULL);
  }
}

/* Hands m to on_push. */
static void push(netfw_aclient *a, netfw_msg *m) {
  a->pushes++;
  if (a->cfg.on_push != NULL)
    a->cfg.on_push(a->cfg.user, m);
}

int netfw__acalls_deliver(netfw_aclient *a, netfw_msg *m) {
  uint16_t id = netfw_msg_id(m);
  netfw__acall *c;
  int rc = 0;

  if (a->tab == NULL || !netfw__calltab_is_reply(a->tab, id) ||
      a->head == NULL) {
    push(a, m);
    return 0;
  }
  c = pop_head(a);
  if (c->kind == NETFW__AC_SEND)
    push(a, m);
  else if (c->kind == NETFW__AC_LATE)
    a->late_replies++;
  else if (netfw__calltab_answers(a->tab, c->req_id, id))
    c->cb(c->arg, 0, m);
  else {
    a->bad_req = c->req_id;
    c->cb(c->arg, NETFW_EPROTO, NULL);
    rc = NETFW_EPROTO;
  }
  free(c);
  if (a->ntimed == 0 && a->armed != 0) {
    uv_timer_stop(&a->deadline_timer);
    a->armed = 0;
  }
  netfw__aconn_hold(a);
  return rc;
}

void netfw__acalls_fail_all(netfw_aclient *a, int err) {
  netfw__acall *c = a->head, *next;

  a->head = a->tail = NULL;
  a->ntimed = 0;
  a->armed = 0;
  uv_timer_stop(&a->deadline_timer);
  netfw__aconn_hold(a);
  for (; c != NULL; c = next) {
    next = c->next;
    if (c->kind == NETFW__AC_CALL)
      c->cb(c->arg, err, NULL);
    free(c);
  }
}
