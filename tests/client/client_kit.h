/* Helpers shared by the client tests: connect, send and expect messages
 * with exact checks, and a sender thread. cmocka assertions inside. */
#ifndef NETFW_TEST_CLIENT_KIT_H
#define NETFW_TEST_CLIENT_KIT_H

#include <stdint.h>

#include "netfw/netfw.h"

#define LOCALHOST "127.0.0.1"
#define WAIT_MS 20000 /* bound on a wait that must succeed (loaded machine) */

/* A new unconnected client, with TLS on in a _tls variant (tls_kit.h;
 * asserts on failure). */
netfw_client *client_new(void);

/* A started server of cfg on LOCALHOST and a free port (stored in *port),
 * with TLS on in a _tls variant; NULL on failure. */
netfw_server *server_start(netfw_config *cfg, uint16_t *port);

/* A connected client_new() (asserts on failure). */
netfw_client *connect_to(uint16_t port);

/* Sends id seq (mod 65536) with the 4-byte payload seq. */
void send_seq(netfw_client *c, uint32_t seq);

/* Receives one message and checks it is send_seq's message for seq. */
void expect_seq(netfw_client *c, uint32_t seq);

/* Receives one message and checks its id and payload exactly. */
void expect_text(netfw_client *c, uint16_t id, const char *text);

/* A new message id with text as its payload (asserts on failure). */
netfw_msg *msg_text(uint16_t id, const char *text);

/* A new message id seq (mod 65536) with the 4-byte payload seq. */
netfw_msg *msg_seq(uint32_t seq);

/* Sends id with text as its payload (asserts it was accepted). */
void send_text(netfw_client *c, uint16_t id, const char *text);

/* A thread sending n send_seq messages from 0 on; failures counts errors. */
typedef struct sender_arg {
  netfw_client *c;
  uint32_t n;
  int failures;
} sender_arg;

/* pthread entry point for a sender_arg. */
void *sender_main(void *arg);

#endif /* NETFW_TEST_CLIENT_KIT_H */
