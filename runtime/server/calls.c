/* Calls on the server (calls.h; the rules: include/netfw/server.h, "calls:
 * answering requests"). conn.c hands each request to on_message between
 * netfw__calls_begin and netfw__calls_end, routes the sends made meanwhile
 * here, and stops reading at max_pending; this file keeps each
 * connection's reply order, holds replies given early, answers deferred
 * requests (netfw_reply_send), and ends connections whose requests go
 * unanswered.
 *
 * Cost. Without a protocol nothing here runs: conn.c tests a NULL pointer.
 * With one, a request answered in its handler costs a table lookup and a
 * ring slot (no allocation after the connection's first request); only a
 * reply given out of order is copied (into its own buffer) and copied
 * again into the output when its turn comes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calltab.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"

#define RING_MIN 4

/* A held reply streamed in pieces starts with room for this much. */
#define FILL_MIN 4096

static netfw__worker *worker_of(const netfw_conn *c) {
  return netfw__conn_worker(c);
}

/* The ring entry of seq (head_seq <= seq < next_seq). */
static netfw__call *entry(netfw__calls *k, uint64_t seq) {
  return &k->ring[(k->head + (uint32_t)(seq - k->head_seq)) & (k->cap - 1)];
}

/* The entry of seq while its reply is not out, else NULL. */
static netfw__call *find(netfw__calls *k, uint64_t seq) {
  if (seq < k->head_seq || seq >= k->next_seq)
    return NULL;
  return entry(k, seq);
}

/* "Get (id 3)" for log lines, in buf. */
static const char *request_name(const netfw__worker *w, uint16_t id, char *buf,
                                size_t len) {
  const char *name = netfw__calltab_name(w->calltab, id);

  snprintf(buf, len, "%s%s(id %u)", name, name[0] != '\0' ? " " : "", id);
  return buf;
}

/* ---- held bytes: max_output and the worker's budget ---- */

/* n more bytes held for c; may close c (over the budget): call last. */
static void held_add(netfw_conn *c, size_t n) {
  netfw__worker *w = worker_of(c);

  c->calls->held += n;
  w->sctx.mem += n;
  if (w->sctx.budget > 0 && w->sctx.mem > w->sctx.budget)
    netfw__worker_budget_check(w);
}

/* n bytes held for k's connection are released (written or dropped). */
static void held_sub(netfw__worker *w, netfw__calls *k, size_t n) {
  k->held -= n;
  w->sctx.mem -= n;
}

/* ---- the block and its ring ---- */

/* c's block, made with its number on the first request; NULL when out of
 * memory. */
static netfw__calls *calls_get(netfw_conn *c) {
  netfw__worker *w = worker_of(c);
  netfw__calls *k = c->calls;

  if (k != NULL)
    return k;
  if ((k = calloc(1, sizeof(*k))) == NULL)
    return NULL;
  if ((k->ring = calloc(RING_MIN, sizeof(*k->ring))) == NULL)
    goto failed_ring;
  k->cap = RING_MIN;
  k->conn = c;
  k->num = ++w->last_num;
  k->next_seq = k->head_seq = 1;
  if (netfw__callidx_add(&w->callidx, k) != 0)
    goto failed_index;
  c->calls = k;
  return k;
failed_index:
  free(k->ring);
failed_ring:
  free(k);
  return NULL;
}

/* Doubles the ring, oldest entry first. Returns 0 or NETFW_ENOMEM. */
static int ring_grow(netfw__calls *k) {
  netfw__call *ring;
  uint32_t i;

  if (k->cap > UINT32_MAX / 2 ||
      (ring = calloc((size_t)k->cap * 2, sizeof(*ring))) == NULL)
    return NETFW_ENOMEM;
  for (i = 0; i < k->count; i++)
    ring[i] = k->ring[(k->head + i) & (k->cap - 1)];
  free(k->ring);
  k->ring = ring;
  k->head = 0;
  k->cap *= 2;
  return 0;
}

/* Puts k in the worker's resume list (once). */
static void resume_later(netfw__worker *w, netfw__calls *k) {
  if (k->resume_queued)
    return;
  k->resume_queued = true;
  k->resume_next = w->resume;
  w->resume = k;
}

