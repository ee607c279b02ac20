/* The TLS transport (see tls.h): the handshake, the read side, and its
 * life from wrap to close. The write side is write.c; the BIO and buffers
 * bio.c.
 *
 * Reading. The socket is read while the handshake runs and afterwards
 * while the stream reads. Each chunk read is decrypted at once into the
 * stream's own buffer (its alloc/read events), record by record, until
 * OpenSSL needs more; when the stream stops reading in the middle, the rest
 * waits in tls->in and a zero timer delivers it once reading starts again.
 * The socket's EOF reaches OpenSSL as the BIO's end, and the stream as
 * UV_EOF (a missing close_notify is not an error: netfw's frames show a
 * truncation themselves). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "addr.h"
#include "log_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "tls_internal.h"

static const netfw__transport_ops tls_ops;

netfw__tls *netfw__tls_of(const netfw__stream *s) {
  return s->t != NULL && s->t->ops == &tls_ops ? (netfw__tls *)s->t : NULL;
}

bool netfw__tls_on(const netfw__stream *s) {
  return netfw__tls_of(s) != NULL;
}

const char *netfw__tls_failure(const netfw__stream *s) {
  const netfw__tls *tls = netfw__tls_of(s);

  return tls != NULL && tls->failure != NULL ? tls->failure : "";
}

/* Keeps "ip:port" of the peer for the log lines (the socket may be
 * gone by the time one is written). */
static void keep_peer_name(netfw__tls *tls) {
  struct sockaddr_storage ss;

  memset(&ss, 0, sizeof(ss));
  (void)tls->lower->ops->peer(tls->lower, &ss);
  netfw__addr_name(&ss, tls->peer, sizeof(tls->peer));
}

void netfw__tls_fail(netfw__tls *tls, const char *why, int status) {
  uv_buf_t alert;

  if (tls->flags & (NETFW__TLS_FAILED | NETFW__TLS_CLOSING))
    return;
  tls->flags |= NETFW__TLS_FAILED;
  uv_timer_stop(&tls->timer);
  free(tls->failure);
  tls->failure = strdup(why);
  netfw__log_about(NETFW_LOG_WARN, tls->peer, "tls: %s %s failed: %s",
                   (tls->flags & NETFW__TLS_ESTABLISHED) ? "connection with"
                                                         : "handshake with",
                   tls->peer, why);
  if (!(tls->flags & NETFW__TLS_WRITING) && tls->out.len > tls->out.off) {
    alert.base = (char *)tls->out.base + tls->out.off; /* best effort */
    alert.len = tls->out.len - tls->out.off;
    (void)tls->lower->ops->try_write(tls->lower, &alert, 1);
  }
  tls->t.ev->read(tls->t.up, status);
}

/* Why OpenSSL failed, in words: the certificate check's own reason when
 * that is what failed. */
static void describe(netfw__tls *tls, int ssl_err, char *buf, size_t len) {
  long v = SSL_get_verify_result(tls->ssl);

  if (v != X509_V_OK && ssl_err == SSL_ERROR_SSL) {
    snprintf(buf, len, "certificate verify failed: %s",
             X509_verify_cert_error_string(v));
    ERR_clear_error();
    return;
  }
  if (ssl_err == SSL_ERROR_SSL && ERR_peek_last_error() != 0) {
    const char *r = ERR_reason_error_string(ERR_peek_last_error());
    snprintf(buf, len, "%s", r != NULL ? r : "protocol error");
    ERR_clear_error();
    return;
  }
  if (tls->flags & NETFW__TLS_IN_EOF)
    snprintf(buf, len, "the peer closed the connection");
  else
    snprintf(buf, len, "TLS error %d", ssl_err);
  ERR_clear_error();
}

/* Starts or stops reading the socket as the state asks. Returns 0 or a
 * libuv error. */
static int lower_reading(netfw__tls *tls, bool on) {
  int err = 0;

  if (on && !(tls->flags & NETFW__TLS_LOWER_READING)) {
    err = tls->lower->ops->read_start(tls->lower);
    if (err == 0)
      tls->flags |= NETFW__TLS_LOWER_READING;
  } else if (!on && (tls->flags & NETFW__TLS_LOWER_READING)) {
    tls->lower->ops->read_stop(tls->lower);
    tls->flags &= ~(uint32_t)NETFW__TLS_LOWER_READING;
  }
  return err;
}

/* Runs the handshake on what arrived. Returns true once it is done and the
 * stream was told (and did not close the connection meanwhile). */
