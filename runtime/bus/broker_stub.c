/* TEMPORARY: replaced by redis.c (hiredis) when it lands. Parses the URL;
 * a broker never connects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "netfw/error.h"

struct netfw__broker {
  int unused;
};

int netfw__broker_parse_url(const char *url, char *host, size_t host_len,
                            uint16_t *port) {
  const char *p, *colon;
  long n;

  if (url == NULL || strncmp(url, "redis://", 8) != 0)
    return NETFW_EINVAL;
  p = url + 8;
  colon = strrchr(p, ':');
  if (colon == NULL || colon == p || (size_t)(colon - p) >= host_len)
    return NETFW_EINVAL;
  n = strtol(colon + 1, NULL, 10);
  if (n < 1 || n > 65535)
    return NETFW_EINVAL;
  memcpy(host, p, (size_t)(colon - p));
  host[colon - p] = '\0';
  *port = (uint16_t)n;
  return 0;
}

netfw__broker *netfw__broker_new(uv_loop_t *loop, const char *ip,
                                 uint16_t port, uint64_t origin,
                                 size_t max_pending, uint32_t max_payload,
                                 const netfw__broker_events *ev, void *arg) {
  (void)loop; (void)ip; (void)port; (void)origin; (void)max_pending;
  (void)max_payload; (void)ev; (void)arg;
  return calloc(1, sizeof(netfw__broker));
}

void netfw__broker_subscribe(netfw__broker *b, const uint8_t *chan,
                             size_t len) {
  (void)b; (void)chan; (void)len;
}

void netfw__broker_unsubscribe(netfw__broker *b, const uint8_t *chan,
                               size_t len) {
  (void)b; (void)chan; (void)len;
}

int netfw__broker_publish(netfw__broker *b, const uint8_t *chan,
                          size_t chan_len, uint16_t id, const uint8_t *payload,
                          uint32_t size) {
  (void)b; (void)chan; (void)chan_len; (void)id; (void)payload; (void)size;
  return NETFW_ENOTCONN;
}

bool netfw__broker_up(const netfw__broker *b) {
  (void)b;
  return false;
}

void netfw__broker_free(netfw__broker *b) {
  free(b);
}
