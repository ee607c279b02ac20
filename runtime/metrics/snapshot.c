/* Reading the table: a netfw_stats snapshot of a server, summed from the
 * live workers' blocks, what ended processes left to their slots, and the
 * supervisor's own counts (forks, deaths, the relay's drops). */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "netfw/error.h"
#include "server_internal.h"

/* Gives ws a zeroed message table of m's entries, with the ids and copies
 * of the names in the same allocation. Returns false when out of memory. */
static bool messages_init(netfw_worker_stats *ws, const netfw__metrics *m) {
  size_t i, names = 0;
  char *p;

  for (i = 1; i < m->nmsg; i++)
    names += strlen(m->names[i]) + 1;
  ws->messages = calloc(1, m->nmsg * sizeof(*ws->messages) + names);
  if (ws->messages == NULL)
    return false;
  ws->nmessages = m->nmsg;
  p = (char *)(ws->messages + m->nmsg);
  for (i = 0; i < m->nmsg; i++) {
    ws->messages[i].id = m->ids[i];
    if (i == 0)
      continue;
    ws->messages[i].name = p;
    p = stpcpy(p, m->names[i]) + 1;
  }
  return true;
}

/* Adds one message entry of a block to e. */
static void add_msg(const netfw__metrics *m, netfw_msg_stats *e,
                    const netfw__mctr *c) {
  int i;

  e->received += netfw__ctr_get(&c->received);
  e->received_bytes += netfw__ctr_get(&c->received_bytes);
  e->sent += netfw__ctr_get(&c->sent);
  e->sent_bytes += netfw__ctr_get(&c->sent_bytes);
  e->malformed += netfw__ctr_get(&c->malformed);
  e->unhandled += netfw__ctr_get(&c->unhandled);
  e->handler_ns += netfw__metrics_ns(m, netfw__ctr_get(&c->handler_ticks));
  for (i = 0; i <= NETFW_STATS_BUCKETS; i++)
    e->handler_buckets[i] += netfw__ctr_get(&c->buckets[i]);
}

/* Adds block b (a live process's, or a slot's ended total) to ws. */
static void add_block(const netfw__metrics *m, netfw_worker_stats *ws,
                      const netfw__wctr *b) {
  size_t i;

  ws->accepted += netfw__ctr_get(&b->accepted);
  ws->open += netfw__ctr_get(&b->open);
  ws->output_queued += netfw__ctr_get(&b->queued);
  if (netfw__ctr_get(&b->queued_max) > ws->output_queued_max)
    ws->output_queued_max = netfw__ctr_get(&b->queued_max);
  for (i = 0; i < NETFW_REFUSE_REASON_COUNT; i++)
    ws->refused[i] += netfw__ctr_get(&b->refused[i]);
  for (i = 0; i < NETFW_CLOSE_REASON_COUNT; i++)
    ws->closed[i] += netfw__ctr_get(&b->closed[i]);
  ws->bus_published += netfw__ctr_get(&b->bus_published);
  ws->bus_delivered += netfw__ctr_get(&b->bus_delivered);
  ws->bus_dropped += netfw__ctr_get(&b->bus_dropped_out);
  for (i = 0; i < m->nmsg; i++)
    add_msg(m, &ws->messages[i], &b->msg[i]);
}

/* Adds what the supervisor counted for slot i. */
static void add_slot(const netfw__slot_ctr *c, netfw_worker_stats *ws) {
  int i;

  ws->started += c->started;
  ws->restarts += c->restarts;
  ws->bus_dropped += c->bus_dropped_in;
  for (i = 0; i < 65; i++)
    ws->died_signal[i] += c->died_signal[i];
  for (i = 0; i < 256; i++)
    ws->died_exit[i] += c->died_exit[i];
}

/* dst += src, entry by entry (the id and name stay dst's). */
static void msg_add(netfw_msg_stats *dst, const netfw_msg_stats *src) {
  int j;

  dst->received += src->received;
  dst->received_bytes += src->received_bytes;
  dst->sent += src->sent;
  dst->sent_bytes += src->sent_bytes;
  dst->malformed += src->malformed;
  dst->unhandled += src->unhandled;
  dst->handler_ns += src->handler_ns;
  for (j = 0; j <= NETFW_STATS_BUCKETS; j++)
    dst->handler_buckets[j] += src->handler_buckets[j];
}

