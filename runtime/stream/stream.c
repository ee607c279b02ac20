/* The stream: framing, coalesced writes, FIN and drain, loss (see
 * stream.h).
 *
 * Output. netfw__stream_send() and netfw__stream_put() copy into s->out and
 * put the stream on its context's flush list; the owner flushes the list
 * from the loop's check phase (after the I/O callbacks) and prepare phase
 * (before it blocks), so everything queued during one iteration leaves in
 * one write: first try_write, and only what the socket did not take goes
 * to a queued write (the buffer moves to the request; s->out starts
 * afresh, and new output collects there while that write is in flight).
 *
 * Buffers. A stream holds a read buffer only while part of a frame is
 * pending and an output buffer only while output is queued; the rest of
 * the time their buffers wait in the context's small cache (at most
 * max_cache buffers of at most CACHE_BUF_MAX bytes). Reusing them matters
 * for large frames: a fresh 256 KiB buffer from malloc is new pages, and
 * faulting them in costs more than the copies. */
#include <stdlib.h>
#include <string.h>

#include "netfw/error.h"
#include "stream.h"

/* Largest buffer the cache keeps. */
#define CACHE_BUF_MAX (1024 * 1024)
#define OUT_MIN_CAP 4096
/* Where input being discarded is read (one per context). */
#define SCRATCH_SIZE 65536

typedef struct netfw__stream_wreq {
  uv_write_t req;
  uint8_t *buf;
  size_t cap;
  size_t len; /* bytes of buf in use (from its start), for the budget */
} netfw__stream_wreq;

static void after_flushed(netfw__stream *s);
static void mark_dirty(netfw__stream *s);

/* ---- buffers ---- */

uint8_t *netfw__stream_buf_take(netfw__stream_ctx *ctx, size_t min,
                                size_t *cap) {
  int i, best = -1;
  uint8_t *buf;

  for (i = 0; i < ctx->ncache; i++)
    if (ctx->cache[i].cap >= min &&
        (best < 0 || ctx->cache[i].cap < ctx->cache[best].cap))
      best = i;
  if (best < 0)
    return NULL;
  buf = ctx->cache[best].base;
  *cap = ctx->cache[best].cap;
  ctx->cache[best] = ctx->cache[--ctx->ncache];
  return buf;
}

void netfw__stream_buf_give(netfw__stream_ctx *ctx, uint8_t *buf, size_t cap) {
  if (buf == NULL)
    return;
  if (cap <= CACHE_BUF_MAX && ctx->ncache < ctx->max_cache) {
    ctx->cache[ctx->ncache].base = buf;
    ctx->cache[ctx->ncache].cap = cap;
    ctx->ncache++;
    return;
  }
  free(buf);
}

/* Gives the read buffer back when nothing is pending. */
static void release_in(netfw__stream *s) {
  if (s->in.base == NULL || netfw__framebuf_pending(&s->in) != 0)
    return;
  netfw__stream_buf_give(s->ctx, s->in.base, s->in.cap);
  s->in.base = NULL;
  s->in.start = s->in.end = s->in.cap = 0;
}

static void drop_in(netfw__stream *s) {
  s->in.start = s->in.end;
  release_in(s);
}

static void release_out(netfw__stream *s) {
  netfw__stream_buf_give(s->ctx, s->out, s->out_cap);
  s->out = NULL;
  s->out_len = s->out_cap = 0;
}

void netfw__stream_account(netfw__stream *s) {
  netfw__stream_ctx *ctx = s->ctx;
  size_t held = 0, out = 0;

  if (!(s->flags & NETFW__S_CLOSING)) {
    out = s->out_len + (s->wreq != NULL ? s->wreq->len : 0);
    held = s->in.end + out;
  }
  if (out != s->out_held) {
    ctx->out_mem = ctx->out_mem - s->out_held + out;
    s->out_held = out;
    if (ctx->out_mem > ctx->out_peak)
      ctx->out_peak = ctx->out_mem;
  }
  if (held == s->held)
    return;
  ctx->mem = ctx->mem - s->held + held;
  s->held = held;
  if (ctx->budget > 0 && ctx->mem > ctx->budget && ctx->over_budget != NULL)
    ctx->over_budget(ctx);
}

