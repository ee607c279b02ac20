/* A connection inside a worker: the read path (frames delivered in place),
 * coalesced writes, server-side shutdown with drain, limits and deadlines.
 *
 * Lifetime. A connection is freed only in the close callback of its TCP
 * handle, which libuv runs in a later phase of the loop iteration, never
 * inside the call to uv_close(): a connection closed from inside one of the
 * app's callbacks therefore stays valid until that callback has returned.
 *
 * Output. netfw_conn_send() copies the frame into c->out and puts the
 * connection on the worker's flush list; the list is flushed from the loop's
 * check phase (after the I/O callbacks) and prepare phase (before it blocks),
 * so everything queued during one iteration leaves in one write: first
 * uv_try_write(), and only what the socket did not take goes to uv_write().
 * While that write is in flight new frames collect in a fresh c->out. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "message_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"

/* Largest buffer the worker's cache keeps. */
#define CACHE_BUF_MAX (1024 * 1024)
#define OUT_MIN_CAP 4096
/* Output queued by one read that is written at once, without waiting for
 * the end of the loop iteration. */
#define FLUSH_EARLY_BYTES (64 * 1024)

/* Set while frames of this connection are being handed to on_message: its
 * read buffer is in use and must not be freed. */
#define C_DELIVERING (1u << 7)

typedef struct netfw__wreq {
  uv_write_t req;
  uint8_t *buf;
  size_t cap;
} netfw__wreq;

#define STOPPED_FLAGS (NETFW__C_SHUTDOWN | NETFW__C_CLOSING | NETFW__C_LINGER)

/* close_reason before any cause is known. */
#define REASON_UNSET 0xff

static netfw_conn *conn_of(const void *tcp_handle) {
  return (netfw_conn *)(void *)((char *)(uintptr_t)tcp_handle -
                                offsetof(netfw_conn, tcp));
}

static void after_flushed(netfw_conn *c);
static void conn_lost(netfw_conn *c, int status);

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
static void check_live(const netfw_conn *c, const char *func) {
  if (c->magic == NETFW__CONN_MAGIC)
    return;
  netfw_log(NETFW_LOG_ERROR,
            "%s: connection %p used after on_client_closed; aborting", func,
            (const void *)c);
  abort();
}

/* ---- buffers ----
 *
 * A connection holds a read buffer only while part of a frame is pending
 * and an output buffer only while output is queued; the rest of the time
 * their buffers wait in the worker's small cache (NETFW__BUF_CACHE buffers
 * of at most CACHE_BUF_MAX bytes). Reusing them matters for large frames:
 * a fresh 256 KiB buffer from malloc is new pages, and faulting them in
 * costs more than the copies. */

/* Takes the smallest cached buffer of at least min bytes, or NULL. */
static uint8_t *cache_take(netfw__worker *w, size_t min, size_t *cap) {
  int i, best = -1;
  uint8_t *buf;

  for (i = 0; i < w->ncache; i++)
    if (w->cache[i].cap >= min &&
        (best < 0 || w->cache[i].cap < w->cache[best].cap))
      best = i;
  if (best < 0)
    return NULL;
  buf = w->cache[best].base;
  *cap = w->cache[best].cap;
  w->cache[best] = w->cache[--w->ncache];
  return buf;
}

/* Keeps buf for reuse if the cache has room for it, else frees it. */
static void cache_give(netfw__worker *w, uint8_t *buf, size_t cap) {
  if (buf == NULL)
    return;
  if (cap <= CACHE_BUF_MAX && w->ncache < NETFW__BUF_CACHE) {
    w->cache[w->ncache].base = buf;
    w->cache[w->ncache].cap = cap;
    w->ncache++;
    return;
  }
  free(buf);
}

/* Gives the connection's read buffer back when nothing is pending. */
static void release_in(netfw_conn *c) {
  if (c->in.base == NULL || netfw__framebuf_pending(&c->in) != 0)
    return;
  cache_give(c->w, c->in.base, c->in.cap);
  c->in.base = NULL;
  c->in.start = c->in.end = c->in.cap = 0;
}

