/* The client's FIFO of pending requests (calls.h), and the call itself:
 * netfw_client_call queues its request with an entry under the lock that
 * orders the output buffer, then waits for the I/O thread to finish the
 * entry (io.c matches replies, netfw__client_route). */
#include "calls.h"

#include <errno.h>
#include <sched.h>

#include <uv.h>
#include <stdio.h>
#include <stdlib.h>

#include "calltab.h"
#include "client_internal.h"
#include "clock.h"
#include "netfw/error.h"

netfw__call *netfw__call_new(uint16_t req, bool wait) {
  netfw__call *k = calloc(1, sizeof(*k));

  if (k == NULL)
    return NULL;
  k->req = req;
  k->kind = wait ? NETFW__CALL_WAIT : NETFW__CALL_SEND;
  if (wait && netfw__cond_init_monotonic(&k->cv) != 0) {
    free(k);
    return NULL;
  }
  return k;
}

void netfw__call_free(netfw__call *k) {
  if (k == NULL)
    return;
  netfw_msg_free(k->reply);
  if (k->kind != NETFW__CALL_SEND) /* WAIT or ABANDONED: it has a cv */
    pthread_cond_destroy(&k->cv);
  free(k);
}

void netfw__call_finish(netfw__call *k, int rc, netfw_msg *reply) {
  if (k->kind != NETFW__CALL_WAIT) {
    netfw_msg_free(reply);
    netfw__call_free(k);
    return;
  }
  k->done = true;
  k->rc = rc;
  k->reply = reply;
  k->next = NULL;
  pthread_cond_signal(&k->cv);
}

void netfw__calls_init(netfw__calls *q) {
  q->head = NULL;
  q->tail = &q->head;
}

void netfw__calls_push(netfw__calls *q, netfw__call *k) {
  k->next = NULL;
  *q->tail = k;
  q->tail = &k->next;
}

netfw__call *netfw__calls_pop(netfw__calls *q) {
  netfw__call *k = q->head;

  if (k == NULL)
    return NULL;
  q->head = k->next;
  if (q->head == NULL)
    q->tail = &q->head;
  return k;
}

void netfw__calls_fail_all(netfw__calls *q, int rc) {
  netfw__call *k;

  while ((k = netfw__calls_pop(q)) != NULL)
    netfw__call_finish(k, rc, NULL);
}

int netfw__client_route(netfw_client *c, netfw_msg *m, char *why,
                        size_t whylen) {
  netfw__call *k = c->calls.head;
  uint16_t id = netfw_msg_id(m);

  if (c->calltab == NULL || k == NULL ||
      !netfw__calltab_is_reply(c->calltab, id))
    return NETFW__ROUTE_INBOX;
  (void)netfw__calls_pop(&c->calls);
  if (!netfw__calltab_answers(c->calltab, k->req, id)) {
    snprintf(why, whylen,
             "dropped by this client: the server answered %s (id %u) with "
             "%s (id %u), which is not one of its replies",
             netfw__calltab_name(c->calltab, k->req), (unsigned)k->req,
             netfw__calltab_name(c->calltab, id), (unsigned)id);
    netfw_msg_free(m);
    netfw__call_finish(k, NETFW_EPROTO, NULL);
    return NETFW__ROUTE_MISMATCH;
  }
  if (k->kind == NETFW__CALL_SEND) {
    netfw__call_free(k);
    return NETFW__ROUTE_INBOX;
  }
  if (k->kind == NETFW__CALL_ABANDONED) {
    c->late_replies++;
    netfw_msg_free(m);
    netfw__call_free(k);
    return NETFW__ROUTE_TAKEN;
  }
  netfw__call_finish(k, 0, m);
  return NETFW__ROUTE_CALL;
}

int netfw_client_set_protocol(netfw_client *c, const netfw_desc *d) {
  netfw__calltab *t = NULL;
  int rc;

  if (c == NULL)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  if (d != NULL && (rc = netfw__calltab_new(d, &t)) != 0)
    return rc;
  netfw__calltab_free(c->calltab);
  c->calltab = t;
  return 0;
}