int netfw__stream_buf_grow(netfw__stream_ctx *ctx, uint8_t **base,
                           size_t *cap, size_t need, size_t min_cap) {
  size_t c;
  uint8_t *buf;

  if (need <= *cap)
    return 0;
  if (*base == NULL) {
    *base = netfw__stream_buf_take(ctx, need, cap);
    if (*base != NULL)
      return 0;
    *cap = 0;
  }
  c = *cap * 2 > min_cap ? *cap * 2 : min_cap;
  if (c < need)
    c = need;
  buf = realloc(*base, c);
  if (buf == NULL)
    return NETFW_ENOMEM;
  *base = buf;
  *cap = c;
  return 0;
}

/* Makes room for n more bytes in s->out. Returns 0 or NETFW_ENOMEM. */
static int reserve_out(netfw__stream *s, size_t n) {
  size_t need = s->out_len + n;

  if (need < n)
    return NETFW_ENOMEM;
  return netfw__stream_buf_grow(s->ctx, &s->out, &s->out_cap, need,
                                OUT_MIN_CAP);
}

/* ---- the end ---- */

void netfw__stream_close(netfw__stream *s, bool reset) {
  if (s->flags & NETFW__S_CLOSING)
    return;
  s->flags |= NETFW__S_CLOSING;
  if (!(s->flags & NETFW__S_DELIVERING))
    drop_in(s);
  release_out(s);
  netfw__stream_account(s);
  s->t->ops->close(s->t, reset);
}

static void on_closed(void *up) {
  netfw__stream *s = up;
  netfw__stream **pp;

  if (s->flags & NETFW__S_DIRTY)
    for (pp = &s->ctx->dirty; *pp != NULL; pp = &(*pp)->dirty_next)
      if (*pp == s) {
        *pp = s->dirty_next;
        break;
      }
  s->flags &= ~(uint32_t)NETFW__S_DIRTY;
  drop_in(s);
  netfw__framebuf_free(&s->in);
  release_out(s);
  netfw__stream_account(s);
  s->ctx->ev->closed(s);
}

/* The peer's EOF, an error, or a lack of memory (see stream.h, `lost`). */
static void lost(netfw__stream *s, int status) {
  bool eof = status == UV_EOF;

  if (s->flags & NETFW__S_CLOSING)
    return;
  s->flags |= NETFW__S_PEER_EOF;
  s->t->ops->read_stop(s->t);
  if ((s->flags & NETFW__S_WR_SHUT) && eof) {
    netfw__stream_close(s, false); /* the end of a drain */
    return;
  }
  s->ctx->ev->lost(s, status);
  if (s->flags & NETFW__S_CLOSING)
    return;
  if (s->flags & NETFW__S_FIN) {
    if ((s->flags & NETFW__S_WR_SHUT) || !eof)
      netfw__stream_close(s, false);
    return; /* EOF first: finish the flush, then close */
  }
  if (eof && netfw__stream_has_output(s)) {
    s->flags |= NETFW__S_LINGER; /* a half-closed peer still gets its output */
    return;
  }
  netfw__stream_close(s, false);
}

void netfw__stream_fin(netfw__stream *s, bool drain) {
  s->flags |= NETFW__S_FIN | (drain ? NETFW__S_DRAIN : 0u);
  if (!(s->flags & NETFW__S_DELIVERING))
    drop_in(s);
  if (s->flags & NETFW__S_PAUSED) { /* draining needs reading */
    int err = netfw__stream_read_resume(s);
    if (err != 0) {
      lost(s, err);
      return;
    }
  }
  mark_dirty(s);
  netfw__stream_account(s);
}

