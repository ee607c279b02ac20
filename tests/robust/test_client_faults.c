/* Faults (ctest label "fault"), client side: a netfw_client whose server
 * vanishes (its worker killed, the server gone mid-stream), whose peer
 * resets mid-frame or announces a 4 GiB frame. The server-side faults
 * (killed workers and parents, stop under load) are in test_faults.c. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "robust.h"

/* ---- a netfw_client whose server vanishes ---- */

/* A worker queued 100 frames for the client, then is killed: recv returns
 * the 100, then NETFW_ECONNRESET (not a timeout), and keeps returning it;
 * send and shutdown report the loss; free does not hang. */
static void test_fault_client_worker_killed(void **state) {
  rb_server *r = *state;
  netfw_client *c;
  netfw_msg *req, *m = NULL;
  pid_t worker;
  uint64_t t0;
  int i, rc;

  assert_int_equal(rb_server_start(r), 0);
  assert_int_equal(rb_wait_children(getpid(), 1, &worker, 5000), 1);
  c = netfw_client_new();
  assert_non_null(c);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", r->port), 0);
  req = netfw_msg_new(RB_FLOOD);
  assert_int_equal(netfw_msg_append(req, "\x64\x00\x00\x00\x64\x00\x00\x00", 8),
                   0); /* 100 frames of 100 bytes */
  assert_int_equal(netfw_client_send(c, req), 0);
  assert_int_equal(rb_wait_atleast(&r->b->messages, 1, 10000), 1);
  rb_sleep_ms(300); /* the frames reach the client's inbox over loopback */
  assert_int_equal(kill(worker, SIGKILL), 0);
  t0 = wire_now_ms();
  for (i = 0; i < 100; i++) {
    assert_int_equal(netfw_client_recv(c, &m, 5000), 0);
    assert_int_equal(netfw_msg_id(m), RB_FLOOD);
    assert_int_equal(netfw_msg_size(m), 100);
    assert_int_equal(netfw_msg_payload(m)[0], 0x5a);
    assert_int_equal(netfw_msg_payload(m)[99], 0x5a);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, 5000), NETFW_ECONNRESET);
  assert_null(m);
  assert_true(wire_now_ms() - t0 < 5000);
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_recv(c, &m, -1), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_send(c, req), NETFW_ECONNRESET);
  rc = netfw_client_shutdown(c, 5000);
  assert_int_equal(rc, NETFW_ECONNRESET);
  netfw_client_free(c);
  netfw_msg_free(req);
}

/* A raw peer in a child process: accepts one connection, sends frames
 * [u32 seq][60 x seq&0xff] as fast as it can until it is killed. */
static void raw_streamer(int lfd) {
  uint8_t f[RB_HDR + 64];
  uint32_t seq;
  int fd = accept(lfd, NULL, NULL);

  if (fd < 0)
    _exit(1);
  for (seq = 0;; seq++) {
    rb_hdr_pack(f, 0x0a, 64);
    f[RB_HDR] = (uint8_t)seq;
    f[RB_HDR + 1] = (uint8_t)(seq >> 8);
    f[RB_HDR + 2] = (uint8_t)(seq >> 16);
    f[RB_HDR + 3] = (uint8_t)(seq >> 24);
    memset(f + RB_HDR + 4, (int)(seq & 0xff), 60);
    if (wire_send_all(fd, f, sizeof(f)) != 0)
      _exit(0);
  }
}

/* Raw peers: a listening socket, a child that serves one connection with
 * fn, and its port. */
static pid_t raw_peer(void (*fn)(int), uint16_t *port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  pid_t pid;

  assert_true(lfd >= 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(lfd, 4), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
  *port = ntohs(sa.sin_port);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    fn(lfd); /* never returns */
  close(lfd);
  return pid;
}

/* The peer vanishes (SIGKILL) in the middle of a fast stream: recv returns
 * frames with consecutive sequence numbers 0, 1, 2, ... and intact bodies,
 * then NETFW_ECONNRESET within a bounded time. */
static void test_fault_client_server_vanishes_mid_stream(void **state) {
  netfw_client *c = netfw_client_new();
  netfw_msg *m = NULL;
  uint16_t port;
  uint32_t want = 0;
  uint64_t t0 = 0;
  pid_t peer;
  int rc;

  (void)state;
  assert_non_null(c);
  peer = raw_peer(raw_streamer, &port);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  for (;;) {
    const uint8_t *p;
    uint32_t seq, k;
    if (want == 2000) {
      assert_int_equal(kill(peer, SIGKILL), 0);
      assert_int_equal(waitpid(peer, NULL, 0), peer);
      t0 = wire_now_ms();
    }
    rc = netfw_client_recv(c, &m, 10000);
    if (rc != 0)
      break;
    assert_int_equal(netfw_msg_id(m), 0x0a);
    assert_int_equal(netfw_msg_size(m), 64);
    p = netfw_msg_payload(m);
    seq = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
          (uint32_t)p[3] << 24;
    assert_int_equal(seq, want);
    for (k = 4; k < 64; k++)
      assert_int_equal(p[k], seq & 0xff);
    want++;
    netfw_msg_free(m);
  }
  print_message("%u frames received in order, then %s after %lu ms\n", want,
                netfw_strerror(rc), (unsigned long)(wire_now_ms() - t0));
  assert_int_equal(rc, NETFW_ECONNRESET);
  assert_true(want >= 2000);
  assert_true(wire_now_ms() - t0 < 10000);
  assert_int_equal(netfw_client_recv(c, &m, 100), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, 5000), NETFW_ECONNRESET);
  netfw_client_free(c);
}