/* Takes k out of the worker's resume list (a short list: a scan). */
static void resume_unlink(netfw__worker *w, netfw__calls *k) {
  netfw__calls **pp;

  for (pp = &w->resume; *pp != NULL; pp = &(*pp)->resume_next)
    if (*pp == k) {
      *pp = k->resume_next;
      break;
    }
  k->resume_queued = false;
  k->resume_next = NULL;
}

/* The oldest request's reply is out: it leaves the ring, and a connection
 * paused at max_pending reads again (from the prepare phase). */
static void pop_head(netfw_conn *c, netfw__calls *k) {
  netfw__worker *w = worker_of(c);
  netfw__call *e = &k->ring[k->head];

  free(e->buf);
  memset(e, 0, sizeof(*e));
  k->head = (k->head + 1) & (k->cap - 1);
  k->count--;
  k->head_seq++;
  w->calls_pending--;
  if ((k->paused && !k->stopping &&
       k->count < (uint32_t)w->cfg->max_pending) ||
      (k->stopping && k->count == 0))
    resume_later(w, k); /* reads again, or ends the stopping c */
}

void netfw__calls_release(netfw_conn *c) {
  netfw__calls *k = c->calls;
  netfw__worker *w;
  uint32_t i;

  if (k == NULL)
    return;
  w = worker_of(c);
  for (i = 0; i < k->count; i++)
    free(k->ring[(k->head + i) & (k->cap - 1)].buf);
  held_sub(w, k, k->held);
  w->calls_pending -= k->count;
  netfw__callidx_del(&w->callidx, k);
  if (k->resume_queued)
    resume_unlink(w, k);
  free(k->ring);
  free(k);
  c->calls = NULL;
}

/* ---- dispatch ---- */

int netfw__calls_begin(netfw_conn *c, uint16_t id) {
  netfw__worker *w = worker_of(c);
  netfw__calls *k = calls_get(c);
  netfw__call *e;

  if (k == NULL || (k->count == k->cap && ring_grow(k) != 0))
    return NETFW_ENOMEM;
  e = &k->ring[(k->head + k->count) & (k->cap - 1)];
  memset(e, 0, sizeof(*e));
  e->id = id;
  e->arrived = uv_now(&w->loop);
  e->state = NETFW__CALL_WAITING;
  k->count++;
  k->cur_id = id;
  k->cur_seq = k->next_seq++;
  if (w->calls_pending++ == 0 && w->cfg->reply_timeout_ms > 0)
    netfw__worker_sweep_update(w); /* the reply deadline needs the sweep */
  return 0;
}

void netfw__calls_end(netfw_conn *c) {
  netfw__calls *k = c->calls;
  netfw__call *e;
  char peer[96], name[96];

  if (k == NULL) /* c stopped during on_message */
    return;
  e = find(k, k->cur_seq);
  k->cur_seq = 0;
  if (e == NULL || e->state != NETFW__CALL_WAITING)
    return; /* answered (maybe out already) or deferred */
  netfw_log_peer(NETFW_LOG_ERROR, netfw__conn_peer_name(c, peer, sizeof(peer)),
                 "request %s was neither answered nor deferred by on_message "
                 "(every later reply would wait for it); closing the "
                 "connection (unanswered)",
                 request_name(worker_of(c), e->id, name, sizeof(name)));
  netfw__conn_begin_shutdown(c, NETFW_CLOSE_UNANSWERED);
}

bool netfw__calls_full(netfw_conn *c) {
  netfw__calls *k = c->calls;

  if (!k->stopping && k->count < (uint32_t)worker_of(c)->cfg->max_pending)
    return false;
  if (!k->paused) {
    k->paused = true;
    netfw__stream_read_pause(&c->s);
  }
  return true;
}

void netfw__calls_resume_all(netfw__worker *w) {
  netfw__calls *k;

  while ((k = w->resume) != NULL) {
    w->resume = k->resume_next;
    k->resume_next = NULL;
    k->resume_queued = false;
    if (!k->stopping)
      netfw__conn_redeliver(k->conn);
    else if (k->count == 0) /* every reply is out: the stop goes on */
      netfw__conn_begin_shutdown(k->conn, NETFW_CLOSE_STOPPING);
  }
}

