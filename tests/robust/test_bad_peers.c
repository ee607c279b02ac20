/* Bad input against a running server (ctest label "robust"), part two:
 * slow and broken peers (one byte per write, a disconnect mid-frame, a
 * thousand resets, a half close, descriptor exhaustion), the idle timeout
 * and a peer that never reads. Every case ends with the same checks as
 * test_bad_input.c (see its file comment); the fixture is bad_kit.c. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bad_kit.h"
#include "rng.h"
#include "robust.h"

/* ---- slow and broken peers ---- */

/* Three frames, one byte per write with a pause between writes: echoed
 * exactly and in order. */
static void test_bad_one_byte_per_write(void **state) {
  bad *t = *state;
  static uint8_t stream[3 * RB_HDR + 1 + 1000];
  static uint8_t payload[1000];
  uint16_t ids[3] = {7, 0xffff, 1};
  uint32_t sizes[3] = {0, 1, 1000};
  size_t len = 0, i;
  int fd, k;

  start(t);
  for (i = 0; i < sizeof(payload); i++)
    payload[i] = (uint8_t)(i * 31 + 7);
  for (k = 0; k < 3; k++) {
    rb_hdr_pack(stream + len, ids[k], sizes[k]);
    len += RB_HDR;
    memcpy(stream + len, payload, sizes[k]);
    len += sizes[k];
  }
  fd = wire_connect(t->r.port);
  for (i = 0; i < len; i++) {
    assert_int_equal(wire_send_all(fd, stream + i, 1), 0);
    usleep(150);
  }
  for (k = 0; k < 3; k++) {
    uint16_t id = 0;
    uint8_t *p = NULL;
    uint32_t size = 0;
    assert_int_equal(wire_recv(fd, &id, &p, &size, IO_MS), 1);
    assert_int_equal(id, ids[k]);
    assert_int_equal(size, sizes[k]);
    if (size > 0)
      assert_memory_equal(p, payload, size);
    free(p);
  }
  assert_true(rb_still_open(fd, 50));
  close(fd);
  assert_unaffected(t);
}

/* Every combination of {1, 5 header bytes, header + half the payload} and
 * {FIN, reset}: nothing is echoed, the server forgets the connection. */
static void test_bad_disconnect_mid_frame(void **state) {
  bad *t = *state;
  static uint8_t frame[RB_HDR + 2000];
  size_t cuts[3] = {1, 5, RB_HDR + 1000};
  int c, how, round;
  long m0;

  start(t);
  m0 = atomic_load(&t->r.b->messages);
  rb_hdr_pack(frame, 0x77, 2000);
  memset(frame + RB_HDR, 0x42, 2000);
  for (round = 0; round < 10; round++)
    for (c = 0; c < 3; c++)
      for (how = 0; how < 2; how++) {
        int fd = wire_connect(t->r.port);
        assert_true(fd >= 0);
        assert_int_equal(wire_send_all(fd, frame, cuts[c]), 0);
        if (how == 0) {
          /* half-close: the server must not answer the partial frame */
          shutdown(fd, SHUT_WR);
          assert_int_equal(wire_wait_eof(fd, IO_MS, NULL), 0);
          close(fd);
        } else {
          wire_close_rst(fd);
        }
      }
  assert_int_equal(rb_wait_int(&t->r.b->open_conns, 1, IO_MS), 1);
  assert_int_equal(atomic_load(&t->r.b->messages), m0);
  assert_unaffected(t);
}

/* 1000 connections opened and reset (SO_LINGER 0), 100 at a time; a third
 * of them first send part of a frame. Two workers. */
static void test_bad_thousand_resets(void **state) {
  bad *t = *state;
  int fds[100], round, i;
  long rss0[2], rss1;
  int c0, d0, connects;

  t->r.cfg.worker_num = 2;
  start(t);
  c0 = atomic_load(&t->r.b->connects);
  d0 = atomic_load(&t->r.b->disconnects);
  for (i = 0; i < 2; i++)
    rss0[i] = rb_vm_kib(t->workers[i], "VmRSS:");
  for (round = 0; round < 10; round++) {
    for (i = 0; i < 100; i++) {
      fds[i] = wire_connect(t->r.port);
      assert_true(fds[i] >= 0);
      if (i % 3 == 0)
        assert_int_equal(wire_send_all(fds[i], "\x01\x00\x10\x00\x00\x00xy", 8),
                         0);
    }
    for (i = 0; i < 100; i++)
      wire_close_rst(fds[i]);
  }
  /* open_conns can touch 1 while reset connections still wait in the
     backlog: wait until the counts stop moving, then read them */
  {
    uint64_t deadline = wire_now_ms() + 20000, still_since = wire_now_ms();
    int last_c = -1, last_d = -1;
    while (wire_now_ms() < deadline) {
      int c = atomic_load(&t->r.b->connects);
      int d = atomic_load(&t->r.b->disconnects);
      if (c != last_c || d != last_d || c - d != 1) {
        last_c = c;
        last_d = d;
        still_since = wire_now_ms();
      } else if (wire_now_ms() - still_since >= 500) {
        break;
      }
      rb_sleep_ms(10);
    }
  }
  assert_int_equal(atomic_load(&t->r.b->open_conns), 1);
  connects = atomic_load(&t->r.b->connects) - c0;
  print_message("1000 resets: %d reached on_client_connect\n", connects);
  assert_true(connects >= 1 && connects <= 1000);
  assert_int_equal(atomic_load(&t->r.b->disconnects) - d0, connects);
  for (i = 0; i < 2; i++) {
    rss1 = rb_vm_kib(t->workers[i], "VmRSS:");
    print_message("worker %d VmRSS %ld KiB -> %ld KiB\n", i, rss0[i], rss1);
    assert_true(rss1 - rss0[i] < 4 * 1024 * RB_MEM_SLACK);
  }
  assert_unaffected(t);
}

