/* What one worker holds for all its peers together (ctest label "robust"):
 * the worker memory budget (worker_memory) on the input side (stalled large
 * frames) and the output side (peers that never read), and the frame
 * timeout against slowloris. Each case runs an echo server with one worker
 * in this process and attacks it from real sockets; the close reasons come
 * from the app's on_client_closed (the board's closed[] counters). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "robust.h"

#define MiB (1024L * 1024)
#define IO_MS 10000

typedef struct budget {
  rb_server r;
  pid_t worker;
} budget;

static int setup(void **state) {
  budget *t = calloc(1, sizeof(*t));

  if (t == NULL || rb_server_init(&t->r) != 0)
    return -1;
  *state = t;
  return 0;
}

static int teardown(void **state) {
  budget *t = *state;

  rb_server_fini(&t->r);
  free(t);
  return 0;
}

static void start(budget *t) {
  assert_int_equal(rb_server_start(&t->r), 0);
  assert_int_equal(rb_wait_children(getpid(), 1, &t->worker, 5000), 1);
}

static long rss_kib(const budget *t) {
  long v = rb_vm_kib(t->worker, "VmRSS:");

  assert_true(v > 0);
  return v;
}

/* A fresh connection gets exact echoes, and the worker is the same one. */
static void assert_serves(const budget *t) {
  static uint8_t big[256 * 1024];
  int fd = wire_connect(t->r.port);

  assert_true(fd >= 0);
  memset(big, 0x3c, sizeof(big));
  assert_true(rb_echo_ok(fd, 7, "fresh", 5, IO_MS));
  assert_true(rb_echo_ok(fd, 8, big, sizeof(big), IO_MS));
  assert_int_equal(rb_worker_of(fd), t->worker);
  close(fd);
}

static int closed_by(const budget *t, netfw_close_reason why) {
  return atomic_load(&t->r.b->closed[why]);
}

/* Waits until on_client_closed has run for every accepted connection.
 * Returns how many are still owed one. */
static int wait_all_closed(const budget *t) {
  uint64_t deadline = wire_now_ms() + IO_MS;
  int owed;

  for (;;) {
    int sum = 0;
    for (int why = 0; why < NETFW_CLOSE_REASON_COUNT; why++)
      sum += closed_by(t, (netfw_close_reason)why);
    owed = atomic_load(&t->r.b->connects) - sum;
    if (owed == 0 || wire_now_ms() >= deadline)
      return owed;
    rb_sleep_ms(5);
  }
}

/* Sanitizers keep freed memory in quarantine and valgrind shadows it: RSS
 * says nothing there, so those runs check behaviour only. */
static bool rss_meaningful(void) {
  return !RB_SANITIZED && !rb_under_valgrind();
}

/* 300 connections each announce a 16 MiB frame, send 8 MiB of it and stall
 * (2.4 GB in all) against a 256 MiB budget: the worker closes the largest
 * holders with NETFW_CLOSE_MEMORY, its RSS stays under budget + 64 MiB, and
 * a fresh client is served. */
static void test_budget_stalled_large_frames(void **state) {
  enum { N = 300, N_SLOW = 40 };
  budget *t = *state;
  int n = rss_meaningful() ? N : N_SLOW;
  static uint8_t chunk[MiB];
  int *fds = calloc((size_t)n, sizeof(int));
  long peak = 0;
  int i, k, cut = 0;

  assert_non_null(fds);
  t->r.cfg.worker_memory = 256 * MiB;
  start(t);
  memset(chunk, 0x6b, sizeof(chunk));
  for (i = 0; i < n; i++) {
    fds[i] = wire_connect(t->r.port);
    assert_true(fds[i] >= 0);
    if (wire_send_hdr(fds[i], 3, 16 * MiB) != 0)
      cut++;
    for (k = 0; k < 8; k++)
      if (wire_send_all(fds[i], chunk, sizeof(chunk)) != 0) {
        cut++;
        break;
      }
    if (rss_meaningful() && i % 10 == 9) {
      long v = rss_kib(t);
      peak = v > peak ? v : peak;
    }
  }
  /* a round trip on a fresh connection: the worker has read everything
   * sent before it */
  assert_serves(t);
  if (rss_meaningful()) {
    long v = rss_kib(t);
    peak = v > peak ? v : peak;
  }
  print_message("%d connections x 8 MiB of 16 MiB frames, budget 256 MiB: "
                "%d closed for memory (%d saw it while sending), worker "
                "peak VmRSS %ld MiB\n",
                n, closed_by(t, NETFW_CLOSE_MEMORY), cut, peak / 1024);
  /* 256 MiB holds at most about 256 / 8 of them */
  assert_true(closed_by(t, NETFW_CLOSE_MEMORY) >= n - 256 / 8);
  if (rss_meaningful())
    assert_true(peak < (256 + 64) * 1024);
  for (i = 0; i < n; i++)
    close(fds[i]);
  free(fds);
  assert_int_equal(wait_all_closed(t), 0);
}

/* 20 peers ask for 16 MiB of replies each (RB_FLOOD) and never read, under
 * a 64 MiB budget: replies queue until the budget closes the largest
 * holders; the worker stays small and serves a fresh client. */