static void drop_in(netfw_conn *c) {
  c->in.start = c->in.end;
  release_in(c);
}

/* Brings c->held and the worker's total up to date with the buffers c owns
 * now (nothing once it is closing: its buffers are on their way out), and
 * enforces the worker's budget when the total grew past it. */
static void account(netfw_conn *c) {
  netfw__worker *w = c->w;
  size_t held = 0;

  if (!(c->flags & NETFW__C_CLOSING))
    held = c->in.cap + c->out_cap + (c->wreq != NULL ? c->wreq->cap : 0);
  if (held == c->held)
    return;
  w->mem = w->mem - c->held + held;
  c->held = held;
  if (w->cfg->worker_memory > 0 && w->mem > w->cfg->worker_memory)
    netfw__worker_budget_check(w);
}

/* Makes room for n more bytes in c->out. Returns 0 or NETFW_ENOMEM. */
static int reserve_out(netfw_conn *c, size_t n) {
  size_t need = c->out_len + n, cap;
  uint8_t *buf;

  if (need <= c->out_cap)
    return 0;
  if (c->out == NULL) {
    c->out = cache_take(c->w, need, &c->out_cap);
    if (c->out != NULL)
      return 0;
    c->out_cap = 0;
  }
  cap = c->out_cap * 2 > OUT_MIN_CAP ? c->out_cap * 2 : OUT_MIN_CAP;
  if (cap < need)
    cap = need;
  buf = realloc(c->out, cap);
  if (buf == NULL)
    return NETFW_ENOMEM;
  c->out = buf;
  c->out_cap = cap;
  return 0;
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

static void on_close(uv_handle_t *h) {
  netfw_conn *c = conn_of(h);
  netfw__worker *w = c->w;
  netfw_conn **pp;

  if (c->flags & NETFW__C_DIRTY)
    for (pp = &w->dirty; *pp != NULL; pp = &(*pp)->dirty_next)
      if (*pp == c) {
        *pp = c->dirty_next;
        break;
      }
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    w->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  if (c->flags & (NETFW__C_SHUTDOWN | NETFW__C_LINGER))
    w->ndraining--;
  if ((c->flags & NETFW__C_OWNED) && w->cfg->app->on_client_closed != NULL) {
    c->flags &= ~(uint32_t)NETFW__C_OWNED;
    w->cfg->app->on_client_closed(w->app, c,
                                  c->close_reason == REASON_UNSET
                                      ? NETFW_CLOSE_RESET
                                      : (netfw_close_reason)c->close_reason);
  }
  drop_in(c);
  netfw__framebuf_free(&c->in);
  if (c->out != NULL)
    cache_give(w, c->out, c->out_cap);
  c->out = NULL;
  c->out_cap = 0;
  account(c);
  poison(c);
  free(c);
  netfw__worker_conn_gone(w);
}

/* Keeps the first reason decided for the end of c. */
static void set_reason(netfw_conn *c, netfw_close_reason why) {
  if (c->close_reason == REASON_UNSET)
    c->close_reason = (uint8_t)why;
}

/* Closes now, whatever is queued; on_client_closed follows from on_close. */
void netfw__conn_close(netfw_conn *c, netfw_close_reason why) {
  set_reason(c, why);
  if (c->flags & NETFW__C_CLOSING)
    return;
  c->flags |= NETFW__C_CLOSING;
  if (!(c->flags & C_DELIVERING))
    drop_in(c);
  if (c->out != NULL) {
    cache_give(c->w, c->out, c->out_cap);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
  }
  account(c);
  uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void mark_dirty(netfw_conn *c) {
  if (c->flags & NETFW__C_DIRTY)
    return;
  c->flags |= NETFW__C_DIRTY;
  c->dirty_next = c->w->dirty;
  c->w->dirty = c;
}

/* Server-side graceful close: flush, shutdown(SHUT_WR), discard what the peer
 * still sends until its EOF or the drain deadline, close. */
void netfw__conn_begin_shutdown(netfw_conn *c, netfw_close_reason why) {
  netfw__worker *w = c->w;

  set_reason(c, why);
  c->flags |= NETFW__C_SHUTDOWN;
  c->flags &= ~(uint32_t)NETFW__C_ACCEPTED;
  w->ndraining++;
  c->deadline = w->cfg->drain_timeout_ms > 0
                    ? uv_now(&w->loop) + (uint64_t)w->cfg->drain_timeout_ms
                    : 0;
  c->frame_deadline = 0;
  if (!(c->flags & C_DELIVERING))
    drop_in(c);
  mark_dirty(c);
  account(c);
  netfw__worker_sweep_update(w);
}

/* The peer closed (status UV_EOF) or the connection failed. */
static void conn_lost(netfw_conn *c, int status) {
  netfw__worker *w = c->w;
  bool notify = (c->flags & NETFW__C_ACCEPTED) != 0;

  c->flags |= NETFW__C_PEER_EOF;
  set_reason(c, status == UV_EOF ? NETFW_CLOSE_PEER : NETFW_CLOSE_RESET);
  uv_read_stop((uv_stream_t *)&c->tcp);
  if (c->flags & NETFW__C_SHUTDOWN) {
    if ((c->flags & NETFW__C_WR_SHUT) || status != UV_EOF)
      netfw__conn_close(c, NETFW_CLOSE_RESET);
    return; /* EOF first: finish the flush, then close */
  }
  c->flags &= ~(uint32_t)NETFW__C_ACCEPTED;
  c->flags |= NETFW__C_LINGER;
  w->ndraining++;
  if (notify && w->cfg->app->on_client_disconnect != NULL)
    w->cfg->app->on_client_disconnect(w->app, c);
  if (c->flags & NETFW__C_CLOSING)
    return;
  if (status == UV_EOF && (c->out_len > 0 || c->wreq != NULL)) {
    /* a half-closed peer still gets what was queued for it, within the
       drain bound */
    c->deadline = w->cfg->drain_timeout_ms > 0
                      ? uv_now(&w->loop) + (uint64_t)w->cfg->drain_timeout_ms
                      : 0;
    netfw__worker_sweep_update(w);
    return;
  }
  netfw__conn_close(c, status == UV_EOF ? NETFW_CLOSE_PEER : NETFW_CLOSE_RESET);
}

/* ---- output ---- */

static void on_write(uv_write_t *req, int status) {
  netfw__wreq *wr = (netfw__wreq *)(void *)req;
  netfw_conn *c = req->data;
  netfw__worker *w = c->w;

  c->wreq = NULL;
  cache_give(w, wr->buf, wr->cap);
  free(wr);
  account(c);
  if (status == UV_ECANCELED || (c->flags & NETFW__C_CLOSING))
    return;
  if (status < 0) {
    conn_lost(c, status);
    return;
  }
  if ((c->flags & (NETFW__C_SHUTDOWN | NETFW__C_LINGER)) && c->deadline != 0)
    c->deadline = uv_now(&w->loop) + (uint64_t)w->cfg->drain_timeout_ms;
  mark_dirty(c); /* what was queued meanwhile leaves in the next flush */
}

/* Writes c->out: directly if the socket takes it all, else the rest through
 * uv_write (the buffer moves to the request; c->out starts afresh). */
static void conn_flush(netfw_conn *c) {
  uv_stream_t *st = (uv_stream_t *)&c->tcp;
  netfw__wreq *wr;
  uv_buf_t b;
  int n, err;

  if (c->wreq != NULL)
    return;
  if (c->out_len == 0) {
    after_flushed(c);
    return;
  }
  b = uv_buf_init((char *)c->out, (unsigned)c->out_len);
  n = uv_try_write(st, &b, 1);
  if (n >= 0 && (size_t)n == c->out_len) {
    c->out_len = 0;
    cache_give(c->w, c->out, c->out_cap);
    c->out = NULL;
    c->out_cap = 0;
    after_flushed(c);
    return;
  }
  if (n < 0 && n != UV_EAGAIN) {
    conn_lost(c, n);
    return;
  }
  wr = malloc(sizeof(*wr));
  if (wr == NULL) {
    netfw_log(NETFW_LOG_ERROR, "out of memory writing; closing a connection");
    netfw__conn_close(c, NETFW_CLOSE_NOMEM);
    return;
  }
  if (n < 0)
    n = 0;
  wr->buf = c->out;
  wr->cap = c->out_cap;
  wr->req.data = c;
  b = uv_buf_init((char *)c->out + n, (unsigned)(c->out_len - (size_t)n));
  c->out = NULL;
  c->out_len = c->out_cap = 0;
  err = uv_write(&wr->req, st, &b, 1, on_write);
  if (err != 0) {
    cache_give(c->w, wr->buf, wr->cap);
    free(wr);
    conn_lost(c, err);
    return;
  }
  c->wreq = wr;
  account(c);
}

/* Everything queued has left: finish a close that was waiting for it. */
static void after_flushed(netfw_conn *c) {
  if (c->flags & NETFW__C_LINGER) {
    netfw__conn_close(c,
                      NETFW_CLOSE_PEER); /* the reason was set when it went */
    return;
  }
  if (!(c->flags & NETFW__C_SHUTDOWN) || (c->flags & NETFW__C_WR_SHUT))
    return;
  c->flags |= NETFW__C_WR_SHUT;
  {
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
      shutdown(fd, SHUT_WR);
  }
  if ((c->flags & NETFW__C_PEER_EOF) || c->w->cfg->drain_timeout_ms == 0)
    netfw__conn_close(c, NETFW_CLOSE_PEER);
}

void netfw__conn_flush_all(netfw__worker *w) {
  netfw_conn *c;

  while ((c = w->dirty) != NULL) {
    w->dirty = c->dirty_next;
    c->flags &= ~(uint32_t)NETFW__C_DIRTY;
    if (!(c->flags & NETFW__C_CLOSING)) {
      conn_flush(c);
      account(c);
    }
  }
}

/* ---- input ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  netfw_conn *c = conn_of(h);
  netfw__worker *w = c->w;
  size_t avail = 0;
  uint8_t *p;

  if (c->flags & STOPPED_FLAGS) {
    *buf = uv_buf_init((char *)w->scratch, NETFW__SCRATCH_SIZE); /* discarded */
    return;
  }
  if (c->in.base == NULL) {
    c->in.base = cache_take(w, NETFW_FRAMEBUF_CHUNK, &c->in.cap);
    c->in.start = c->in.end = 0;
    if (c->in.base == NULL)
      c->in.cap = 0;
  }
  p = netfw__framebuf_space(&c->in, &avail);
  *buf = uv_buf_init((char *)p, p != NULL ? (unsigned)avail : 0);
}

