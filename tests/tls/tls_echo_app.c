/* A TLS echo server for the interop tests, on the public API only: one
 * worker on 127.0.0.1, port 0, TLS from a directory of test certificates
 * (scripts/make-test-certs).
 *
 * Usage: tls_echo_app CERTDIR [--mtls] [--min13] [--alpn NAME]
 *   --mtls       ca_file = CERTDIR/ca.pem: every client needs a certificate
 *   --min13      min_version = NETFW_TLS_1_3
 *   --alpn NAME  the server's ALPN protocol
 *
 * Prints "port N" once it serves, then, from the worker, one line per
 * accepted connection: "connect has_cert=H cn=CN version=V alpn=A" (what
 * netfw_conn_tls_peer said in on_client_connect), and one when it ends:
 * "closed reason=R" (on_client_closed). Every frame is echoed, but:
 *   TLS_ECHO_WHO (0xFFF0): answered with a frame of that id whose payload
 *                          is the same "has_cert=... alpn=A" text;
 *   TLS_ECHO_BYE (0xFFF1): echoed, then netfw_conn_shutdown.
 * Stops (exit 0) when stdin reaches EOF. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netfw/netfw.h"

#define TLS_ECHO_WHO 0xFFF0
#define TLS_ECHO_BYE 0xFFF1
#define PEER_TEXT 512

/* Formats what netfw_conn_tls_peer says about c into out. */
static void describe_peer(const netfw_conn *c, char *out, size_t len) {
  netfw_tls_peer p;
  int rc = netfw_conn_tls_peer(c, &p);

  if (rc != 0) {
    snprintf(out, len, "error=%s", netfw_err_name(rc));
    return;
  }
  snprintf(out, len, "has_cert=%d cn=%s version=%s alpn=%s", p.has_cert ? 1 : 0,
           p.subject_cn, p.version != NULL ? p.version : "(null)", p.alpn);
}

/* Records the peer in the connection's data and prints it; accepts all. */
static bool on_connect(void *app, netfw_conn *c) {
  char *text = malloc(PEER_TEXT);

  (void)app;
  if (text == NULL)
    return false;
  describe_peer(c, text, PEER_TEXT);
  netfw_conn_set_data(c, text);
  dprintf(STDOUT_FILENO, "connect %s\n", text);
  return true;
}

/* Echoes the frame (then shuts down after TLS_ECHO_BYE), or answers
 * TLS_ECHO_WHO with the recorded peer. */
static void on_message(void *app, netfw_owned_msg *om) {
  netfw_msg *reply;
  const char *text;

  (void)app;
  if (netfw_msg_id(om->msg) != TLS_ECHO_WHO) {
    netfw_conn_send(om->owner, om->msg);
    if (netfw_msg_id(om->msg) == TLS_ECHO_BYE)
      netfw_conn_shutdown(om->owner);
    return;
  }
  text = netfw_conn_data(om->owner);
  reply = netfw_msg_new(TLS_ECHO_WHO);
  if (reply == NULL)
    return;
  if (text != NULL)
    netfw_msg_append(reply, text, strlen(text));
  netfw_conn_send(om->owner, reply);
  netfw_msg_free(reply);
}

/* Prints the reason and frees the recorded peer text. */
static void on_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  (void)app;
  dprintf(STDOUT_FILENO, "closed reason=%s\n", netfw_close_reason_name(why));
  free(netfw_conn_data(c));
  netfw_conn_set_data(c, NULL);
}

static const netfw_app echo_app = {
    .on_client_connect = on_connect,
    .on_message = on_message,
    .on_client_closed = on_closed,
};

/* Parses argv into t (paths built in the caller's buffers). Returns 0, or -1
 * on a usage error. */
static int parse_args(int argc, char **argv, netfw_tls_config *t,
                      char paths[3][4096]) {
  const char *dir;
  int i;

  if (argc < 2)
    return -1;
  dir = argv[1];
  snprintf(paths[0], 4096, "%s/server.pem", dir);
  snprintf(paths[1], 4096, "%s/server.key", dir);
  snprintf(paths[2], 4096, "%s/ca.pem", dir);
  t->cert_file = paths[0];
  t->key_file = paths[1];
  for (i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--mtls") == 0)
      t->ca_file = paths[2];
    else if (strcmp(argv[i], "--min13") == 0)
      t->min_version = NETFW_TLS_1_3;
    else if (strcmp(argv[i], "--alpn") == 0 && i + 1 < argc)
      t->alpn = argv[++i];
    else
      return -1;
  }
  return 0;
}

/* Blocks until stdin reaches EOF (or fails). */
static void wait_stdin_eof(void) {
  char buf[256];
  ssize_t n;

  for (;;) {
    n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EINTR))
      return;
  }
}

int main(int argc, char **argv) {
  static char paths[3][4096];
  netfw_tls_config t;
  netfw_config cfg;
  netfw_server *s;
  int rc;

  signal(SIGPIPE, SIG_IGN);
  netfw_tls_config_init(&t);
  if (parse_args(argc, argv, &t, paths) != 0) {
    fprintf(stderr, "usage: %s CERTDIR [--mtls] [--min13] [--alpn NAME]\n",
            argv[0]);
    return 2;
  }
  netfw_config_init(&cfg, &echo_app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = 1;
  cfg.tls = &t;
  s = netfw_server_new(&cfg);
  if (s == NULL) {
    fprintf(stderr, "tls_echo_app: netfw_server_new failed\n");
    return 1;
  }
  rc = netfw_server_start(s);
  if (rc != 0) {
    fprintf(stderr, "tls_echo_app: start: %s\n", netfw_strerror(rc));
    netfw_server_free(s);
    return 1;
  }
  dprintf(STDOUT_FILENO, "port %u\n", (unsigned)netfw_server_port(s));
  wait_stdin_eof();
  rc = netfw_server_stop(s, 5000);
  netfw_server_free(s);
  return rc == 0 ? 0 : 1;
}