static void test_budget_peers_that_never_read(void **state) {
  enum { N = 20 };
  budget *t = *state;
  int fds[N], i;
  long rss;

  t->r.cfg.worker_memory = 64 * MiB;
  start(t);
  for (i = 0; i < N; i++) {
    uint8_t arg[8] = {16, 0, 0, 0, 0, 0, 16, 0}; /* 16 frames of 1 MiB */
    int rcvbuf = 4096;
    fds[i] = wire_connect(t->r.port);
    assert_true(fds[i] >= 0);
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    assert_int_equal(wire_send(fds[i], RB_FLOOD, arg, sizeof(arg)), 0);
  }
  assert_serves(t);
  rss = rss_kib(t);
  print_message("%d non-reading peers x 16 MiB of replies, budget 64 MiB: "
                "%d closed for memory, worker VmRSS %ld MiB\n",
                N, closed_by(t, NETFW_CLOSE_MEMORY), rss / 1024);
  /* each holds its 16 MiB less what the kernel took (a send buffer of at
   * most 4 MiB): at most 5 fit in 64 MiB */
  assert_true(closed_by(t, NETFW_CLOSE_MEMORY) >= N - 5);
  if (rss_meaningful())
    assert_true(rss < (64 + 64) * 1024);
  for (i = 0; i < N; i++)
    close(fds[i]);
  assert_int_equal(wait_all_closed(t), 0);
}

/* frame_timeout_ms 300: a frame left half-sent is closed with
 * NETFW_CLOSE_FRAME_TIMEOUT, so is a slowloris that keeps trickling bytes of
 * one frame; an idle connection and one sending whole frames slowly stay. */
static void test_budget_frame_timeout(void **state) {
  budget *t = *state;
  uint8_t hdr[RB_HDR];
  int stalled, trickle, idle, steady, i;
  uint64_t t0;

  t->r.cfg.frame_timeout_ms = 300;
  start(t);
  stalled = wire_connect(t->r.port);
  trickle = wire_connect(t->r.port);
  idle = wire_connect(t->r.port);
  steady = wire_connect(t->r.port);
  assert_true(stalled >= 0 && trickle >= 0 && idle >= 0 && steady >= 0);

  t0 = wire_now_ms();
  assert_int_equal(wire_send_hdr(stalled, 5, 100), 0);
  assert_int_equal(wire_send_all(stalled, "0123456789", 10), 0);
  rb_hdr_pack(hdr, 6, 40);
  assert_int_equal(wire_send_all(trickle, hdr, sizeof(hdr)), 0);
  for (i = 0; i < 12; i++) { /* a byte every 100 ms: 40 would take 4 s */
    rb_sleep_ms(100);
    if (wire_send_all(trickle, "x", 1) != 0)
      break;
    if (i % 3 == 0)
      assert_true(rb_echo_ok(steady, 9, "whole", 5, IO_MS));
  }
  assert_int_equal(wire_wait_eof(stalled, 2000, NULL) >= 0, 1);
  assert_int_equal(wire_wait_eof(trickle, 2000, NULL) >= 0, 1);
  print_message("half-sent and trickled frames closed after %llu ms\n",
                (unsigned long long)(wire_now_ms() - t0));
  assert_int_equal(
      rb_wait_int(&t->r.b->closed[NETFW_CLOSE_FRAME_TIMEOUT], 2, IO_MS), 2);
  assert_true(rb_still_open(idle, 0));
  assert_true(rb_echo_ok(steady, 9, "still", 5, IO_MS));
  assert_true(rb_echo_ok(idle, 9, "awake", 5, IO_MS));
  close(stalled);
  close(trickle);
  close(idle);
  close(steady);
  assert_int_equal(wait_all_closed(t), 0);
  assert_int_equal(closed_by(t, NETFW_CLOSE_FRAME_TIMEOUT), 2);
}

/* idle_timeout_ms 1000: a peer that takes 24 MiB of replies slowly (about
 * 3 s) is not idle while they still leave (a shutdown for idleness would
 * put the FIN right behind the last byte); once they have, and it says
 * nothing, it is closed with NETFW_CLOSE_IDLE. */
static void test_budget_slow_download_is_not_idle(void **state) {
  enum { FRAMES = 24 };
  budget *t = *state;
  uint8_t arg[8] = {FRAMES, 0, 0, 0, 0, 0, 16, 0}; /* 24 frames of 1 MiB */
  static uint8_t buf[65536];
  size_t want = FRAMES * (RB_HDR + (size_t)MiB), got = 0;
  int rcvbuf = 65536, fd;
  uint64_t t0;

  t->r.cfg.idle_timeout_ms = 1000;
  start(t);
  fd = wire_connect(t->r.port);
  assert_true(fd >= 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  assert_int_equal(wire_send(fd, RB_FLOOD, arg, sizeof(arg)), 0);
  t0 = wire_now_ms();
  while (got < want) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    got += (size_t)n;
    rb_sleep_ms(5);
  }
  print_message("%zu of %zu bytes in %llu ms with a 1 s idle timeout\n", got,
                want, (unsigned long long)(wire_now_ms() - t0));
  assert_int_equal(got, want);
  assert_true(rb_still_open(fd, 150));
  assert_int_equal(closed_by(t, NETFW_CLOSE_IDLE), 0);
  assert_int_equal(wire_wait_eof(fd, 3000, NULL) >= 0, 1);
  assert_int_equal(wait_all_closed(t), 0);
  assert_int_equal(closed_by(t, NETFW_CLOSE_IDLE), 1);
  close(fd);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_budget_stalled_large_frames, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_budget_peers_that_never_read, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_budget_frame_timeout, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_budget_slow_download_is_not_idle,
                                      setup, teardown),
  };

  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