/* Three 1 MiB frames followed at once by a half-close (shutdown SHUT_WR):
 * the peer still gets the three echoes, then EOF. */
static void test_bad_half_close_still_answered(void **state) {
  bad *t = *state;
  static uint8_t big[1024 * 1024];
  int fd, k;

  start(t);
  memset(big, 0x6b, sizeof(big));
  fd = wire_connect(t->r.port);
  for (k = 0; k < 3; k++) {
    big[0] = (uint8_t)k;
    assert_int_equal(wire_send(fd, (uint16_t)(0x300 + k), big, sizeof(big)),
                     0);
  }
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  for (k = 0; k < 3; k++) {
    uint16_t id = 0;
    uint8_t *p = NULL;
    uint32_t size = 0;
    assert_int_equal(wire_recv(fd, &id, &p, &size, IO_MS), 1);
    assert_int_equal(id, 0x300 + k);
    assert_int_equal(size, sizeof(big));
    big[0] = (uint8_t)k;
    assert_memory_equal(p, big, sizeof(big));
    free(p);
  }
  assert_int_equal(wire_wait_eof(fd, IO_MS, NULL), 0);
  close(fd);
  assert_unaffected(t);
}

/* The worker runs out of descriptors (RLIMIT_NOFILE 64 while it is
 * forked): 100 connections each send a frame; those it could accept are
 * answered, the rest wait in the backlog while the witness is still served;
 * once the first ones close, every waiting one is accepted and answered. */
static void test_bad_fd_exhaustion(void **state) {
  bad *t = *state;
  struct rlimit old, low;
  bool answered[100] = {false};
  int fds[100], i, first = 0, rest = 0;
  uint64_t deadline;

  if (rb_under_valgrind()) {
    print_message("skipped under valgrind (it keeps descriptors of its "
                  "own above the limit)\n");
    skip();
  }
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = 64;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  start(t);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  for (i = 0; i < 100; i++) {
    fds[i] = wire_connect(t->r.port);
    assert_true(fds[i] >= 0);
    assert_int_equal(wire_send(fds[i], 0x44, &i, sizeof(i)), 0);
  }
  /* collect the answers that come within 2 s */
  deadline = wire_now_ms() + 2000;
  while (wire_now_ms() < deadline) {
    for (i = 0; i < 100; i++) {
      uint16_t id;
      uint8_t *p = NULL;
      uint32_t size;
      if (answered[i] || rb_still_open(fds[i], 0))
        continue;
      assert_int_equal(wire_recv(fds[i], &id, &p, &size, IO_MS), 1);
      assert_int_equal(size, sizeof(i));
      assert_memory_equal(p, &i, sizeof(i));
      free(p);
      answered[i] = true;
      first++;
    }
    rb_sleep_ms(20);
  }
  print_message("%d of 100 answered while the worker was out of "
                "descriptors\n",
                first);
  assert_true(first >= 1 && first < 100);
  assert_true(rb_echo_ok(t->witness, 5, "alive", 5, IO_MS));
  for (i = 0; i < 100; i++)
    if (answered[i]) {
      close(fds[i]);
      fds[i] = -1;
    }
  for (i = 0; i < 100; i++) {
    uint16_t id;
    uint8_t *p = NULL;
    uint32_t size;
    if (fds[i] < 0)
      continue;
    assert_int_equal(wire_recv(fds[i], &id, &p, &size, IO_MS), 1);
    assert_int_equal(size, sizeof(i));
    assert_memory_equal(p, &i, sizeof(i));
    free(p);
    rest++;
    /* close as we go: the worker needs the descriptors back */
    close(fds[i]);
  }
  assert_int_equal(first + rest, 100);
  assert_unaffected(t);
}

/* ---- idle timeout ---- */

#define IDLE_MS 600

/* With idle_timeout_ms 600: a silent connection and one that stopped after
 * half a header are still open at 300 ms and closed (EOF) after 600 ms, not
 * before (less 50 ms for the loop's cached clock); the witness, which talks
 * every 150 ms, survives 2 s. */