static void refuse_oversized(netfw_conn *c) {
  char peer[96];
  uint16_t id;
  uint32_t size;

  netfw__frame_hdr_unpack(c->in.base + c->in.start, &id, &size);
  netfw_log(NETFW_LOG_WARN,
            "connection from %s refused: frame id %u announces %u bytes, "
            "over max_payload (%u); closing",
            netfw__conn_peer_name(c, peer, sizeof(peer)), id, size,
            c->in.max_payload);
  /* Replies the app queued for the frames before the bad header still
   * leave: a graceful close then (its drain also keeps the unread payload
   * from turning the close into a reset that could destroy them). With
   * nothing queued there is nothing to lose: close at once. */
  if (c->out_len > 0 || c->wreq != NULL)
    netfw__conn_begin_shutdown(c, NETFW_CLOSE_PROTOCOL);
  else
    netfw__conn_close(c, NETFW_CLOSE_PROTOCOL);
}

/* Hands every complete frame in the read buffer to on_message, in place.
 * Returns how many it handed over. */
static unsigned deliver(netfw_conn *c) {
  netfw__worker *w = c->w;
  netfw_frame f;
  unsigned n = 0;
  int r;

  c->flags |= C_DELIVERING;
  while (!(c->flags & STOPPED_FLAGS)) {
    netfw_msg m;
    netfw_owned_msg om;
    r = netfw__framebuf_next(&c->in, &f);
    if (r == 0)
      break;
    if (r < 0) {
      refuse_oversized(c);
      break;
    }
    netfw__msg_borrow(&m, f.id, f.payload, f.size);
    om.owner = c;
    om.msg = &m;
    w->cfg->app->on_message(w->app, &om);
    netfw_msg_release(&m); /* frees a copy the app's appends made */
    n++;
  }
  c->flags &= ~(uint32_t)C_DELIVERING;
  if (c->flags & STOPPED_FLAGS)
    drop_in(c);
  else
    release_in(c);
  return n;
}

