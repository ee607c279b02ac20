/* The async client's connection: a stream (runtime/stream) over the
 * socket the dial connected, on the caller's loop. Output is written once
 * per loop iteration from the check and prepare phases (prepare: what a
 * timer callback queued leaves before the loop blocks in poll). Input is
 * cut into frames and routed by calls.c. A loss reports DOWN, ends the
 * calls in flight with NETFW_ECONNRESET and, once the stream has closed,
 * starts the backoff. */
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "aclient.h"
#include "message_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "tls.h"

static netfw_aclient *client_of(const netfw__stream *s) {
  return (netfw_aclient *)(void *)((char *)(uintptr_t)s -
                                   offsetof(netfw_aclient, s));
}

static void on_flush_check(uv_check_t *h) {
  netfw_aclient *a = h->data;

  netfw__stream_ctx_flush(&a->sctx);
}

static void on_flush_prepare(uv_prepare_t *h) {
  netfw_aclient *a = h->data;

  netfw__stream_ctx_flush(&a->sctx);
}

void netfw__aconn_down(netfw_aclient *a, int err, const char *why) {
  if (a->state != NETFW_LINK_UP || a->closing)
    return;
  netfw_log(NETFW_LOG_DEBUG, "aclient: connection lost: %s", why);
  netfw__aclient_set_error(a, "%s", why);
  netfw__aclient_report(a, NETFW_LINK_DOWN, err);
  netfw__stream_close(&a->s, false);
  netfw__acalls_fail_all(a, NETFW_ECONNRESET);
}

void netfw__aconn_dial_failed(netfw_aclient *a, int err) {
  netfw_log(NETFW_LOG_DEBUG, "aclient: %s", a->error);
  netfw__aclient_report(a, NETFW_LINK_DOWN, err);
  netfw__abackoff_schedule(a);
}

/* The handshake failed or did not finish in time (err, why): DOWN; the
 * backoff follows the stream's close. */
static void handshake_failed(netfw_aclient *a, int err, const char *why) {
  uv_timer_stop(&a->fin_timer);
  netfw__aclient_set_error(a, "%s", why);
  netfw_log(NETFW_LOG_DEBUG, "aclient: %s", why);
  netfw__aclient_report(a, NETFW_LINK_DOWN, err);
  netfw__stream_close(&a->s, err == NETFW_ETIMEDOUT);
}

/* Plain TCP: from netfw__stream_start; TLS: the handshake is done. */
static void on_established(netfw__stream *s) {
  netfw_aclient *a = client_of(s);
  int rc = netfw__stream_read_start(s);

  if (rc < 0) {
    handshake_failed(a, NETFW_ECONNRESET, uv_strerror(rc));
    return;
  }
  uv_timer_stop(&a->fin_timer);
  a->established = true;
  a->attempts = 0;
  a->error[0] = '\0';
  netfw__aclient_report(a, NETFW_LINK_UP, 0);
  netfw__aconn_hold(a);
}

/* Takes every complete frame; stops when a callback closed the client or
 * the connection went down. */
static void on_readable(netfw__stream *s) {
  netfw_aclient *a = client_of(s);
  netfw_frame f;
  netfw_msg m;
  int rc = 0;
  char why[256];

  while (!a->closing && a->state == NETFW_LINK_UP &&
         (rc = netfw__stream_next(s, &f)) == 1) {
    netfw__msg_borrow(&m, f.id, f.payload, f.size);
    if (netfw__acalls_deliver(a, &m) == NETFW_EPROTO) {
      snprintf(why, sizeof(why),
               "dropped by this client: the server answered %s (id %u) "
               "with %s (id %u), which is not one of its replies",
               netfw__calltab_name(a->tab, a->bad_req), (unsigned)a->bad_req,
               netfw__calltab_name(a->tab, f.id), (unsigned)f.id);
      netfw_log(NETFW_LOG_WARN, "aclient: %s", why);
      netfw__aconn_down(a, NETFW_EPROTO, why);
      return;
    }
  }
  if (!a->closing && a->state == NETFW_LINK_UP && rc == NETFW_E2BIG) {
    snprintf(why, sizeof(why),
             "dropped by this client: the server sent a "
             "frame over max_payload (%u bytes)",
             (unsigned)a->cfg.max_payload);
    netfw_log(NETFW_LOG_WARN, "aclient: %s", why);
    netfw__aconn_down(a, NETFW_E2BIG, why);
  }
}

static void on_lost(netfw__stream *s, int status) {
  netfw_aclient *a = client_of(s);
  char why[160];

  if (a->closing) { /* close's graceful end: no more to do than close */
    netfw__stream_close(s, false);
    return;
  }
  if (!a->established) { /* the TLS handshake failed */
    if (netfw__tls_failure(s)[0] != '\0')
      snprintf(why, sizeof(why), "TLS with %s:%u: %s", a->host,
               (unsigned)a->port, netfw__tls_failure(s));
    else
      snprintf(why, sizeof(why), "TLS with %s:%u: %s during the handshake",
               a->host, (unsigned)a->port, uv_strerror(status));
    handshake_failed(a, status == UV_EPROTO ? NETFW_ETLS : NETFW_ECONNRESET,
                     why);
    return;
  }
  if (status == UV_EOF) {
    netfw__aconn_down(a, NETFW_ECLOSED, "closed by the server");
    return;
  }
  snprintf(why, sizeof(why), "reset (%s)", uv_strerror(status));
  netfw__aconn_down(
      a, status == UV_ETIMEDOUT ? NETFW_ETIMEDOUT : NETFW_ECONNRESET, why);
}