bool netfw__calls_stop(netfw_conn *c) {
  netfw__calls *k = c->calls;
  netfw__worker *w = worker_of(c);

  if (k == NULL || k->count == 0 || w->cfg->drain_timeout_ms <= 0)
    return false;
  k->stopping = true;
  k->stop_deadline = uv_now(&w->loop) + (uint64_t)w->cfg->drain_timeout_ms;
  if (!k->paused) {
    k->paused = true;
    netfw__stream_read_pause(&c->s);
  }
  return true;
}

/* A stopping c whose replies did not all go out within drain_timeout_ms:
 * shut down (what is unanswered is lost; logged). */
static bool stop_overdue(netfw_conn *c, uint64_t now) {
  netfw__calls *k = c->calls;
  char peer[96];

  if (!k->stopping || now < k->stop_deadline)
    return false;
  netfw_log_peer(NETFW_LOG_WARN, netfw__conn_peer_name(c, peer, sizeof(peer)),
                 "stopping: %u request%s still unanswered after "
                 "drain_timeout_ms (%d); closing the connection",
                 (unsigned)k->count, k->count == 1 ? "" : "s",
                 worker_of(c)->cfg->drain_timeout_ms);
  netfw__conn_begin_shutdown(c, NETFW_CLOSE_STOPPING);
  return true;
}

/* ---- answers ---- */

void netfw__calls_flush(netfw_conn *c) {
  netfw__worker *w = worker_of(c);
  netfw__calls *k;
  char peer[96];

  while ((k = c->calls) != NULL && k->count > 0 && c->stream_left == 0) {
    netfw__call *e = &k->ring[k->head];
    uint8_t *buf = e->buf;
    size_t len = e->len;
    int rc;
    if (e->state == NETFW__CALL_DIRECT) { /* its frame is complete */
      pop_head(c, k);
      continue;
    }
    if (e->state != NETFW__CALL_READY)
      return;
    e->buf = NULL;
    held_sub(w, k, len);
    pop_head(c, k);
    rc = netfw__stream_put(&c->s, buf, len); /* may close c (budget) */
    free(buf);
    if (rc != 0) {
      netfw_log_peer(NETFW_LOG_ERROR,
                     netfw__conn_peer_name(c, peer, sizeof(peer)),
                     "out of memory writing a held reply; closing");
      netfw__conn_close(c, NETFW_CLOSE_NOMEM);
      return;
    }
  }
}

/* Keeps the reply to seq (not the oldest, or a frame is in progress) until
 * its turn. Returns 0, NETFW_E2BIG (c closed) or NETFW_ENOMEM. */
static int hold(netfw_conn *c, uint64_t seq, uint16_t id,
                const uint8_t *payload, uint32_t size) {
  size_t len = NETFW_FRAME_HDR_SIZE + (size_t)size;
  netfw__call *e;
  uint8_t *buf;
  int rc;

  if ((rc = netfw__conn_output_check(c, len)) != 0)
    return rc;
  if ((buf = malloc(len)) == NULL)
    return NETFW_ENOMEM;
  netfw__frame_hdr_pack(buf, id, size);
  if (size > 0)
    memcpy(buf + NETFW_FRAME_HDR_SIZE, payload, size);
  e = entry(c->calls, seq);
  e->buf = buf;
  e->len = e->cap = len;
  e->state = NETFW__CALL_READY;
  netfw__conn_count_sent(c, id, size);
  held_add(c, len);
  return 0;
}

/* Answers seq with a whole frame: written now when it is the oldest and no
 * frame is in progress (then the replies held behind it follow), else
 * held. Returns 0, NETFW_E2BIG or NETFW_ENOMEM. */
static int answer(netfw_conn *c, uint64_t seq, uint16_t id,
                  const uint8_t *payload, uint32_t size) {
  int rc;

  if (seq != c->calls->head_seq || c->stream_left > 0)
    return hold(c, seq, id, payload, size);
  rc = netfw__conn_write(c, id, payload, size);
  if (rc == 0 && c->calls != NULL) {
    pop_head(c, c->calls);
    netfw__calls_flush(c);
  }
  return rc;
}

