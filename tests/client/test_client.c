/* Client runtime against a scripted peer (peer.c): round trips, timeouts,
 * losses, shutdown semantics and misuse. Concurrent use is in
 * test_client_threads.c, the inbound limits in test_client_limits.c, the
 * shared helpers in client_kit.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netfw/netfw.h"
#include "client_kit.h"
#include "peer.h"

static void test_client_echo_round_trip(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));

  send_text(c, 0xff, "hello");
  expect_text(c, 0xff, "hello");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, 1);
  assert_int_equal(p.bytes, 6 + 5);
  assert_true(p.saw_eof);
}

static void test_client_recv_timeouts_then_delayed_echo(void **state) {
  test_peer p = {0};
  netfw_client *c;
  netfw_msg dummy, *m = &dummy; /* recv must set it to NULL */
  int64_t t0, elapsed;

  p.delay_ms = 600;
  c = connect_to(peer_start(&p, PEER_ECHO));
  send_text(c, 3, "late");

  t0 = peer_now_ms();
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  assert_null(m);
  assert_true(peer_now_ms() - t0 < 100);

  t0 = peer_now_ms();
  assert_int_equal(netfw_client_recv(c, &m, 200), NETFW_ETIMEDOUT);
  elapsed = peer_now_ms() - t0;
  assert_null(m);
  assert_true(elapsed >= 200);
  assert_true(elapsed < 1000);

  expect_text(c, 3, "late");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
}

static void test_client_recv_timeout_zero_on_empty_queue(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));
  netfw_msg *m;
  int64_t t0 = peer_now_ms();

  for (int i = 0; i < 1000; i++)
    assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  assert_true(peer_now_ms() - t0 < 500);
  netfw_client_free(c);
  peer_join(&p);
}

static void test_client_rejected_reports_reset(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_REJECT));
  netfw_msg *m = msg_text(1, "x");
  netfw_msg *got = NULL;

  /* a recv blocked without a timeout is woken by the loss */
  assert_int_equal(netfw_client_recv(c, &got, -1), NETFW_ECONNRESET);
  assert_null(got);
  assert_int_equal(netfw_client_recv(c, &got, 0), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_send(c, m), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_msg_free(m);
  netfw_client_free(c);
  peer_join(&p);
}

/* Finds this process's socket connected to 127.0.0.1:port. */
static int find_socket_to(uint16_t port) {
  for (int fd = 3; fd < 1024; fd++) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    if (getpeername(fd, (struct sockaddr *)&a, &len) == 0 &&
        a.sin_family == AF_INET && ntohs(a.sin_port) == port)
      return fd;
  }
  return -1;
}

/* A write to a socket whose sending side is shut raises SIGPIPE unless the
 * writer blocks or ignores it. With the client's socket shut for writing
 * behind its back, the direct write fails (MSG_NOSIGNAL), the frame is
 * queued, and the I/O thread's write fails with EPIPE: the process must
 * survive (the I/O thread blocks signals) and send must report the loss. */
static void test_client_write_error_without_sigpipe(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_HOLD));
  int fd = find_socket_to(p.port), rc = 0;

  assert_true(fd >= 0);
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  for (int i = 0; i < WAIT_MS / 10 && rc == 0; i++) {
    netfw_msg *m = msg_text(1, "into a closed pipe");
    rc = netfw_client_send(c, m);
    netfw_msg_free(m);
    if (rc == 0)
      usleep(10000);
  }
  assert_int_equal(rc, NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, 0);
}

static void test_client_three_then_close(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_SEND3_CLOSE));
  netfw_msg *m;

  expect_text(c, 1, "one");
  expect_text(c, 2, "two");
  expect_text(c, 3, "three");
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_recv(c, &m, -1), NETFW_ECONNRESET);
  netfw_client_free(c);
  peer_join(&p);
}

/* The messages must already be queued when the loss is seen: recv only
 * after the peer is gone. */
static void test_client_three_kept_after_loss(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_SEND3_CLOSE));
  netfw_msg *m = msg_text(9, "late");
  int rc;

  peer_join(&p);
  /* send sees the loss once the I/O thread noticed the EOF */
  for (int i = 0; i < WAIT_MS / 10; i++) {
    rc = netfw_client_send(c, m);
    if (rc != 0)
      break;
    usleep(10000);
  }
  assert_int_equal(rc, NETFW_ECONNRESET);
  expect_text(c, 1, "one");
  expect_text(c, 2, "two");
  expect_text(c, 3, "three");
  netfw_msg_free(m);
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ECONNRESET);
  assert_null(m);
  netfw_client_free(c);
}