/* Starts the frame bound when a frame is left in progress (a new one, or
 * the first bytes of one), ends it when nothing is pending. */
static void frame_clock(netfw_conn *c, unsigned delivered) {
  int bound = c->w->cfg->frame_timeout_ms;

  if (bound <= 0 || (c->flags & STOPPED_FLAGS) ||
      netfw__framebuf_pending(&c->in) == 0) {
    c->frame_deadline = 0;
    return;
  }
  if (delivered > 0 || c->frame_deadline == 0)
    c->frame_deadline = uv_now(&c->w->loop) + (uint64_t)bound;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  netfw_conn *c = conn_of(st);
  char peer[96];

  if (nread == 0)
    return;
  if (nread == UV_ENOBUFS) {
    netfw_log(NETFW_LOG_ERROR, "out of memory reading from %s; closing",
              netfw__conn_peer_name(c, peer, sizeof(peer)));
    netfw__conn_close(c, NETFW_CLOSE_NOMEM);
    return;
  }
  if (nread < 0) {
    conn_lost(c, (int)nread);
    return;
  }
  if (c->flags & STOPPED_FLAGS)
    return; /* draining: discarded */
  netfw__framebuf_commit(&c->in, (size_t)nread);
  if (c->w->cfg->idle_timeout_ms > 0)
    c->deadline = uv_now(&c->w->loop) + (uint64_t)c->w->cfg->idle_timeout_ms;
  frame_clock(c, deliver(c));
  /* Coalescing gains nothing once this much is queued: let it leave now
   * rather than after every other connection's reads. */
  if (c->out_len >= FLUSH_EARLY_BYTES && !(c->flags & NETFW__C_CLOSING))
    conn_flush(c);
  account(c);
}