static bool handshake(netfw__tls *tls) {
  char why[256];
  int r, e, err;

  ERR_clear_error();
  r = SSL_do_handshake(tls->ssl);
  if (r != 1) {
    e = SSL_get_error(tls->ssl, r);
    if (e == SSL_ERROR_WANT_READ && !(tls->flags & NETFW__TLS_IN_EOF)) {
      if ((err = netfw__tls_pump_out(tls)) != 0)
        netfw__tls_fail(tls, uv_strerror(err), err);
      return false;
    }
    describe(tls, e, why, sizeof(why));
    netfw__tls_fail(tls, why, UV_EPROTO);
    return false;
  }
  tls->flags |= NETFW__TLS_ESTABLISHED;
  uv_timer_stop(&tls->timer);
  if ((err = netfw__tls_pump_out(tls)) != 0) {
    netfw__tls_fail(tls, uv_strerror(err), err);
    return false;
  }
  if (!(tls->flags & NETFW__TLS_READING))
    (void)lower_reading(tls, false);
  tls->t.ev->established(tls->t.up);
  return !(tls->flags & (NETFW__TLS_CLOSING | NETFW__TLS_FAILED));
}

/* True while OpenSSL may have something for SSL_read: ciphertext not yet
 * taken, bytes inside it, or the socket's EOF to report. Asking the stream
 * for room only then lets an idle connection hold no read buffer. */
static bool input_left(const netfw__tls *tls) {
  return tls->in.len > tls->in.off || SSL_has_pending(tls->ssl) ||
         (tls->flags & NETFW__TLS_IN_EOF);
}

/* Decrypts into the stream's buffers while it reads. */
static void deliver(netfw__tls *tls) {
  char why[256];

  while ((tls->flags & NETFW__TLS_READING) && input_left(tls) &&
         !(tls->flags & (NETFW__TLS_CLOSING | NETFW__TLS_FAILED |
                         NETFW__TLS_EOF_SENT))) {
    uv_buf_t b = uv_buf_init(NULL, 0);
    int n, e;
    tls->t.ev->alloc(tls->t.up, &b);
    if (b.len == 0) {
      tls->t.ev->read(tls->t.up, UV_ENOBUFS);
      return;
    }
    ERR_clear_error();
    n = SSL_read(tls->ssl, b.base, b.len > INT32_MAX ? INT32_MAX : (int)b.len);
    if (n > 0) {
      tls->t.ev->read(tls->t.up, n);
      continue;
    }
    e = SSL_get_error(tls->ssl, n);
    if (e == SSL_ERROR_WANT_READ)
      return;
    if (e == SSL_ERROR_ZERO_RETURN) {
      tls->flags |= NETFW__TLS_EOF_SENT;
      tls->t.ev->read(tls->t.up, UV_EOF);
      return;
    }
    describe(tls, e, why, sizeof(why));
    netfw__tls_fail(tls, why, UV_EPROTO);
    return;
  }
}

/* Moves the connection on with what arrived: handshake, then data; then
 * writes what OpenSSL made meanwhile (tickets, alerts, key updates). */
static void pump_in(netfw__tls *tls) {
  int err;

  if (!(tls->flags & NETFW__TLS_ESTABLISHED) &&
      (tls->flags & NETFW__TLS_SHUT_WANTED)) {
    tls->in.off = tls->in.len; /* ended before the handshake: discard */
    netfw__tls_buf_trim(tls, &tls->in);
    if ((tls->flags & NETFW__TLS_IN_EOF) &&
        !(tls->flags & NETFW__TLS_EOF_SENT)) {
      tls->flags |= NETFW__TLS_EOF_SENT;
      tls->t.ev->read(tls->t.up, UV_EOF);
    }
    return;
  }
  if (!(tls->flags & NETFW__TLS_ESTABLISHED) && !handshake(tls))
    return;
  deliver(tls);
  if (tls->flags & (NETFW__TLS_CLOSING | NETFW__TLS_FAILED))
    return;
  netfw__tls_buf_trim(tls, &tls->in);
  if ((err = netfw__tls_pump_out(tls)) != 0)
    netfw__tls_fail(tls, uv_strerror(err), err);
}

/* ---- events from the TCP transport below ---- */

/* The layer below is up (TCP at once; a PROXY preamble once its header
 * was read): the handshake starts. */
static void on_lower_established(void *up) {
  netfw__tls *tls = up;
  int err;

  keep_peer_name(tls);
  if ((err = lower_reading(tls, true)) != 0) {
    netfw__tls_fail(tls, uv_strerror(err), err);
    return;
  }
  if (!tls->x->server)
    (void)handshake(tls); /* the ClientHello */
}

