/* A connection inside a worker: the app-facing side of a stream
 * (runtime/stream), which does the bytes (framing, coalesced writes, FIN and
 * drain, loss). Here: on_client_connect once the transport is established,
 * frames handed to on_message in place (a request, with a protocol,
 * between calls.c's begin and end, and no further than max_pending), close
 * reasons, deadlines, and the worker's bookkeeping (connection list,
 * draining count, memory budget through the stream's accounting). The send
 * calls are in output.c.
 *
 * Lifetime. A connection is freed only in the stream's closed callback,
 * which libuv runs in a later phase of the loop iteration, never inside the
 * call that closes it: a connection closed from inside one of the app's
 * callbacks therefore stays valid until that callback has returned. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "calltab.h"
#include "message_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"
#include "proxy.h"
#include "tls.h"

/* close_reason before any cause is known. */
#define REASON_UNSET 0xff

static netfw_conn *conn_of(const netfw__stream *s) {
  return (netfw_conn *)(void *)((char *)(uintptr_t)s - offsetof(netfw_conn, s));
}

static netfw__worker *worker_of(const netfw_conn *c) {
  return netfw__conn_worker(c);
}

/* No more input is delivered and no more output is taken. */
static bool stopped(const netfw_conn *c) {
  return netfw__conn_stopped(c);
}

/* "ip:port" of the peer, for log lines. */
const char *netfw__conn_peer_name(const netfw_conn *c, char *buf, size_t len) {
  char ip[64];
  uint16_t port;

  if (netfw_conn_addr(c, ip, sizeof(ip), &port) != 0)
    return "unknown peer";
  snprintf(buf, len, "%s:%u", ip, port);
  return buf;
}

/* Stops the process when the app uses a connection after its
 * on_client_closed: going on would corrupt memory that is no longer the
 * connection's. Best effort (the memory may be reused by then); ASan and
 * debug builds' poisoning catch the rest. */
void netfw__conn_check_live(const netfw_conn *c, const char *func) {
  if (c->magic == NETFW__CONN_MAGIC)
    return;
  netfw_log(NETFW_LOG_ERROR,
            "%s: connection %p used after on_client_closed; aborting", func,
            (const void *)c);
  abort();
}

/* ---- closing ---- */

/* Marks a connection about to be freed as dead, so that a handle the app
 * kept past on_client_closed is caught by check_live() (debug builds also
 * fill the whole struct, to make stray reads obvious). */
static void poison(netfw_conn *c) {
#ifndef NDEBUG
  memset(c, 0xdb, sizeof(*c));
#endif
  c->magic = 0;
}

/* Why c, never the app's (or refused by it), ended. */
static netfw_refuse_reason refuse_reason(const netfw_conn *c) {
  if (c->flags & NETFW__C_REFUSED)
    return NETFW_REFUSE_APP;
  switch (c->close_reason) {
  case NETFW_CLOSE_NOMEM:
  case NETFW_CLOSE_MEMORY:
    return NETFW_REFUSE_NOMEM;
  case NETFW_CLOSE_STOPPING:
    return NETFW_REFUSE_STOPPING;
  case NETFW_CLOSE_IDLE: /* only a TLS or PROXY preamble can stall so */
    return NETFW_REFUSE_HANDSHAKE;
  default:
    return (c->flags & NETFW__C_FAILED) ? NETFW_REFUSE_HANDSHAKE
                                        : NETFW_REFUSE_LOST;
  }
}

/* Counts the end of c: a close of the app's connection, or a refusal. */
static void count_end(netfw__worker *w, const netfw_conn *c,
                      netfw_close_reason why) {
  if (c->flags & NETFW__C_OWNED) {
    netfw__ctr_add(&w->ctr->closed[why], 1);
    netfw__ctr_set(&w->ctr->open, netfw__ctr_get(&w->ctr->open) - 1);
  } else {
    netfw__ctr_add(&w->ctr->refused[refuse_reason(c)], 1);
  }
}