/* ---- worker-facing ---- */

void netfw__conn_accept(netfw__worker *w, int fd) {
  const netfw_app *app = w->cfg->app;
  netfw_conn *c = calloc(1, sizeof(*c));
  bool ok;

  if (c == NULL || uv_tcp_init(&w->loop, &c->tcp) != 0) {
    netfw_log(NETFW_LOG_ERROR, "out of memory accepting a connection");
    free(c);
    close(fd);
    return;
  }
  c->magic = NETFW__CONN_MAGIC;
  c->close_reason = REASON_UNSET;
  c->w = w;
  netfw__framebuf_init(&c->in, w->cfg->max_payload);
  c->next = w->conns;
  if (w->conns != NULL)
    w->conns->prev = c;
  w->conns = c;
  w->nconns++;
  atomic_fetch_add(&w->load[w->slot].conns, 1);
  if (uv_tcp_open(&c->tcp, fd) != 0) {
    close(fd);
    netfw__conn_close(c, NETFW_CLOSE_RESET);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  {
    socklen_t len = sizeof(c->peer);
    if (getpeername(fd, &c->peer.sa, &len) != 0)
      c->peer.sa.sa_family = AF_UNSPEC;
  }
  if (w->cfg->idle_timeout_ms > 0)
    c->deadline = uv_now(&w->loop) + (uint64_t)w->cfg->idle_timeout_ms;
  ok = app->on_client_connect == NULL || app->on_client_connect(w->app, c);
  if (ok) /* on_client_closed is owed from now on, even if the callback's */
    c->flags |= NETFW__C_OWNED; /* own sends already closed it          */
  if (c->flags & NETFW__C_CLOSING)
    return;
  if (ok && !(c->flags & NETFW__C_SHUTDOWN))
    c->flags |= NETFW__C_ACCEPTED;
  else if (!(c->flags & NETFW__C_SHUTDOWN)) /* refused: deliver what it */
    netfw__conn_begin_shutdown(c, NETFW_CLOSE_SHUTDOWN); /* sent, close */
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    netfw__conn_close(c, NETFW_CLOSE_RESET);
  netfw__worker_sweep_update(w);
}

void netfw__conn_shutdown_all(netfw__worker *w) {
  netfw_conn *c;

  for (c = w->conns; c != NULL; c = c->next)
    if (!(c->flags & STOPPED_FLAGS))
      netfw__conn_begin_shutdown(c, NETFW_CLOSE_STOPPING);
}

/* ---- public ---- */

/* A large frame goes out without being copied when the socket takes it:
 * one writev of what is already queued, the header and the payload (order
 * is kept: nothing is in flight). Returns how many bytes of the frame were
 * written; what is left of it, the caller queues. A failed write is left
 * for the next flush to find, outside the app's callback. */
static size_t send_direct(netfw_conn *c, const uint8_t *hdr,
                          const netfw_msg *m) {
  size_t queued = c->out_len;
  uv_buf_t b[3];
  unsigned n = 0;
  int w;

  if (queued > 0)
    b[n++] = uv_buf_init((char *)c->out, (unsigned)queued);
  b[n++] = uv_buf_init((char *)(uintptr_t)hdr, NETFW_FRAME_HDR_SIZE);
  b[n++] =
      uv_buf_init((char *)(uintptr_t)netfw_msg_payload(m), netfw_msg_size(m));
  w = uv_try_write((uv_stream_t *)&c->tcp, b, n);
  if (w <= 0)
    return 0;
  if ((size_t)w < queued) {
    memmove(c->out, c->out + w, queued - (size_t)w);
    c->out_len -= (size_t)w;
    return 0;
  }
  c->out_len = 0;
  cache_give(c->w, c->out, c->out_cap);
  c->out = NULL;
  c->out_cap = 0;
  return (size_t)w - queued;
}

/* Closes c when n more bytes would take its unsent output over max_output.
 * Returns 0, or NETFW_E2BIG when it closed c. */
static int check_output_limit(netfw_conn *c, size_t n) {
  size_t unsent = netfw_conn_queued(c), limit = c->w->cfg->max_output;
  char peer[96];

  if (unsent + n <= limit)
    return 0;
  netfw_log(NETFW_LOG_WARN,
            "%s: output limit reached (%zu bytes unsent, limit %zu); closing",
            netfw__conn_peer_name(c, peer, sizeof(peer)), unsent + n, limit);
  netfw__conn_close(c, NETFW_CLOSE_OUTPUT_LIMIT);
  return NETFW_E2BIG;
}

/* Appends n bytes to c->out and schedules the flush. */
static int queue_bytes(netfw_conn *c, const void *data, size_t n) {
  if (reserve_out(c, n) != 0)
    return NETFW_ENOMEM;
  memcpy(c->out + c->out_len, data, n);
  c->out_len += n;
  mark_dirty(c);
  account(c);
  return 0;
}

int netfw_conn_send(netfw_conn *c, const netfw_msg *m) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  size_t total, done = 0, hdr_left;
  int err;

  if (c == NULL || m == NULL)
    return NETFW_EINVAL;
  check_live(c, __func__);
  if ((c->flags & STOPPED_FLAGS) || c->stream_left > 0)
    return NETFW_ESTATE;
  total = NETFW_FRAME_HDR_SIZE + (size_t)netfw_msg_size(m);
  if ((err = check_output_limit(c, total)) != 0)
    return err;
  netfw__frame_hdr_pack(hdr, netfw_msg_id(m), netfw_msg_size(m));
  if (total >= FLUSH_EARLY_BYTES && c->wreq == NULL) {
    done = send_direct(c, hdr, m);
    if (done == total) {
      account(c);
      return 0;
    }
  }
  if (reserve_out(c, total - done) != 0) {
    if (done > 0) /* half a frame went out: the stream cannot go on */
      netfw__conn_close(c, NETFW_CLOSE_NOMEM);
    return NETFW_ENOMEM;
  }
  hdr_left = done < NETFW_FRAME_HDR_SIZE ? NETFW_FRAME_HDR_SIZE - done : 0;
  memcpy(c->out + c->out_len, hdr + (NETFW_FRAME_HDR_SIZE - hdr_left),
         hdr_left);
  c->out_len += hdr_left;
  done = done > NETFW_FRAME_HDR_SIZE ? done - NETFW_FRAME_HDR_SIZE : 0;
  if (netfw_msg_size(m) > done) {
    memcpy(c->out + c->out_len, netfw_msg_payload(m) + done,
           netfw_msg_size(m) - done);
    c->out_len += netfw_msg_size(m) - done;
  }
  mark_dirty(c);
  account(c);
  return 0;
}

