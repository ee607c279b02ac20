/* The example clients' connection: plaintext or TLS from the --tls*
 * options, and error messages that carry netfw_client_error()'s words. */
#include "example.h"

#include <stdio.h>
#include <string.h>

bool example_client_tls_opt(example_client_tls *t, int code, const char *arg) {
  switch (code) {
  case EXAMPLE_OPT_TLS:
    break;
  case EXAMPLE_OPT_TLS_CA:
    t->ca = arg;
    break;
  case EXAMPLE_OPT_TLS_CERT:
    t->cert = arg;
    break;
  case EXAMPLE_OPT_TLS_KEY:
    t->key = arg;
    break;
  case EXAMPLE_OPT_TLS_SERVER_NAME:
    t->server_name = arg;
    break;
  default:
    return false;
  }
  t->on = true;
  return true;
}

bool example_client_tls_check(const example_client_tls *t) {
  if ((t->cert == NULL) != (t->key == NULL)) {
    fprintf(stderr, "error: --tls-cert and --tls-key go together\n");
    return false;
  }
  return true;
}

void example_client_tls_usage(FILE *out) {
  fprintf(out,
          "  --tls                  connect with TLS, verifying the server\n"
          "                         against the system's trust store\n"
          "  --tls-ca FILE          TLS, trusting the PEM CAs in FILE instead\n"
          "  --tls-cert FILE        TLS, presenting this PEM certificate\n"
          "  --tls-key FILE         and its key (mutual TLS; both or neither)\n"
          "  --tls-server-name NAME TLS, sending NAME (SNI) and requiring the\n"
          "                         server's certificate to match it\n"
          "                         (default: the --ip given)\n");
}

void example_client_fail(const netfw_client *c, const char *what, int err) {
  const char *why = c != NULL ? netfw_client_error(c) : "";

  if (why != NULL && why[0] != '\0')
    fprintf(stderr, "error: %s: %s: %s\n", what, netfw_strerror(err), why);
  else
    fprintf(stderr, "error: %s: %s\n", what, netfw_strerror(err));
}

/* Turns TLS on for c from the options. Returns 0 or prints why not. */
static int set_tls(netfw_client *c, const example_client_tls *t) {
  netfw_tls_config cfg;
  int err;

  netfw_tls_config_init(&cfg);
  cfg.ca_file = t->ca;
  cfg.cert_file = t->cert;
  cfg.key_file = t->key;
  cfg.server_name = t->server_name;
  err = netfw_client_set_tls(c, &cfg);
  if (err != 0)
    example_client_fail(c, "cannot set up TLS", err);
  return err;
}

netfw_client *example_connect_with(netfw_client *c, const char *ip,
                                   uint16_t port,
                                   const example_client_tls *tls) {
  char what[300];
  int err;

  if (c == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return NULL;
  }
  if (tls != NULL && tls->on && set_tls(c, tls) != 0)
    goto failed;
  err = netfw_client_connect(c, ip, port);
  if (err != 0) {
    snprintf(what, sizeof(what), "cannot connect to %s:%u", ip, (unsigned)port);
    example_client_fail(c, what, err);
    goto failed;
  }
  return c;
failed:
  netfw_client_free(c);
  return NULL;
}

netfw_client *example_connect_tls(const char *ip, uint16_t port,
                                  const example_client_tls *tls) {
  return example_connect_with(netfw_client_new(), ip, port, tls);
}

netfw_client *example_connect(const char *ip, uint16_t port) {
  return example_connect_tls(ip, port, NULL);
}
