/* Helpers shared by the client tests (client_kit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_kit.h"
#include "tls_kit.h"

netfw_client *client_new(void) {
  netfw_client *c = netfw_client_new();
  assert_non_null(c);
  assert_int_equal(tls_kit_client(c), 0);
  return c;
}

netfw_server *server_start(netfw_config *cfg, uint16_t *port) {
  netfw_server *s;

  cfg->ip = LOCALHOST;
  cfg->port = 0;
  tls_kit_server_config(cfg); /* the _tls variant: TLS on */
  s = netfw_server_new(cfg);
  if (s == NULL || netfw_server_start(s) != 0) {
    netfw_server_free(s);
    return NULL;
  }
  *port = netfw_server_port(s);
  return s;
}

netfw_client *connect_to(uint16_t port) {
  netfw_client *c = client_new();
  netfw_tls_peer peer;
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port), 0);
  /* over TLS only when the variant says so */
  assert_int_equal(netfw_client_tls_peer(c, &peer),
                   tls_kit_dir() != NULL ? 0 : NETFW_ESTATE);
  return c;
}

void send_seq(netfw_client *c, uint32_t seq) {
  netfw_msg m;
  netfw_msg_init(&m, (uint16_t)seq);
  assert_int_equal(netfw_msg_append(&m, &seq, 4), 0);
  assert_int_equal(netfw_client_send(c, &m), 0);
  netfw_msg_release(&m);
}

void expect_seq(netfw_client *c, uint32_t seq) {
  netfw_msg *m = NULL;
  uint32_t got = ~seq;
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), 0);
  assert_int_equal(netfw_msg_id(m), (uint16_t)seq);
  assert_int_equal(netfw_msg_size(m), 4);
  assert_int_equal(netfw_msg_pop(m, &got, 4), 0);
  assert_int_equal(got, seq);
  netfw_msg_free(m);
}

void expect_text(netfw_client *c, uint16_t id, const char *text) {
  netfw_msg *m = NULL;
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), 0);
  assert_non_null(m);
  assert_int_equal(netfw_msg_id(m), id);
  assert_int_equal(netfw_msg_size(m), strlen(text));
  if (strlen(text) > 0)
    assert_memory_equal(netfw_msg_payload(m), text, strlen(text));
  netfw_msg_free(m);
}

void *sender_main(void *arg) {
  sender_arg *a = arg;
  for (uint32_t i = 0; i < a->n; i++) {
    netfw_msg m;
    netfw_msg_init(&m, (uint16_t)i);
    if (netfw_msg_append(&m, &i, 4) != 0 || netfw_client_send(a->c, &m) != 0)
      a->failures++;
    netfw_msg_release(&m);
    if (i % 1000 == 0)
      usleep(1000); /* let the receiver catch up and block now and then */
  }
  return NULL;
}

/* A new message id with text as its payload (asserts on failure). */
netfw_msg *msg_text(uint16_t id, const char *text) {
  netfw_msg *m = netfw_msg_new(id);
  assert_non_null(m);
  assert_int_equal(netfw_msg_append(m, text, strlen(text)), 0);
  return m;
}

/* A new message id seq (mod 65536) with the 4-byte payload seq. */
netfw_msg *msg_seq(uint32_t seq) {
  netfw_msg *m = netfw_msg_new((uint16_t)seq);
  assert_non_null(m);
  assert_int_equal(netfw_msg_append(m, &seq, sizeof(seq)), 0);
  return m;
}

/* Sends id with text as its payload (asserts it was accepted). */
void send_text(netfw_client *c, uint16_t id, const char *text) {
  netfw_msg *m = msg_text(id, text);
  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
}