/* The current request's entry when a send of id answers it: *e set, 1;
 * 0 when id is no reply of it (a plain send); NETFW_ESTATE when it was
 * answered or deferred already. */
static int answers_current(netfw_conn *c, uint16_t id, netfw__call **e) {
  netfw__calls *k = c->calls;

  if (!netfw__calltab_answers(worker_of(c)->calltab, k->cur_id, id))
    return 0;
  *e = find(k, k->cur_seq);
  if (*e == NULL || (*e)->state != NETFW__CALL_WAITING)
    return NETFW_ESTATE;
  return 1;
}

int netfw__calls_send(netfw_conn *c, const netfw_msg *m) {
  netfw__call *e;
  int rc = answers_current(c, netfw_msg_id(m), &e);

  if (rc < 0)
    return rc;
  if (rc == 0)
    return netfw__conn_write(c, netfw_msg_id(m), netfw_msg_payload(m),
                             netfw_msg_size(m));
  return answer(c, c->calls->cur_seq, netfw_msg_id(m), netfw_msg_payload(m),
                netfw_msg_size(m));
}

/* send_begin of the current request's reply while an earlier one is not
 * out: the frame collects in the entry until complete. */
static int hold_begin(netfw_conn *c, netfw__call *e, uint16_t id,
                      uint32_t size) {
  size_t cap = NETFW_FRAME_HDR_SIZE + (size < FILL_MIN ? size : FILL_MIN);
  netfw__calls *k = c->calls;
  int rc;

  if ((rc = netfw__conn_output_check(c, NETFW_FRAME_HDR_SIZE)) != 0)
    return rc;
  if ((e->buf = malloc(cap)) == NULL)
    return NETFW_ENOMEM;
  netfw__frame_hdr_pack(e->buf, id, size);
  e->len = NETFW_FRAME_HDR_SIZE;
  e->cap = cap;
  e->state = size > 0 ? NETFW__CALL_FILLING : NETFW__CALL_READY;
  k->fill_seq = size > 0 ? k->cur_seq : 0;
  c->stream_left = size;
  netfw__conn_count_sent(c, id, size);
  held_add(c, NETFW_FRAME_HDR_SIZE);
  return 0;
}

int netfw__calls_send_begin(netfw_conn *c, uint16_t id, uint32_t size) {
  netfw__call *e;
  uint64_t seq = c->calls->cur_seq;
  int rc = answers_current(c, id, &e);

  if (rc < 0)
    return rc;
  if (rc == 0)
    return netfw__conn_write_begin(c, id, size);
  if (seq != c->calls->head_seq)
    return hold_begin(c, e, id, size);
  if ((rc = netfw__conn_write_begin(c, id, size)) != 0 || c->calls == NULL)
    return rc;
  entry(c->calls, seq)->state = NETFW__CALL_DIRECT;
  if (size == 0)
    netfw__calls_flush(c);
  return 0;
}

int netfw__calls_send_more(netfw_conn *c, const void *data, size_t len) {
  netfw__calls *k = c->calls;
  netfw__call *e = entry(k, k->fill_seq);
  size_t frame = e->len + (size_t)c->stream_left; /* the whole frame */
  int rc;

  if ((rc = netfw__conn_output_check(c, len)) != 0)
    return rc;
  if (e->len + len > e->cap) {
    size_t cap = e->cap * 2 > e->len + len ? e->cap * 2 : e->len + len;
    uint8_t *buf = realloc(e->buf, cap < frame ? cap : frame);
    if (buf == NULL) { /* half a frame is held: the stream cannot go on */
      netfw__conn_close(c, NETFW_CLOSE_NOMEM);
      return NETFW_ENOMEM;
    }
    e->buf = buf;
    e->cap = cap < frame ? cap : frame;
  }
  memcpy(e->buf + e->len, data, len);
  e->len += len;
  c->stream_left -= (uint32_t)len;
  if (c->stream_left == 0) {
    e->state = NETFW__CALL_READY;
    k->fill_seq = 0;
  }
  held_add(c, len);
  if (c->calls != NULL && c->stream_left == 0)
    netfw__calls_flush(c);
  return 0;
}