/* The stream is closed and its buffers are released: the last word. */
static void on_closed(netfw__stream *s) {
  netfw_conn *c = conn_of(s);
  netfw__worker *w = worker_of(c);
  netfw_close_reason why = c->close_reason == REASON_UNSET
                               ? NETFW_CLOSE_RESET
                               : (netfw_close_reason)c->close_reason;

  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  if (c->flags & NETFW__C_DRAINING)
    w->ndraining--;
  count_end(w, c, why);
  netfw__calls_release(c); /* normally gone already, when it stopped */
  if ((c->flags & NETFW__C_OWNED) && w->cfg->app->on_client_closed != NULL) {
    c->flags &= ~(uint32_t)NETFW__C_OWNED;
    w->cfg->app->on_client_closed(w->app, c, why);
  }
  poison(c);
  free(c);
  netfw__worker_conn_gone(w);
}

/* Keeps the first reason decided for the end of c. */
static void set_reason(netfw_conn *c, netfw_close_reason why) {
  if (c->close_reason == REASON_UNSET)
    c->close_reason = (uint8_t)why;
}

/* Counts c among the draining connections (once), with a drain deadline
 * from now when the configuration bounds the drain. */
static void start_draining(netfw_conn *c) {
  netfw__worker *w = worker_of(c);

  if (!(c->flags & NETFW__C_DRAINING)) {
    c->flags |= NETFW__C_DRAINING;
    w->ndraining++;
  }
  c->deadline = w->cfg->drain_timeout_ms > 0
                    ? uv_now(&w->loop) + (uint64_t)w->cfg->drain_timeout_ms
                    : 0;
}

/* Closes now, whatever is queued; on_client_closed follows from on_closed. */
void netfw__conn_close(netfw_conn *c, netfw_close_reason why) {
  set_reason(c, why);
  netfw__stream_close(&c->s, false);
  netfw__calls_release(c);
}

/* Server-side graceful close: flush, shutdown(SHUT_WR), discard what the peer
 * still sends until its EOF or the drain deadline, close. */
void netfw__conn_begin_shutdown(netfw_conn *c, netfw_close_reason why) {
  netfw__worker *w = worker_of(c);

  set_reason(c, why);
  c->flags &= ~(uint32_t)NETFW__C_ACCEPTED;
  start_draining(c);
  c->frame_deadline = 0;
  netfw__stream_fin(&c->s, w->cfg->drain_timeout_ms != 0);
  netfw__calls_release(c);
  netfw__worker_sweep_update(w);
}

/* The peer closed (status UV_EOF), the connection failed, or the stream ran
 * out of memory. The stream then closes, or lingers to flush what is queued
 * for a half-closed peer, or finishes a shutdown in progress. */
static void on_lost(netfw__stream *s, int status) {
  netfw_conn *c = conn_of(s);
  netfw__worker *w = worker_of(c);
  bool notify = (c->flags & NETFW__C_ACCEPTED) != 0;
  char peer[96];

  if (status == UV_ENOBUFS || status == UV_ENOMEM) {
    if (status == UV_ENOBUFS)
      netfw_log(NETFW_LOG_ERROR, "out of memory reading from %s; closing",
                netfw__conn_peer_name(c, peer, sizeof(peer)));
    else
      netfw_log(NETFW_LOG_ERROR, "out of memory writing; closing a connection");
    netfw__conn_close(c, NETFW_CLOSE_NOMEM);
    return;
  }
  set_reason(c, status == UV_EOF ? NETFW_CLOSE_PEER : NETFW_CLOSE_RESET);
  netfw__calls_release(c); /* no reply can reach the peer any more */
  if (status == UV_EPROTO || status == UV_ETIMEDOUT)
    c->flags |= NETFW__C_FAILED; /* counts only before it is established */
  if (c->s.flags & NETFW__S_FIN)
    return; /* a shutdown of ours is in progress: the stream finishes it */
  c->flags &= ~(uint32_t)NETFW__C_ACCEPTED;
  start_draining(c);
  if (notify && w->cfg->app->on_client_disconnect != NULL)
    w->cfg->app->on_client_disconnect(w->app, c);
  if (status == UV_EOF && netfw__stream_has_output(&c->s))
    netfw__worker_sweep_update(w); /* lingers within the drain bound */
}

/* A queued write completed: progress. A draining connection's bound
 * restarts; so does the idle bound (a peer still taking a large reply is
 * not idle, and gets a whole idle period once it has all of it). */