/* Sums what is counted elsewhere in ws into dst (the total). */
static void add_worker(netfw_worker_stats *dst, const netfw_worker_stats *ws) {
  size_t i;
  int j;

  dst->accepted += ws->accepted;
  dst->open += ws->open;
  dst->output_queued += ws->output_queued;
  if (ws->output_queued_max > dst->output_queued_max)
    dst->output_queued_max = ws->output_queued_max;
  for (i = 0; i < NETFW_REFUSE_REASON_COUNT; i++)
    dst->refused[i] += ws->refused[i];
  for (i = 0; i < NETFW_CLOSE_REASON_COUNT; i++)
    dst->closed[i] += ws->closed[i];
  dst->started += ws->started;
  dst->restarts += ws->restarts;
  for (j = 0; j < 65; j++)
    dst->died_signal[j] += ws->died_signal[j];
  for (j = 0; j < 256; j++)
    dst->died_exit[j] += ws->died_exit[j];
  dst->bus_published += ws->bus_published;
  dst->bus_delivered += ws->bus_delivered;
  dst->bus_dropped += ws->bus_dropped;
  for (i = 0; i < ws->nmessages; i++)
    msg_add(&dst->messages[i], &ws->messages[i]);
}

/* ws->all: the sum of its messages. */
static void sum_all(netfw_worker_stats *ws) {
  netfw_msg_stats *a = &ws->all;
  size_t i;

  memset(a, 0, sizeof(*a));
  for (i = 0; i < ws->nmessages; i++)
    msg_add(a, &ws->messages[i]);
}

/* True when a worker serves slot i: its current one once its app's
 * create() returned, or, while that one starts (a reload), the older
 * generation it replaces until that one retires. A current worker counting
 * privately is taken at its word once forked. */
static bool slot_up(const netfw_server *s, int i) {
  netfw__proc *ps[1 + NETFW__SLOT_OLD];
  int j, n;

  if (s->slots == NULL || s->slots[i].cur == NULL)
    return false;
  if (s->slots[i].cur->ctr == NULL)
    return true;
  n = netfw__slot_procs(&s->slots[i], ps);
  for (j = 0; j < n; j++)
    if (ps[j]->ctr != NULL && netfw__ctr_get(&ps[j]->ctr->ready) != 0)
      return true;
  return false;
}

/* Fills ws with slot i's counts: its ended processes, its live ones, the
 * supervisor's. */
static void slot_stats(netfw_server *s, int i, netfw_worker_stats *ws) {
  netfw__metrics *m = s->metrics;
  netfw__proc *ps[1 + NETFW__SLOT_OLD];
  int j, n = s->slots != NULL ? netfw__slot_procs(&s->slots[i], ps) : 0;

  ws->slot = i;
  ws->up = slot_up(s, i);
  ws->pid = ws->up ? (long)s->slots[i].cur->pid : 0;
  ws->generation = ws->up ? s->slots[i].cur->gen : 0;
  add_block(m, ws, m->slots[i].ended);
  for (j = 0; j < n; j++)
    if (ps[j]->ctr != NULL)
      add_block(m, ws, ps[j]->ctr);
  add_slot(&m->slots[i], ws);
  sum_all(ws);
}

int netfw__metrics_snapshot(netfw_server *s, netfw_stats *out) {
  netfw__metrics *m = s->metrics;
  int i;

  memset(out, 0, sizeof(*out));
  out->total.slot = -1;
  out->nworkers = m->nslots;
  out->workers = calloc((size_t)m->nslots, sizeof(*out->workers));
  if (out->workers == NULL || !messages_init(&out->total, m))
    goto nomem;
  for (i = 0; i < m->nslots; i++) {
    netfw_worker_stats *ws = &out->workers[i];
    if (!messages_init(ws, m))
      goto nomem;
    slot_stats(s, i, ws);
    add_worker(&out->total, ws);
  }
  out->total.up = netfw__metrics_all_up(s);
  sum_all(&out->total);
  return 0;
nomem:
  netfw_stats_free(out);
  return NETFW_ENOMEM;
}

bool netfw__metrics_all_up(netfw_server *s) {
  int i;

  if (netfw_server_state(s) != NETFW_RUN_RUNNING)
    return false;
  for (i = 0; i < s->nworkers; i++)
    if (!slot_up(s, i))
      return false;
  return true;
}

void netfw_stats_free(netfw_stats *st) {
  int i;

  if (st == NULL)
    return;
  for (i = 0; st->workers != NULL && i < st->nworkers; i++)
    free(st->workers[i].messages);
  free(st->workers);
  free(st->total.messages);
  memset(st, 0, sizeof(*st));
}