/* ---- tokens ---- */

int netfw_conn_defer(netfw_conn *c, netfw_reply *r) {
  netfw__call *e;

  if (c == NULL || r == NULL)
    return NETFW_EINVAL;
  netfw__conn_check_live(c, __func__);
  if (worker_of(c)->calltab == NULL) {
    netfw_log(NETFW_LOG_WARN, "netfw_conn_defer: the server has no protocol "
                              "(cfg->protocol is NULL), so no request to "
                              "defer: set it (<proto>_server_config_init "
                              "does)");
    return NETFW_ESTATE;
  }
  if (c->calls == NULL || c->calls->cur_seq == 0)
    return NETFW_ESTATE; /* not inside on_message for a request of c */
  e = find(c->calls, c->calls->cur_seq);
  if (e == NULL || e->state != NETFW__CALL_WAITING)
    return NETFW_ESTATE;
  e->state = NETFW__CALL_DEFERRED;
  r->conn = c->calls->num;
  r->seq = c->calls->cur_seq;
  return 0;
}

int netfw_reply_send(netfw_reply r, const netfw_msg *m) {
  netfw__worker *w = netfw__worker_self();
  netfw__calls *k;
  netfw__call *e;

  if (m == NULL)
    return NETFW_EINVAL;
  if (w == NULL)
    return NETFW_ESTATE; /* not in a worker: no such request here */
  if ((k = netfw__callidx_find(&w->callidx, r.conn)) == NULL ||
      netfw__conn_stopped(k->conn))
    return NETFW_ECLOSED;
  e = find(k, r.seq);
  if (e == NULL || e->state != NETFW__CALL_DEFERRED)
    return NETFW_ESTATE; /* answered already, or never deferred */
  if (!netfw__calltab_answers(w->calltab, e->id, netfw_msg_id(m)))
    return NETFW_EINVAL;
  return answer(k->conn, r.seq, netfw_msg_id(m), netfw_msg_payload(m),
                netfw_msg_size(m));
}

/* ---- the reply deadline ---- */

bool netfw__calls_sweep(netfw_conn *c, uint64_t now) {
  netfw__calls *k = c->calls;
  netfw__worker *w = worker_of(c);
  int bound = w->cfg->reply_timeout_ms;
  netfw__call *e;
  char peer[96], name[96];

  if (k == NULL || k->count == 0)
    return false;
  if (stop_overdue(c, now))
    return true;
  if (bound <= 0)
    return false;
  e = &k->ring[k->head]; /* the oldest; a held reply ahead of it is not */
  if ((e->state != NETFW__CALL_WAITING && e->state != NETFW__CALL_DEFERRED) ||
      now < e->arrived + (uint64_t)bound)
    return false;
  netfw_log_peer(NETFW_LOG_ERROR, netfw__conn_peer_name(c, peer, sizeof(peer)),
                 "request %s unanswered for %llu ms (reply_timeout_ms %d); "
                 "closing the connection (unanswered)",
                 request_name(w, e->id, name, sizeof(name)),
                 (unsigned long long)(now - e->arrived), bound);
  netfw__conn_begin_shutdown(c, NETFW_CLOSE_UNANSWERED);
  return true;
}

/* ---- the module ---- */

/* The worker's call table from cfg->protocol (checked by
 * netfw_config_check); none without one. 0 or a libuv error. */
static int calls_init(netfw__worker *w) {
  int rc;

  if (w->cfg->protocol == NULL)
    return 0;
  rc = netfw__calltab_new(w->cfg->protocol, &w->calltab);
  if (rc == 0)
    return 0;
  return rc == NETFW_ENOMEM ? UV_ENOMEM : UV_EINVAL;
}

/* Every connection is gone: frees the table and the index (a token used
 * after this, from destroy(), finds nothing: NETFW_ECLOSED). */
static void calls_close(netfw__worker *w) {
  netfw__calltab_free(w->calltab);
  w->calltab = NULL;
  netfw__callidx_free(&w->callidx);
}

const netfw__module netfw__calls_module = {
    .name = "calls", .init = calls_init, .close = calls_close};
