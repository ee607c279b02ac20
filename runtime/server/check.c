/* netfw_config_check: every rule a config must meet, each refusal with a
 * one-line reason naming the field and its bad value. netfw_server_new
 * runs the same checks and logs the reason at ERROR before it returns
 * NULL, so a refused config never fails silently. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "metrics.h"
#include "netfw/error.h"
#include "proxy.h"
#include "server_internal.h"

/* Writes the reason into why (when there is room) and returns EINVAL. */
static int refuse(char *why, size_t why_len, const char *fmt, ...)
    NETFW_PRINTF(3, 4);
static int refuse(char *why, size_t why_len, const char *fmt, ...) {
  va_list ap;

  if (why != NULL && why_len > 0) {
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
  }
  return NETFW_EINVAL;
}

/* The numeric fields: counts and timeouts that must not be negative, the
 * output bound, the bus queue. */
static int check_numbers(const netfw_config *cfg, char *why, size_t len) {
  static const struct {
    const char *name;
    size_t off;
    const char *allowed;
  } ints[] = {
      {"worker_num", offsetof(netfw_config, worker_num),
       "0 = one per CPU, or a count"},
      {"idle_timeout_ms", offsetof(netfw_config, idle_timeout_ms),
       "0 = off, or milliseconds"},
      {"max_connections", offsetof(netfw_config, max_connections),
       "0 = no limit, or a count"},
      {"drain_timeout_ms", offsetof(netfw_config, drain_timeout_ms),
       "0 or milliseconds"},
      {"frame_timeout_ms", offsetof(netfw_config, frame_timeout_ms),
       "0 = off, or milliseconds"},
      {"reply_timeout_ms", offsetof(netfw_config, reply_timeout_ms),
       "0 = off, or milliseconds"},
  };
  size_t i;

  for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
    int v;
    memcpy(&v, (const char *)cfg + ints[i].off, sizeof(v));
    if (v < 0)
      return refuse(why, len, "%s is %d: must be >= 0 (%s)", ints[i].name, v,
                    ints[i].allowed);
  }
  if (cfg->max_output == 0 || cfg->max_output > (size_t)INT32_MAX)
    return refuse(why, len, "max_output is %zu: must be 1 to %d bytes",
                  cfg->max_output, INT32_MAX);
  if (cfg->bus_queue == 0)
    return refuse(why, len, "bus_queue is 0: must be > 0 bytes");
  if (cfg->max_pending < 1)
    return refuse(why, len,
                  "max_pending is %d: must be >= 1 (requests read on a "
                  "connection whose replies are not out yet)",
                  cfg->max_pending);
  return 0;
}

/* The protocol's descriptor, as the workers' call tables will read it: its
 * layout version, its message array, the ids (no two alike: replies are
 * matched by id) and every `returns` index. */
static int check_protocol(const netfw_desc *d, char *why, size_t len) {
  const char *p = d->proto != NULL ? d->proto : "?";
  uint8_t *seen;
  uint32_t i, k;
  int rc = 0;

  if (d->abi != NETFW_DESC_ABI)
    return refuse(why, len,
                  "protocol '%s' has descriptor layout %u: this libnetfw reads "
                  "%u (regenerate it with this netfw-gen)",
                  p, d->abi, NETFW_DESC_ABI);
  if (d->nmessages > 0 && d->messages == NULL)
    return refuse(why, len, "protocol '%s' has %u messages and no array", p,
                  d->nmessages);
  if ((seen = calloc(65536 / 8, 1)) == NULL) {
    refuse(why, len, "out of memory");
    return NETFW_ENOMEM;
  }
  for (i = 0; i < d->nmessages && rc == 0; i++) {
    const netfw_desc_message *m = &d->messages[i];
    const char *name = m->body.name != NULL ? m->body.name : "?";
    if (seen[m->id / 8] & (1u << (m->id % 8)))
      rc = refuse(why, len,
                  "protocol '%s': message id %u is used twice "
                  "(again by '%s')",
                  p, m->id, name);
    seen[m->id / 8] |= (uint8_t)(1u << (m->id % 8));
    if (rc == 0 && m->nreturns > 0 && m->returns == NULL)
      rc = refuse(why, len,
                  "protocol '%s': message '%s' has %u returns and "
                  "no array",
                  p, name, m->nreturns);
    for (k = 0; rc == 0 && k < m->nreturns; k++)
      if (m->returns[k] >= d->nmessages)
        rc = refuse(why, len,
                    "protocol '%s': message '%s' returns message "
                    "index %u, past its %u messages",
                    p, name, m->returns[k], d->nmessages);
  }
  free(seen);
  return rc;
}

/* The strings and the inherited socket: listen_fd, bus_url, proxy_from,
 * metrics_addr. */
static int check_endpoints(const netfw_config *cfg, char *why, size_t len) {
  char host[256], err[256];
  uint16_t port;
  netfw__proxy_policy *p;

  if (cfg->listen_fd < -1)
    return refuse(why, len,
                  "listen_fd is %d: must be -1 (bind ip:port) or a listening "
                  "socket",
                  cfg->listen_fd);
  if (cfg->listen_fd >= 0 && cfg->reuseport)
    return refuse(why, len,
                  "listen_fd is %d with reuseport on: they exclude each other "
                  "(the workers share the one socket given)",
                  cfg->listen_fd);
  if (cfg->bus_url != NULL && strcmp(cfg->bus_url, "local") != 0 &&
      netfw__broker_parse_url(cfg->bus_url, host, sizeof(host), &port) != 0)
    return refuse(why, len,
                  "bus_url is \"%s\": neither \"local\" nor redis://HOST:PORT",
                  cfg->bus_url);
  if (cfg->proxy_from != NULL) {
    if ((p = netfw__proxy_policy_new(cfg->proxy_from, err, sizeof(err))) ==
        NULL) {
      refuse(why, len, "%s", err);
      return strcmp(err, "out of memory") == 0 ? NETFW_ENOMEM : NETFW_EINVAL;
    }
    netfw__proxy_policy_free(p);
  }
  if (cfg->metrics_addr != NULL &&
      netfw__metrics_addr_parse(cfg->metrics_addr, host, sizeof(host),
                                &port) != 0)
    return refuse(why, len,
                  "metrics_addr is \"%s\": not HOST:PORT (e.g. "
                  "\"127.0.0.1:9464\", \"[::1]:9464\")",
                  cfg->metrics_addr);
  return 0;
}

int netfw__config_check(const netfw_config *cfg, char *why, size_t why_len) {
  int rc;

  if (cfg->app == NULL)
    return refuse(why, why_len, "app is NULL: netfw_config_init(&cfg, &app) "
                                "with the application's callbacks");
  if (cfg->app->on_message == NULL)
    return refuse(why, why_len,
                  "app->on_message is NULL: the one required callback");
  if ((rc = check_numbers(cfg, why, why_len)) != 0)
    return rc;
  if (cfg->protocol != NULL &&
      (rc = check_protocol(cfg->protocol, why, why_len)) != 0)
    return rc;
  return check_endpoints(cfg, why, why_len);
}

int netfw_config_check(const netfw_config *cfg, char *why, size_t why_len) {
  netfw_config full;
  netfw_app app;
  char scratch[256];
  int rc;

  if (why == NULL || why_len == 0) { /* the caller wants the code only */
    why = scratch;
    why_len = sizeof(scratch);
  }
  why[0] = '\0';
  if (cfg == NULL)
    return refuse(why, why_len, "the config is NULL");
  if ((rc = netfw__config_take(cfg, &full, &app, why, why_len)) != 0)
    return rc;
  return netfw__config_check(&full, why, why_len);
}
