/* The HTTP endpoint's generic core: libmicrohttpd (0.9.75) with no thread,
 * driven by a libuv loop. Why libmicrohttpd: a maintained HTTP/1.1 parser
 * in Debian (libmicrohttpd-dev) that can be driven by an external loop, with
 * the bounds we need (connections, idle timeout, memory per connection).
 *
 * The daemon runs in epoll mode: everything it waits for is behind one
 * epoll descriptor, which a uv_poll watches; MHD_get_timeout says when it
 * must run even without I/O (idle timeouts, data it has buffered), which a
 * one-shot uv_timer honours. MHD_run never blocks. The listening socket is
 * ours (bound with SOCK_CLOEXEC, so a failed bind reports its errno
 * exactly); MHD takes it and closes it when stopped. */
#include "addr.h"
#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "text.h"

struct netfw__http {
  struct MHD_Daemon *d;
  uv_poll_t poll;   /* the daemon's epoll descriptor                   */
  uv_timer_t timer; /* MHD_get_timeout                                 */
  int open_handles; /* handles not yet closed; freed at 0              */
  uint16_t port;
  netfw__http_config cfg; /* host is not kept                           */
};

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define EXPOSITION "text/plain; version=0.0.4; charset=utf-8"

/* ---- answers ---- */

/* Queues status with body (taken: freed by MHD) and its headers. */
static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
                              const char *type, netfw__text *body, bool allow) {
  struct MHD_Response *r;
  enum MHD_Result ok;

  r = MHD_create_response_from_buffer(body->len, body->buf,
                                      MHD_RESPMEM_MUST_FREE);
  if (r == NULL) {
    netfw__text_free(body);
    return MHD_NO;
  }
  memset(body, 0, sizeof(*body)); /* the response owns the buffer */
  if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) !=
          MHD_YES ||
      (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
                                        "GET, HEAD") != MHD_YES)) {
    MHD_destroy_response(r);
    return MHD_NO;
  }
  ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

/* Queues a short plain-text answer. */
static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status,
                                   const char *text, bool allow) {
  netfw__text body = {0};

  if (netfw__text_puts(&body, text) != 0)
    return MHD_NO;
  return answer(c, status, TEXT_PLAIN, &body, allow);
}

/* GET /metrics: the render callback's text, or 500 when it fails. */
static enum MHD_Result answer_metrics(netfw__http *h,
                                      struct MHD_Connection *c) {
  netfw__text body = {0};
  int rc = h->cfg.render(h->cfg.arg, NETFW__HTTP_METRICS, &body);

  if (rc != 0 || body.failed) {
    netfw_log(NETFW_LOG_WARN, "metrics: GET /metrics failed: %s",
              netfw_strerror(rc != 0 ? rc : NETFW_ENOMEM));
    netfw__text_free(&body);
    return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n",
                       false);
  }
  if (body.buf == NULL && netfw__text_append(&body, "", 0) != 0)
    return MHD_NO;
  return answer(c, MHD_HTTP_OK, EXPOSITION, &body, false);
}

/* The access handler: routes a request once its headers are in. GET and
 * HEAD of a known path are answered on the second call (the first one
 * only marks the request), which lets MHD keep the connection alive; any
 * body is discarded. The other answers go on the first call: MHD then
 * closes the connection rather than read a body. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req) {
  static int seen;
  netfw__http *h = cls;
  bool metrics = strcmp(url, "/metrics") == 0;
  bool health = strcmp(url, "/healthz") == 0;

  (void)version, (void)upload;
  if (!metrics && !health)
    return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n", false);
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
      strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                       true);
  if (*req == NULL) {
    *req = &seen;
    return MHD_YES;
  }
  *upload_size = 0;
  if (metrics)
    return answer_metrics(h, c);
  if (h->cfg.healthy(h->cfg.arg))
    return answer_text(c, MHD_HTTP_OK, "ok\n", false);
  return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable\n", false);
}

/* libmicrohttpd's messages (bad requests, limits reached) at debug level. */
static NETFW_PRINTF(2, 0) void on_mhd_log(void *cls, const char *fmt,
                                          va_list ap) {
  char line[256];
  size_t n;

  (void)cls;
  vsnprintf(line, sizeof(line), fmt, ap);
  n = strlen(line);
  while (n > 0 && line[n - 1] == '\n')
    line[--n] = '\0';
  netfw_log(NETFW_LOG_DEBUG, "metrics: libmicrohttpd: %s", line);
}

/* ---- the loop ---- */

static void on_timer(uv_timer_t *t);