int netfw_conn_send_begin(netfw_conn *c, uint16_t id, uint32_t size) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  int err;

  if (c == NULL)
    return NETFW_EINVAL;
  check_live(c, __func__);
  if ((c->flags & STOPPED_FLAGS) || c->stream_left > 0)
    return NETFW_ESTATE;
  if ((err = check_output_limit(c, sizeof(hdr))) != 0)
    return err;
  netfw__frame_hdr_pack(hdr, id, size);
  if ((err = queue_bytes(c, hdr, sizeof(hdr))) != 0)
    return err;
  c->stream_left = size;
  return 0;
}

int netfw_conn_send_more(netfw_conn *c, const void *data, size_t len) {
  int err;

  if (c == NULL)
    return NETFW_EINVAL;
  check_live(c, __func__);
  if ((data == NULL && len > 0) || len > c->stream_left)
    return NETFW_EINVAL;
  if (c->flags & STOPPED_FLAGS)
    return NETFW_ESTATE;
  if ((err = check_output_limit(c, len)) != 0)
    return err;
  if ((err = queue_bytes(c, data, len)) != 0) {
    netfw__conn_close(c, NETFW_CLOSE_NOMEM); /* half a frame is queued: the
                                         stream cannot go on */
    return err;
  }
  c->stream_left -= (uint32_t)len;
  return 0;
}

size_t netfw_conn_queued(const netfw_conn *c) {
  if (c == NULL)
    return 0;
  return c->out_len +
         uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

uv_loop_t *netfw_conn_loop(const netfw_conn *c) {
  return c != NULL ? &c->w->loop : NULL;
}

void netfw_conn_shutdown_for(netfw_conn *c, netfw_close_reason why) {
  if (c == NULL)
    return;
  check_live(c, __func__);
  if (c->flags & STOPPED_FLAGS)
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
  check_live(c, __func__);
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
  check_live(c, __func__);
  c->data = data;
}

void *netfw_conn_data(const netfw_conn *c) {
  if (c == NULL)
    return NULL;
  check_live(c, __func__);
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
