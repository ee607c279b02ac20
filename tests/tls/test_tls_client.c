/* netfw_client with TLS against a server no netfw code wrote: Python's ssl
 * module (py_tls_server.py, started per test on port 0). Verification by
 * CA and name, mutual TLS (the Python server reports the client's CN),
 * ALPN, TLS 1.2, the peer identity checked against OpenSSL's own
 * fingerprint of server.pem, and close_notify on a graceful shutdown. */
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfw/netfw.h"
#include "tls_kit.h"

#define RECV_MS 10000
#define STOP_MS 5000

typedef struct fx {
  tls_kit_py py;
  netfw_client *c;
  netfw_tls_config t;
} fx;

/* A client trusting ca.pem, no server running yet. */
static int setup(void **state) {
  fx *f = calloc(1, sizeof(*f));

  if (f == NULL || (f->c = netfw_client_new()) == NULL)
    return -1;
  netfw_tls_config_init(&f->t);
  f->t.ca_file = tls_kit_cert("ca.pem");
  *state = f;
  return 0;
}

/* Shuts the client down (bounded), frees it, stops the Python server. */
static int teardown(void **state) {
  fx *f = *state;

  netfw_client_shutdown(f->c, STOP_MS);
  netfw_client_free(f->c);
  tls_kit_py_stop(&f->py);
  free(f);
  return 0;
}

/* Starts py_tls_server.py with extra arguments (NULL-terminated). */
static void start_py(fx *f, const char *const *extra) {
  assert_int_equal(tls_kit_py_start(&f->py, extra), 0);
}

/* Applies f->t and connects to the Python server; returns connect's code. */
static int connect_tls(fx *f) {
  assert_int_equal(netfw_client_set_tls(f->c, &f->t), 0);
  return netfw_client_connect(f->c, "127.0.0.1", f->py.port);
}

/* Sends one frame and expects the exact echo. */
static void roundtrip(netfw_client *c, uint16_t id, const void *p, size_t n) {
  netfw_msg *m = netfw_msg_new(id), *got = NULL;

  assert_non_null(m);
  assert_int_equal(netfw_msg_append(m, p, n), 0);
  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
  assert_int_equal(netfw_client_recv(c, &got, RECV_MS), 0);
  assert_int_equal(netfw_msg_id(got), id);
  assert_int_equal(netfw_msg_size(got), n);
  if (n > 0)
    assert_memory_equal(netfw_msg_payload(got), p, n);
  netfw_msg_free(got);
}

/* Asks the Python server who we are; expects exactly want. */
static void expect_who(netfw_client *c, const char *want) {
  netfw_msg *m = netfw_msg_new(TLS_KIT_WHO), *got = NULL;
  char text[512];

  assert_non_null(m);
  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
  assert_int_equal(netfw_client_recv(c, &got, RECV_MS), 0);
  assert_int_equal(netfw_msg_id(got), TLS_KIT_WHO);
  assert_true(netfw_msg_size(got) < sizeof(text));
  memcpy(text, netfw_msg_payload(got), netfw_msg_size(got));
  text[netfw_msg_size(got)] = '\0';
  assert_string_equal(text, want);
  netfw_msg_free(got);
}

/* Expects connect to fail with NETFW_ETLS and an error naming the
 * certificate verification. */
static void expect_verify_failure(fx *f) {
  const char *err;

  assert_int_equal(connect_tls(f), NETFW_ETLS);
  err = netfw_client_error(f->c);
  assert_non_null(err);
  print_message("netfw_client_error: %s\n", err);
  assert_non_null(strstr(err, "verify"));
}

static void test_tls_client_verify_by_ip(void **state) {
  fx *f = *state;

  start_py(f, NULL);
  assert_int_equal(connect_tls(f), 0);
  roundtrip(f->c, 3, "hello tls", 9);
  roundtrip(f->c, 0, "", 0);
  expect_who(f->c, "has_cert=0 cn= version=TLSv1.3 alpn=");
}

static void test_tls_client_verify_by_name(void **state) {
  fx *f = *state;

  start_py(f, NULL);
  f->t.server_name = "localhost";
  assert_int_equal(connect_tls(f), 0);
  roundtrip(f->c, 4, "by name", 7);
}

/* "::1" is verified against the certificate's IP:::1 (no server_name). */
static void test_tls_client_verify_ipv6(void **state) {
  fx *f = *state;
  const char *const extra[] = {"--host", "::1", NULL};

  start_py(f, extra);
  assert_int_equal(netfw_client_set_tls(f->c, &f->t), 0);
  assert_int_equal(netfw_client_connect(f->c, "::1", f->py.port), 0);
  roundtrip(f->c, 4, "over ipv6", 9);
}