/* Everything queued has left: finish an end that was waiting for it. */
static void after_flushed(netfw__stream *s) {
  if (s->flags & NETFW__S_LINGER) {
    netfw__stream_close(s, false);
    return;
  }
  if (!(s->flags & NETFW__S_FIN) || (s->flags & NETFW__S_WR_SHUT))
    return;
  s->flags |= NETFW__S_WR_SHUT;
  (void)s->t->ops->shutdown_write(s->t); /* a failure shows in the reads */
  if ((s->flags & NETFW__S_PEER_EOF) || !(s->flags & NETFW__S_DRAIN))
    netfw__stream_close(s, false);
}

/* ---- output ---- */

static void mark_dirty(netfw__stream *s) {
  if (s->flags & NETFW__S_DIRTY)
    return;
  s->flags |= NETFW__S_DIRTY;
  s->dirty_next = s->ctx->dirty;
  s->ctx->dirty = s;
}

static void on_written(void *up, uv_write_t *req, int status) {
  netfw__stream_wreq *wr = (netfw__stream_wreq *)(void *)req;
  netfw__stream *s = up;

  s->wreq = NULL;
  netfw__stream_buf_give(s->ctx, wr->buf, wr->cap);
  free(wr);
  netfw__stream_account(s);
  if (status == UV_ECANCELED || (s->flags & NETFW__S_CLOSING))
    return;
  if (status < 0) {
    lost(s, status);
    return;
  }
  if (s->ctx->ev->written != NULL)
    s->ctx->ev->written(s);
  mark_dirty(s); /* what was queued meanwhile leaves in the next flush */
}

/* Hands the rest of s->out, from byte done on, to a queued write. */
static void write_rest(netfw__stream *s, size_t done) {
  netfw__stream_wreq *wr = malloc(sizeof(*wr));
  uv_buf_t b;
  int err;

  if (wr == NULL) {
    lost(s, UV_ENOMEM);
    return;
  }
  wr->buf = s->out;
  wr->cap = s->out_cap;
  wr->len = s->out_len;
  b.base = (char *)s->out + done; /* len is a size_t: no uv_buf_init */
  b.len = s->out_len - done;
  s->out = NULL;
  s->out_len = s->out_cap = 0;
  err = s->t->ops->write(s->t, &wr->req, &b, 1);
  if (err != 0) {
    netfw__stream_buf_give(s->ctx, wr->buf, wr->cap);
    free(wr);
    lost(s, err);
    return;
  }
  s->wreq = wr;
  netfw__stream_account(s);
}

void netfw__stream_flush(netfw__stream *s) {
  uv_buf_t b;
  int n;

  if (s->wreq != NULL || (s->flags & NETFW__S_CLOSING))
    return;
  if (s->out_len == 0) {
    if (s->t->ops->write_queued(s->t) == 0) /* else `drained` comes */
      after_flushed(s);
    return;
  }
  b.base = (char *)s->out;
  b.len = s->out_len;
  n = s->t->ops->try_write(s->t, &b, 1);
  if (n >= 0 && (size_t)n == s->out_len) {
    release_out(s);
    if (s->t->ops->write_queued(s->t) == 0)
      after_flushed(s);
    return;
  }
  if (n < 0 && n != UV_EAGAIN) {
    lost(s, n);
    return;
  }
  write_rest(s, n < 0 ? 0 : (size_t)n);
}

void netfw__stream_ctx_flush(netfw__stream_ctx *ctx) {
  netfw__stream *s;

  while ((s = ctx->dirty) != NULL) {
    ctx->dirty = s->dirty_next;
    s->flags &= ~(uint32_t)NETFW__S_DIRTY;
    if (!(s->flags & NETFW__S_CLOSING)) {
      netfw__stream_flush(s);
      netfw__stream_account(s);
    }
  }
}

/* A large frame goes out without being copied when the socket takes it:
 * one writev of what is already queued, the header and the payload (order
 * is kept: nothing is in flight). Returns how many bytes of the frame were
 * written; what is left of it, the caller queues. A failed write is left
 * for the next flush to find, outside the caller's callback. */
