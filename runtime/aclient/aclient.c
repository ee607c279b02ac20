/* The async client's API edge (netfw/aclient.h): configuration, argument
 * checks, state reports deferred to the loop, and the close sequence. The
 * work is done by dial.c, conn.c, calls.c and backoff.c.
 *
 * No callback runs inside a netfw_aclient_* call: what an API call has to
 * report (CONNECTING, the calls a close ends) waits in the client for the
 * idle handle `kick`, which runs in the next loop iteration. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aclient.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "tls.h"

#define DEFAULT_MAX_PAYLOAD (16u * 1024 * 1024)
#define DEFAULT_MAX_OUTPUT ((size_t)64 * 1024 * 1024)
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_BACKOFF_MAX_MS 10000
#define ACLIENT_CACHE 4 /* buffers the stream keeps for reuse */

void netfw_aclient_config_init_sized(netfw_aclient_config *cfg, size_t size) {
  if (cfg == NULL)
    return;
  memset(cfg, 0, size < sizeof(*cfg) ? size : sizeof(*cfg));
  cfg->size = (uint32_t)size;
  if (size < sizeof(*cfg))
    return;
  cfg->max_payload = DEFAULT_MAX_PAYLOAD;
  cfg->max_output = DEFAULT_MAX_OUTPUT;
  cfg->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
}

void netfw__aclient_set_error(netfw_aclient *a, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(a->error, sizeof(a->error), fmt, ap);
  va_end(ap);
}

void netfw__aclient_report(netfw_aclient *a, netfw_link_state st, int err) {
  a->state = st;
  if (a->closing)
    return; /* CLOSED is the only report left */
  if (a->nreports == NETFW__AC_REPORTS) {
    netfw_log(NETFW_LOG_WARN, "aclient: state reports pile up: '%s' dropped",
              netfw_link_state_name(a->reports[0].state));
    memmove(a->reports, a->reports + 1,
            sizeof(a->reports[0]) * (NETFW__AC_REPORTS - 1));
    a->nreports--;
  }
  a->reports[a->nreports].state = st;
  a->reports[a->nreports].err = err;
  a->nreports++;
  netfw__aclient_kick(a);
}

/* Delivers the queued reports in order; stops when a callback closes. */
static void deliver_reports(netfw_aclient *a) {
  int i;

  for (i = 0; i < a->nreports && !a->closing; i++) {
    netfw__areport r = a->reports[i];
    if (a->cfg.on_state != NULL)
      a->cfg.on_state(a->cfg.user, r.state, r.err);
  }
  if (a->closing || i == a->nreports)
    a->nreports = 0;
}

static void on_kick(uv_idle_t *h) {
  netfw_aclient *a = h->data;

  uv_idle_stop(&a->kick);
  if (a->broken && !a->closing) {
    a->broken = false;
    netfw__aconn_down(a, NETFW_ECONNRESET,
                      "dropped by this client: a send "
                      "failed half way (out of memory)");
  }
  deliver_reports(a);
  if (a->closing && a->fail_calls) {
    a->fail_calls = false;
    netfw__acalls_fail_all(a, NETFW_ECONNRESET);
  }
  netfw__aclient_maybe_finish(a);
}

void netfw__aclient_kick(netfw_aclient *a) {
  if (!a->finishing)
    uv_idle_start(&a->kick, on_kick);
}

static void free_client(netfw_aclient *a) {
  netfw__stream_ctx_free(&a->sctx);
  netfw__calltab_free(a->tab);
  netfw__tls_ctx_unref(a->tls);
  netfw__tls_config_free(a->tls_cfg);
  free(a->host);
  free(a);
}

static void on_handle_closed(uv_handle_t *h) {
  netfw_aclient *a = h->data;

  if (--a->handles > 0)
    return;
  if (a->cfg.on_state != NULL)
    a->cfg.on_state(a->cfg.user, NETFW_LINK_CLOSED, 0);
  free_client(a);
}

