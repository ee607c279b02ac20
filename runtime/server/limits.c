/* What a worker bounds beyond single connections: the deadlines its sweep
 * timer enforces (idle, drain, reply, frame) and its memory budget.
 *
 * Memory budget. Each connection's `held` is the bytes its buffers hold
 * (received and not yet released, queued output, the write in flight:
 * c->s.held; their capacity may be up to twice that, but pages never
 * written are not resident, so bytes held track what the peer costs) and
 * the replies calls.c holds until their turn; the worker keeps the sum in
 * w->sctx.mem (the stream and calls.c update it, and call
 * netfw__worker_budget_check when the sum grew past it).
 * Per-connection limits (max_payload, max_output) bound one peer; the
 * budget bounds all of them together, so that 300 peers each announcing a
 * 16 MiB frame cannot make one worker hold 5 GiB. Over budget, the
 * connections holding the most are closed (NETFW_CLOSE_MEMORY) until the
 * rest fits: they are the ones whose loss frees the most, and a peer that
 * makes the worker hold much is the likeliest abuser. */
#include "netfw/log.h"
#include "server_internal.h"

/* Closes c when its deadline has passed: the drain bound after a shutdown,
 * the reply bound of its oldest request (calls.c), the frame bound while a
 * frame is in progress, the idle bound (a peer that sent nothing but still
 * takes queued output, or waits for replies, is not idle: the bound
 * restarts). */
static void sweep_one(netfw__worker *w, netfw_conn *c, uint64_t now) {
  char peer[96];

  if (c->flags & NETFW__C_DRAINING) {
    if (c->deadline == 0 || now < c->deadline)
      return;
    netfw_log(NETFW_LOG_DEBUG, "%s: no EOF within the drain bound; closing",
              netfw__conn_peer_name(c, peer, sizeof(peer)));
    netfw__conn_close(c, NETFW_CLOSE_PEER);
  } else if (netfw__calls_sweep(c, now)) {
    return; /* a request unanswered past reply_timeout_ms: shut down */
  } else if (c->frame_deadline != 0 && now >= c->frame_deadline) {
    netfw_log(
        NETFW_LOG_WARN, "%s: a frame was not complete within %d ms; closing",
        netfw__conn_peer_name(c, peer, sizeof(peer)), w->cfg->frame_timeout_ms);
    netfw__conn_begin_shutdown(c, NETFW_CLOSE_FRAME_TIMEOUT);
  } else if (c->deadline != 0 && now >= c->deadline) {
    size_t queued = netfw_conn_queued(c);
    if ((queued > 0 && queued != c->idle_queued) ||
        (c->calls != NULL && c->calls->count > 0)) {
      /* output still leaves (a large reply read slowly), or the peer
       * waits for replies (reply_timeout_ms bounds that): not idle */
      c->idle_queued = queued;
      c->deadline = now + (uint64_t)w->cfg->idle_timeout_ms;
      return;
    }
    netfw_log(NETFW_LOG_INFO, "%s: idle for %d ms; closing",
              netfw__conn_peer_name(c, peer, sizeof(peer)),
              w->cfg->idle_timeout_ms);
    netfw__conn_begin_shutdown(c, NETFW_CLOSE_IDLE);
  }
}

void netfw__conn_sweep(netfw__worker *w) {
  uint64_t now = uv_now(&w->loop);
  netfw_conn *c;

  for (c = w->conns; c != NULL; c = c->next)
    if (!(c->s.flags & NETFW__S_CLOSING))
      sweep_one(w, c, now);
}

/* What c holds: its buffers and its held replies (calls.h). */
static size_t holds(const netfw_conn *c) {
  return c->s.held + netfw__calls_held(c->calls);
}

/* The open connection holding the most, or NULL. O(connections): runs
 * only while the worker is over its budget. */
static netfw_conn *largest_holder(netfw__worker *w) {
  netfw_conn *c, *best = NULL;

  for (c = w->conns; c != NULL; c = c->next)
    if (!(c->s.flags & NETFW__S_CLOSING) && holds(c) > 0 &&
        (best == NULL || holds(c) > holds(best)))
      best = c;
  return best;
}

void netfw__worker_budget_check(netfw__worker *w) {
  size_t budget = w->cfg->worker_memory;
  char peer[96];

  while (budget > 0 && w->sctx.mem > budget) {
    netfw_conn *c = largest_holder(w);
    if (c == NULL)
      return;
    netfw_log(NETFW_LOG_WARN,
              "worker memory budget exceeded (%zu bytes held, budget %zu); "
              "closing %s, which holds %zu",
              w->sctx.mem, budget, netfw__conn_peer_name(c, peer, sizeof(peer)),
              holds(c));
    netfw__conn_close(c, NETFW_CLOSE_MEMORY); /* releases what it holds */
  }
}