static void test_client_send_full_completion(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_COUNT));

  for (uint32_t i = 0; i < 1024; i++) {
    netfw_msg *m = msg_seq(i);
    assert_int_equal(netfw_client_send(c, m), 0);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_shutdown(c, -1), 0);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, 1024);
  assert_int_equal(p.in_order, 1024);
  assert_int_equal(p.bytes, 1024 * 10);
  assert_true(p.saw_eof);
}

static void test_client_free_connected_delivers(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_COUNT));

  for (uint32_t i = 0; i < 10; i++) {
    netfw_msg *m = msg_seq(i);
    assert_int_equal(netfw_client_send(c, m), 0);
    netfw_msg_free(m);
  }
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, 10);
  assert_int_equal(p.in_order, 10);
}

static void test_client_empty_and_16mib_payloads(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));
  const uint32_t big = 16u * 1024 * 1024;
  netfw_msg *m = netfw_msg_new(2);
  uint8_t *data;

  send_text(c, 1, "");
  expect_text(c, 1, "");
  data = netfw_msg_append_space(m, big);
  assert_non_null(data);
  for (uint32_t i = 0; i < big; i++)
    data[i] = (uint8_t)(i * 7 + (i >> 16));
  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
  m = NULL;
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS * 3), 0);
  assert_int_equal(netfw_msg_id(m), 2);
  assert_int_equal(netfw_msg_size(m), big);
  data = (uint8_t *)netfw_msg_payload(m);
  for (uint32_t i = 0; i < big; i++)
    if (data[i] != (uint8_t)(i * 7 + (i >> 16)))
      fail_msg("byte %u differs", i);
  netfw_msg_free(m);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
}

static void test_client_pipelined_100k_in_order(void **state) {
  enum { N = 100000 };
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));

  for (uint32_t i = 0; i < N; i++) {
    netfw_msg *m = msg_seq(i);
    assert_int_equal(netfw_client_send(c, m), 0);
    netfw_msg_free(m);
  }
  for (uint32_t i = 0; i < N; i++)
    expect_seq(c, i);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, N);
}

/* A big message written directly only in part: the rest and the messages
 * sent after it must still leave in order. */
static void test_client_partial_direct_write_keeps_order(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));
  const uint32_t big = 4u * 1024 * 1024;
  netfw_msg *m = netfw_msg_new(11), *got = NULL;
  uint8_t *data = netfw_msg_append_space(m, big);

  for (int round = 0; round < 3; round++) {
    assert_non_null(data);
    for (uint32_t i = 0; i < big; i++)
      data[i] = (uint8_t)(i * 13 + round);
    assert_int_equal(netfw_client_recv(c, &got, 0), NETFW_ETIMEDOUT);
    assert_int_equal(netfw_client_send(c, m), 0);
    for (uint32_t i = 0; i < 3; i++) {
      netfw_msg *s = msg_seq(i);
      assert_int_equal(netfw_client_send(c, s), 0);
      netfw_msg_free(s);
    }
    assert_int_equal(netfw_client_recv(c, &got, WAIT_MS), 0);
    assert_int_equal(netfw_msg_id(got), 11);
    assert_int_equal(netfw_msg_size(got), big);
    assert_memory_equal(netfw_msg_payload(got), data, big);
    netfw_msg_free(got);
    for (uint32_t i = 0; i < 3; i++)
      expect_seq(c, i);
  }
  netfw_msg_free(m);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, 12);
}

static void test_client_ping_pong(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));

  for (uint32_t i = 0; i < 2000; i++) {
    netfw_msg *m = msg_seq(i);
    assert_int_equal(netfw_client_send(c, m), 0);
    netfw_msg_free(m);
    expect_seq(c, i);
  }
  netfw_client_free(c);
  peer_join(&p);
}

/* A host name: every address it resolves to is tried (::1 may refuse
 * before 127.0.0.1 answers). */
static void test_client_connect_by_name(void **state) {
  test_peer p = {0};
  netfw_client *c;
  struct addrinfo *res;

  if (getaddrinfo("localhost", NULL, NULL, &res) != 0)
    skip(); /* no /etc/hosts (a bare chroot): nothing to test here */
  freeaddrinfo(res);
  c = client_new();

  assert_int_equal(
      netfw_client_connect(c, "localhost", peer_start(&p, PEER_ECHO)), 0);
  send_text(c, 4, "named");
  expect_text(c, 4, "named");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
}

static void test_client_connect_closed_port_fails_fast(void **state) {
  netfw_client *c = client_new();
  uint16_t port = peer_closed_port();
  int64_t t0 = peer_now_ms();

  assert_int_equal(netfw_client_connect(c, LOCALHOST, port),
                   NETFW_ECONNREFUSED);
  assert_true(peer_now_ms() - t0 < 2000);
  /* still unconnected: the same misuse rules as a new client */
  assert_int_equal(netfw_client_shutdown(c, 0), NETFW_ESTATE);
  netfw_client_free(c);
}