void netfw__aclient_maybe_finish(netfw_aclient *a) {
  if (!a->closing || a->finishing || a->fail_calls || a->s_open || a->dialing ||
      a->poll_open)
    return;
  a->finishing = true;
  a->state = NETFW_LINK_CLOSED;
  uv_close((uv_handle_t *)&a->kick, on_handle_closed);
  uv_close((uv_handle_t *)&a->flush_check, on_handle_closed);
  uv_close((uv_handle_t *)&a->flush_prepare, on_handle_closed);
  uv_close((uv_handle_t *)&a->fin_timer, on_handle_closed);
  uv_close((uv_handle_t *)&a->deadline_timer, on_handle_closed);
  uv_close((uv_handle_t *)&a->retry, on_handle_closed);
  uv_close((uv_handle_t *)&a->dial_timer, on_handle_closed);
}

/* Refuses what netfw_aclient_new cannot take, logging why. */
static int check_config(const netfw_aclient_config *c) {
  const char *why = NULL;

  if (c->size < sizeof(*c))
    why = "config not initialised with netfw_aclient_config_init";
  else if (c->max_payload == 0)
    why = "max_payload is 0";
  else if (c->max_output == 0)
    why = "max_output is 0";
  else if (c->connect_timeout_ms <= 0)
    why = "connect_timeout_ms must be > 0";
  else if (c->reconnect.initial_ms < 0 || c->reconnect.max_ms < 0 ||
           c->reconnect.max_attempts < 0)
    why = "reconnect fields must be >= 0";
  if (why == NULL)
    return 0;
  netfw_log(NETFW_LOG_ERROR, "aclient: %s", why);
  return NETFW_EINVAL;
}

/* Initialises the client's handles (uv_*_init cannot fail for these on a
 * live loop). */
static void init_handles(netfw_aclient *a) {
  uv_idle_init(a->loop, &a->kick);
  uv_check_init(a->loop, &a->flush_check);
  uv_prepare_init(a->loop, &a->flush_prepare);
  uv_timer_init(a->loop, &a->fin_timer);
  uv_timer_init(a->loop, &a->deadline_timer);
  uv_timer_init(a->loop, &a->retry);
  uv_timer_init(a->loop, &a->dial_timer);
  a->kick.data = a->flush_check.data = a->flush_prepare.data = a;
  a->fin_timer.data = a->deadline_timer.data = a->retry.data = a;
  a->dial_timer.data = a;
  uv_unref((uv_handle_t *)&a->retry); /* see netfw__aconn_hold */
  a->handles = NETFW__AC_HANDLES;
}

/* Copies cfg->tls and builds its client context (reading its files now).
 * Returns 0, or NETFW_ETLS / NETFW_ENOMEM with the reason logged. */
static int setup_tls(netfw_aclient *a) {
  char err[NETFW__TLS_ERR_LEN] = "";

  if ((a->tls_cfg = netfw__tls_config_dup(a->cfg.tls)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "aclient: tls config: out of memory or not "
                               "initialised with netfw_tls_config_init");
    return NETFW_ENOMEM;
  }
  if ((a->tls = netfw__tls_ctx_new(a->tls_cfg, false, err)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "aclient: %s", err);
    netfw__tls_config_free(a->tls_cfg);
    return NETFW_ETLS;
  }
  a->cfg.tls = a->tls_cfg;
  return 0;
}

netfw_aclient *netfw_aclient_new(uv_loop_t *loop,
                                 const netfw_aclient_config *cfg) {
  netfw_aclient *a;

  if (loop == NULL || cfg == NULL) {
    netfw_log(NETFW_LOG_ERROR, "aclient: NULL loop or config");
    return NULL;
  }
  if (check_config(cfg) != 0)
    return NULL;
  if ((a = calloc(1, sizeof(*a))) == NULL)
    goto failed_alloc;
  a->loop = loop;
  a->cfg = *cfg;
  a->cfg.size = sizeof(a->cfg);
  if (a->cfg.reconnect.initial_ms > 0 && a->cfg.reconnect.max_ms == 0)
    a->cfg.reconnect.max_ms = DEFAULT_BACKOFF_MAX_MS;
  if (cfg->protocol != NULL && netfw__calltab_new(cfg->protocol, &a->tab) != 0)
    goto failed_tab;
  if (cfg->tls != NULL && setup_tls(a) != 0)
    goto failed_tls;
  a->state = NETFW_LINK_DOWN;
  a->dial_fd = -1;
  netfw__stream_ctx_init(&a->sctx, loop, &netfw__aconn_events, ACLIENT_CACHE);
  netfw__abackoff_init(a);
  init_handles(a);
  return a;

failed_tls:
  netfw__calltab_free(a->tab);
  free(a);
  return NULL;
failed_tab:
  netfw_log(NETFW_LOG_ERROR, "aclient: malformed protocol descriptor (%s)",
            cfg->protocol->proto != NULL ? cfg->protocol->proto : "?");
  free(a);
  return NULL;
failed_alloc:
  netfw_log(NETFW_LOG_ERROR, "aclient: out of memory");
  return NULL;
}

