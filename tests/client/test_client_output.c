/* The blocking client's output bound (max_output: NETFW_EAGAIN with
 * nothing queued, against a server that does not read) and its name lookup
 * inside the connect timeout (a slow lookup, made so by replacing the
 * client's getaddrinfo, ends at the deadline; the lookup and the TCP
 * connect share one deadline). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "call_peer.h"
#include "client_internal.h"
#include "client_kit.h"
#include "netfw/netfw.h"
#include "peer.h"
#include "tls_kit.h"

enum { FRAME = 16 * 1024, MAX_OUTPUT = 64 * 1024, FULL_STREAK = 50 };

/* Sends FRAME-byte Say frames until max_output refuses FULL_STREAK times
 * in a row, 1 ms apart (the socket is full, not just busy). Returns how
 * many were accepted. */
static size_t fill_output(netfw_client *c) {
  netfw_msg *m = netfw_msg_new(M_SAY);
  static uint8_t body[FRAME];
  int64_t end = peer_now_ms() + WAIT_MS;
  size_t ok = 0;
  int streak = 0;

  assert_int_equal(netfw_msg_append(m, body, sizeof(body)), 0);
  while (streak < FULL_STREAK && peer_now_ms() < end) {
    int rc = netfw_client_send(c, m);
    if (rc == 0) {
      ok++;
      streak = 0;
    } else {
      assert_int_equal(rc, NETFW_EAGAIN);
      streak++;
      usleep(1000);
    }
  }
  assert_int_equal(streak, FULL_STREAK);
  netfw_msg_free(m);
  return ok;
}

/* Against a server that does not read, sends and calls (of frames as
 * large as those that filled it) are refused with NETFW_EAGAIN once
 * max_output is reached, and queue nothing: when the server reads at
 * last, it gets exactly the frames that were accepted. */
static void test_max_output_eagain(void **state) {
  call_peer p = {.rcvbuf = 4096};
  netfw_client *c = client_new();
  netfw_msg *get = netfw_msg_new(M_GET), *reply = NULL;
  static uint8_t body[FRAME];
  size_t ok;

  (void)state;
  assert_int_equal(netfw_msg_append(get, body, sizeof(body)), 0);
  assert_int_equal(netfw_client_set_max_output(c, MAX_OUTPUT), 0);
  assert_int_equal(netfw_client_set_protocol(c, &test_calls_desc), 0);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_NOREAD)), 0);
  assert_int_equal(netfw_client_set_max_output(c, 0), NETFW_ESTATE);
  ok = fill_output(c);
  assert_true(ok >= MAX_OUTPUT / (FRAME + 6));
  assert_int_equal(netfw_client_call(c, get, &reply, 100), NETFW_EAGAIN);
  assert_null(reply);
  assert_int_equal(netfw_client_send(c, get), NETFW_EAGAIN);
  call_peer_release(&p);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  assert_int_equal(p.frames, ok);
  assert_int_equal(netfw_client_late_replies(c), 0);
  netfw_client_free(c);
  netfw_msg_free(get);
}

/* Sends paced (a pause every 4 frames) to a server that reads late: every
 * frame arrives and shutdown completes. Over TLS the output that waited
 * for a write whose ciphertext the transport finished alone (`drained`)
 * used to stay in the buffer until the next send. */
static void test_paced_sends_to_slow_reader(void **state) {
  enum { N = 300 };
  call_peer p = {.rcvbuf = 4096};
  netfw_client *c = client_new();
  netfw_msg *m = netfw_msg_new(M_SAY);
  static uint8_t body[FRAME];

  (void)state;
  assert_int_equal(netfw_msg_append(m, body, sizeof(body)), 0);
  assert_int_equal(netfw_client_set_max_output(c, 0), 0);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_NOREAD)), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(netfw_client_send(c, m), 0);
    if (i % 4 == 0)
      usleep(1000);
  }
  call_peer_release(&p);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  assert_int_equal(p.frames, N);
  netfw_client_free(c);
  netfw_msg_free(m);
}

/* A frame larger than max_output is refused even on an empty queue;
 * 0 lifts the bound. */
static void test_max_output_frame_too_big(void **state) {
  call_peer p = {0};
  netfw_client *c = client_new();
  netfw_msg *m = netfw_msg_new(M_SAY);
  static uint8_t body[2048];

  (void)state;
  assert_int_equal(netfw_msg_append(m, body, sizeof(body)), 0);
  assert_int_equal(netfw_client_set_max_output(c, 1024), 0);
  assert_int_equal(netfw_client_set_max_output(NULL, 1), NETFW_EINVAL);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_ANSWER)), 0);
  assert_int_equal(netfw_client_send(c, m), NETFW_EAGAIN);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  assert_int_equal(p.frames, 0);
  assert_int_equal(netfw_client_set_max_output(c, 0), 0);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_ANSWER)), 0);
  assert_int_equal(netfw_client_send(c, m), 0);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  assert_int_equal(p.frames, 1);
  netfw_client_free(c);
  netfw_msg_free(m);
}

/* ---- name lookup ------------------------------------------------------- */

static int lookup_delay_ms;
static int lookups; /* calls of slow_getaddrinfo (atomic) */

/* getaddrinfo after lookup_delay_ms. */
static int slow_getaddrinfo(const char *host, const char *service,
                            const struct addrinfo *hints,
                            struct addrinfo **res) {
  usleep((useconds_t)lookup_delay_ms * 1000);
  __atomic_fetch_add(&lookups, 1, __ATOMIC_SEQ_CST);
  return getaddrinfo(host, service, hints, res);
}

static int no_such_name(const char *host, const char *service,
                        const struct addrinfo *hints, struct addrinfo **res) {
  (void)host, (void)service, (void)hints, (void)res;
  return EAI_NONAME;
}

