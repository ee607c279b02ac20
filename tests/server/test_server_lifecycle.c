/* Server lifecycle with one worker, over real sockets on 127.0.0.1: stop
 * (queued output delivered, bounded by the drain, a stuck worker) and the
 * respawn of an aborted worker and its crash-loop limit. Moved out of
 * test_server.c, which keeps the netframe behaviours and limits. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "fixture.h"
#include "frame.h"

/* A stop closes connections server-side: no disconnect callback; queued
 * output is delivered; destroy runs. */
typedef struct stopper {
  netfw_server *s;
  int timeout_ms;
  int rc;
  uint64_t elapsed_ms;
} stopper;

static void *stop_thread(void *arg) {
  stopper *st = arg;
  uint64_t t0 = wire_now_ms();

  st->rc = netfw_server_stop(st->s, st->timeout_ms);
  st->elapsed_ms = wire_now_ms() - t0;
  return NULL;
}

static void test_server_stop_delivers_queued_output(void **state) {
  fx *f = *state;
  uint32_t n = 8u * 1024 * 1024, i;
  uint16_t id;
  uint8_t *got;
  uint32_t size;
  stopper st;
  pthread_t t;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_BIG, &n, 4), 0);
  assert_int_equal(board_wait(&f->b->big_sent, 1, 10000), 1);
  st.s = f->s;
  st.timeout_ms = 30000;
  assert_int_equal(pthread_create(&t, NULL, stop_thread, &st), 0);
  sleep_ms(100); /* the stop is under way while 8 MiB are still queued */
  assert_int_equal(wire_recv(fd, &id, &got, &size, 20000), 1);
  assert_int_equal(id, T_BIG);
  assert_int_equal(size, n);
  for (i = 0; i < n; i++)
    if (got[i] != (uint8_t)(i * 7u + 1u))
      break;
  assert_int_equal(i, n);
  free(got);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  pthread_join(t, NULL);
  assert_int_equal(st.rc, 0);
  assert_int_equal(atomic_load(&f->b->destroys), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* A peer that never closes is bounded by drain_timeout_ms. */
static void test_server_stop_bounded_by_drain(void **state) {
  fx *f = *state;
  uint64_t t0;
  int fd;

  f->cfg.drain_timeout_ms = 300;
  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 9, "abc", 3);
  t0 = wire_now_ms();
  assert_int_equal(netfw_server_stop(f->s, -1), 0);
  assert_true(wire_now_ms() - t0 < 10000);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  assert_int_equal(atomic_load(&f->b->destroys), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

static void test_server_stop_stuck_worker(void **state) {
  fx *f = *state;
  uint64_t t0, elapsed;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_SPIN, NULL, 0), 0);
  assert_int_equal(board_wait(&f->b->spinning, 1, 10000), 1);
  t0 = wire_now_ms();
  assert_int_equal(netfw_server_stop(f->s, 500), 0);
  elapsed = wire_now_ms() - t0;
  print_message("stop(500) with a stuck worker took %llu ms\n",
                (unsigned long long)elapsed);
  assert_true(elapsed >= 450);
  assert_true(elapsed < 500 + 4000);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  wire_close(fd);
  assert_int_equal(wire_connect(f->port), -1); /* nobody listens any more */
  assert_int_equal(atomic_load(&f->b->destroys), 0);
}


static void test_server_respawn_after_abort(void **state) {
  fx *f = *state;
  uint64_t t0, took;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 1, "before", 6);
  t0 = wire_now_ms();
  assert_int_equal(wire_send(fd, T_ABORT, NULL, 0), 0);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  wire_close(fd);
  assert_int_equal(board_wait(&f->b->creates, 2, 10000), 2);
  took = wire_now_ms() - t0;
  print_message("worker replaced %llu ms after the abort\n",
                (unsigned long long)took);
  assert_true(took < 5000);
  fd = fx_connect(f);
  expect_echo(fd, 1, "after", 5);
  wire_close(fd);
  assert_true(board_log_has(f->b, "killed by signal 6", "respawning"));
}

static void test_server_crash_loop_stops_respawning(void **state) {
  fx *f = *state;
  uint64_t deadline;
  int fd, calls;

  fx_start(f);
  atomic_store(&f->b->abort_in_create, 1);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_ABORT, NULL, 0), 0);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  wire_close(fd);
  deadline = wire_now_ms() + 15000;
  while (!board_log_has(f->b, "ERROR", "crash loop") &&
         wire_now_ms() < deadline)
    sleep_ms(20);
  assert_true(board_log_has(f->b, "ERROR", "crash loop"));
  calls = atomic_load(&f->b->create_calls);
  sleep_ms(500);
  assert_int_equal(atomic_load(&f->b->create_calls), calls); /* no more */
  /* the first worker and 4 replacements died (5 if the first one lived
     past the 3 s a death counts as early on a very slow machine) */
  assert_true(calls == 5 || calls == 6);
  assert_int_equal(netfw_server_stop(f->s, 2000), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_server_stop_delivers_queued_output),
      T(test_server_stop_bounded_by_drain),
      T(test_server_stop_stuck_worker),
      T(test_server_respawn_after_abort),
      T(test_server_crash_loop_stops_respawning),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