static void on_closed(netfw__stream *s) {
  netfw_aclient *a = client_of(s);

  a->s_open = false;
  a->established = false;
  uv_timer_stop(&a->fin_timer);
  uv_check_stop(&a->flush_check);
  uv_prepare_stop(&a->flush_prepare);
  if (a->closing) {
    netfw__aclient_maybe_finish(a);
    return;
  }
  if (a->dial_pending) { /* connect was called while this one closed */
    a->dial_pending = false;
    if (netfw__adial_start(a) != 0)
      netfw__aconn_dial_failed(a, NETFW_ENOMEM);
    return;
  }
  netfw__abackoff_schedule(a);
}

const netfw__stream_events netfw__aconn_events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .closed = on_closed,
};

static void on_handshake_timeout(uv_timer_t *t) {
  netfw_aclient *a = t->data;
  char why[160];

  if (!a->s_open || a->established || a->closing)
    return;
  snprintf(why, sizeof(why),
           "connect to %s:%u timed out after %d ms (TLS "
           "handshake)",
           a->host, (unsigned)a->port, a->cfg.connect_timeout_ms);
  handshake_failed(a, NETFW_ETIMEDOUT, why);
}

/* Stacks TLS on the stream; its handshake gets what is left of
 * connect_timeout_ms. Returns 0 or NETFW_ENOMEM. */
static int start_tls(netfw_aclient *a) {
  const char *name =
      a->tls_cfg->server_name != NULL ? a->tls_cfg->server_name : a->host;
  uint64_t spent = uv_now(a->loop) - a->dial_started;
  uint64_t limit = (uint64_t)a->cfg.connect_timeout_ms;

  if (netfw__tls_wrap(&a->s, a->tls, name) != 0)
    return NETFW_ENOMEM;
  uv_timer_start(&a->fin_timer, on_handshake_timeout,
                 spent < limit ? limit - spent : 0, 0);
  return 0;
}

void netfw__aconn_up(netfw_aclient *a, int fd) {
  int rc;

  if ((rc = netfw__stream_init(&a->s, &a->sctx, a->cfg.max_payload)) < 0) {
    close(fd);
    netfw__aclient_set_error(a, "connection setup: %s", uv_strerror(rc));
    netfw__aconn_dial_failed(a, NETFW_ENOMEM);
    return;
  }
  a->s_open = true;
  a->established = false;
  if ((rc = netfw__stream_open(&a->s, fd)) < 0)
    close(fd); /* still ours */
  else if (a->tls != NULL && start_tls(a) != 0)
    rc = UV_ENOMEM;
  if (rc < 0) {
    netfw__aclient_set_error(a, "connection setup: %s", uv_strerror(rc));
    netfw__aclient_report(a, NETFW_LINK_DOWN, NETFW_ECONNRESET);
    netfw__stream_close(&a->s, false); /* the backoff follows its close */
    return;
  }
  uv_check_start(&a->flush_check, on_flush_check);
  uv_prepare_start(&a->flush_prepare, on_flush_prepare);
  uv_unref((uv_handle_t *)&a->flush_check);
  uv_unref((uv_handle_t *)&a->flush_prepare);
  netfw__stream_start(&a->s); /* plain TCP: established at once */
}

void netfw__aconn_hold(netfw_aclient *a) {
  uv_handle_t *h = (uv_handle_t *)&a->s.tcp.tcp;

  if (!a->s_open || uv_is_closing(h))
    return;
  if (a->head != NULL || a->closing)
    uv_ref(h);
  else
    uv_unref(h);
}

static void on_fin_timeout(uv_timer_t *t) {
  netfw_aclient *a = t->data;

  if (a->s_open)
    netfw__stream_close(&a->s, true);
}

void netfw__aconn_fin(netfw_aclient *a) {
  if (a->s.flags & NETFW__S_CLOSING)
    return;
  if (!a->established) { /* mid-handshake: nothing of ours to deliver */
    netfw__stream_close(&a->s, true);
    return;
  }
  netfw__aconn_hold(a);
  netfw__stream_fin(&a->s, true);
  uv_timer_start(&a->fin_timer, on_fin_timeout,
                 (uint64_t)a->cfg.connect_timeout_ms, 0);
}

int netfw__aconn_send(netfw_aclient *a, uint16_t id, const uint8_t *payload,
                      uint32_t size) {
  bool broken = false;
  int rc;

  if (netfw__stream_queued(&a->s) + NETFW_FRAME_HDR_SIZE + size >
      a->cfg.max_output)
    return NETFW_EAGAIN;
  rc = netfw__stream_send(&a->s, id, payload, size, &broken);
  if (broken) { /* part of the frame left: the stream cannot go on */
    a->broken = true;
    netfw__aclient_kick(a);
  }
  return rc;
}
