/* Placeholder until the endpoint lands (http.c, expose.c): removed then. */
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "netfw/error.h"
#include "netfw/log.h"

int netfw__metrics_addr_parse(const char *addr, char *host, size_t host_len,
                              uint16_t *port) {
  (void)addr, (void)host, (void)host_len, (void)port;
  return 0;
}

int netfw__metrics_http_start(netfw_server *s, const char *addr) {
  (void)s;
  netfw_log(NETFW_LOG_ERROR, "metrics endpoint %s: not built yet", addr);
  return NETFW_ENOSYS;
}

uint16_t netfw__metrics_http_port(const netfw_server *s) {
  (void)s;
  return 0;
}

void netfw__metrics_http_stop(netfw_server *s) { (void)s; }

int netfw__metrics_expose(const netfw_stats *st, netfw__text *out) {
  (void)st, (void)out;
  return NETFW_ENOSYS;
}
