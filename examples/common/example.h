/* Shared plumbing of the example programs: command-line numbers, the server
 * run loop (start, announce, wait for SIGINT/SIGTERM, stop gracefully). */
#ifndef NETFW_EXAMPLE_H
#define NETFW_EXAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include <netfw/netfw.h>

/* Options every example server takes: --ip, --port, --workers. */
typedef struct example_server_opts {
  const char *ip;
  uint16_t port;
  int workers;
} example_server_opts;

/* Sets the examples' defaults: 127.0.0.1, port 54314, 1 worker. */
void example_server_opts_init(example_server_opts *o);

/* Parses a decimal integer in [min, max] from text; false (with a message on
 * stderr naming what) when it is not one. */
bool example_parse_int(const char *what, const char *text, long min, long max,
                       long *out);

/* Handles one of the common server options (ip/port/workers, by getopt_long
 * short code 'i', 'p', 'w'). Returns false on a bad value. */
bool example_server_opt(example_server_opts *o, int code, const char *arg);

/* Applies the options to cfg (app and context already set), starts the
 * server, prints "listening on ADDR:PORT" (flushed) once connectable, waits
 * for SIGINT or SIGTERM, stops it gracefully and returns the process exit
 * status (0 on a clean stop). */
int example_serve(const example_server_opts *o, netfw_config *cfg);

/* Connects a new client to ip:port; prints the reason and returns NULL on
 * failure. */
netfw_client *example_connect(const char *ip, uint16_t port);

#endif /* NETFW_EXAMPLE_H */