static void on_lower_alloc(void *up, uv_buf_t *buf) {
  netfw__tls *tls = up;
  netfw__tls_buf *in = &tls->in;

  if (in->off > 0) { /* keep what is left at the front */
    memmove(in->base, in->base + in->off, in->len - in->off);
    in->len -= in->off;
    in->off = 0;
  }
  if (in->cap - in->len < NETFW__TLS_BUF_MIN &&
      netfw__tls_buf_reserve(tls, in, NETFW__TLS_READ_SIZE) != 0) {
    *buf = uv_buf_init(NULL, 0);
    return;
  }
  *buf = uv_buf_init((char *)in->base + in->len,
                     (unsigned)(in->cap - in->len));
}

/* The client left before sending a byte (a TCP health check, a scan):
 * not a failed handshake; reported up as it came, logged at debug. */
static void left_silently(netfw__tls *tls, int status) {
  tls->flags |= NETFW__TLS_FAILED;
  uv_timer_stop(&tls->timer);
  (void)lower_reading(tls, false);
  netfw_log(NETFW_LOG_DEBUG, "tls: %s left before its handshake: %s",
            tls->peer, uv_strerror(status));
  tls->t.ev->read(tls->t.up, status);
}

static void on_lower_read(void *up, ssize_t nread) {
  netfw__tls *tls = up;

  if (tls->flags & (NETFW__TLS_CLOSING | NETFW__TLS_FAILED))
    return;
  if (nread < 0 && !(tls->flags & NETFW__TLS_HEARD) && nread != UV_EPROTO &&
      SSL_is_server(tls->ssl)) {
    left_silently(tls, (int)nread);
    return;
  }
  if (nread == UV_EOF) {
    tls->flags |= NETFW__TLS_IN_EOF;
    (void)lower_reading(tls, false);
  } else if (nread < 0) {
    (void)lower_reading(tls, false);
    if (nread == UV_EPROTO) /* the layer below refused, and logged why */
      tls->flags |= NETFW__TLS_FAILED;
    if (!(tls->flags & NETFW__TLS_ESTABLISHED) && nread != UV_EPROTO)
      netfw__tls_fail(tls, uv_strerror((int)nread), (int)nread);
    else
      tls->t.ev->read(tls->t.up, nread);
    return;
  } else {
    tls->in.len += (size_t)nread;
    tls->flags |= NETFW__TLS_HEARD;
  }
  pump_in(tls);
}

/* Both handles are closed: the stream's last event, then the memory. */
static void finish_close(netfw__tls *tls) {
  if (!(tls->flags & NETFW__TLS_TIMER_CLOSED) ||
      !(tls->flags & NETFW__TLS_LOWER_CLOSED))
    return;
  if (tls->up_req != NULL) {
    uv_write_t *req = tls->up_req;
    tls->up_req = NULL;
    tls->t.ev->written(tls->t.up, req, UV_ECANCELED);
  }
  netfw__tls_buf_release(tls, &tls->in);
  netfw__tls_buf_release(tls, &tls->out);
  netfw__tls_buf_release(tls, &tls->wire);
  tls->t.ev->closed(tls->t.up); /* the peer's identity still works in it */
  SSL_free(tls->ssl);
  netfw__tls_ctx_unref(tls->x);
  free(tls->failure);
  free(tls);
}

static void on_lower_closed(void *up) {
  netfw__tls *tls = up;

  tls->flags |= NETFW__TLS_LOWER_CLOSED;
  finish_close(tls);
}

static void on_timer_closed(uv_handle_t *h) {
  netfw__tls *tls = h->data;

  tls->flags |= NETFW__TLS_TIMER_CLOSED;
  finish_close(tls);
}

static const netfw__transport_events lower_events = {
    .established = on_lower_established,
    .alloc = on_lower_alloc,
    .read = on_lower_read,
    .written = netfw__tls_on_lower_written,
    .closed = on_lower_closed,
    .drained = NULL, /* TCP leaves nothing queued after a try_write */
};

/* ---- the operations the stream calls ---- */

/* The handshake bound passed; after the handshake, input left over is
 * delivered now that the stream reads again. */
static void on_timer(uv_timer_t *h) {
  netfw__tls *tls = h->data;
  char why[64];

  if (tls->flags & (NETFW__TLS_CLOSING | NETFW__TLS_FAILED))
    return;
  if (!(tls->flags & NETFW__TLS_ESTABLISHED)) {
    snprintf(why, sizeof(why), "no handshake within %d ms",
             tls->x->handshake_ms);
    netfw__tls_fail(tls, why, UV_ETIMEDOUT);
    return;
  }
  pump_in(tls);
}

static void tls_start(netfw__transport *t) {
  netfw__tls *tls = (netfw__tls *)t;

  snprintf(tls->peer, sizeof(tls->peer), "?");
  if (tls->x->handshake_ms > 0)
    uv_timer_start(&tls->timer, on_timer, (uint64_t)tls->x->handshake_ms, 0);
  tls->lower->ops->start(tls->lower); /* on_lower_established follows */
}

