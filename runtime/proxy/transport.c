/* The PROXY protocol preamble transport (see proxy.h): reads the header
 * into a small buffer of its own, checks who sent it, then tells the layer
 * above it is established and from then on passes everything straight
 * through (reads land in the upper layer's own buffers). Bytes that came
 * with the header are handed up first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "proxy.h"

/* Flags. */
enum {
  P_DONE = 1u << 0,          /* the header was read: pass-through        */
  P_READING = 1u << 1,       /* the layer above reads                    */
  P_FAILED = 1u << 2,
  P_CLOSING = 1u << 3,
  P_TIMER_CLOSED = 1u << 4,
  P_LOWER_CLOSED = 1u << 5
};

typedef struct proxy_tr {
  netfw__transport t;      /* what the layer above sees             */
  netfw__transport *lower; /* the TCP transport                     */
  const netfw__proxy_policy *policy;
  uv_timer_t timer;        /* the header's deadline; then a kick     */
  unsigned char *buf;      /* the header, and what came after it     */
  size_t len, off;         /* bytes in buf; handed up after the header */
  netfw__proxy_hdr hdr;
  struct sockaddr_storage tcp_peer; /* as accepted (family 0: unknown) */
  uint32_t flags;
  char peer[56];           /* the TCP peer, "ip:port", for the log   */
} proxy_tr;

static const netfw__transport_ops proxy_ops;

/* Ends the connection before its header: logged once (at level),
 * reported up as status. */
static void end_with(proxy_tr *p, netfw_log_level level, const char *why,
                     int status) {
  if (p->flags & (P_FAILED | P_CLOSING))
    return;
  p->flags |= P_FAILED;
  uv_timer_stop(&p->timer);
  p->lower->ops->read_stop(p->lower);
  netfw__log_about(level, p->peer, "proxy: connection from %s refused: %s",
                   p->peer, why);
  p->t.ev->read(p->t.up, status);
}

/* Refuses the connection with a warning, reported up as UV_EPROTO. */
static void fail(proxy_tr *p, const char *why) {
  end_with(p, NETFW_LOG_WARN, why, UV_EPROTO);
}

/* Hands what came after the header to the layer above, while it reads. */
static void hand_up_rest(proxy_tr *p) {
  while ((p->flags & P_READING) && p->off < p->len &&
         !(p->flags & (P_CLOSING | P_FAILED))) {
    uv_buf_t b = uv_buf_init(NULL, 0);
    size_t n;
    p->t.ev->alloc(p->t.up, &b);
    if (b.len == 0) {
      p->t.ev->read(p->t.up, UV_ENOBUFS);
      return;
    }
    n = p->len - p->off < b.len ? p->len - p->off : b.len;
    memcpy(b.base, p->buf + p->off, n);
    p->off += n;
    p->t.ev->read(p->t.up, (ssize_t)n);
  }
  if (p->off == p->len) {
    free(p->buf);
    p->buf = NULL;
    p->len = p->off = 0;
  }
}

/* The header is complete: check, then up. */
static void header_done(proxy_tr *p, size_t hlen) {
  char src[64];

  p->flags |= P_DONE;
  p->off = hlen;
  uv_timer_stop(&p->timer);
  if (!(p->flags & P_READING))
    p->lower->ops->read_stop(p->lower);
  if (!p->hdr.local) {
    netfw__addr_name(&p->hdr.src, src, sizeof(src));
    netfw__log_about(NETFW_LOG_DEBUG, p->peer, "proxy: %s is %s (v%d)",
                     p->peer, src, p->hdr.version);
  }
  p->t.ev->established(p->t.up);
  hand_up_rest(p);
}

/* ---- events from the TCP transport ---- */

static void on_lower_established(void *up) {
  (void)up; /* TCP is up at once: proxy_start reads the header */
}

static void on_lower_alloc(void *up, uv_buf_t *buf) {
  proxy_tr *p = up;
  size_t room = NETFW__PROXY_V2_MAX - p->len;

  if (p->flags & P_DONE) {
    p->t.ev->alloc(p->t.up, buf);
    return;
  }
  if (p->buf == NULL)
    p->buf = malloc(NETFW__PROXY_V2_MAX);
  *buf = uv_buf_init(p->buf != NULL ? (char *)p->buf + p->len : NULL,
                     p->buf != NULL ? (unsigned)room : 0);
}

static void on_lower_read(void *up, ssize_t nread) {
  proxy_tr *p = up;
  const char *why = NULL;
  ssize_t h;

  if (p->flags & P_DONE) {
    p->t.ev->read(p->t.up, nread);
    return;
  }
  if (p->flags & (P_FAILED | P_CLOSING))
    return;
  if (nread < 0) { /* gone without a byte (a TCP check, a scan): the
                       peer left, logged at debug; else a refusal */
    end_with(p, p->len == 0 ? NETFW_LOG_DEBUG : NETFW_LOG_WARN,
             nread == UV_EOF ? "closed before its PROXY header"
                             : uv_strerror((int)nread),
             p->len == 0 ? (int)nread : UV_EPROTO);
    return;
  }
  p->len += (size_t)nread;
  h = netfw__proxy_parse(p->buf, p->len, &p->hdr, &why);
  if (h < 0)
    fail(p, why);
  else if (h > 0)
    header_done(p, (size_t)h);
  else if (p->len == NETFW__PROXY_V2_MAX)
    fail(p, "PROXY header too long");
}

static void on_lower_written(void *up, uv_write_t *req, int status) {
  proxy_tr *p = up;

  p->t.ev->written(p->t.up, req, status);
}