/* A host name given to connect is the name verified (DNS:localhost). */
static void test_tls_client_verify_host_name(void **state) {
  fx *f = *state;
  struct addrinfo *res;

  if (getaddrinfo("localhost", NULL, NULL, &res) != 0)
    skip(); /* no /etc/hosts (a bare chroot): nothing to test here */
  freeaddrinfo(res);
  start_py(f, NULL);
  assert_int_equal(netfw_client_set_tls(f->c, &f->t), 0);
  assert_int_equal(netfw_client_connect(f->c, "localhost", f->py.port), 0);
  roundtrip(f->c, 4, "by host name", 12);
}

static void test_tls_client_wrong_server_name(void **state) {
  fx *f = *state;

  start_py(f, NULL);
  f->t.server_name = "not-this-host.example";
  expect_verify_failure(f);
}

static void test_tls_client_untrusted_ca(void **state) {
  fx *f = *state;

  start_py(f, NULL);
  f->t.ca_file = tls_kit_cert("other-ca.pem");
  expect_verify_failure(f);
}

static void test_tls_client_insecure_no_verify(void **state) {
  fx *f = *state;

  start_py(f, NULL);
  f->t.ca_file = tls_kit_cert("other-ca.pem");
  f->t.server_name = "not-this-host.example";
  f->t.insecure_no_verify = true;
  assert_int_equal(connect_tls(f), 0);
  roundtrip(f->c, 5, "unverified", 10);
}

static void test_tls_client_peer_identity(void **state) {
  fx *f = *state;
  netfw_tls_peer p;
  uint8_t want[32];
  char hex[65], cli[65];

  start_py(f, NULL);
  assert_int_equal(netfw_client_tls_peer(f->c, &p), NETFW_ESTATE);
  assert_int_equal(connect_tls(f), 0);
  assert_int_equal(netfw_client_tls_peer(f->c, &p), 0);
  assert_true(p.has_cert);
  assert_string_equal(p.subject_cn, "localhost");
  assert_string_equal(p.version, "TLSv1.3");
  assert_non_null(p.cipher);
  assert_true(strncmp(p.cipher, "TLS_", 4) == 0);
  assert_string_equal(p.alpn, "");
  assert_non_null(strstr(p.sans, "DNS:localhost"));
  assert_non_null(strstr(p.sans, "IP:127.0.0.1"));
  assert_false(p.sans_truncated);
  assert_int_equal(tls_kit_pem_sha256(tls_kit_cert("server.pem"), want), 0);
  assert_memory_equal(p.sha256, want, 32);
  assert_int_equal(tls_kit_cli_fingerprint(tls_kit_cert("server.pem"), cli), 0);
  assert_string_equal(netfw_tls_fingerprint_hex(p.sha256, hex), cli);
}

static void test_tls_client_mutual(void **state) {
  fx *f = *state;
  const char *const extra[] = {"--ca", tls_kit_cert("ca.pem"), NULL};

  start_py(f, extra);
  f->t.cert_file = tls_kit_cert("client.pem");
  f->t.key_file = tls_kit_cert("client.key");
  assert_int_equal(connect_tls(f), 0);
  expect_who(f->c, "has_cert=1 cn=netfw-test-client version=TLSv1.3 alpn=");
  roundtrip(f->c, 6, "mutual", 6);
}

/* Without a certificate the Python server refuses: in TLS 1.3 the client
 * may finish its handshake first, so the refusal shows at connect
 * (NETFW_ETLS) or at the first recv (NETFW_ECONNRESET), never an echo;
 * either way netfw_client_error names the server's alert. */
static void test_tls_client_mutual_no_cert(void **state) {
  fx *f = *state;
  const char *const extra[] = {"--ca", tls_kit_cert("ca.pem"), NULL};
  netfw_msg *got = NULL;
  int rc;

  start_py(f, extra);
  rc = connect_tls(f);
  print_message("connect without a certificate: %s (%s)\n", netfw_err_name(rc),
                netfw_client_error(f->c));
  if (rc != NETFW_ETLS) {
    assert_int_equal(rc, 0);
    rc = netfw_client_recv(f->c, &got, RECV_MS);
    print_message("recv: %s (%s)\n", netfw_err_name(rc),
                  netfw_client_error(f->c));
    assert_int_equal(rc, NETFW_ECONNRESET);
    assert_null(got);
  }
  assert_non_null(strstr(netfw_client_error(f->c), "certificate required"));
}