uint64_t netfw_client_late_replies(const netfw_client *c) {
  netfw_client *m = (netfw_client *)(uintptr_t)c; /* for the lock */
  uint64_t n;

  if (c == NULL)
    return 0;
  pthread_mutex_lock(&m->lock);
  n = m->late_replies;
  pthread_mutex_unlock(&m->lock);
  return n;
}

/* Waiting awake for the reply first. The reply of a call on loopback or a
 * LAN comes within tens of microseconds; sleeping on the condition for it
 * costs the I/O thread a futex wake and this thread a scheduler round trip
 * on top of the network's. So while recent calls came back within
 * CALL_SPIN_NS (c->call_ns, a moving average of their round trips), the
 * caller, lock released, watches k->done for at most that long, yielding
 * the core each time, before it sleeps: as the I/O thread waits awake for
 * the next send (io.c), bounded the same way. Against a slower server the
 * average rises past the bound and calls sleep at once. */
#define CALL_SPIN_NS 100000
static void spin_for_reply(netfw_client *c, netfw__call *k) {
  uint64_t end = uv_hrtime() + CALL_SPIN_NS;

  if (atomic_load_explicit(&c->call_ns, memory_order_relaxed) > CALL_SPIN_NS)
    return;
  pthread_mutex_unlock(&c->lock);
  while (!atomic_load_explicit(&k->done, memory_order_acquire) &&
         uv_hrtime() < end)
    sched_yield();
  pthread_mutex_lock(&c->lock);
}

/* Folds one call's round trip into c->call_ns (weight 1/8). */
static void note_round_trip(netfw_client *c, uint64_t ns) {
  uint64_t avg = atomic_load_explicit(&c->call_ns, memory_order_relaxed);

  atomic_store_explicit(&c->call_ns, avg - avg / 8 + ns / 8,
                        memory_order_relaxed);
}

/* Waits (lock held) until the I/O thread finishes k or the deadline
 * (NULL: none) passes; at the deadline k is abandoned in the FIFO.
 * Returns 0 or the code the call returns. */
static int wait_call(netfw_client *c, netfw__call *k,
                     const struct timespec *deadline) {
  bool expired = false;

  spin_for_reply(c, k);
  for (;;) {
    if (k->done)
      return k->rc;
    if (expired) {
      k->kind = NETFW__CALL_ABANDONED; /* the FIFO frees it */
      return NETFW_ETIMEDOUT;
    }
    if (deadline == NULL)
      pthread_cond_wait(&k->cv, &c->lock);
    else if (pthread_cond_timedwait(&k->cv, &c->lock, deadline) == ETIMEDOUT)
      expired = true; /* look once more: the reply may have come */
  }
}

int netfw_client_call(netfw_client *c, const netfw_msg *req, netfw_msg **reply,
                      int timeout_ms) {
  struct timespec deadline;
  uint64_t start;
  netfw__call *k;
  bool owned;
  int rc;

  if (reply != NULL)
    *reply = NULL;
  if (c == NULL || req == NULL || reply == NULL || timeout_ms < -1 ||
      timeout_ms == 0) /* a call always waits: 0 is refused, as by aclient */
    return NETFW_EINVAL;
  if (c->calltab == NULL)
    return NETFW_ESTATE;
  if (!netfw__calltab_is_request(c->calltab, netfw_msg_id(req)))
    return NETFW_EINVAL;
  if ((k = netfw__call_new(netfw_msg_id(req), true)) == NULL)
    return NETFW_ENOMEM;
  if (timeout_ms >= 0)
    netfw__deadline_after(&deadline, timeout_ms);
  start = uv_hrtime();
  pthread_mutex_lock(&c->lock);
  rc = netfw__client_queue(c, req, k);
  if (rc == 0)
    rc = wait_call(c, k, timeout_ms >= 0 ? &deadline : NULL);
  if (rc == 0 || rc == NETFW_ETIMEDOUT)
    note_round_trip(c, uv_hrtime() - start);
  owned = rc != NETFW_ETIMEDOUT || k->done; /* else the FIFO owns k */
  pthread_mutex_unlock(&c->lock);
  if (rc == 0) {
    *reply = k->reply;
    k->reply = NULL;
  }
  if (owned)
    netfw__call_free(k);
  return rc;
}
