/* tls_echo: examples/echo/echo_server with TLS, for the TLS rows of
 * bench/run-bench while echo_server has no --tls-cert/--tls-key of its own.
 *
 * The same callback as echo_server (every message sent back unchanged) and
 * the same options (examples/common), plus --tls-cert FILE and --tls-key
 * FILE: given both, every connection speaks TLS (netfw_config.tls with
 * netfw's defaults); given neither, it is the plaintext echo_server. Built
 * on netfw's public API only. */
#include <stdio.h>
#include <string.h>

#include <netfw/netfw.h>

#include "example.h"

/* Echoes m back on its connection; shuts the connection when it cannot. */
static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

static const netfw_app echo_app = {.on_message = on_message};

/* Takes --tls-cert FILE and --tls-key FILE out of argv (into *cert and
 * *key), leaving the other arguments in order; returns the new argc, or -1
 * when one of them has no value. */
static int take_tls_args(int argc, char **argv, const char **cert,
                         const char **key) {
  int out = 1;

  for (int i = 1; i < argc; i++) {
    const char **dst = strcmp(argv[i], "--tls-cert") == 0  ? cert
                       : strcmp(argv[i], "--tls-key") == 0 ? key
                                                          : NULL;
    if (dst == NULL) {
      argv[out++] = argv[i];
      continue;
    }
    if (i + 1 >= argc)
      return -1;
    *dst = argv[++i];
  }
  argv[out] = NULL;
  return out;
}

int main(int argc, char **argv) {
  example_server_opts opts;
  netfw_config cfg;
  netfw_tls_config tls;
  const char *cert = NULL, *key = NULL;
  int status;

  argc = take_tls_args(argc, argv, &cert, &key);
  if (argc < 0 || (cert == NULL) != (key == NULL)) {
    fprintf(stderr, "tls_echo: --tls-cert FILE and --tls-key FILE go "
                    "together\n");
    return 2;
  }
  status = example_server_args(argc, argv, "tls_echo",
                               "Echoes every message back; TLS with "
                               "--tls-cert FILE --tls-key FILE.\n",
                               &opts, NULL);
  if (status >= 0)
    return status;
  netfw_config_init(&cfg, &echo_app);
  if (cert != NULL) {
    netfw_tls_config_init(&tls);
    tls.cert_file = cert;
    tls.key_file = key;
    cfg.tls = &tls;
  }
  return example_serve(&opts, &cfg);
}