static void on_written(netfw__stream *s) {
  netfw_conn *c = conn_of(s);
  netfw__worker *w = worker_of(c);

  if ((c->flags & NETFW__C_DRAINING) && c->deadline != 0)
    c->deadline = uv_now(&w->loop) + (uint64_t)w->cfg->drain_timeout_ms;
  else if (!(c->flags & NETFW__C_DRAINING) && w->cfg->idle_timeout_ms > 0)
    c->deadline = uv_now(&w->loop) + (uint64_t)w->cfg->idle_timeout_ms;
}

void netfw__conn_flush_all(netfw__worker *w) {
  netfw__stream_ctx_flush(&w->sctx);
}

/* ---- input ---- */

static void refuse_oversized(netfw_conn *c) {
  const netfw_framebuf *in = &c->s.in;
  char peer[96];
  uint16_t id;
  uint32_t size;

  netfw__frame_hdr_unpack(in->base + in->start, &id, &size);
  netfw_log_peer(NETFW_LOG_WARN, netfw__conn_peer_name(c, peer, sizeof(peer)),
                 "frame id %u announces %u bytes, over max_payload (%u); "
                 "closing the connection",
                 id, size, in->max_payload);
  /* Always a graceful close: replies the app queued for the frames before
   * the bad header still leave, and the drain keeps the unread payload
   * from turning the close into a reset, so the peer's client sees an
   * orderly close by the server (NETFW_ECLOSED from netfw_client_loss),
   * not a network failure. The drain is bounded by drain_timeout_ms. */
  netfw__conn_begin_shutdown(c, NETFW_CLOSE_PROTOCOL);
}

/* on_message for a request (with a protocol): it takes its place in c's
 * reply order first, and is checked for an answer after. */
static void dispatch_request(netfw_conn *c, netfw_owned_msg *om) {
  netfw__worker *w = worker_of(c);
  char peer[96];

  if (netfw__calls_begin(c, netfw_msg_id(om->msg)) != 0) {
    netfw_log_peer(NETFW_LOG_ERROR,
                   netfw__conn_peer_name(c, peer, sizeof(peer)),
                   "out of memory tracking a request; closing");
    netfw__conn_close(c, NETFW_CLOSE_NOMEM);
    return;
  }
  w->cfg->app->on_message(w->app, om);
  netfw__calls_end(c);
}

/* Hands every complete frame in the read buffer to on_message, in place
 * (the stream keeps the buffer while this runs), stopping early when c
 * holds max_pending requests (calls.h). Returns how many it handed over. */
static unsigned deliver(netfw_conn *c) {
  netfw__worker *w = worker_of(c);
  netfw__run run; /* the statistics: frames of one id in a row */
  netfw_frame f;
  unsigned n = 0;
  int r;

  netfw__run_begin(w->metrics, &run);
  while (!stopped(c)) {
    netfw_msg m;
    netfw_owned_msg om;
    if (c->calls != NULL && netfw__calls_full(c))
      break;
    r = netfw__stream_next(&c->s, &f);
    if (r == 0)
      break;
    if (r < 0) {
      refuse_oversized(c);
      break;
    }
    netfw__run_add(w->metrics, w->ctr, &run, f.id,
                   NETFW_FRAME_HDR_SIZE + (size_t)f.size);
    netfw__msg_borrow(&m, f.id, f.payload, f.size);
    om.owner = c;
    om.msg = &m;
    if (w->calltab != NULL && netfw__calltab_is_request(w->calltab, f.id))
      dispatch_request(c, &om);
    else
      w->cfg->app->on_message(w->app, &om);
    netfw_msg_release(&m); /* frees a copy the app's appends made */
    n++;
  }
  netfw__run_flush(w->metrics, w->ctr, &run);
  return n;
}

/* Starts the frame bound when a frame is left in progress (a new one, or
 * the first bytes of one), ends it when nothing is pending or when reading
 * is paused at max_pending (the peer is not the one late then). */
static void frame_clock(netfw_conn *c, unsigned delivered) {
  netfw__worker *w = worker_of(c);
  int bound = w->cfg->frame_timeout_ms;

  if (bound <= 0 || stopped(c) || netfw__framebuf_pending(&c->s.in) == 0 ||
      (c->calls != NULL && c->calls->paused)) {
    c->frame_deadline = 0;
    return;
  }
  if (delivered > 0 || c->frame_deadline == 0)
    c->frame_deadline = uv_now(&w->loop) + (uint64_t)bound;
}

