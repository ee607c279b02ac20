/* Shared plumbing of the example programs. */
#include "example.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void example_server_opts_init(example_server_opts *o) {
  o->ip = "127.0.0.1";
  o->port = NETFW_DEFAULT_PORT;
  o->workers = 1;
  o->max_payload = -1;
  o->max_connections = -1;
  o->idle_timeout_ms = -1;
  o->worker_memory = -1;
  o->max_output = -1;
  o->frame_timeout_ms = -1;
  o->drain_timeout_ms = -1;
  o->quota = -1;
  o->bus = NULL;
  o->tls_cert = NULL;
  o->tls_key = NULL;
  o->tls_ca = NULL;
  o->proxy_protocol = false;
  o->proxy_from = NULL;
  o->metrics = NULL;
}

bool example_parse_bus(const char *url, char *host, size_t host_len,
                       uint16_t *port) {
  const char *h, *colon;
  size_t len;
  long v = 6379;

  if (strcmp(url, "local") == 0) {
    host[0] = '\0';
    *port = 0;
    return true;
  }
  if (strncmp(url, "redis://", 8) != 0)
    goto bad;
  h = url + 8;
  if (h[0] == '[') { /* [IPv6] */
    const char *close = strchr(h, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':'))
      goto bad;
    len = (size_t)(close - h - 1);
    colon = close[1] == ':' ? close + 1 : NULL;
    h++;
  } else {
    colon = strchr(h, ':');
    len = colon != NULL ? (size_t)(colon - h) : strlen(h);
  }
  if (len == 0 || len >= host_len || memchr(h, '/', len) != NULL)
    goto bad;
  if (colon != NULL &&
      !example_parse_int("the --bus port", colon + 1, 1, 65535, &v))
    goto bad;
  memcpy(host, h, len);
  host[len] = '\0';
  *port = (uint16_t)v;
  return true;
bad:
  fprintf(stderr,
          "error: --bus must be 'local' or 'redis://HOST:PORT', not "
          "'%s'\n",
          url);
  return false;
}

/* Checks a --metrics value: HOST:PORT ([IPv6]:PORT), PORT 0..65535. false,
 * with a message on stderr, when it is not one (netfw checks the host). */
static bool metrics_addr_ok(const char *addr) {
  const char *colon = strrchr(addr, ':');
  long v;

  if (colon != NULL && colon != addr &&
      (addr[0] != '[' || colon[-1] == ']') &&
      example_parse_int("the --metrics port", colon + 1, 0, 65535, &v))
    return true;
  fprintf(stderr,
          "error: --metrics must be ADDR:PORT (e.g. 127.0.0.1:9464), not "
          "'%s'\n",
          addr);
  return false;
}

bool example_parse_int(const char *what, const char *text, long min, long max,
                       long *out) {
  char *end;
  long v;

  errno = 0;
  v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    fprintf(stderr,
            "error: %s must be a whole number from %ld to %ld, not '%s'\n",
            what, min, max, text);
    return false;
  }
  *out = v;
  return true;
}

/* Long-only options (beyond any short option's code). */
enum {
  OPT_DIR = 256,
  OPT_QUOTA,
  OPT_MAX_PAYLOAD,
  OPT_MAX_CONNECTIONS,
  OPT_IDLE_TIMEOUT,
  OPT_WORKER_MEMORY,
  OPT_MAX_OUTPUT,
  OPT_FRAME_TIMEOUT,
  OPT_DRAIN_TIMEOUT,
  OPT_BUS,
  OPT_TLS_CERT,
  OPT_TLS_KEY,
  OPT_TLS_CA,
  OPT_PROXY_PROTOCOL,
  OPT_PROXY_FROM,
  OPT_METRICS
};

