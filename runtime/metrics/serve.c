/* The HTTP endpoint of a server: the generic core (http.c) on the
 * supervisor's loop, rendering snapshots of the server's table (snapshot.c)
 * as Prometheus text (expose.c), with /healthz from netfw__metrics_all_up.
 * Everything here runs on the supervisor thread. */
#include <errno.h>
#include <string.h>

#include "http.h"
#include "metrics.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"
#include "text.h"

/* GET /metrics: a snapshot, as text. */
static int render(void *arg, int what, netfw__text *out) {
  netfw_server *s = arg;
  netfw_stats st;
  int rc;

  (void)what;
  if ((rc = netfw__metrics_snapshot(s, &st)) != 0)
    return rc;
  rc = netfw__metrics_expose(&st, out);
  netfw_stats_free(&st);
  return rc;
}

/* GET /healthz. */
static bool healthy(void *arg) {
  return netfw__metrics_all_up(arg);
}

int netfw__metrics_http_start(netfw_server *s, const char *addr) {
  netfw__http_config cfg = {0};
  char host[256];
  int rc;

  if (s->metrics == NULL || s->metrics->http != NULL)
    return NETFW_ESTATE;
  if (netfw__metrics_addr_parse(addr, host, sizeof(host), &cfg.port) != 0) {
    netfw_log(
        NETFW_LOG_ERROR,
        "metrics: metrics_addr \"%s\" is not HOST:PORT (\"127.0.0.1:9464\","
        " \"[::1]:9464\"; port 0: any free one)",
        addr != NULL ? addr : "(null)");
    return NETFW_EINVAL;
  }
  cfg.host = host;
  cfg.per_ip = NETFW__HTTP_MAX_CONNECTIONS / 2; /* one source that holds
                         its connections open cannot take every slot */
  cfg.render = render;
  cfg.healthy = healthy;
  cfg.arg = s;
  if ((rc = netfw__http_start(&s->sup.loop, &cfg, &s->metrics->http)) != 0)
    return rc; /* logged, with the address and errno */
  atomic_store(&s->metrics->http_port, netfw__http_port(s->metrics->http));
  netfw_log(NETFW_LOG_INFO,
            "metrics: serving /metrics and /healthz on %s%s%s:%u",
            strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
            (unsigned)netfw__http_port(s->metrics->http));
  return 0;
}

uint16_t netfw__metrics_http_port(const netfw_server *s) {
  return s->metrics != NULL ? atomic_load(&s->metrics->http_port) : 0;
}

void netfw__metrics_http_stop(netfw_server *s) {
  if (s->metrics == NULL)
    return;
  atomic_store(&s->metrics->http_port, 0);
  netfw__http_stop(s->metrics->http);
  s->metrics->http = NULL;
}