static void on_readable(netfw__stream *s) {
  netfw_conn *c = conn_of(s);
  netfw__worker *w = worker_of(c);

  if (w->cfg->idle_timeout_ms > 0)
    c->deadline = uv_now(&w->loop) + (uint64_t)w->cfg->idle_timeout_ms;
  frame_clock(c, deliver(c));
}

/* Gives the read buffer back to the worker's cache once nothing in it is
 * pending (or once c stopped: what is left is dropped), as the stream does
 * after its own reads: an idle connection holds no read buffer. */
static void release_input(netfw_conn *c) {
  netfw_framebuf *in = &c->s.in;

  if (stopped(c))
    in->start = in->end;
  if (in->base == NULL || netfw__framebuf_pending(in) != 0)
    return;
  netfw__stream_buf_give(c->s.ctx, in->base, in->cap);
  in->base = NULL;
  in->start = in->end = in->cap = 0;
  netfw__stream_account(&c->s);
}

/* Outside the stream's read callback, so the stream's DELIVERING flag is
 * set here for the same reason it sets it: a close from inside on_message
 * must leave the frame being handed over in place. */
void netfw__conn_redeliver(netfw_conn *c) {
  unsigned n;

  if (stopped(c) || c->calls == NULL)
    return;
  c->s.flags |= NETFW__S_DELIVERING;
  n = deliver(c);
  c->s.flags &= ~(uint32_t)NETFW__S_DELIVERING;
  release_input(c);
  if (!stopped(c) && c->calls != NULL && c->calls->paused &&
      c->calls->count < (uint32_t)worker_of(c)->cfg->max_pending) {
    c->calls->paused = false;
    if (netfw__stream_read_resume(&c->s) != 0) {
      netfw__conn_close(c, NETFW_CLOSE_RESET);
      return;
    }
  }
  frame_clock(c, n);
}

/* ---- worker-facing ---- */

/* The transport is up (plain TCP: right after the accept): ask the app,
 * then read. */
static void on_established(netfw__stream *s) {
  netfw_conn *c = conn_of(s);
  netfw__worker *w = worker_of(c);
  const netfw_app *app = w->cfg->app;
  struct sockaddr_storage ss;
  bool ok;

  if (netfw__stream_peer(s, &ss) == 0)
    memcpy(&c->peer, &ss, sizeof(c->peer));
  else
    c->peer.sa.sa_family = AF_UNSPEC;
  ok = app->on_client_connect == NULL || app->on_client_connect(w->app, c);
  if (ok) { /* on_client_closed is owed from now on, even if the callback's */
    c->flags |= NETFW__C_OWNED; /* own sends already closed it            */
    netfw__ctr_set(&w->ctr->open, netfw__ctr_get(&w->ctr->open) + 1);
  } else {
    c->flags |= NETFW__C_REFUSED;
  }
  if (c->s.flags & NETFW__S_CLOSING)
    return;
  if (ok && !(c->s.flags & NETFW__S_FIN))
    c->flags |= NETFW__C_ACCEPTED;
  else if (!(c->s.flags & NETFW__S_FIN))
    netfw__conn_begin_shutdown(
        c,
        NETFW_CLOSE_SHUTDOWN); /* refused: deliver what it sent, then close */
  if (netfw__stream_read_start(s) != 0)
    netfw__conn_close(c, NETFW_CLOSE_RESET);
  netfw__worker_sweep_update(w);
}

static const netfw__stream_events conn_events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .written = on_written,
    .closed = on_closed,
};

static void over_budget(netfw__stream_ctx *ctx) {
  netfw__worker_budget_check(
      (netfw__worker *)(void *)((char *)ctx - offsetof(netfw__worker, sctx)));
}

void netfw__conn_setup(netfw__worker *w) {
  netfw__stream_ctx_init(&w->sctx, &w->loop, &conn_events, NETFW__BUF_CACHE);
  w->sctx.budget = w->cfg->worker_memory;
  w->sctx.over_budget = over_budget;
}