static void test_bad_idle_timeout(void **state) {
  bad *t = *state;
  uint64_t t0, closed_at[2] = {0, 0}, end;
  int fds[2], i, closed = 0;

  t->r.cfg.idle_timeout_ms = IDLE_MS;
  start(t);
  t0 = wire_now_ms();
  fds[0] = wire_connect(t->r.port);
  fds[1] = wire_connect(t->r.port);
  assert_true(fds[0] >= 0 && fds[1] >= 0);
  assert_int_equal(wire_send_all(fds[1], "\x05\x00\x03", 3), 0);
  end = t0 + 2000;
  while (wire_now_ms() < end || closed < 2) {
    assert_true(wire_now_ms() < t0 + IDLE_MS + 10000);
    assert_true(rb_echo_ok(t->witness, 3, "ping", 4, IO_MS));
    for (i = 0; i < 2; i++) {
      struct pollfd p = {fds[i], POLLIN, 0};
      char c;
      if (closed_at[i] != 0 || poll(&p, 1, 0) != 1)
        continue;
      assert_int_equal(recv(fds[i], &c, 1, 0), 0); /* EOF, nothing sent */
      closed_at[i] = wire_now_ms();
      closed++;
    }
    if (wire_now_ms() < t0 + IDLE_MS / 2)
      assert_int_equal(closed, 0);
    rb_sleep_ms(150);
  }
  for (i = 0; i < 2; i++) {
    print_message("idle connection %d closed after %lu ms\n", i,
                  (unsigned long)(closed_at[i] - t0));
    assert_true(closed_at[i] - t0 >= IDLE_MS - 50);
    close(fds[i]);
  }
  assert_unaffected(t);
}

/* ---- a peer that never reads ---- */

#define MAX_OUTPUT (4u * 1024 * 1024)

/* With max_output 4 MiB: a client that sends 64 KiB frames and never reads
 * is cut off by the output limit (its writes fail), the worker's peak RSS
 * grows by a bounded amount, and the witness is served meanwhile. Then the
 * same through RB_FLOOD (the app queues 64 MiB in one callback). */
static void test_bad_never_reads(void **state) {
  bad *t = *state;
  static uint8_t frame[RB_HDR + 65536];
  int fd, rcvbuf = 65536;
  uint8_t flood[RB_HDR + 8];
  size_t sent = 0;
  long hwm0, hwm1;
  bool cut = false;

  t->r.cfg.max_output = MAX_OUTPUT;
  start(t);
  hwm0 = rb_vm_kib(t->workers[0], "VmHWM:");
  rb_hdr_pack(frame, 0x99, 65536);
  memset(frame + RB_HDR, 0xee, 65536);
  fd = wire_connect(t->r.port);
  assert_true(fd >= 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  while (sent < (size_t)512 * 1024 * 1024) {
    struct pollfd p = {fd, POLLOUT, 0};
    ssize_t n;
    assert_int_equal(poll(&p, 1, IO_MS), 1);
    n = send(fd, frame, sizeof(frame), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0) {
      cut = true;
      break;
    }
    sent += (size_t)n;
    if (sent % (8u * 1024 * 1024) < (size_t)n) /* now and then */
      assert_true(rb_echo_ok(t->witness, 4, "still", 5, IO_MS));
  }
  print_message("never-reading client cut off after %zu KiB sent\n",
                sent / 1024);
  assert_true(cut);
  close(fd);
  /* the worker closes the socket inside netfw_conn_send, before the app
     counts the failure: wait for the count */
  assert_true(rb_wait_atleast(&t->r.b->send_fails, 1, IO_MS) >= 1);
  assert_int_equal(atomic_load(&t->r.b->last_send_rc), NETFW_E2BIG);

  fd = wire_connect(t->r.port);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  rb_hdr_pack(flood, RB_FLOOD, 8);
  memcpy(flood + RB_HDR, "\xe8\x03\x00\x00\x00\x00\x01\x00",
         8); /* 1000 x 64K */
  assert_int_equal(wire_send_all(fd, flood, sizeof(flood)), 0);
  /* not reading (reading would let the 64 MiB drain): the limit must trip */
  if (rb_wait_atleast(&t->r.b->send_fails, 2, IO_MS) < 2)
    fail_msg("the flood did not reach the output limit: messages %ld "
             "send_fails %ld",
             atomic_load(&t->r.b->messages), atomic_load(&t->r.b->send_fails));
  assert_int_equal(atomic_load(&t->r.b->last_send_rc), -1); /* app_flood */
  assert_closed_by_server(fd);
  close(fd);
  hwm1 = rb_vm_kib(t->workers[0], "VmHWM:");
  print_message("worker VmHWM %ld KiB -> %ld KiB (max_output %u KiB)\n", hwm0,
                hwm1, MAX_OUTPUT / 1024);
  assert_true(hwm1 - hwm0 <
              (4 * (long)(MAX_OUTPUT / 1024) + 8 * 1024) * RB_MEM_SLACK);
  assert_unaffected(t);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bad_one_byte_per_write, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_disconnect_mid_frame, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_thousand_resets, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_half_close_still_answered, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_fd_exhaustion, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_idle_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_never_reads, setup, teardown),
  };

  if (argc > 1)
    cmocka_set_test_filter(argv[1]); /* e.g. "*idle*" */
  return cmocka_run_group_tests_name("robust_bad_peers", tests, NULL, NULL);
}