/* Parses one limit option into o; false (with a message) on a bad value. */
static bool limit_opt(example_server_opts *o, int code, const char *arg) {
  switch (code) {
  case OPT_MAX_PAYLOAD:
    return example_parse_int("--max-payload", arg, 1, INT32_MAX,
                             &o->max_payload);
  case OPT_MAX_CONNECTIONS:
    return example_parse_int("--max-connections", arg, 0, INT_MAX,
                             &o->max_connections);
  case OPT_IDLE_TIMEOUT:
    return example_parse_int("--idle-timeout", arg, 0, INT_MAX,
                             &o->idle_timeout_ms);
  case OPT_WORKER_MEMORY:
    return example_parse_int("--worker-memory", arg, 0, LONG_MAX,
                             &o->worker_memory);
  case OPT_MAX_OUTPUT:
    return example_parse_int("--max-output", arg, 1, INT32_MAX, &o->max_output);
  case OPT_FRAME_TIMEOUT:
    return example_parse_int("--frame-timeout", arg, 0, INT_MAX,
                             &o->frame_timeout_ms);
  case OPT_DRAIN_TIMEOUT:
    return example_parse_int("--drain-timeout", arg, 0, INT_MAX,
                             &o->drain_timeout_ms);
  case OPT_QUOTA:
    return example_parse_int("--quota", arg, 0, LONG_MAX, &o->quota);
  }
  return false;
}

/* Parses one option into o; false (with a message if the value is bad). */
static bool server_opt(example_server_opts *o, int code, const char *arg) {
  long v;

  switch (code) {
  case 'i':
    o->ip = arg;
    return true;
  case OPT_BUS: {
    char host[256];
    uint16_t port;
    o->bus = arg;
    return example_parse_bus(arg, host, sizeof(host), &port);
  }
  case 'p':
    if (!example_parse_int("--port", arg, 0, 65535, &v))
      return false;
    o->port = (uint16_t)v;
    return true;
  case 'w':
    if (!example_parse_int("--workers", arg, 0, 256, &v))
      return false;
    o->workers = (int)v;
    return true;
  case OPT_TLS_CERT:
    o->tls_cert = arg;
    return true;
  case OPT_TLS_KEY:
    o->tls_key = arg;
    return true;
  case OPT_TLS_CA:
    o->tls_ca = arg;
    return true;
  case OPT_PROXY_PROTOCOL:
    o->proxy_protocol = true;
    return true;
  case OPT_PROXY_FROM:
    o->proxy_from = arg;
    return true;
  case OPT_METRICS:
    o->metrics = arg;
    return metrics_addr_ok(arg);
  }
  return limit_opt(o, code, arg);
}

void example_apply_limits(const example_server_opts *o, netfw_config *cfg) {
  if (o->max_payload >= 0)
    cfg->max_payload = (uint32_t)o->max_payload;
  if (o->max_connections >= 0)
    cfg->max_connections = (int)o->max_connections;
  if (o->idle_timeout_ms >= 0)
    cfg->idle_timeout_ms = (int)o->idle_timeout_ms;
  if (o->worker_memory >= 0)
    cfg->worker_memory = (size_t)o->worker_memory;
  if (o->max_output >= 0)
    cfg->max_output = (size_t)o->max_output;
  if (o->frame_timeout_ms >= 0)
    cfg->frame_timeout_ms = (int)o->frame_timeout_ms;
  if (o->drain_timeout_ms >= 0)
    cfg->drain_timeout_ms = (int)o->drain_timeout_ms;
  if (o->bus != NULL)
    cfg->bus_url = o->bus;
  cfg->proxy_protocol = o->proxy_protocol;
  cfg->proxy_from = o->proxy_from;
  cfg->metrics_addr = o->metrics;
}