static size_t send_direct(netfw__stream *s, const uint8_t *hdr,
                          const uint8_t *payload, uint32_t size) {
  size_t queued = s->out_len;
  uv_buf_t b[3];
  unsigned n = 0;
  int w;

  if (queued > 0)
    b[n++] = uv_buf_init((char *)s->out, (unsigned)queued);
  b[n++] = uv_buf_init((char *)(uintptr_t)hdr, NETFW_FRAME_HDR_SIZE);
  b[n++] = uv_buf_init((char *)(uintptr_t)payload, size);
  w = s->t->ops->try_write(s->t, b, n);
  if (w <= 0)
    return 0;
  if ((size_t)w < queued) {
    memmove(s->out, s->out + w, queued - (size_t)w);
    s->out_len -= (size_t)w;
    return 0;
  }
  release_out(s);
  return (size_t)w - queued;
}

int netfw__stream_send(netfw__stream *s, uint16_t id, const uint8_t *payload,
                       uint32_t size, bool *broken) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  size_t total = NETFW_FRAME_HDR_SIZE + (size_t)size, done = 0;

  *broken = false;
  netfw__frame_hdr_pack(hdr, id, size);
  if (total >= NETFW__STREAM_FLUSH_EARLY && s->wreq == NULL) {
    done = send_direct(s, hdr, payload, size);
    if (done == total) {
      netfw__stream_account(s);
      return 0;
    }
  }
  if (reserve_out(s, total - done) != 0) {
    *broken = done > 0;
    return NETFW_ENOMEM;
  }
  s->out_len +=
      netfw__frame_copy(s->out + s->out_len, hdr, payload, size, done);
  mark_dirty(s);
  netfw__stream_account(s);
  return 0;
}

int netfw__stream_put(netfw__stream *s, const void *data, size_t len) {
  if (reserve_out(s, len) != 0)
    return NETFW_ENOMEM;
  if (len > 0)
    memcpy(s->out + s->out_len, data, len);
  s->out_len += len;
  mark_dirty(s);
  netfw__stream_account(s);
  return 0;
}

int netfw__stream_put_buf(netfw__stream *s, uint8_t **base, size_t *len,
                          size_t *cap) {
  uint8_t *old = s->out;
  size_t old_cap = s->out_cap;

  if (*len == 0)
    return 0;
  if (s->out_len > 0) {
    if (netfw__stream_put(s, *base, *len) != 0)
      return NETFW_ENOMEM;
    *len = 0;
    return 0;
  }
  s->out = *base;
  s->out_len = *len;
  s->out_cap = *cap;
  *base = old;
  *cap = old != NULL ? old_cap : 0;
  *len = 0;
  mark_dirty(s);
  netfw__stream_account(s);
  return 0;
}

size_t netfw__stream_queued(const netfw__stream *s) {
  return s->out_len + s->t->ops->write_queued(s->t);
}

bool netfw__stream_has_output(const netfw__stream *s) {
  return s->out_len > 0 || s->wreq != NULL ||
         s->t->ops->write_queued(s->t) > 0;
}

/* ---- input ---- */

static void on_alloc(void *up, uv_buf_t *buf) {
  netfw__stream *s = up;
  netfw__stream_ctx *ctx = s->ctx;
  size_t avail = 0;
  uint8_t *p;

  if (s->flags & NETFW__S_STOPPED) { /* discarded */
    if (ctx->scratch == NULL)
      ctx->scratch = malloc(SCRATCH_SIZE);
    *buf = uv_buf_init((char *)ctx->scratch,
                       ctx->scratch != NULL ? SCRATCH_SIZE : 0);
    return;
  }
  if (s->in.base == NULL) {
    s->in.base = netfw__stream_buf_take(ctx, NETFW_FRAMEBUF_CHUNK, &s->in.cap);
    s->in.start = s->in.end = 0;
    if (s->in.base == NULL)
      s->in.cap = 0;
  }
  p = netfw__framebuf_space(&s->in, &avail);
  *buf = uv_buf_init((char *)p, p != NULL ? (unsigned)avail : 0);
}