void netfw__conn_accept(netfw__worker *w, int fd) {
  netfw_conn *c = calloc(1, sizeof(*c));

  netfw__ctr_add(&w->ctr->accepted, 1);
  if (c == NULL ||
      netfw__stream_init(&c->s, &w->sctx, w->cfg->max_payload) != 0) {
    netfw__ctr_add(&w->ctr->refused[NETFW_REFUSE_NOMEM], 1);
    netfw_log(NETFW_LOG_ERROR, "out of memory accepting a connection");
    free(c);
    close(fd);
    return;
  }
  c->magic = NETFW__CONN_MAGIC;
  c->close_reason = REASON_UNSET;
  c->next = w->conns;
  if (w->conns != NULL)
    w->conns->prev = c;
  w->conns = c;
  w->nconns++;
  atomic_store(&netfw__worker_load(w)->conns, w->nconns);
  if (netfw__stream_open(&c->s, fd) != 0) {
    close(fd);
    netfw__conn_close(c, NETFW_CLOSE_RESET);
    return;
  }
  if ((w->proxy != NULL && netfw__proxy_wrap(&c->s, w->proxy) != 0) ||
      (w->tls != NULL && netfw__tls_wrap(&c->s, w->tls, NULL) != 0)) {
    netfw_log(NETFW_LOG_ERROR, "out of memory accepting a connection");
    netfw__conn_close(c, NETFW_CLOSE_NOMEM);
    return;
  }
  if (w->cfg->idle_timeout_ms > 0) {
    /* The loop's cached time is from before this iteration's callbacks: on
     * a busy loop it can be far enough behind to close a new connection
     * before it was idle for idle_timeout_ms. One clock read per accept. */
    uv_update_time(&w->loop);
    c->deadline = uv_now(&w->loop) + (uint64_t)w->cfg->idle_timeout_ms;
  }
  netfw__stream_start(&c->s); /* on_established follows */
}

void netfw__conn_shutdown_all(netfw__worker *w) {
  netfw_conn *c;

  for (c = w->conns; c != NULL; c = c->next)
    if (!stopped(c) && !netfw__calls_stop(c)) /* else: once answered */
      netfw__conn_begin_shutdown(c, NETFW_CLOSE_STOPPING);
  netfw__worker_sweep_update(w); /* bounds the wait for replies */
}

/* ---- public ---- */

uv_loop_t *netfw_conn_loop(const netfw_conn *c) {
  return c != NULL ? &worker_of(c)->loop : NULL;
}

void netfw_conn_shutdown_for(netfw_conn *c, netfw_close_reason why) {
  if (c == NULL)
    return;
  netfw__conn_check_live(c, __func__);
  if (stopped(c))
    return;
  if ((unsigned)why >= NETFW_CLOSE_REASON_COUNT)
    why = NETFW_CLOSE_SHUTDOWN;
  netfw__conn_begin_shutdown(c, why);
}

void netfw_conn_shutdown(netfw_conn *c) {
  netfw_conn_shutdown_for(c, NETFW_CLOSE_SHUTDOWN);
}

int netfw_conn_addr(const netfw_conn *c, char *ip, size_t ip_len,
                    uint16_t *port) {
  const void *a;
  uint16_t p;

  if (c == NULL || ip == NULL)
    return NETFW_EINVAL;
  netfw__conn_check_live(c, __func__);
  if (c->peer.sa.sa_family == AF_INET) {
    a = &c->peer.in4.sin_addr;
    p = ntohs(c->peer.in4.sin_port);
  } else if (c->peer.sa.sa_family == AF_INET6) {
    a = &c->peer.in6.sin6_addr;
    p = ntohs(c->peer.in6.sin6_port);
  } else {
    errno = ENOTCONN;
    return NETFW_ESYS;
  }
  if (inet_ntop(c->peer.sa.sa_family, a, ip, (socklen_t)ip_len) == NULL)
    return errno == ENOSPC ? NETFW_EINVAL : NETFW_ESYS;
  if (port != NULL)
    *port = p;
  return 0;
}

void netfw_conn_set_data(netfw_conn *c, void *data) {
  if (c == NULL)
    return;
  netfw__conn_check_live(c, __func__);
  c->data = data;
}

void *netfw_conn_data(const netfw_conn *c) {
  if (c == NULL)
    return NULL;
  netfw__conn_check_live(c, __func__);
  return c->data;
}

const char *netfw_close_reason_name(netfw_close_reason why) {
  switch (why) {
#define XX(name, str)                                                          \
  case NETFW_CLOSE_##name:                                                     \
    return str;
    NETFW_CLOSE_REASON_MAP(XX)
#undef XX
  default:
    return "unknown";
  }
}
