/* echo_server: sends every message back unchanged (same id, same payload).
 * The smallest complete netfw server: one callback, raw Message API. With
 * TLS (--tls-cert/--tls-key) it also logs who each client is; with
 * --proxy-protocol (behind HAProxy) it logs each client's address. */
#include <stdio.h>
#include <string.h>

#include <netfw/netfw.h>

#include "example.h"

/* --proxy-protocol: log each client's address (from the PROXY header). */
static bool log_clients;

static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

/* Writes c's address as "IP:PORT" ("[IP]:PORT" for IPv6) into out. */
static void peer_addr(const netfw_conn *c, char *out, size_t len) {
  char ip[64];
  uint16_t port = 0;

  if (netfw_conn_addr(c, ip, sizeof(ip), &port) != 0)
    snprintf(out, len, "?");
  else
    snprintf(out, len, strchr(ip, ':') != NULL ? "[%s]:%u" : "%s:%u", ip,
             (unsigned)port);
}

/* With TLS, the handshake is done by now: logs the client's address and
 * verified identity ("cn=- sha256=-" when it sent no certificate) at info
 * level; in plaintext with --proxy-protocol, its address only. One line per
 * client. Accepts every connection: with --tls-ca, netfw refused
 * unverified ones. */
static bool on_connect(void *app, netfw_conn *c) {
  netfw_tls_peer peer;
  char addr[80], hex[65];

  (void)app;
  peer_addr(c, addr, sizeof(addr));
  if (netfw_conn_tls_peer(c, &peer) != 0) { /* plaintext */
    if (log_clients)
      netfw_log(NETFW_LOG_INFO, "client %s", addr);
    return true;
  }
  netfw_log(NETFW_LOG_INFO, "client %s %s %s cn=%s sha256=%s", addr,
            peer.version, peer.cipher,
            !peer.has_cert               ? "-"
            : peer.subject_cn[0] != '\0' ? peer.subject_cn
                                         : "?",
            peer.has_cert ? netfw_tls_fingerprint_hex(peer.sha256, hex) : "-");
  return true;
}

static const netfw_app echo_app = {.on_message = on_message,
                                   .on_client_connect = on_connect};

int main(int argc, char **argv) {
  example_server_opts opts;
  netfw_config cfg;
  int status = example_server_args(argc, argv, "echo_server",
                                   "Echoes every message back. With TLS, logs "
                                   "each client's certificate\n"
                                   "(cn=NAME sha256=FINGERPRINT) as it "
                                   "connects; with --proxy-protocol,\n"
                                   "each client's address (client IP:PORT)."
                                   "\n",
                                   &opts, NULL);

  if (status >= 0)
    return status;
  log_clients = opts.proxy_protocol;
  netfw_config_init(&cfg, &echo_app);
  return example_serve(&opts, &cfg);
}
