/* systemd notifications, in process: netfw__notify's datagrams (exact
 * bytes, abstract and path sockets, MONOTONIC_USEC, never waiting), READY=1
 * and STOPPING=1 from start and stop, WATCHDOG=1 from the supervisor, read
 * from a NOTIFY_SOCKET this test binds.
 *
 * Built twice where netfw uses libsystemd (test_server_notify_own: netfw's
 * own systemd.c and notify.c, without libsystemd, compiled into the test). */
#include <pthread.h>
#include <signal.h>

#include "systemd_kit.h"

/* ---- netfw__notify ---- */

/* Without NOTIFY_SOCKET (or with it empty) nothing is sent: 0. */
static void test_systemd_notify_unset(void **state) {
  (void)state;
  env_clear();
  assert_int_equal(netfw__notify("READY=1"), 0);
  setenv("NOTIFY_SOCKET", "", 1);
  assert_int_equal(netfw__notify("READY=1"), 0);
}

/* One datagram with exactly the state, to an abstract name and to a path. */
static void test_systemd_notify_sends(void **state) {
  sink k;
  int abstract;

  (void)state;
  for (abstract = 1; abstract >= 0; abstract--) {
    env_clear();
    sink_open(&k, abstract);
    assert_int_equal(netfw__notify("READY=1"), 1);
    sink_expect(&k, "READY=1");
    assert_int_equal(netfw__notify("STOPPING=1\nSTATUS=bye"), 1);
    sink_expect(&k, "STOPPING=1\nSTATUS=bye");
    sink_expect_none(&k, 50);
    sink_close(&k);
  }
}

/* RELOADING=1 carries the CLOCK_MONOTONIC time of the send, in us. */
static void test_systemd_notify_reloading(void **state) {
  struct timespec a, b;
  unsigned long long us, lo, hi;
  char buf[256], *end;
  sink k;

  (void)state;
  env_clear();
  sink_open(&k, true);
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(netfw__notify("RELOADING=1"), 1);
  clock_gettime(CLOCK_MONOTONIC, &b);
  assert_true(sink_recv(&k, buf, sizeof(buf), 5000) > 0);
  assert_memory_equal(buf, "RELOADING=1\nMONOTONIC_USEC=", 27);
  us = strtoull(buf + 27, &end, 10);
  assert_int_equal(*end, '\0');
  lo = (unsigned long long)a.tv_sec * 1000000ull +
       (unsigned long long)a.tv_nsec / 1000;
  hi = (unsigned long long)b.tv_sec * 1000000ull +
       (unsigned long long)b.tv_nsec / 1000;
  assert_true(us >= lo && us <= hi);
  /* one given by the caller is kept as it is */
  assert_int_equal(netfw__notify("RELOADING=1\nMONOTONIC_USEC=5"), 1);
  sink_expect(&k, "RELOADING=1\nMONOTONIC_USEC=5");
  sink_close(&k);
}

/* Nobody there, or an address that is not a unix socket: -1, at once. */
static void test_systemd_notify_fails(void **state) {
  (void)state;
  env_clear();
  setenv("NOTIFY_SOCKET", "@netfw-sd-test-nobody-listens", 1);
  assert_int_equal(netfw__notify("READY=1"), -1);
  setenv("NOTIFY_SOCKET", "/nonexistent/netfw/notify", 1);
  assert_int_equal(netfw__notify("READY=1"), -1);
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  assert_int_equal(netfw__notify("READY=1"), -1);
}

/* A manager that does not read: the sends fail (queue full) instead of
 * waiting, and what was sent is there, in order. */
static void test_systemd_notify_never_blocks(void **state) {
  uint64_t t0 = wire_now_ms();
  int i, sent = 0, failed = 0, got = 0;
  char msg[32], buf[64];
  sink k;

  (void)state;
  env_clear();
  sink_open(&k, true);
  for (i = 0; i < 2000; i++) {
    snprintf(msg, sizeof(msg), "STATUS=%d", i);
    if (netfw__notify(msg) == 1)
      sent++;
    else
      failed++;
  }
  print_message("2000 sends in %llu ms: %d sent, %d failed (queue full)\n",
                (unsigned long long)(wire_now_ms() - t0), sent, failed);
  assert_true(wire_now_ms() - t0 < 2000);
  assert_true(sent > 0 && failed > 0);
  while (recv(k.fd, buf, sizeof(buf) - 1, MSG_DONTWAIT) > 0) {
    snprintf(msg, sizeof(msg), "STATUS=%d", got++);
    assert_memory_equal(buf, msg, strlen(msg));
  }
  assert_int_equal(got, sent);
  sink_close(&k);
}

/* ---- from the server: READY=1, STOPPING=1, WATCHDOG=1 ---- */

#define SLOW_CREATE_MS 300

/* The app of the READY=1 test: create() takes SLOW_CREATE_MS. */
static void *slow_create(void *context) {
  sleep_ms(SLOW_CREATE_MS);
  return context;
}

/* Sends every message back. */
static void echo(void *app, netfw_owned_msg *m) {
  (void)app;
  netfw_conn_send(m->owner, m->msg);
}

static const netfw_app slow_app = {.create = slow_create, .on_message = echo};

typedef struct ready_watch {
  sink *k;
  char got[256];
  uint64_t at; /* wire_now_ms() when it arrived; 0: nothing */
} ready_watch;

