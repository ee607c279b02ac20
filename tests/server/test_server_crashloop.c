/* A crash-looping server stops serving and says so: workers killed from
 * outside (SIGKILL, as an OOM killer or an operator would) soon after their
 * fork trip the guard (5 in a row within 3 s), the port then refuses
 * connections and netfw_server_state / netfw_server_wait report
 * NETFW_RUN_FAILED. Runs with the real window and threshold. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "fixture.h"


/* Asks a worker for its pid (which waits until one accepts: a respawned
 * worker takes the connection from the backlog) and kills it with
 * SIGKILL. Returns once its connection saw the end. */
static void kill_a_worker(fx *f) {
  int fd = fx_connect(f);
  uint32_t pid = fx_worker_pid(fd);

  assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  close(fd);
}

/* connect() to the port on 127.0.0.1: 0 when it connects, else errno. */
static int connect_errno(uint16_t port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;

  assert_true(fd >= 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    err = errno;
  close(fd);
  return err;
}

/* Waits up to timeout_ms for connect() to be refused; returns the last
 * connect_errno. */
static int wait_refused(uint16_t port, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  int err;

  while ((err = connect_errno(port)) != ECONNREFUSED &&
         wire_now_ms() < deadline)
    sleep_ms(20);
  return err;
}

static void expect_running(fx *f) {
  int fd;

  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_RUNNING);
  fd = fx_connect(f);
  expect_echo(fd, 1, "alive", 5);
  close(fd);
}

/* Five quick SIGKILLs: FAILED, the port refuses, nothing is respawned, and
 * stop (then free, in the teardown) still work. */
static void test_crash_loop_fails_and_refuses(void **state) {
  fx *f = *state;
  uint64_t t0;
  int i, calls;

  fx_start(f);
  assert_int_equal(netfw_server_wait(f->s, 0), NETFW_RUN_RUNNING);
  for (i = 0; i < 5; i++)
    kill_a_worker(f);
  t0 = wire_now_ms();
  assert_int_equal(netfw_server_wait(f->s, 10000), NETFW_RUN_FAILED);
  print_message("FAILED %llu ms after the 5th kill was seen\n",
                (unsigned long long)(wire_now_ms() - t0));
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_FAILED);
  /* no worker is left and the parent closed its socket: refused at once */
  assert_int_equal(connect_errno(f->port), ECONNREFUSED);
  assert_true(board_log_has(f->b, "WARN: worker 0 (pid",
                            "was killed by signal 9 (Killed); respawning"));
  assert_true(board_log_has(f->b, "ERROR", "stopped serving"));
  calls = atomic_load(&f->b->create_calls);
  sleep_ms(300);
  assert_int_equal(atomic_load(&f->b->create_calls), calls);
  assert_int_equal(netfw_server_start(f->s), NETFW_ESTATE);
  assert_int_equal(netfw_server_stop(f->s, 2000), 0);
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_FAILED); /* final */
  assert_int_equal(netfw_server_wait(f->s, -1), NETFW_RUN_FAILED);
  assert_int_equal(netfw_server_stop(f->s, 2000), NETFW_ESTATE);
  assert_int_equal(netfw_server_start(f->s), NETFW_ESTATE);
}

/* A worker that lived past the early window was healthy: its death resets
 * the count. 4 quick deaths, a healthy one, 4 quick ones: still serving;
 * the 5th quick one in a row trips the guard. */
static void test_crash_loop_healthy_death_resets(void **state) {
  fx *f = *state;
  int i;

  fx_start(f);
  for (i = 0; i < 4; i++)
    kill_a_worker(f);
  expect_running(f);
  sleep_ms(3300); /* the current worker outlives the 3 s window */
  kill_a_worker(f);
  for (i = 0; i < 4; i++)
    kill_a_worker(f);
  assert_int_equal(netfw_server_wait(f->s, 300), NETFW_RUN_RUNNING);
  expect_running(f);
  kill_a_worker(f);
  assert_int_equal(netfw_server_wait(f->s, 10000), NETFW_RUN_FAILED);
  assert_int_equal(connect_errno(f->port), ECONNREFUSED);
  /* free without stop: it stops (reaps, joins) first, nothing leaks */
  netfw_server_free(f->s);
  f->s = NULL;
}

/* With 2 workers the one still alive is stopped gracefully (destroy runs)
 * and the port refuses once it closed its socket (with reuseport: once
 * every per-slot socket is closed). */
static void crash_loop_with_2_workers(fx *f, bool reuseport) {
  uint64_t deadline;
  int i;

  f->cfg.worker_num = 2;
  f->cfg.reuseport = reuseport;
  fx_start(f);
  for (i = 0; i < 5; i++)
    kill_a_worker(f);
  assert_int_equal(netfw_server_wait(f->s, 10000), NETFW_RUN_FAILED);
  assert_int_equal(board_wait(&f->b->destroys, 1, 10000), 1);
  assert_int_equal(wait_refused(f->port, 10000), ECONNREFUSED);
  /* the supervisor reaps it on its own (stop would reap it silently) */
  deadline = wire_now_ms() + 10000;
  while (!board_log_has(f->b, "INFO: worker", "exited with status 0") &&
         wire_now_ms() < deadline)
    sleep_ms(10);
  assert_true(board_log_has(f->b, "INFO: worker", "exited with status 0"));
  assert_int_equal(netfw_server_stop(f->s, 3000), 0);
}

static void test_crash_loop_stops_the_other_workers(void **state) {
  crash_loop_with_2_workers(*state, false);
}

static void test_crash_loop_stops_the_other_workers_reuseport(void **state) {
  crash_loop_with_2_workers(*state, true);
}

static void *wait_forever(void *arg) {
  return (void *)(intptr_t)netfw_server_wait(arg, -1);
}

/* The state API without a crash: NEW, RUNNING (a timed wait times out),
 * STOPPED; a waiting thread wakes at stop. */
static void test_state_and_wait(void **state) {
  fx *f = *state;
  pthread_t t;
  void *got = NULL;
  uint64_t t0;

  assert_int_equal(netfw_server_state(NULL), NETFW_RUN_NEW);
  assert_int_equal(netfw_server_wait(NULL, 0), NETFW_EINVAL);
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_NEW);
  assert_int_equal(netfw_server_wait(f->s, -1), NETFW_RUN_NEW);
  assert_int_equal(netfw_server_wait(f->s, -2), NETFW_EINVAL);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
  t0 = wire_now_ms();
  assert_int_equal(netfw_server_wait(f->s, 200), NETFW_RUN_RUNNING);
  assert_true(wire_now_ms() - t0 >= 190);
  assert_int_equal(pthread_create(&t, NULL, wait_forever, f->s), 0);
  sleep_ms(100);
  assert_int_equal(netfw_server_stop(f->s, 3000), 0);
  assert_int_equal(pthread_join(t, &got), 0);
  assert_int_equal((intptr_t)got, NETFW_RUN_STOPPED);
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_STOPPED);
  assert_int_equal(connect_errno(f->port), ECONNREFUSED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_state_and_wait),
      T(test_crash_loop_fails_and_refuses),
      T(test_crash_loop_healthy_death_resets),
      T(test_crash_loop_stops_the_other_workers),
      T(test_crash_loop_stops_the_other_workers_reuseport),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