static void test_tls_client_alpn(void **state) {
  fx *f = *state;
  const char *const extra[] = {"--alpn", "netfw/1", NULL};
  netfw_tls_peer p;

  start_py(f, extra);
  f->t.alpn = "netfw/1";
  assert_int_equal(connect_tls(f), 0);
  assert_int_equal(netfw_client_tls_peer(f->c, &p), 0);
  assert_string_equal(p.alpn, "netfw/1");
  expect_who(f->c, "has_cert=0 cn= version=TLSv1.3 alpn=netfw/1");
}

static void test_tls_client_tls12_server(void **state) {
  fx *f = *state;
  const char *const extra[] = {"--max12", NULL};
  netfw_tls_peer p;

  start_py(f, extra);
  assert_int_equal(connect_tls(f), 0);
  assert_int_equal(netfw_client_tls_peer(f->c, &p), 0);
  assert_string_equal(p.version, "TLSv1.2");
  assert_string_equal(p.subject_cn, "localhost");
  expect_who(f->c, "has_cert=0 cn= version=TLSv1.2 alpn=");
}

static void test_tls_client_min13_refuses_tls12(void **state) {
  fx *f = *state;
  const char *const extra[] = {"--max12", NULL};

  start_py(f, extra);
  f->t.min_version = NETFW_TLS_1_3;
  assert_int_equal(connect_tls(f), NETFW_ETLS);
  print_message("netfw_client_error: %s\n", netfw_client_error(f->c));
}

/* 1 MiB one way and back, then 200 frames sent before any is read. */
static void test_tls_client_big_and_pipelined(void **state) {
  fx *f = *state;
  size_t big = 1u << 20, i;
  uint8_t *buf = malloc(big);
  netfw_msg *m, *got;

  assert_non_null(buf);
  for (i = 0; i < big; i++)
    buf[i] = (uint8_t)(i * 2654435761u >> 13);
  start_py(f, NULL);
  assert_int_equal(connect_tls(f), 0);
  roundtrip(f->c, 8, buf, big);
  for (i = 0; i < 200; i++) {
    m = netfw_msg_new((uint16_t)(i + 1));
    assert_non_null(m);
    assert_int_equal(netfw_msg_append(m, buf + i, i * 37), 0);
    assert_int_equal(netfw_client_send(f->c, m), 0);
    netfw_msg_free(m);
  }
  for (i = 0; i < 200; i++) {
    got = NULL;
    assert_int_equal(netfw_client_recv(f->c, &got, RECV_MS), 0);
    assert_int_equal(netfw_msg_id(got), i + 1);
    assert_int_equal(netfw_msg_size(got), i * 37);
    assert_memory_equal(netfw_msg_payload(got), buf + i, i * 37);
    netfw_msg_free(got);
  }
  free(buf);
}

/* Connects (TLS 1.2 when tls12), echoes once, shuts down gracefully: the
 * Python server must have seen our close_notify before the FIN (and its
 * own answer lets shutdown return 0). */
static void shutdown_sends_close_notify(fx *f, bool tls12) {
  char log[] = "/tmp/netfw-tls-py-XXXXXX";
  const char *const extra[] = {"--log", log, tls12 ? "--max12" : NULL, NULL};
  char text[128] = "";
  netfw_tls_peer p;
  FILE *in;
  int fd = mkstemp(log);

  assert_true(fd >= 0);
  close(fd);
  start_py(f, extra);
  assert_int_equal(connect_tls(f), 0);
  assert_int_equal(netfw_client_tls_peer(f->c, &p), 0);
  assert_string_equal(p.version, tls12 ? "TLSv1.2" : "TLSv1.3");
  roundtrip(f->c, 9, "goodbye", 7);
  assert_int_equal(netfw_client_shutdown(f->c, STOP_MS), 0);
  in = fopen(log, "r");
  assert_non_null(in);
  assert_true(fread(text, 1, sizeof(text) - 1, in) > 0);
  fclose(in);
  unlink(log);
  assert_string_equal(text, "end close_notify\n");
}

static void test_tls_client_shutdown_close_notify(void **state) {
  shutdown_sends_close_notify(*state, false);
}

static void test_tls_client_shutdown_close_notify_tls12(void **state) {
  shutdown_sends_close_notify(*state, true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tls_client_verify_by_ip, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_verify_by_name, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_verify_ipv6, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_verify_host_name, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_wrong_server_name, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_untrusted_ca, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_insecure_no_verify, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_peer_identity, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_mutual, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_mutual_no_cert, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_alpn, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_tls12_server, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_min13_refuses_tls12,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_big_and_pipelined, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tls_client_shutdown_close_notify,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_tls_client_shutdown_close_notify_tls12, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
