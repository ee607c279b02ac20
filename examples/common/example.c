/* Shared plumbing of the example programs. */
#include "example.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void example_server_opts_init(example_server_opts *o) {
  o->ip = "127.0.0.1";
  o->port = NETFW_DEFAULT_PORT;
  o->workers = 1;
}

bool example_parse_int(const char *what, const char *text, long min, long max,
                       long *out) {
  char *end;
  long v;

  errno = 0;
  v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "error: %s must be a whole number from %ld to %ld, not '%s'\n",
            what, min, max, text);
    return false;
  }
  *out = v;
  return true;
}

bool example_server_opt(example_server_opts *o, int code, const char *arg) {
  long v;

  switch (code) {
  case 'i':
    o->ip = arg;
    return true;
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
  }
  return false;
}

/* The signals are blocked before the server starts so that every thread
 * netfw creates inherits the mask and sigwait() below is the only place
 * they are taken. */
int example_serve(const example_server_opts *o, netfw_config *cfg) {
  netfw_server *server;
  sigset_t stop_signals;
  int sig = 0;
  int err;

  cfg->ip = o->ip;
  cfg->port = o->port;
  cfg->worker_num = o->workers;

  server = netfw_server_new(cfg);
  if (server == NULL) {
    fprintf(stderr, "error: invalid server configuration\n");
    return 1;
  }
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

  err = netfw_server_start(server);
  if (err != 0) {
    fprintf(stderr, "error: cannot start the server on %s:%u: %s\n", o->ip,
            (unsigned)o->port, netfw_strerror(err));
    netfw_server_free(server);
    return 1;
  }
  printf("listening on %s:%u\n", o->ip, (unsigned)netfw_server_port(server));
  fflush(stdout);

  while (sigwait(&stop_signals, &sig) != 0)
    ;
  fprintf(stderr, "stopping (signal %d)\n", sig);
  err = netfw_server_stop(server, 10000);
  netfw_server_free(server);
  return err == 0 ? 0 : 1;
}

netfw_client *example_connect(const char *ip, uint16_t port) {
  netfw_client *c = netfw_client_new();
  int err;

  if (c == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return NULL;
  }
  err = netfw_client_connect(c, ip, port);
  if (err != 0) {
    fprintf(stderr, "error: cannot connect to %s:%u: %s\n", ip, (unsigned)port,
            netfw_strerror(err));
    netfw_client_free(c);
    return NULL;
  }
  return c;
}
