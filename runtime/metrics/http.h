/* The HTTP endpoint's generic core (http.c): GET /metrics and GET /healthz
 * served by libmicrohttpd on a libuv loop the caller runs. The daemon has
 * no thread of its own: its epoll descriptor is watched by a uv_poll, its
 * timeouts by a uv_timer, and MHD_run does the work on the loop's thread.
 * serve.c wires it to a server (netfw__metrics_http_start). Internal
 * (runtime/metrics). */
#ifndef NETFW_RUNTIME_METRICS_HTTP_H
#define NETFW_RUNTIME_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "metrics.h"

/* The bounds used when a config leaves them 0. */
#define NETFW__HTTP_MAX_CONNECTIONS 64 /* connections at once            */
#define NETFW__HTTP_TIMEOUT_S 10       /* idle seconds before a close    */
#define NETFW__HTTP_MEMORY                                                     \
  32768 /* bytes per connection (request                                       \
           line and headers included)     */

/* What render is asked for. */
enum { NETFW__HTTP_METRICS = 1 /* the body of GET /metrics */ };

typedef struct netfw__http netfw__http;

/* How to serve. host and port: where to listen (host a numeric IPv4 or
 * IPv6 address or a name, resolved once at start); host NULL: no listening
 * socket, connections come only from netfw__http_add_fd. */
typedef struct netfw__http_config {
  const char *host;
  uint16_t port;            /* 0: any free port                         */
  unsigned max_connections; /* 0: NETFW__HTTP_MAX_CONNECTIONS           */
  unsigned timeout_s;       /* 0: NETFW__HTTP_TIMEOUT_S                 */
  size_t memory_limit;      /* 0: NETFW__HTTP_MEMORY                    */
  unsigned per_ip;          /* connections from one address at once, more
                               are closed at accept; 0: no such bound  */
  /* Appends the body of `what` to out; returns 0, or a NETFW_E* code for
   * a 500 answer. Called on the loop's thread, per request. */
  int (*render)(void *arg, int what, netfw__text *out);
  /* True while GET /healthz should answer 200 (else 503). */
  bool (*healthy)(void *arg);
  void *arg;
} netfw__http_config;

/* Listens (unless cfg->host is NULL) and starts serving on loop; *out is
 * the endpoint. Returns 0, NETFW_EADDRINUSE, NETFW_EADDRINFO (host does not
 * resolve), NETFW_EINVAL (no callbacks), NETFW_ENOMEM or NETFW_ESYS (errno
 * kept); failures are logged with the address. Loop thread (the loop need
 * not run yet). */
int netfw__http_start(uv_loop_t *loop, const netfw__http_config *cfg,
                      netfw__http **out);

/* The port it listens on (0: no listening socket). */
uint16_t netfw__http_port(const netfw__http *h);

/* Hands a connected socket to the endpoint (it takes fd, also on failure):
 * served from the loop's next turn on (the fuzzer's way in). Returns 0 or
 * NETFW_ESYS (errno kept). Loop thread. */
int netfw__http_add_fd(netfw__http *h, int fd);

/* Closes every connection and the listening socket now and the loop's
 * handles; h is freed once the loop has run their close callbacks. NULL:
 * nothing. Loop thread. */
void netfw__http_stop(netfw__http *h);

#endif /* NETFW_RUNTIME_METRICS_HTTP_H */