/* The limit options' lines of the usage (defaults are netfw's). */
static void limits_usage(FILE *out, bool dir) {
  fprintf(out,
          "  --max-payload BYTES    largest message accepted (default %u)\n"
          "  --max-connections N    connections per worker, 0 = no limit\n"
          "                         (default 0)\n"
          "  --idle-timeout MS      close connections silent this long,\n"
          "                         0 = never (default 0)\n"
          "  --worker-memory BYTES  input and output buffered per worker;\n"
          "                         over it the largest holders are closed,\n"
          "                         0 = no limit (default %zu)\n"
          "  --max-output BYTES     unsent output per connection; over it\n"
          "                         the connection is closed (default %zu)\n"
          "  --frame-timeout MS     a started message must arrive whole\n"
          "                         within this, 0 = never (default %d)\n"
          "  --drain-timeout MS     bound on a graceful close waiting for\n"
          "                         the peer's EOF (default %d)\n",
          (unsigned)NETFW_DEFAULT_MAX_PAYLOAD,
          (size_t)NETFW_DEFAULT_WORKER_MEMORY, (size_t)NETFW_DEFAULT_MAX_OUTPUT,
          NETFW_DEFAULT_FRAME_TIMEOUT_MS, NETFW_DEFAULT_DRAIN_MS);
  fprintf(out,
          "  --tls-cert FILE        serve TLS with this PEM certificate chain\n"
          "  --tls-key FILE         and its private key (both or neither)\n"
          "  --tls-ca FILE          require client certificates signed by\n"
          "                         these PEM CAs (mutual TLS)\n"
          "  --proxy-protocol       every connection starts with a PROXY\n"
          "                         protocol header (v1 or v2) from a load\n"
          "                         balancer such as HAProxy; clients are\n"
          "                         known by the address in it\n"
          "  --proxy-from LIST      only these sources may send that header,\n"
          "                         e.g. 127.0.0.1/32,10.0.0.0/8,::1/128\n"
          "                         (default: any)\n"
          "  --metrics ADDR:PORT    serve Prometheus metrics (GET /metrics)\n"
          "                         and GET /healthz (200 while every\n"
          "                         worker is up, else 503) over HTTP\n"
          "                         there, e.g. 127.0.0.1:9464; port 0 =\n"
          "                         any free port (default: off)\n");
  if (dir)
    fprintf(out,
            "  --quota BYTES          total size of the stored files; an ADD\n"
            "                         over it is refused (default: none)\n");
}

static void server_usage(FILE *out, const char *name, const char *about,
                         bool dir) {
  fprintf(
      out,
      "usage: %s%s [--ip ADDR] [--port N] [--workers N]\n"
      "       [--max-payload BYTES] [--max-connections N]\n"
      "       [--idle-timeout MS] [--worker-memory BYTES]\n"
      "       [--max-output BYTES] [--frame-timeout MS]\n"
      "       [--drain-timeout MS] [--bus local|redis://HOST:PORT]\n"
      "       [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]\n"
      "       [--proxy-protocol [--proxy-from LIST]]\n"
      "       [--metrics ADDR:PORT]%s\n%s"
      "Prints 'listening on ADDR:PORT' once connectable (after\n"
      "'metrics on ADDR:PORT' with --metrics); SIGINT/SIGTERM\n"
      "stop it gracefully: no new connection, the open ones shut down\n"
      "with their output delivered, exit 0; exits 1 if its workers keep\n"
      "crashing. SIGHUP reloads: new workers replace the old ones one at\n"
      "a time (TLS files re-read); open connections finish on the old\n"
      "ones, for up to --drain-timeout.\n"
      "Under systemd it serves the socket a .socket unit passes (then\n"
      "--ip/--port are unused) and reports READY=1/STOPPING=1.\n%s"
      "  --ip ADDR              address to bind (default 127.0.0.1)\n"
      "  --port N               port, 0 = any free port (default 54314)\n"
      "  --workers N            worker processes, 0 = one per CPU\n"
      "                         (default 1)\n"
      "  --bus URL              the message bus between workers: local\n"
      "                         (this server's, the default) or\n"
      "                         redis://HOST:PORT (every server on it)\n",
      name, dir ? " --dir DIR" : "", dir ? " [--quota BYTES]" : "", about,
      dir ? "  --dir DIR              where files are stored (must exist)\n"
          : "");
  limits_usage(out, dir);
}

/* The TLS options go together: cert with key, ca only with them; and
 * --proxy-from needs --proxy-protocol. Returns
 * false, with a message on stderr, when they do not. */
static bool tls_opts_ok(const example_server_opts *o) {
  if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
    fprintf(stderr, "error: --tls-cert and --tls-key go together\n");
    return false;
  }
  if (o->tls_ca != NULL && o->tls_cert == NULL) {
    fprintf(stderr, "error: --tls-ca needs --tls-cert and --tls-key\n");
    return false;
  }
  if (o->proxy_from != NULL && !o->proxy_protocol) {
    fprintf(stderr, "error: --proxy-from needs --proxy-protocol\n");
    return false;
  }
  return true;
}

