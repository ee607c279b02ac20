/* netfw_config: the defaults, and taking a caller's config and app whatever
 * size of either struct the caller was compiled with.
 *
 * The rule (docs/server.md, "Compatibility"): both structs only grow, at
 * their end. netfw_config_init records the caller's sizeof of each; the
 * library copies that many bytes over its own defaults (so a field the
 * caller's struct lacks keeps its default, a callback it lacks is NULL) and
 * never reads further. The workers see only the library's full-size
 * copies. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "netfw/version.h"
#include "server_internal.h"

/* The sizes programs may have been compiled with, oldest first (LP64): the
 * first layout with the size header is netfw 0.1's. A field added later
 * must start at or after the newest size listed (never inside its tail
 * padding, whose bytes an older program leaves undefined): add it at the
 * end, then its size here, and keep the old ones for the tests. */
#define CONFIG_SIZE_0_1 88
#define APP_SIZE_0_1 48
#define CONFIG_SIZE_0_2 104 /* + bus_url, bus_queue */
#define APP_SIZE_0_2 56     /* + on_bus */
#define CONFIG_SIZE_0_3 136 /* + tls, proxy_protocol, proxy_from, listen_fd */
#define CONFIG_SIZE_0_4 152 /* + msg_name, metrics_addr */
#define CONFIG_SIZE_0_5 168 /* + protocol, reply_timeout_ms, max_pending */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(offsetof(netfw_config, bus_url) == CONFIG_SIZE_0_1,
               "bus_url must start where the 0.1 config ended");
_Static_assert(offsetof(netfw_app, on_bus) == APP_SIZE_0_1,
               "on_bus must start where the 0.1 app ended");
_Static_assert(offsetof(netfw_config, tls) == CONFIG_SIZE_0_2,
               "tls must start where the 0.2 config ended");
_Static_assert(offsetof(netfw_config, msg_name) == CONFIG_SIZE_0_3,
               "msg_name must start where the 0.3 config ended");
_Static_assert(offsetof(netfw_config, protocol) == CONFIG_SIZE_0_4,
               "protocol must start where the 0.4 config ended");
_Static_assert(sizeof(netfw_config) == CONFIG_SIZE_0_5,
               "netfw_config grew: append at the end, at or after offset "
               "CONFIG_SIZE_0_5, and record the new size (config.c)");
_Static_assert(sizeof(netfw_app) == APP_SIZE_0_2,
               "netfw_app grew: append at the end and record the new size "
               "(config.c)");
#endif
_Static_assert(offsetof(netfw_config, size) == 0 &&
                   offsetof(netfw_config, app_size) == 4,
               "the size header of netfw_config never moves");

/* The smallest structs the library can work with: the size header and the
 * app, and an app up to on_message (the one required callback). */
#define CONFIG_MIN (offsetof(netfw_config, app) + sizeof(const netfw_app *))
#define APP_MIN                                                                \
  (offsetof(netfw_app, on_message) + sizeof(((netfw_app *)0)->on_message))

static uint32_t clamp_u32(size_t n) {
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void defaults(netfw_config *cfg, const netfw_app *app) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->size = sizeof(netfw_config);
  cfg->app_size = sizeof(netfw_app);
  cfg->app = app;
  cfg->ip = NULL;
  cfg->port = NETFW_DEFAULT_PORT;
  cfg->worker_num = 1;
  cfg->max_payload = NETFW_DEFAULT_MAX_PAYLOAD;
  cfg->max_output = NETFW_DEFAULT_MAX_OUTPUT;
  cfg->idle_timeout_ms = 0;
  cfg->max_connections = 0;
  cfg->drain_timeout_ms = NETFW_DEFAULT_DRAIN_MS;
  cfg->reuseport = false;
  cfg->worker_memory = NETFW_DEFAULT_WORKER_MEMORY;
  cfg->frame_timeout_ms = NETFW_DEFAULT_FRAME_TIMEOUT_MS;
  cfg->bus_url = NULL;
  cfg->bus_queue = NETFW_DEFAULT_BUS_QUEUE;
  cfg->tls = NULL;
  cfg->proxy_protocol = false;
  cfg->proxy_from = NULL;
  cfg->protocol = NULL;
  cfg->reply_timeout_ms = NETFW_DEFAULT_REPLY_TIMEOUT_MS;
  cfg->max_pending = NETFW_DEFAULT_MAX_PENDING;
  cfg->listen_fd = -1;
}

void netfw_config_init_sized(netfw_config *cfg, const netfw_app *app,
                             size_t cfg_size, size_t app_size) {
  netfw_config d;

  if (cfg == NULL || cfg_size < CONFIG_MIN) {
    netfw_log(NETFW_LOG_ERROR,
              "netfw_config_init: a netfw_config of %zu bytes cannot be "
              "filled (at least %zu)",
              cfg_size, (size_t)CONFIG_MIN);
    return;
  }
  defaults(&d, app);
  d.size = clamp_u32(cfg_size);
  d.app_size = clamp_u32(app_size);
  if (cfg_size > sizeof(d)) /* newer headers: netfw_server_new refuses it */
    memset(cfg, 0, cfg_size);
  memcpy(cfg, &d, cfg_size < sizeof(d) ? cfg_size : sizeof(d));
}

/* True when the n bytes at p are all zero. */
static bool all_zero(const void *p, size_t n) {
  const unsigned char *b = p;

  while (n > 0)
    if (b[--n] != 0)
      return false;
  return true;
}

/* Copies the caller's app (app_size bytes of it) into *out; callbacks past
 * them are NULL. Returns 0, or NETFW_EINVAL with why for a size it cannot
 * handle. */
static int take_app(const netfw_app *app, size_t app_size, netfw_app *out,
                    char *why, size_t why_len) {
  memset(out, 0, sizeof(*out));
  if (app_size < APP_MIN) {
    snprintf(why, why_len,
             "netfw_app of %zu bytes is too small (at least %zu): fill the "
             "config with netfw_config_init",
             app_size, (size_t)APP_MIN);
    return NETFW_EINVAL;
  }
  if (app_size > sizeof(*out) &&
      !all_zero((const char *)app + sizeof(*out), app_size - sizeof(*out))) {
    snprintf(why, why_len,
             "the program's netfw_app (%zu bytes) has callbacks this "
             "libnetfw (%zu bytes, %s) does not know",
             app_size, sizeof(*out), NETFW_VERSION_STRING);
    return NETFW_EINVAL;
  }
  memcpy(out, app, app_size < sizeof(*out) ? app_size : sizeof(*out));
  return 0;
}

int netfw__config_take(const netfw_config *cfg, netfw_config *out,
                       netfw_app *app_out, char *why, size_t why_len) {
  size_t size = cfg->size;
  int rc;

  if (size < CONFIG_MIN || size > sizeof(*out)) {
    snprintf(why, why_len,
             "netfw_config of %zu bytes cannot be used by this libnetfw (%zu "
             "bytes, %s): %s",
             size, sizeof(*out), NETFW_VERSION_STRING,
             size > sizeof(*out) ? "the program was built against newer "
                                   "headers; upgrade libnetfw"
                                 : "fill it with netfw_config_init");
    return NETFW_EINVAL;
  }
  defaults(out, NULL);
  memcpy(out, cfg, size);
  out->size = sizeof(*out);
  out->app_size = sizeof(*app_out);
  if (cfg->app == NULL) {
    out->app = NULL;
    return 0; /* netfw__config_check refuses it */
  }
  if ((rc = take_app(cfg->app, cfg->app_size, app_out, why, why_len)) != 0)
    return rc;
  out->app = app_out;
  return 0;
}