int netfw_aclient_connect(netfw_aclient *a, const char *host, uint16_t port) {
  char *copy;

  if (a == NULL || host == NULL || port == 0)
    return NETFW_EINVAL;
  if (a->closing || a->state == NETFW_LINK_CONNECTING ||
      a->state == NETFW_LINK_UP)
    return NETFW_ESTATE;
  if ((copy = strdup(host)) == NULL)
    return NETFW_ENOMEM;
  free(a->host);
  a->host = copy;
  a->port = port;
  a->attempts = 0;
  uv_timer_stop(&a->retry);
  a->error[0] = '\0';
  netfw__aclient_report(a, NETFW_LINK_CONNECTING, 0);
  if (a->s_open) { /* the last connection is still closing */
    a->dial_pending = true;
    return 0;
  }
  if (netfw__adial_start(a) != 0) {
    a->state = NETFW_LINK_DOWN;
    a->nreports--;
    return NETFW_ENOMEM;
  }
  return 0;
}

/* The checks send and call share. */
static int check_send(netfw_aclient *a, const netfw_msg *m) {
  if (a == NULL || m == NULL)
    return NETFW_EINVAL;
  if (a->closing || a->state != NETFW_LINK_UP || a->broken)
    return NETFW_ENOTCONN;
  return 0;
}

int netfw_aclient_send(netfw_aclient *a, const netfw_msg *m) {
  uint16_t id;
  int rc;

  if ((rc = check_send(a, m)) != 0)
    return rc;
  id = netfw_msg_id(m);
  if (a->tab != NULL && netfw__calltab_is_request(a->tab, id) &&
      netfw__acalls_push(a, id, -1, NULL, NULL) != 0)
    return NETFW_ENOMEM;
  rc = netfw__aconn_send(a, id, netfw_msg_payload(m), netfw_msg_size(m));
  if (rc != 0 && a->tab != NULL && netfw__calltab_is_request(a->tab, id))
    netfw__acalls_pop_tail(a);
  return rc;
}

int netfw_aclient_call(netfw_aclient *a, const netfw_msg *req, int timeout_ms,
                       netfw_call_cb cb, void *arg) {
  uint16_t id;
  int rc;

  if (a == NULL || req == NULL || cb == NULL ||
      (timeout_ms <= 0 && timeout_ms != -1))
    return NETFW_EINVAL;
  if (a->tab == NULL)
    return NETFW_ESTATE;
  id = netfw_msg_id(req);
  if (!netfw__calltab_is_request(a->tab, id))
    return NETFW_EINVAL;
  if ((rc = check_send(a, req)) != 0)
    return rc;
  if (netfw__acalls_push(a, id, timeout_ms, cb, arg) != 0)
    return NETFW_ENOMEM;
  rc = netfw__aconn_send(a, id, netfw_msg_payload(req), netfw_msg_size(req));
  if (rc != 0)
    netfw__acalls_pop_tail(a);
  return rc;
}

netfw_link_state netfw_aclient_state(const netfw_aclient *a) {
  return a != NULL ? a->state : NETFW_LINK_CLOSED;
}

uint64_t netfw_aclient_late_replies(const netfw_aclient *a) {
  return a != NULL ? a->late_replies : 0;
}

const char *netfw_aclient_error(const netfw_aclient *a) {
  if (a == NULL || a->state == NETFW_LINK_UP)
    return "";
  return a->error;
}

void netfw_aclient_close(netfw_aclient *a) {
  if (a == NULL || a->closing)
    return;
  a->closing = true;
  a->nreports = 0;
  a->fail_calls = true;
  a->dial_pending = false;
  uv_timer_stop(&a->retry);
  if (a->dialing)
    netfw__adial_cancel(a);
  if (a->s_open)
    netfw__aconn_fin(a);
  netfw__aclient_kick(a);
}