/* A listener whose accept queue is full drops new SYNs: connect gets no
 * answer and must give up at the connect timeout. */
static void test_client_connect_timeout(void **state) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4];
  netfw_client *c = client_new();
  int64_t t0, elapsed;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
  assert_int_equal(listen(lfd, 0), 0);
  for (int i = 0; i < 4; i++) {
    fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)connect(fill[i], (struct sockaddr *)&a, sizeof(a));
  }
  usleep(100000);
  assert_int_equal(netfw_client_set_connect_timeout(c, 300), 0);
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_connect(c, LOCALHOST, ntohs(a.sin_port)),
                   NETFW_ETIMEDOUT);
  elapsed = peer_now_ms() - t0;
  assert_true(elapsed >= 300);
  assert_true(elapsed < 5000);
  netfw_client_free(c);
  for (int i = 0; i < 4; i++)
    close(fill[i]);
  close(lfd);
}

static void test_client_misuse_codes(void **state) {
  test_peer p = {0};
  netfw_client *c = client_new();
  netfw_msg *m = msg_text(1, "x");
  netfw_msg *got = m;

  assert_int_equal(netfw_client_send(c, m), NETFW_ESTATE);
  assert_int_equal(netfw_client_recv(c, &got, 0), NETFW_ESTATE);
  assert_null(got);
  assert_int_equal(netfw_client_recv(c, &got, -1), NETFW_ESTATE);
  assert_int_equal(netfw_client_shutdown(c, -1), NETFW_ESTATE);
  assert_int_equal(netfw_client_connect(c, NULL, 1), NETFW_EINVAL);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, 0), NETFW_EINVAL);
  assert_int_equal(netfw_client_connect(NULL, LOCALHOST, 1), NETFW_EINVAL);
  assert_int_equal(netfw_client_set_connect_timeout(c, -2), NETFW_EINVAL);
  assert_int_equal(netfw_client_set_connect_timeout(c, 5000), 0);

  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, peer_start(&p, PEER_ECHO)), 0);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, p.port), NETFW_ESTATE);
  assert_int_equal(netfw_client_set_max_payload(c, 10), NETFW_ESTATE);
  assert_int_equal(netfw_client_set_connect_timeout(c, 10), NETFW_ESTATE);
  assert_int_equal(netfw_client_send(c, NULL), NETFW_EINVAL);
  assert_int_equal(netfw_client_send(NULL, m), NETFW_EINVAL);
  assert_int_equal(netfw_client_recv(c, NULL, 0), NETFW_EINVAL);
  assert_int_equal(netfw_client_recv(c, &got, -2), NETFW_EINVAL);
  assert_int_equal(netfw_client_shutdown(c, -2), NETFW_EINVAL);

  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ESTATE);
  assert_int_equal(netfw_client_send(c, m), NETFW_ESTATE);
  assert_int_equal(netfw_client_recv(c, &got, 0), NETFW_ESTATE);
  /* shut down: connect is allowed again (test_client_loss reconnects) */
  assert_int_equal(netfw_client_connect(c, LOCALHOST, peer_closed_port()),
                   NETFW_ECONNREFUSED);
  netfw_client_free(c);
  netfw_client_free(NULL);
  netfw_msg_free(m);
  peer_join(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_echo_round_trip),
      cmocka_unit_test(test_client_recv_timeout_zero_on_empty_queue),
      cmocka_unit_test(test_client_recv_timeouts_then_delayed_echo),
      cmocka_unit_test(test_client_rejected_reports_reset),
      cmocka_unit_test(test_client_write_error_without_sigpipe),
      cmocka_unit_test(test_client_three_then_close),
      cmocka_unit_test(test_client_three_kept_after_loss),
      cmocka_unit_test(test_client_send_full_completion),
      cmocka_unit_test(test_client_free_connected_delivers),
      cmocka_unit_test(test_client_empty_and_16mib_payloads),
      cmocka_unit_test(test_client_pipelined_100k_in_order),
      cmocka_unit_test(test_client_partial_direct_write_keeps_order),
      cmocka_unit_test(test_client_ping_pong),
      cmocka_unit_test(test_client_connect_by_name),
      cmocka_unit_test(test_client_connect_closed_port_fails_fast),
      cmocka_unit_test(test_client_connect_timeout),
      cmocka_unit_test(test_client_misuse_codes),
  };
  return cmocka_run_group_tests_name("client", tests, NULL, NULL);
}
