/* The server's statistics (netfw/stats.h) on the server's side: the table
 * made at start and kept until free, netfw_server_stats as a supervisor
 * command (or read directly once the supervisor is gone), and what a
 * worker's dispatcher reports about frames it could not use. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "netfw/stats.h"
#include "server_internal.h"

int netfw__server_stats_setup(netfw_server *s) {
  char host[256];
  uint16_t port;

  if (s->cfg.metrics_addr == NULL)
    return 0;
  if (netfw__metrics_addr_parse(s->cfg.metrics_addr, host, sizeof(host),
                                &port) != 0) {
    netfw_log(NETFW_LOG_ERROR,
              "netfw_server_new: metrics_addr \"%s\" is not HOST:PORT "
              "(e.g. \"127.0.0.1:9464\", \"[::1]:9464\")",
              s->cfg.metrics_addr);
    return NETFW_EINVAL;
  }
  s->metrics_addr = strdup(s->cfg.metrics_addr);
  s->cfg.metrics_addr = s->metrics_addr;
  return s->metrics_addr != NULL ? 0 : NETFW_ENOMEM;
}

int netfw__server_stats_start(netfw_server *s) {
  s->metrics =
      netfw__metrics_new(s->nworkers, 1 + NETFW__SLOT_OLD, s->cfg.msg_name);
  return s->metrics != NULL ? 0 : NETFW_ENOMEM;
}

void netfw__server_stats_free(netfw_server *s) {
  netfw__metrics_free(s->metrics);
  s->metrics = NULL;
  free(s->metrics_addr);
  s->metrics_addr = NULL;
}

int netfw_server_stats(netfw_server *s, netfw_stats *out) {
  netfw__cmd cmd = {.kind = NETFW__CMD_STATS, .stats = out};

  if (s == NULL || out == NULL)
    return NETFW_EINVAL;
  memset(out, 0, sizeof(*out));
  if (s->metrics == NULL || getpid() != s->parent_pid)
    return NETFW_ESTATE;
  if (s->state == NETFW__SRV_STOPPED) /* the supervisor is joined */
    return netfw__metrics_snapshot(s, out);
  return netfw__supervisor_call(s, &cmd);
}

uint16_t netfw_server_metrics_port(const netfw_server *s) {
  if (s == NULL || s->metrics == NULL)
    return 0;
  return netfw__metrics_http_port(s);
}

const char *netfw_refuse_reason_name(netfw_refuse_reason why) {
  switch (why) {
#define XX(name, str)                                                          \
  case NETFW_REFUSE_##name:                                                    \
    return str;
    NETFW_REFUSE_REASON_MAP(XX)
#undef XX
  default:
    return "unknown";
  }
}

void netfw_conn_count_bad(netfw_conn *c, const netfw_msg *m, bool malformed) {
  netfw__worker *w;
  netfw__mctr *e;

  if (c == NULL || m == NULL || c->magic != NETFW__CONN_MAGIC)
    return;
  w = netfw__conn_worker(c);
  e = netfw__metrics_msg(w->metrics, w->ctr, netfw_msg_id(m));
  netfw__ctr_add(malformed ? &e->malformed : &e->unhandled, 1);
}

/* ---- the worker's statistics module ---- */

/* Before the loop blocks: the output gauges, for the parent to read. */
static void publish_gauges(uv_prepare_t *h) {
  netfw__worker *w = h->data;

  netfw__ctr_set(&w->ctr->queued, w->sctx.out_mem);
  netfw__ctr_set(&w->ctr->queued_max, w->sctx.out_peak);
}

/* Counts into the block the supervisor claimed, or a private one when the
 * table was full. */
static int stats_init(netfw__worker *w) {
  if (w->ctr == NULL && (w->ctr = calloc(1, w->metrics->stride)) == NULL)
    return UV_ENOMEM;
  uv_prepare_init(&w->loop, &w->stats_prepare);
  w->stats_prepare.data = w;
  uv_prepare_start(&w->stats_prepare, publish_gauges);
  uv_unref((uv_handle_t *)&w->stats_prepare);
  return 0;
}

/* A graceful stop: the worker no longer serves its slot. */
static void stats_stop(netfw__worker *w) {
  netfw__ctr_set(&w->ctr->ready, 0);
}

static void stats_close(netfw__worker *w) {
  netfw__close_handle((uv_handle_t *)&w->stats_prepare);
}

const netfw__module netfw__stats_module = {
    .name = "stats",
    .init = stats_init,
    .stop = stats_stop,
    .close = stats_close};
