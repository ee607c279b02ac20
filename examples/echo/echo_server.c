/* echo_server: sends every message back unchanged (same id, same payload).
 * The smallest complete netfw server: one callback, raw Message API. */

#include <netfw/netfw.h>

#include "example.h"

static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

static const netfw_app echo_app = {.on_message = on_message};

int main(int argc, char **argv) {
  example_server_opts opts;
  netfw_config cfg;
  int status = example_server_args(argc, argv, "echo_server",
                                   "Echoes every message back.\n", &opts, NULL);

  if (status >= 0)
    return status;
  netfw_config_init(&cfg, &echo_app);
  return example_serve(&opts, &cfg);
}
