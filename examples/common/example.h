/* Shared plumbing of the example programs: command-line numbers, the server
 * run loop (start, announce, wait for SIGINT/SIGTERM, reload TLS on SIGHUP,
 * stop gracefully), the clients' TLS options (example_tls.c). */
#ifndef NETFW_EXAMPLE_H
#define NETFW_EXAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netfw/netfw.h>

/* Options every example server takes: --ip, --port, --workers and the
 * limits. A limit left at -1 was not given: netfw's default stays. */
typedef struct example_server_opts {
  const char *ip;
  uint16_t port;
  int workers;
  long max_payload;      /* --max-payload BYTES, 1..2^31-1                   */
  long max_connections;  /* --max-connections N per worker, 0 = no limit     */
  long idle_timeout_ms;  /* --idle-timeout MS, 0 = off                       */
  long worker_memory;    /* --worker-memory BYTES per worker, 0 = off        */
  long max_output;       /* --max-output BYTES per connection                */
  long frame_timeout_ms; /* --frame-timeout MS, 0 = off                     */
  long drain_timeout_ms; /* --drain-timeout MS                              */
  long quota;            /* --quota BYTES (the --dir variant only; -1 none)  */
  const char *bus;       /* --bus local|redis://HOST:PORT; NULL = local      */
  const char *tls_cert;  /* --tls-cert FILE: TLS on (with tls_key); or NULL  */
  const char *tls_key;   /* --tls-key FILE                                   */
  const char *tls_ca;    /* --tls-ca FILE: client certificates required and
                            verified against it (mutual TLS); or NULL        */
  bool proxy_protocol;    /* --proxy-protocol: a PROXY header first        */
  const char *proxy_from; /* --proxy-from LIST: who may send it; or NULL    */
  const char *metrics;    /* --metrics ADDR:PORT: GET /metrics and /healthz
                             served there (port 0: any free one); or NULL */
} example_server_opts;

/* Sets the examples' defaults: 127.0.0.1, port 54314, 1 worker, every
 * limit not given (-1). */
void example_server_opts_init(example_server_opts *o);

/* Parses a decimal integer in [min, max] from text; false (with a message on
 * stderr naming what) when it is not one. */
bool example_parse_int(const char *what, const char *text, long min, long max,
                       long *out);

/* Parses a --bus value: "local" (sets *host to "" and *port to 0) or
 * "redis://HOST[:PORT]" (HOST a name or address, [IPv6] bracketed; PORT
 * 1..65535, default 6379) into host (NUL-terminated, host_len bytes at most)
 * and *port. false, with a message on stderr, when it is neither. */
bool example_parse_bus(const char *url, char *host, size_t host_len,
                       uint16_t *port);

/* Parses a server's command line: --ip, --port, --workers, --bus, the limits
 * (--max-payload, --max-connections, --idle-timeout, --worker-memory),
 * --tls-cert/--tls-key (both or neither) and --tls-ca (only with them),
 * --proxy-protocol and --proxy-from LIST (only with it), --metrics
 * ADDR:PORT, --help and, when dir is not NULL, a required --dir DIR stored
 * in *dir and an optional --quota BYTES stored in o->quota. name and about
 * start the usage text. Returns -1 to go on, else the status to exit with
 * (0 after --help; 2 on a usage error, with the usage on stderr). */
int example_server_args(int argc, char **argv, const char *name,
                        const char *about, example_server_opts *o,
                        const char **dir);

/* Copies the limits that were given, --bus, --proxy-protocol/--proxy-from
 * and --metrics into cfg (the others keep cfg's values, netfw's defaults
 * after netfw_config_init). */
void example_apply_limits(const example_server_opts *o, netfw_config *cfg);

/* Applies the options to cfg (app and context already set; with --tls-cert
 * also cfg->tls; cfg->listen_fd from netfw_listen_fd_from_env, so that a
 * socket systemd passes is served instead of --ip/--port), starts the
 * server, prints "listening on ADDR:PORT" (flushed) once connectable,
 * preceded, with --metrics, by "metrics on ADDR:PORT" (the port bound, also
 * when --metrics gave 0), waits for SIGINT or SIGTERM (or for the server
 * to fail: its workers kept crashing), stops it gracefully and returns the
 * process exit status (0 on a clean stop; 1, with "error: ..." on stderr,
 * when the server failed or could not start, e.g. an unusable TLS file:
 * netfw logged which and why). While it waits, each SIGHUP re-reads the TLS
 * files (netfw_server_reload_tls) and logs the result. */
int example_serve(const example_server_opts *o, netfw_config *cfg);

/* ---- The clients' TLS options (example_tls.c) ---- */

/* What --tls, --tls-ca, --tls-cert, --tls-key and --tls-server-name set.
 * Zeroed: plaintext. */
typedef struct example_client_tls {
  bool on;                 /* --tls, or any of the options below           */
  const char *ca;          /* trust anchors; NULL: the system's store      */
  const char *cert;        /* own certificate (mutual TLS), with key       */
  const char *key;
  const char *server_name; /* SNI and the name verified; NULL: the host    */
} example_client_tls;

/* getopt_long codes of the client TLS options (above any short option). */
enum {
  EXAMPLE_OPT_TLS = 0x1000,
  EXAMPLE_OPT_TLS_CA,
  EXAMPLE_OPT_TLS_CERT,
  EXAMPLE_OPT_TLS_KEY,
  EXAMPLE_OPT_TLS_SERVER_NAME
};

/* Entries for a client's struct option table. */
#define EXAMPLE_CLIENT_TLS_LONGOPTS                                            \
  {"tls", no_argument, NULL, EXAMPLE_OPT_TLS},                                 \
      {"tls-ca", required_argument, NULL, EXAMPLE_OPT_TLS_CA},                 \
      {"tls-cert", required_argument, NULL, EXAMPLE_OPT_TLS_CERT},             \
      {"tls-key", required_argument, NULL, EXAMPLE_OPT_TLS_KEY},               \
      {"tls-server-name", required_argument, NULL, EXAMPLE_OPT_TLS_SERVER_NAME}

/* Records option code (with its argument) in t. Returns false when code is
 * not one of the EXAMPLE_OPT_TLS* codes (t unchanged). */
bool example_client_tls_opt(example_client_tls *t, int code, const char *arg);

/* Checks the options go together (--tls-cert with --tls-key). Returns
 * false, with a message on stderr, when they do not. */
bool example_client_tls_check(const example_client_tls *t);

/* Prints the usage lines of the client TLS options. */
void example_client_tls_usage(FILE *out);

/* Connects a new client to ip:port; prints the reason and returns NULL on
 * failure. */
netfw_client *example_connect(const char *ip, uint16_t port);

/* As example_connect, with TLS when tls is not NULL and tls->on. A TLS
 * failure prints netfw_client_error()'s words ("certificate verify
 * failed: ..."). */
netfw_client *example_connect_tls(const char *ip, uint16_t port,
                                  const example_client_tls *tls);

/* As example_connect_tls, connecting c, a client made by the caller (a
 * generated <proto>_client_new, so that its calls work); c is freed on
 * failure, and NULL is reported as out of memory. */
netfw_client *example_connect_with(netfw_client *c, const char *ip,
                                   uint16_t port,
                                   const example_client_tls *tls);

/* Prints "error: WHAT: <netfw_strerror(err)>", and netfw_client_error(c)'s
 * words when it has some, on stderr. */
void example_client_fail(const netfw_client *c, const char *what, int err);

#endif /* NETFW_EXAMPLE_H */