/* Connections the daemon holds now. */
static unsigned connections(netfw__http *h) {
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

  return info != NULL ? info->num_connections : 0;
}

/* Runs the daemon, then arms the timer for its next deadline (0 when it
 * holds buffered work: it runs again on the next loop iteration). At the
 * connection limit the daemon takes its listening socket out of epoll and
 * puts it back only at the start of a later run, which nothing would
 * trigger (no I/O, no deadline): so when a run closed connections it runs
 * once more, and a connection waiting in the backlog is accepted. */
static void run(netfw__http *h) {
  MHD_UNSIGNED_LONG_LONG ms;
  unsigned before;

  if (h->d == NULL)
    return;
  before = connections(h);
  MHD_run(h->d);
  if (connections(h) < before)
    MHD_run(h->d);
  if (MHD_get_timeout(h->d, &ms) != MHD_YES) {
    uv_timer_stop(&h->timer);
    return;
  }
  if (ms > 3600 * 1000)
    ms = 3600 * 1000;
  uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
}

/* The daemon's epoll descriptor is readable (or failed: run anyway, MHD
 * finds out). */
static void on_poll(uv_poll_t *p, int status, int events) {
  (void)status, (void)events;
  run(p->data);
}

/* A deadline of the daemon passed. */
static void on_timer(uv_timer_t *t) {
  run(t->data);
}

/* Frees h once both handles are closed. */
static void on_close(uv_handle_t *hd) {
  netfw__http *h = hd->data;

  if (--h->open_handles == 0)
    free(h);
}

/* ---- the listening socket ---- */

/* Brackets around an IPv6 address in "HOST:PORT" log text. */
#define V6_OPEN(host) (strchr(host, ':') != NULL ? "[" : "")
#define V6_CLOSE(host) (strchr(host, ':') != NULL ? "]" : "")

/* Makes a listening socket on host:port (SOCK_CLOEXEC, non-blocking) and
 * stores it in *fd. A host name is resolved here, once (getaddrinfo may
 * block: this runs at start-up, before anything is served). Returns 0,
 * NETFW_EADDRINFO, NETFW_EADDRINUSE or NETFW_ESYS (errno kept), logged. */
static int listen_on(const char *host, uint16_t port, int *fd) {
  struct addrinfo hints = {0}, *res = NULL;
  char service[8];
  int one = 1, rc, err;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(service, sizeof(service), "%u", (unsigned)port);
  if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
    netfw_log(NETFW_LOG_ERROR, "metrics: cannot listen on %s%s%s:%u: %s",
              V6_OPEN(host), host, V6_CLOSE(host), (unsigned)port,
              gai_strerror(rc));
    return NETFW_EADDRINFO;
  }
  *fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (*fd < 0)
    goto failed_socket;
  setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(*fd, res->ai_addr, res->ai_addrlen) != 0 ||
      listen(*fd, SOMAXCONN) != 0)
    goto failed_bind;
  freeaddrinfo(res);
  return 0;

failed_bind:
  err = errno;
  close(*fd);
  errno = err;
failed_socket:
  err = errno;
  netfw_log(NETFW_LOG_ERROR, "metrics: cannot listen on %s%s%s:%u: %s",
            V6_OPEN(host), host, V6_CLOSE(host), (unsigned)port, strerror(err));
  freeaddrinfo(res);
  errno = err;
  return err == EADDRINUSE ? NETFW_EADDRINUSE : NETFW_ESYS;
}

/* ---- start, stop ---- */

/* Starts the daemon on listening socket fd (-1: none; taken). */
static struct MHD_Daemon *daemon_start(netfw__http *h, int fd) {
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

  if (fd < 0)
    flags |= MHD_USE_NO_LISTEN_SOCKET;
  else
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                            MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            h->cfg.memory_limit,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->cfg.per_ip,
                            MHD_OPTION_END);
  return MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
      on_mhd_log, NULL, MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.timeout_s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->cfg.memory_limit,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->cfg.per_ip, MHD_OPTION_END);
}

/* Copies cfg into h with the defaults for its zeros. */
static void take_config(netfw__http *h, const netfw__http_config *cfg) {
  h->cfg = *cfg;
  h->cfg.host = NULL;
  if (h->cfg.max_connections == 0)
    h->cfg.max_connections = NETFW__HTTP_MAX_CONNECTIONS;
  if (h->cfg.timeout_s == 0)
    h->cfg.timeout_s = NETFW__HTTP_TIMEOUT_S;
  if (h->cfg.memory_limit == 0)
    h->cfg.memory_limit = NETFW__HTTP_MEMORY;
}