static void on_read(void *up, ssize_t nread) {
  netfw__stream *s = up;

  if (nread < 0) {
    lost(s, (int)nread);
    return;
  }
  if (s->flags & NETFW__S_STOPPED)
    return; /* draining: discarded */
  netfw__framebuf_commit(&s->in, (size_t)nread);
  s->flags |= NETFW__S_DELIVERING;
  s->ctx->ev->readable(s);
  s->flags &= ~(uint32_t)NETFW__S_DELIVERING;
  if (s->flags & NETFW__S_STOPPED)
    drop_in(s);
  else
    release_in(s);
  /* Coalescing gains nothing once this much is queued: let it leave now
   * rather than after every other stream's reads. */
  if (s->out_len >= NETFW__STREAM_FLUSH_EARLY)
    netfw__stream_flush(s);
  netfw__stream_account(s);
}

int netfw__stream_next(netfw__stream *s, netfw_frame *f) {
  if (s->flags & NETFW__S_STOPPED)
    return 0;
  return netfw__framebuf_next(&s->in, f);
}

int netfw__stream_read_start(netfw__stream *s) {
  s->flags |= NETFW__S_READING;
  return s->t->ops->read_start(s->t);
}

void netfw__stream_read_pause(netfw__stream *s) {
  if (s->flags & (NETFW__S_PAUSED | NETFW__S_CLOSING))
    return;
  s->flags |= NETFW__S_PAUSED;
  s->t->ops->read_stop(s->t);
}

int netfw__stream_read_resume(netfw__stream *s) {
  if (!(s->flags & NETFW__S_PAUSED))
    return 0;
  s->flags &= ~(uint32_t)NETFW__S_PAUSED;
  if (s->flags & (NETFW__S_CLOSING | NETFW__S_PEER_EOF))
    return 0;
  return s->t->ops->read_start(s->t);
}

/* ---- setup ---- */

static void on_established(void *up) {
  netfw__stream *s = up;

  s->ctx->ev->established(s);
}

/* What a try_write left inside the transport has left: an end waiting
 * for it goes on in the next flush. */
static void on_drained(void *up) {
  netfw__stream *s = up;

  if (!(s->flags & NETFW__S_CLOSING))
    mark_dirty(s);
}

static const netfw__transport_events stream_events = {
    .established = on_established,
    .alloc = on_alloc,
    .read = on_read,
    .written = on_written,
    .closed = on_closed,
    .drained = on_drained,
};

void netfw__stream_ctx_init(netfw__stream_ctx *ctx, uv_loop_t *loop,
                            const netfw__stream_events *ev, int max_cache) {
  memset(ctx, 0, sizeof(*ctx));
  ctx->loop = loop;
  ctx->ev = ev;
  ctx->max_cache = max_cache < NETFW__BUF_CACHE ? max_cache : NETFW__BUF_CACHE;
}

void netfw__stream_ctx_free(netfw__stream_ctx *ctx) {
  while (ctx->ncache > 0)
    free(ctx->cache[--ctx->ncache].base);
  free(ctx->scratch);
  ctx->scratch = NULL;
}

int netfw__stream_init(netfw__stream *s, netfw__stream_ctx *ctx,
                       uint32_t max_payload) {
  s->ctx = ctx;
  s->t = &s->tcp.t;
  netfw__framebuf_init(&s->in, max_payload);
  s->out = NULL;
  s->out_len = s->out_cap = 0;
  s->wreq = NULL;
  s->dirty_next = NULL;
  s->held = 0;
  s->flags = 0;
  return netfw__tcp_transport_init(&s->tcp, ctx->loop, &stream_events, s);
}

int netfw__stream_open(netfw__stream *s, int fd) {
  return netfw__tcp_transport_open(&s->tcp, fd);
}

void netfw__stream_start(netfw__stream *s) {
  s->t->ops->start(s->t);
}

int netfw__stream_peer(const netfw__stream *s, struct sockaddr_storage *ss) {
  return s->t->ops->peer(s->t, ss);
}