/* 10 frames, then half a frame, then a reset (SO_LINGER 0) or a FIN. */
static void send_ten_and_half(int lfd, bool rst) {
  uint8_t f[RB_HDR + 8];
  int fd = accept(lfd, NULL, NULL), i;

  if (fd < 0)
    _exit(1);
  for (i = 0; i < 10; i++) {
    rb_hdr_pack(f, (uint16_t)(100 + i), 8);
    memset(f + RB_HDR, i, 8);
    if (wire_send_all(fd, f, sizeof(f)) != 0)
      _exit(2);
  }
  rb_hdr_pack(f, 0x0b, 1000);
  if (wire_send_all(fd, f, sizeof(f)) != 0)
    _exit(2);
  rb_sleep_ms(300); /* let the client read the complete frames first */
  if (rst)
    wire_close_rst(fd);
  else
    close(fd);
  _exit(0);
}

static void peer_ten_rst(int lfd) {
  send_ten_and_half(lfd, true);
}
static void peer_ten_fin(int lfd) {
  send_ten_and_half(lfd, false);
}

static void expect_ten_then_reset(void (*fn)(int)) {
  netfw_client *c = netfw_client_new();
  netfw_msg *m = NULL;
  uint16_t port;
  pid_t peer;
  int i, status;

  assert_non_null(c);
  peer = raw_peer(fn, &port);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  for (i = 0; i < 10; i++) {
    uint8_t want[8];
    assert_int_equal(netfw_client_recv(c, &m, 10000), 0);
    assert_int_equal(netfw_msg_id(m), 100 + i);
    assert_int_equal(netfw_msg_size(m), 8);
    memset(want, i, 8);
    assert_memory_equal(netfw_msg_payload(m), want, 8);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, 10000), NETFW_ECONNRESET);
  assert_null(m);
  assert_int_equal(netfw_client_shutdown(c, 5000), NETFW_ECONNRESET);
  netfw_client_free(c);
  assert_int_equal(waitpid(peer, &status, 0), peer);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The peer resets (or closes) in the middle of a frame: the complete frames
 * before it are returned, the partial one is not, then NETFW_ECONNRESET. */
static void test_fault_client_peer_resets_mid_frame(void **state) {
  (void)state;
  expect_ten_then_reset(peer_ten_rst);
  expect_ten_then_reset(peer_ten_fin);
}

/* Two good frames, then a header announcing 4 GiB - 1, then silence. */
static void peer_huge_header(int lfd) {
  uint8_t f[RB_HDR + 4];
  int fd = accept(lfd, NULL, NULL), i;

  if (fd < 0)
    _exit(1);
  for (i = 0; i < 2; i++) {
    rb_hdr_pack(f, (uint16_t)(200 + i), 4);
    memcpy(f + RB_HDR, "good", 4);
    if (wire_send_all(fd, f, sizeof(f)) != 0)
      _exit(2);
  }
  rb_hdr_pack(f, 0x0c, 0xffffffffu);
  if (wire_send_all(fd, f, RB_HDR) != 0)
    _exit(2);
  rb_sleep_ms(5000); /* the client must not wait for a close from here */
  _exit(0);
}

/* A netfw_client whose peer announces 4 GiB: the two frames before are
 * returned, then NETFW_ECONNRESET well before the peer would close, and the
 * client process's RSS does not grow by more than a few MiB. */
static void test_fault_client_peer_announces_4gib(void **state) {
  netfw_client *c = netfw_client_new();
  netfw_msg *m = NULL;
  long rss0, rss1;
  uint64_t t0;
  uint16_t port;
  pid_t peer;
  int i;

  (void)state;
  assert_non_null(c);
  rss0 = rb_vm_kib(getpid(), "VmRSS:");
  peer = raw_peer(peer_huge_header, &port);
  t0 = wire_now_ms();
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  for (i = 0; i < 2; i++) {
    assert_int_equal(netfw_client_recv(c, &m, 10000), 0);
    assert_int_equal(netfw_msg_id(m), 200 + i);
    assert_int_equal(netfw_msg_size(m), 4);
    assert_memory_equal(netfw_msg_payload(m), "good", 4);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, 10000), NETFW_ECONNRESET);
  assert_true(wire_now_ms() - t0 < 4000);
  rss1 = rb_vm_kib(getpid(), "VmRSS:");
  print_message("client VmRSS %ld KiB -> %ld KiB\n", rss0, rss1);
  assert_true(rss1 - rss0 < 8 * 1024 * RB_MEM_SLACK);
  assert_int_equal(netfw_client_shutdown(c, 5000), NETFW_ECONNRESET);
  netfw_client_free(c);
  kill(peer, SIGKILL);
  assert_int_equal(waitpid(peer, NULL, 0), peer);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fault_client_worker_killed, rb_setup,
                                      rb_teardown),
      cmocka_unit_test_setup_teardown(
          test_fault_client_server_vanishes_mid_stream, rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_client_peer_resets_mid_frame,
                                      rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_client_peer_announces_4gib,
                                      rb_setup, rb_teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  return cmocka_run_group_tests_name("robust_client_faults", tests, NULL,
                                     NULL);
}