int example_server_args(int argc, char **argv, const char *name,
                        const char *about, example_server_opts *o,
                        const char **dir) {
  static const struct option longopts[] = {
      {"ip", required_argument, NULL, 'i'},
      {"port", required_argument, NULL, 'p'},
      {"workers", required_argument, NULL, 'w'},
      {"dir", required_argument, NULL, OPT_DIR},
      {"quota", required_argument, NULL, OPT_QUOTA},
      {"max-payload", required_argument, NULL, OPT_MAX_PAYLOAD},
      {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
      {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
      {"worker-memory", required_argument, NULL, OPT_WORKER_MEMORY},
      {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
      {"frame-timeout", required_argument, NULL, OPT_FRAME_TIMEOUT},
      {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
      {"bus", required_argument, NULL, OPT_BUS},
      {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
      {"tls-key", required_argument, NULL, OPT_TLS_KEY},
      {"tls-ca", required_argument, NULL, OPT_TLS_CA},
      {"proxy-protocol", no_argument, NULL, OPT_PROXY_PROTOCOL},
      {"proxy-from", required_argument, NULL, OPT_PROXY_FROM},
      {"metrics", required_argument, NULL, OPT_METRICS},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;

  example_server_opts_init(o);
  while ((c = getopt_long(argc, argv, "i:p:w:h", longopts, NULL)) != -1) {
    if (c == 'h') {
      server_usage(stdout, name, about, dir != NULL);
      return 0;
    }
    if ((c == OPT_DIR || c == OPT_QUOTA) && dir == NULL) {
      fprintf(stderr, "error: %s takes no --dir or --quota\n", name);
      break;
    }
    if (c == OPT_DIR)
      *dir = optarg;
    else if (c == '?' || !server_opt(o, c, optarg))
      break;
  }
  if (c != -1 || optind != argc || (dir != NULL && *dir == NULL) ||
      !tls_opts_ok(o)) {
    if (c == -1 && optind == argc && dir != NULL && *dir == NULL)
      fprintf(stderr, "error: --dir is required\n");
    server_usage(stderr, name, about, dir != NULL);
    return 2;
  }
  return -1;
}

/* The server's watcher: waits (no polling) until the server is no longer
 * running. When it failed, it wakes the main thread's sigwait() with
 * SIGUSR1; after a stop it just returns. */
static void *watch_server(void *arg) {
  void **a = arg; /* {server, &main thread} */

  if (netfw_server_wait(a[0], -1) == NETFW_RUN_FAILED)
    pthread_kill(*(pthread_t *)a[1], SIGUSR1);
  return NULL;
}

/* Reloads the server (SIGHUP): every worker replaced one at a time, the
 * TLS files re-read first; logs what came of it. Runs on the main thread,
 * out of sigwait(), never in a signal handler. */
static void reload(netfw_server *server, const example_server_opts *o) {
  int err = netfw_server_reload(server);

  if (err == 0 && o->tls_cert != NULL)
    netfw_log(NETFW_LOG_INFO,
              "SIGHUP: reloaded: every worker replaced, TLS files re-read: "
              "new connections get %s (open ones keep theirs)",
              o->tls_cert);
  else if (err == 0)
    netfw_log(NETFW_LOG_INFO, "SIGHUP: reloaded: every worker replaced (open "
                              "connections finish on the old ones)");
  else if (err == NETFW_ETIMEDOUT)
    netfw_log(NETFW_LOG_ERROR,
              "SIGHUP: reload timed out: a new worker was not ready, the old "
              "one serves on");
  else if (err == NETFW_ETLS) /* netfw logged the file and the reason */
    netfw_log(NETFW_LOG_ERROR,
              "SIGHUP: not reloaded, the workers and the previous "
              "certificate stay (the line above says why)");
  else
    netfw_log(NETFW_LOG_ERROR, "SIGHUP: not reloaded: %s",
              netfw_strerror(err));
}

/* Takes the blocked signals until one asks to stop: SIGINT, SIGTERM, or
 * SIGUSR1 once the server failed. SIGHUP reloads (new workers, TLS files
 * re-read) and waits on. Returns the signal. */
static int wait_for_stop(netfw_server *server, const example_server_opts *o,
                         const sigset_t *signals) {
  int sig = 0;

  for (;;) {
    while (sigwait(signals, &sig) != 0)
      ;
    if (sig == SIGHUP)
      reload(server, o);
    else if (sig != SIGUSR1 || netfw_server_state(server) == NETFW_RUN_FAILED)
      return sig;
  }
}

/* Creates the server from cfg, with TLS from the options (tls is filled
 * and must outlive the call only: netfw_server_new copies it). Returns NULL
 * with a message on stderr when netfw refuses the configuration. */
static netfw_server *new_server(const example_server_opts *o,
                                netfw_config *cfg, netfw_tls_config *tls) {
  netfw_server *server;

  example_apply_limits(o, cfg);
  cfg->ip = o->ip;
  cfg->port = o->port;
  cfg->worker_num = o->workers;
  cfg->listen_fd = netfw_listen_fd_from_env(); /* systemd's socket, or -1 */
  if (o->tls_cert != NULL) {
    netfw_tls_config_init(tls);
    tls->cert_file = o->tls_cert;
    tls->key_file = o->tls_key;
    tls->ca_file = o->tls_ca;
    cfg->tls = tls;
  }
  server = netfw_server_new(cfg);
  if (server == NULL && o->tls_cert != NULL)
    fprintf(stderr, "error: cannot serve TLS with %s, %s%s%s (the log line "
                    "above says why)\n",
            o->tls_cert, o->tls_key, o->tls_ca != NULL ? " and " : "",
            o->tls_ca != NULL ? o->tls_ca : "");
  else if (server == NULL)
    fprintf(stderr, "error: invalid server configuration\n");
  return server;
}

/* Writes the address clients reach: --ip, or the inherited socket's own
 * address (systemd socket activation). */
static const char *serving_ip(const example_server_opts *o,
                              const netfw_config *cfg, char *buf,
                              size_t len) {
  struct sockaddr_storage ss;
  socklen_t slen = sizeof(ss);

  if (cfg->listen_fd < 0 ||
      getsockname(cfg->listen_fd, (struct sockaddr *)&ss, &slen) != 0 ||
      getnameinfo((struct sockaddr *)&ss, slen, buf, (socklen_t)len, NULL, 0,
                  NI_NUMERICHOST) != 0)
    return o->ip;
  return buf;
}

/* The signals are blocked before the server starts so that every thread
 * netfw creates (and the watcher) inherits the mask and sigwait() is the
 * only place they are taken. SIGUSR1 comes from the watcher when the
 * server failed (its workers kept crashing); then the exit status is 1. */
int example_serve(const example_server_opts *o, netfw_config *cfg) {
  netfw_tls_config tls;
  netfw_server *server = new_server(o, cfg, &tls);
  sigset_t signals;
  pthread_t self = pthread_self(), watcher;
  void *watch_args[2];
  char ip[64];
  int sig;
  int err;

  if (server == NULL)
    return 1;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);

  err = netfw_server_start(server);
  if (err != 0 && cfg->listen_fd >= 0) {
    fprintf(stderr,
            "error: cannot serve the socket systemd passed (fd %d): %s\n",
            cfg->listen_fd,
            err == NETFW_ESYS ? strerror(errno) : netfw_strerror(err));
    netfw_server_free(server);
    return 1;
  }
  if (err != 0) {
    fprintf(stderr, "error: cannot start the server on %s:%u: %s\n", o->ip,
            (unsigned)o->port, netfw_strerror(err));
    netfw_server_free(server);
    return 1;
  }
  watch_args[0] = server;
  watch_args[1] = &self;
  err = pthread_create(&watcher, NULL, watch_server, watch_args);
  if (err != 0) {
    fprintf(stderr, "error: cannot start a thread: %s\n", strerror(err));
    netfw_server_free(server);
    return 1;
  }
  if (o->metrics != NULL) /* its host, then the port bound */
    printf("metrics on %.*s:%u\n",
           (int)(strrchr(o->metrics, ':') - o->metrics), o->metrics,
           (unsigned)netfw_server_metrics_port(server));
  printf("listening on %s:%u\n", serving_ip(o, cfg, ip, sizeof(ip)),
         (unsigned)netfw_server_port(server));
  fflush(stdout);

  sig = wait_for_stop(server, o, &signals);
  if (netfw_server_state(server) == NETFW_RUN_FAILED)
    fprintf(stderr, "error: the server's workers keep crashing; it stopped "
                    "serving\n");
  else
    fprintf(stderr, "stopping (signal %d)\n", sig);
  err = netfw_server_stop(server, 10000); /* wakes the watcher if need be */
  pthread_join(watcher, NULL);
  if (netfw_server_state(server) == NETFW_RUN_FAILED)
    err = 1;
  netfw_server_free(server);
  return err == 0 ? 0 : 1;
}