/* Both handles are closed: the last event up, then the memory. */
static void finish_close(proxy_tr *p) {
  if (!(p->flags & P_TIMER_CLOSED) || !(p->flags & P_LOWER_CLOSED))
    return;
  p->t.ev->closed(p->t.up); /* the peer's address still works in it */
  free(p->buf);
  free(p);
}

static void on_lower_closed(void *up) {
  proxy_tr *p = up;

  p->flags |= P_LOWER_CLOSED;
  finish_close(p);
}

static void on_timer_closed(uv_handle_t *h) {
  proxy_tr *p = h->data;

  p->flags |= P_TIMER_CLOSED;
  finish_close(p);
}

static void on_lower_drained(void *up) {
  proxy_tr *p = up;

  p->t.ev->drained(p->t.up);
}

static const netfw__transport_events lower_events = {
    .established = on_lower_established,
    .alloc = on_lower_alloc,
    .read = on_lower_read,
    .written = on_lower_written,
    .closed = on_lower_closed,
    .drained = on_lower_drained,
};

/* ---- the operations ---- */

/* The header's deadline; after it, the kick that hands up the rest. */
static void on_timer(uv_timer_t *h) {
  proxy_tr *p = h->data;

  if (p->flags & P_DONE)
    hand_up_rest(p);
  else
    fail(p, "no PROXY header within 10 s");
}

static void proxy_start(netfw__transport *t) {
  proxy_tr *p = (proxy_tr *)t;
  struct sockaddr_storage ss;
  int err;

  memset(&ss, 0, sizeof(ss));
  err = p->lower->ops->peer(p->lower, &ss);
  netfw__addr_name(&ss, p->peer, sizeof(p->peer));
  if (err == 0)
    memcpy(&p->tcp_peer, &ss, sizeof(ss));
  uv_timer_start(&p->timer, on_timer, NETFW__PROXY_TIMEOUT_MS, 0);
  if (err != 0) { /* reset before it was accepted (a TCP check): debug */
    end_with(p, NETFW_LOG_DEBUG, uv_strerror(err), UV_ECONNRESET);
    return;
  }
  if (!netfw__proxy_trusted(p->policy, (const struct sockaddr *)&ss)) {
    fail(p, "not in proxy_from");
    return;
  }
  if ((err = p->lower->ops->read_start(p->lower)) != 0)
    fail(p, uv_strerror(err));
}

static int proxy_read_start(netfw__transport *t) {
  proxy_tr *p = (proxy_tr *)t;

  p->flags |= P_READING;
  if (!(p->flags & P_DONE))
    return 0; /* reading already, for the header */
  if (p->off < p->len)
    uv_timer_start(&p->timer, on_timer, 0, 0);
  return p->lower->ops->read_start(p->lower);
}

static void proxy_read_stop(netfw__transport *t) {
  proxy_tr *p = (proxy_tr *)t;

  p->flags &= ~(uint32_t)P_READING;
  if (p->flags & P_DONE)
    p->lower->ops->read_stop(p->lower);
}

static int proxy_try_write(netfw__transport *t, const uv_buf_t *bufs,
                           unsigned n) {
  proxy_tr *p = (proxy_tr *)t;

  return p->lower->ops->try_write(p->lower, bufs, n);
}

static int proxy_write(netfw__transport *t, uv_write_t *req,
                       const uv_buf_t *bufs, unsigned n) {
  proxy_tr *p = (proxy_tr *)t;

  return p->lower->ops->write(p->lower, req, bufs, n);
}

static size_t proxy_write_queued(const netfw__transport *t) {
  const proxy_tr *p = (const proxy_tr *)t;

  return p->lower->ops->write_queued(p->lower);
}

static int proxy_shutdown_write(netfw__transport *t) {
  proxy_tr *p = (proxy_tr *)t;

  return p->lower->ops->shutdown_write(p->lower);
}

static void proxy_close(netfw__transport *t, bool reset) {
  proxy_tr *p = (proxy_tr *)t;

  if (p->flags & P_CLOSING)
    return;
  p->flags |= P_CLOSING;
  uv_close((uv_handle_t *)&p->timer, on_timer_closed);
  p->lower->ops->close(p->lower, reset);
}

/* The client the header named; the TCP peer (as accepted, so still known
 * after a reset) when it named none. */
static int proxy_peer(const netfw__transport *t, struct sockaddr_storage *ss) {
  const proxy_tr *p = (const proxy_tr *)t;

  if ((p->flags & P_DONE) && !p->hdr.local) {
    memcpy(ss, &p->hdr.src, sizeof(*ss));
    return 0;
  }
  if (p->tcp_peer.ss_family != 0) {
    memcpy(ss, &p->tcp_peer, sizeof(*ss));
    return 0;
  }
  return p->lower->ops->peer(p->lower, ss);
}

static const netfw__transport_ops proxy_ops = {
    .start = proxy_start,
    .read_start = proxy_read_start,
    .read_stop = proxy_read_stop,
    .try_write = proxy_try_write,
    .write = proxy_write,
    .write_queued = proxy_write_queued,
    .shutdown_write = proxy_shutdown_write,
    .close = proxy_close,
    .peer = proxy_peer,
};

int netfw__proxy_wrap(netfw__stream *s, const netfw__proxy_policy *pol) {
  proxy_tr *p = calloc(1, sizeof(*p));

  if (p == NULL)
    return NETFW_ENOMEM;
  uv_timer_init(s->ctx->loop, &p->timer);
  p->timer.data = p;
  p->policy = pol;
  p->lower = s->t;
  p->t.ops = &proxy_ops;
  p->t.ev = s->t->ev;
  p->t.up = s->t->up;
  s->t->ev = &lower_events;
  s->t->up = p;
  s->t = &p->t;
  return 0;
}