/* Watches the daemon's epoll descriptor and deadlines on loop. */
static int watch(netfw__http *h, uv_loop_t *loop) {
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

  if (info == NULL || uv_poll_init(loop, &h->poll, info->epoll_fd) != 0)
    return NETFW_ESYS;
  h->poll.data = h;
  h->open_handles++;
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  h->open_handles++;
  uv_poll_start(&h->poll, UV_READABLE, on_poll);
  run(h);
  return 0;
}

int netfw__http_start(uv_loop_t *loop, const netfw__http_config *cfg,
                      netfw__http **out) {
  netfw__http *h;
  int fd = -1, rc;

  *out = NULL;
  if (cfg->render == NULL || cfg->healthy == NULL)
    return NETFW_EINVAL;
  if ((h = calloc(1, sizeof(*h))) == NULL)
    return NETFW_ENOMEM;
  take_config(h, cfg);
  if (cfg->host != NULL) {
    if ((rc = listen_on(cfg->host, cfg->port, &fd)) != 0)
      goto failed_listen;
    h->port = netfw__addr_bound_port(fd);
  }
  /* On failure MHD may or may not have closed fd: it is left alone (a rare
   * leak beats a double close). */
  if ((h->d = daemon_start(h, fd)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "metrics: libmicrohttpd did not start");
    rc = NETFW_ESYS;
    goto failed_listen;
  }
  if ((rc = watch(h, loop)) != 0) {
    netfw_log(NETFW_LOG_ERROR, "metrics: cannot watch libmicrohttpd");
    netfw__http_stop(h);
    return rc;
  }
  *out = h;
  return 0;

failed_listen:
  free(h);
  return rc;
}

uint16_t netfw__http_port(const netfw__http *h) {
  return h != NULL ? h->port : 0;
}

int netfw__http_add_fd(netfw__http *h, int fd) {
  struct sockaddr_storage ss = {0};
  socklen_t len = sizeof(ss);

  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0 || len == 0) {
    ss.ss_family = AF_UNIX; /* a socketpair: MHD only keeps the address */
    len = sizeof(sa_family_t);
  }
  if (MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, len) != MHD_YES)
    return NETFW_ESYS;
  uv_timer_start(&h->timer, on_timer, 0, 0); /* MHD_run on the next turn */
  return 0;
}

void netfw__http_stop(netfw__http *h) {
  if (h == NULL || h->d == NULL)
    return;
  if (h->open_handles > 0) {
    uv_close((uv_handle_t *)&h->poll, on_close);
    uv_close((uv_handle_t *)&h->timer, on_close);
  }
  MHD_stop_daemon(h->d); /* closes its sockets and its epoll descriptor */
  h->d = NULL;
  if (h->open_handles == 0)
    free(h);
}

/* ---- "HOST:PORT" ---- */

/* True for the characters a host name or an address may hold (brackets:
 * inside [...], where an IPv6 address and its %zone go). */
static bool host_chars(const char *s, size_t n, bool brackets) {
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
              (brackets && (ch == ':' || ch == '%'));
    if (!ok)
      return false;
  }
  return n > 0;
}

/* Parses 1 to 5 decimal digits up to 65535. */
static bool parse_port(const char *s, uint16_t *port) {
  unsigned long v = 0;
  size_t n = 0;

  for (; s[n] >= '0' && s[n] <= '9' && n < 6; n++)
    v = v * 10 + (unsigned long)(s[n] - '0');
  if (n == 0 || n > 5 || s[n] != '\0' || v > 65535)
    return false;
  *port = (uint16_t)v;
  return true;
}

int netfw__metrics_addr_parse(const char *addr, char *host, size_t host_len,
                              uint16_t *port) {
  const char *h, *colon;
  size_t n;
  bool brackets;

  if (addr == NULL || host == NULL || host_len == 0)
    return NETFW_EINVAL;
  brackets = addr[0] == '[';
  if (brackets) {
    const char *close = strchr(addr, ']');
    if (close == NULL || close[1] != ':')
      return NETFW_EINVAL;
    h = addr + 1;
    n = (size_t)(close - h);
    colon = close + 1;
  } else {
    if ((colon = strchr(addr, ':')) == NULL || strchr(colon + 1, ':'))
      return NETFW_EINVAL; /* none, or an IPv6 address without brackets */
    h = addr;
    n = (size_t)(colon - addr);
  }
  if (!host_chars(h, n, brackets) || n >= host_len ||
      !parse_port(colon + 1, port))
    return NETFW_EINVAL;
  memcpy(host, h, n);
  host[n] = '\0';
  return 0;
}