static int tls_read_start(netfw__transport *t) {
  netfw__tls *tls = (netfw__tls *)t;

  tls->flags |= NETFW__TLS_READING;
  if (!(tls->flags & NETFW__TLS_ESTABLISHED))
    return 0; /* reading already, for the handshake */
  if (input_left(tls))
    uv_timer_start(&tls->timer, on_timer, 0, 0);
  if (tls->flags & NETFW__TLS_IN_EOF)
    return 0;
  return lower_reading(tls, true);
}

static void tls_read_stop(netfw__transport *t) {
  netfw__tls *tls = (netfw__tls *)t;

  tls->flags &= ~(uint32_t)NETFW__TLS_READING;
  if (tls->flags & NETFW__TLS_ESTABLISHED)
    (void)lower_reading(tls, false);
}

/* A graceful close still says close_notify (RFC 8446 6.1: also in answer
 * to the peer's): one small record, written now if the socket takes it. */
static void say_close_notify(netfw__tls *tls) {
  uv_buf_t b;

  if ((tls->flags & (NETFW__TLS_NOTIFY_SENT | NETFW__TLS_FAILED |
                     NETFW__TLS_WRITING)) ||
      !(tls->flags & NETFW__TLS_ESTABLISHED) || tls->out.len > tls->out.off)
    return;
  tls->flags |= NETFW__TLS_NOTIFY_SENT;
  ERR_clear_error();
  (void)SSL_shutdown(tls->ssl);
  ERR_clear_error();
  if (tls->out.len > tls->out.off) {
    b.base = (char *)tls->out.base + tls->out.off;
    b.len = tls->out.len - tls->out.off;
    (void)tls->lower->ops->try_write(tls->lower, &b, 1);
  }
}

static void tls_close(netfw__transport *t, bool reset) {
  netfw__tls *tls = (netfw__tls *)t;

  if (tls->flags & NETFW__TLS_CLOSING)
    return;
  if (!reset)
    say_close_notify(tls);
  tls->flags |= NETFW__TLS_CLOSING;
  uv_close((uv_handle_t *)&tls->timer, on_timer_closed);
  tls->lower->ops->close(tls->lower, reset);
}

static int tls_peer(const netfw__transport *t, struct sockaddr_storage *ss) {
  const netfw__tls *tls = (const netfw__tls *)t;

  return tls->lower->ops->peer(tls->lower, ss);
}

static const netfw__transport_ops tls_ops = {
    .start = tls_start,
    .read_start = tls_read_start,
    .read_stop = tls_read_stop,
    .try_write = netfw__tls_try_write,
    .write = netfw__tls_write,
    .write_queued = netfw__tls_write_queued,
    .shutdown_write = netfw__tls_shutdown_write,
    .close = tls_close,
    .peer = tls_peer,
};

/* Client side: SNI and the name the server's certificate must match (an
 * IP address is matched as one, and sent no SNI). */
static int set_server_name(SSL *ssl, const char *name) {
  unsigned char addr[16];

  if (name == NULL)
    return 1;
  if (inet_pton(AF_INET, name, addr) == 1 ||
      inet_pton(AF_INET6, name, addr) == 1)
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
  return SSL_set_tlsext_host_name(ssl, name) == 1 && SSL_set1_host(ssl, name);
}

int netfw__tls_wrap(netfw__stream *s, netfw__tls_ctx *x,
                    const char *server_name) {
  netfw__tls *tls = calloc(1, sizeof(*tls));
  BIO *bio;

  if (tls == NULL)
    return NETFW_ENOMEM;
  tls->ssl = SSL_new(x->ctx);
  bio = tls->ssl != NULL ? netfw__tls_bio_new(tls) : NULL;
  if (bio == NULL ||
      (!x->server && set_server_name(tls->ssl, server_name) != 1)) {
    BIO_free(bio);
    SSL_free(tls->ssl);
    free(tls);
    ERR_clear_error();
    return NETFW_ENOMEM;
  }
  SSL_set_bio(tls->ssl, bio, bio);
  if (x->server)
    SSL_set_accept_state(tls->ssl);
  else
    SSL_set_connect_state(tls->ssl);
  uv_timer_init(s->ctx->loop, &tls->timer);
  tls->timer.data = tls;
  tls->x = netfw__tls_ctx_ref(x);
  tls->sctx = s->ctx;
  tls->lower = s->t;
  tls->t.ops = &tls_ops;
  tls->t.ev = s->t->ev; /* the stream's events, its `up` */
  tls->t.up = s->t->up;
  s->t->ev = &lower_events;
  s->t->up = tls;
  s->t = &tls->t;
  return 0;
}