/* Waits until n lookups have finished (an abandoned one frees its result
 * before the test ends, so leak checkers see it). */
static void wait_lookups(int n) {
  int64_t end = peer_now_ms() + WAIT_MS;

  while (__atomic_load_n(&lookups, __ATOMIC_SEQ_CST) < n && peer_now_ms() < end)
    usleep(1000);
  usleep(20000); /* the helper frees the block after counting */
  assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), n);
}

/* A numeric address and "localhost" connect (the name on the helper
 * thread, slowed down but within the timeout). */
static void test_lookup_numeric_and_localhost(void **state) {
  call_peer p = {0};
  netfw_client *c;

  (void)state;
  TLS_KIT_PLAINTEXT_ONLY("the certificate names 127.0.0.1");
  c = client_new();
  lookups = 0;
  lookup_delay_ms = 50;
  netfw__client_getaddrinfo = slow_getaddrinfo;
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_ANSWER)), 0);
  assert_int_equal(lookups, 0); /* numeric: no lookup */
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  assert_int_equal(netfw_client_set_connect_timeout(c, 2000), 0);
  assert_int_equal(
      netfw_client_connect(c, "localhost", call_peer_start(&p, CP_ANSWER)), 0);
  assert_int_equal(lookups, 1);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  netfw__client_getaddrinfo = getaddrinfo;
  netfw_client_free(c);
}

/* A lookup slower than the connect timeout: connect returns
 * NETFW_ETIMEDOUT at the deadline, not when the lookup ends; the helper
 * finishes alone later. A timeout of 0 leaves no time for a lookup. */
static void test_lookup_times_out(void **state) {
  enum { TIMEOUT = 150, SLACK = 150 };
  netfw_client *c;
  int64_t t0, took;

  (void)state;
  TLS_KIT_PLAINTEXT_ONLY("the certificate names 127.0.0.1");
  c = client_new();
  lookups = 0;
  lookup_delay_ms = 600;
  netfw__client_getaddrinfo = slow_getaddrinfo;
  assert_int_equal(netfw_client_set_connect_timeout(c, TIMEOUT), 0);
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_connect(c, "localhost", peer_closed_port()),
                   NETFW_ETIMEDOUT);
  took = peer_now_ms() - t0;
  assert_in_range(took, TIMEOUT, TIMEOUT + SLACK);
  assert_int_equal(netfw_client_set_connect_timeout(c, 0), 0);
  assert_int_equal(netfw_client_connect(c, "localhost", peer_closed_port()),
                   NETFW_ETIMEDOUT);
  wait_lookups(1);
  netfw__client_getaddrinfo = getaddrinfo;
  netfw_client_free(c);
}

/* A listener whose accept queue is full (backlog 0, one connection
 * waiting): Linux drops further SYNs, so a connect to it hangs. Returns
 * the listening socket; *filler is the connection that fills it. */
static int full_listener(uint16_t *port, int *filler) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  assert_int_equal(listen(fd, 0), 0);
  *filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(connect(*filler, (struct sockaddr *)&a, sizeof(a)), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* The lookup and the TCP connect share one deadline: against a listener
 * that never completes the handshake, a connect whose lookup took 150 ms
 * of a 300 ms timeout gives up at 300 ms, not 150 ms after the lookup. */
static void test_lookup_shares_the_connect_timeout(void **state) {
  enum { DELAY = 150, TIMEOUT = 300, SLACK = 120 };
  netfw_client *c;
  uint16_t port;
  int filler, fd;
  int64_t t0, took;

  (void)state;
  TLS_KIT_PLAINTEXT_ONLY("the certificate names 127.0.0.1");
  c = client_new();
  fd = full_listener(&port, &filler);
  assert_int_equal(netfw_client_set_connect_timeout(c, TIMEOUT), 0);
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port), NETFW_ETIMEDOUT);
  took = peer_now_ms() - t0;
  assert_in_range(took, TIMEOUT, TIMEOUT + SLACK); /* the SYN is dropped */
  lookups = 0;
  lookup_delay_ms = DELAY;
  netfw__client_getaddrinfo = slow_getaddrinfo;
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_connect(c, "localhost", port), NETFW_ETIMEDOUT);
  took = peer_now_ms() - t0;
  assert_in_range(took, TIMEOUT, TIMEOUT + SLACK);
  wait_lookups(1);
  netfw__client_getaddrinfo = getaddrinfo;
  netfw_client_free(c);
  close(filler);
  close(fd);
}

/* A name that does not resolve is NETFW_EADDRINFO, with or without a
 * timeout. */
static void test_lookup_no_such_name(void **state) {
  netfw_client *c;

  (void)state;
  TLS_KIT_PLAINTEXT_ONLY("the certificate names 127.0.0.1");
  c = client_new();
  netfw__client_getaddrinfo = no_such_name;
  assert_int_equal(netfw_client_connect(c, "nowhere.invalid", 9),
                   NETFW_EADDRINFO);
  assert_int_equal(netfw_client_set_connect_timeout(c, -1), 0);
  assert_int_equal(netfw_client_connect(c, "nowhere.invalid", 9),
                   NETFW_EADDRINFO);
  netfw__client_getaddrinfo = getaddrinfo;
  netfw_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_max_output_eagain),
      cmocka_unit_test(test_max_output_frame_too_big),
      cmocka_unit_test(test_paced_sends_to_slow_reader),
      cmocka_unit_test(test_lookup_numeric_and_localhost),
      cmocka_unit_test(test_lookup_times_out),
      cmocka_unit_test(test_lookup_shares_the_connect_timeout),
      cmocka_unit_test(test_lookup_no_such_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