/* Waits (thread) for the first notification and stamps its arrival. */
static void *watch_ready(void *arg) {
  ready_watch *w = arg;

  if (sink_recv(w->k, w->got, sizeof(w->got), 20000) >= 0)
    w->at = wire_now_ms();
  return NULL;
}

/* READY=1 (with the address and the worker count) comes once every worker
 * has run create() (which takes 300 ms), and a client connects and echoes
 * right after it; STOPPING=1 comes from stop. Nothing else. */
static void test_systemd_ready_stopping(void **state) {
  fx *f = *state;
  ready_watch w = {0};
  pthread_t th;
  uint64_t t0;
  char want[128];
  sink k;
  int fd;

  env_clear();
  sink_open(&k, true);
  w.k = &k;
  f->cfg.app = &slow_app;
  f->cfg.worker_num = 2;
  assert_int_equal(pthread_create(&th, NULL, watch_ready, &w), 0);
  t0 = wire_now_ms();
  fx_start(f);
  pthread_join(th, NULL);
  assert_true(w.at != 0);
  print_message("READY=1 %llu ms after start was called (create: %d ms)\n",
                (unsigned long long)(w.at - t0), SLOW_CREATE_MS);
  assert_true(w.at - t0 >= SLOW_CREATE_MS);
  snprintf(want, sizeof(want),
           "READY=1\nSTATUS=serving 127.0.0.1 port %u, 2 workers",
           (unsigned)f->port);
  assert_string_equal(w.got, want);
  fd = fx_connect(f);
  expect_echo(fd, 9, "ready", 5);
  wire_close(fd);
  sink_expect_none(&k, 100);
  assert_int_equal(netfw_server_stop(f->s, 5000), 0);
  sink_expect(&k, "STOPPING=1");
  sink_expect_none(&k, 100);
  sink_close(&k);
}

/* Counts WATCHDOG=1 over window_ms; fails on anything else. */
static int count_pings(sink *k, int window_ms) {
  uint64_t end = wire_now_ms() + (uint64_t)window_ms;
  char buf[128];
  int n = 0;

  for (;;) {
    uint64_t now = wire_now_ms();
    if (now >= end)
      return n;
    if (sink_recv(k, buf, sizeof(buf), (int)(end - now)) < 0)
      return n;
    assert_string_equal(buf, "WATCHDOG=1");
    n++;
  }
}

/* WATCHDOG_USEC=200000 for this pid: a ping every 100 ms (1 s: 10, some
 * slack for a loaded machine), also while stopping; for another pid none. */
static void test_systemd_watchdog(void **state) {
  fx *f = *state;
  int n, pings = 0;
  char want[128];
  sink k;

  env_clear();
  sink_open(&k, true);
  setenv("WATCHDOG_USEC", "200000", 1);
  setenv_int("WATCHDOG_PID", (long)getpid());
  fx_start(f);
  assert_true(board_log_has(f->b, "systemd: watchdog every 100 ms", NULL));
  snprintf(want, sizeof(want),
           "READY=1\nSTATUS=serving 127.0.0.1 port %u, 1 worker",
           (unsigned)f->port);
  sink_expect_after_pings(&k, want, NULL);
  n = count_pings(&k, 1000);
  print_message("watchdog: %d pings in 1000 ms\n", n);
  assert_true(n >= 7 && n <= 11);
  assert_int_equal(netfw_server_stop(f->s, 5000), 0);
  sink_expect_after_pings(&k, "STOPPING=1", &pings);
  assert_true(pings <= 2);
  free_server(f);
  while (recv(k.fd, want, sizeof(want), MSG_DONTWAIT) > 0)
    ; /* pings sent while the workers finished */

  setenv_int("WATCHDOG_PID", (long)getpid() + 1);
  fx_start(f);
  snprintf(want, sizeof(want),
           "READY=1\nSTATUS=serving 127.0.0.1 port %u, 1 worker",
           (unsigned)f->port);
  sink_expect(&k, want);
  sink_expect_none(&k, 400);
  sink_close(&k);
}

/* A server whose workers keep crashing (FAILED) stops feeding the
 * watchdog, so that systemd restarts the service. */
static void test_systemd_watchdog_stops_when_failed(void **state) {
  fx *f = *state;
  char buf[256];
  int i;
  sink k;

  env_clear();
  sink_open(&k, true);
  setenv("WATCHDOG_USEC", "100000", 1);
  fx_start(f);
  assert_true(sink_recv(&k, buf, sizeof(buf), 5000) > 0); /* READY=1 */
  assert_true(count_pings(&k, 300) >= 2);
  for (i = 0; i < 5; i++) {
    int fd = fx_connect(f);
    uint32_t pid = fx_worker_pid(fd);
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
    assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
    close(fd);
  }
  assert_int_equal(netfw_server_wait(f->s, 10000), NETFW_RUN_FAILED);
  sleep_ms(100); /* a ping already in flight */
  while (recv(k.fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
    ;
  assert_int_equal(count_pings(&k, 400), 0);
  sink_close(&k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_systemd_notify_unset),
      cmocka_unit_test(test_systemd_notify_sends),
      cmocka_unit_test(test_systemd_notify_reloading),
      cmocka_unit_test(test_systemd_notify_fails),
      cmocka_unit_test(test_systemd_notify_never_blocks),
      cmocka_unit_test_setup_teardown(test_systemd_ready_stopping, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_systemd_watchdog, setup, teardown),
      cmocka_unit_test_setup_teardown(test_systemd_watchdog_stops_when_failed,
                                      setup, teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
