/* echo_server: sends every message back unchanged (same id, same payload).
 * The smallest complete netfw server: one callback, raw Message API. */
#include <getopt.h>
#include <stdio.h>

#include <netfw/netfw.h>

#include "example.h"

static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

static const netfw_app echo_app = {.on_message = on_message};

static void usage(FILE *out) {
  fprintf(out, "usage: echo_server [--ip ADDR] [--port N] [--workers N]\n"
               "Echoes every message back. Prints 'listening on ADDR:PORT' once\n"
               "connectable; SIGINT/SIGTERM stop it gracefully.\n"
               "  --ip ADDR     address to bind (default 127.0.0.1)\n"
               "  --port N      port, 0 = any free port (default 54314)\n"
               "  --workers N   worker processes, 0 = one per CPU (default 1)\n");
}

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"ip", required_argument, NULL, 'i'},
      {"port", required_argument, NULL, 'p'},
      {"workers", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  example_server_opts opts;
  netfw_config cfg;
  int c;

  example_server_opts_init(&opts);
  while ((c = getopt_long(argc, argv, "i:p:w:h", longopts, NULL)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return 0;
    }
    if (c == '?' || !example_server_opt(&opts, c, optarg)) {
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  netfw_config_init(&cfg, &echo_app);
  return example_serve(&opts, &cfg);
}
