/* Shared plumbing of the example programs: command-line numbers, the server
 * run loop (start, announce, wait for SIGINT/SIGTERM, stop gracefully). */
#ifndef NETFW_EXAMPLE_H
#define NETFW_EXAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * --help and, when dir is not NULL, a required --dir DIR stored in *dir and
 * an optional --quota BYTES stored in o->quota. name and about
 * start the usage text. Returns -1 to go on, else the status to exit with
 * (0 after --help; 2 on a usage error, with the usage on stderr). */
int example_server_args(int argc, char **argv, const char *name,
                        const char *about, example_server_opts *o,
                        const char **dir);

/* Copies the limits that were given, and --bus, into cfg (the others keep
 * cfg's values, netfw's defaults after netfw_config_init). */
void example_apply_limits(const example_server_opts *o, netfw_config *cfg);

/* Applies the options to cfg (app and context already set), starts the
 * server, prints "listening on ADDR:PORT" (flushed) once connectable, waits
 * for SIGINT or SIGTERM (or for the server to fail: its workers kept
 * crashing), stops it gracefully and returns the process exit status (0 on
 * a clean stop; 1, with "error: ..." on stderr, when the server failed). */
int example_serve(const example_server_opts *o, netfw_config *cfg);

/* Connects a new client to ip:port; prints the reason and returns NULL on
 * failure. */
netfw_client *example_connect(const char *ip, uint16_t port);

#endif /* NETFW_EXAMPLE_H */
