/* systemd socket activation, in process: the variables parsed
 * (netfw__listen_fds_parse, netfw__watchdog_parse), netfw_listen_fd_from_env,
 * and serving a listening socket the caller passes (netfw_config.listen_fd).
 *
 * Built twice where netfw uses libsystemd: test_server_systemd runs the
 * library as built (sd_listen_fds), test_server_systemd_own compiles
 * netfw's own readers (systemd.c and notify.c without libsystemd) into the
 * test, so that both paths pass the same assertions. */
#include <signal.h>

#include "systemd_kit.h"

/* ---- the variables, parsed ---- */

/* LISTEN_PID/LISTEN_FDS as sd_listen_fds reads them: digits only, in
 * range, LISTEN_PID this process. */
static void test_systemd_listen_fds_parse(void **state) {
  (void)state;
  assert_int_equal(netfw__listen_fds_parse(NULL, NULL, 42), 0);
  assert_int_equal(netfw__listen_fds_parse(NULL, "1", 42), 0);
  assert_int_equal(netfw__listen_fds_parse("42", NULL, 42), 0);
  assert_int_equal(netfw__listen_fds_parse("42", "1", 42), 1);
  assert_int_equal(netfw__listen_fds_parse("42", "3", 42), 3);
  /* another process's: not ours, not an error */
  assert_int_equal(netfw__listen_fds_parse("43", "1", 42), 0);
  /* malformed or out of range */
  assert_int_equal(netfw__listen_fds_parse("42", "0", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", "", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", "-1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", "+1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", " 1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", "1x", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", "2147483645", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42", "2147483644", 42), 2147483644);
  assert_int_equal(netfw__listen_fds_parse("abc", "1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("", "1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("0", "1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("42x", "1", 42), -1);
  assert_int_equal(netfw__listen_fds_parse("99999999999999999999", "1", 42),
                   -1);
}

/* WATCHDOG_USEC/WATCHDOG_PID as sd_watchdog_enabled reads them. */
static void test_systemd_watchdog_parse(void **state) {
  (void)state;
  assert_int_equal(netfw__watchdog_parse("200000", NULL, 42), 200000);
  assert_int_equal(netfw__watchdog_parse("200000", "42", 42), 200000);
  assert_int_equal(netfw__watchdog_parse("200000", "43", 42), 0);
  assert_int_equal(netfw__watchdog_parse("200000", "x", 42), 0);
  assert_int_equal(netfw__watchdog_parse(NULL, "42", 42), 0);
  assert_int_equal(netfw__watchdog_parse("0", "42", 42), 0);
  assert_int_equal(netfw__watchdog_parse("", NULL, 42), 0);
  assert_int_equal(netfw__watchdog_parse("-5", NULL, 42), 0);
  assert_int_equal(netfw__watchdog_parse("12ms", NULL, 42), 0);
}

/* ---- netfw_listen_fd_from_env ---- */

/* The variables are gone after a call, whatever they held. */
static void assert_listen_env_gone(void) {
  assert_null(getenv("LISTEN_PID"));
  assert_null(getenv("LISTEN_FDS"));
  assert_null(getenv("LISTEN_FDNAMES"));
}

/* No variables: -1. */
static void test_systemd_env_none(void **state) {
  (void)state;
  env_clear();
  assert_int_equal(netfw_listen_fd_from_env(), -1);
}

/* Another process's LISTEN_PID, LISTEN_FDS=0, garbage: -1, and the
 * variables are gone all the same. */
static void test_systemd_env_refused(void **state) {
  static const char *const cases[][2] = {
      {"other", "1"}, /* LISTEN_PID of another process */
      {"self", "0"},  {"self", "x"},   {"self", "-2"},
      {"1x", "1"},    {"garbage", "1"}};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    env_clear();
    if (strcmp(cases[i][0], "self") == 0)
      setenv_int("LISTEN_PID", (long)getpid());
    else if (strcmp(cases[i][0], "other") == 0)
      setenv_int("LISTEN_PID", (long)getpid() + 1);
    else
      setenv("LISTEN_PID", cases[i][0], 1);
    setenv("LISTEN_FDS", cases[i][1], 1);
    setenv("LISTEN_FDNAMES", "echo", 1);
    assert_int_equal(netfw_listen_fd_from_env(), -1);
    assert_listen_env_gone();
  }
}

/* Moves what the test process has at fds 3.. (first, count) out of the way;
 * restore with fds_restore. */
static void fds_save(int first, int count, int *saved) {
  int i;

  for (i = 0; i < count; i++)
    saved[i] = fcntl(first + i, F_GETFD) >= 0
                   ? fcntl(first + i, F_DUPFD_CLOEXEC, 100)
                   : -1;
}

/* Puts back what fds_save moved away. */
static void fds_restore(int first, int count, const int *saved) {
  int i;

  for (i = 0; i < count; i++) {
    close(first + i);
    if (saved[i] >= 0) {
      dup3(saved[i], first + i, O_CLOEXEC);
      close(saved[i]);
    }
  }
}

/* A listening socket passed at fd 3 (inheritable, as systemd passes it) is
 * returned, made close-on-exec, and the variables are gone: a second call
 * finds nothing. With two sockets, the first is served. */
static void test_systemd_env_passed(void **state) {
  int saved[2], lfd, n;

  (void)state;
  for (n = 1; n <= 2; n++) {
    int i;
    env_clear();
    fds_save(3, n, saved);
    for (i = 0; i < n; i++) {
      int tmp = tcp_socket(true, NULL);
      lfd = fcntl(tmp, F_DUPFD, 10); /* never 3 or 4 itself */
      close(tmp);
      assert_int_equal(dup2(lfd, 3 + i), 3 + i);
      close(lfd);
      assert_int_equal(fcntl(3 + i, F_GETFD) & FD_CLOEXEC, 0);
    }
    setenv_int("LISTEN_PID", (long)getpid());
    setenv_int("LISTEN_FDS", n);
    setenv("LISTEN_FDNAMES", n == 1 ? "echo" : "echo:other", 1);
    assert_int_equal(netfw_listen_fd_from_env(), 3);
    for (i = 0; i < n; i++)
      assert_int_equal(fcntl(3 + i, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    assert_listen_env_gone();
    assert_int_equal(netfw_listen_fd_from_env(), -1);
    fds_restore(3, n, saved);
  }
}

/* ---- netfw_config.listen_fd ---- */

/* Serves the caller's socket: ip and port are unused (an address this host
 * does not have, port 1), netfw_server_port is the socket's, two workers
 * echo exact bytes on it; after stop the caller's descriptor is still open
 * and listening (now non-blocking), and a new server serves it again. */
static void test_systemd_listen_fd_serves(void **state) {
  fx *f = *state;
  uint16_t port = 0;
  int lfd = tcp_socket(true, &port), round, i;
  char want[64];

  for (round = 0; round < 2; round++) {
    f->cfg.ip = "203.0.113.7"; /* TEST-NET-3: binding it would fail */
    f->cfg.port = 1;
    f->cfg.worker_num = 2;
    f->cfg.listen_fd = lfd;
    fx_start(f);
    assert_int_equal(f->port, port);
    snprintf(want, sizeof(want), "inherited socket (fd %d), 127.0.0.1 port %u",
             lfd, (unsigned)port);
    assert_true(board_log_has(f->b, "server started: ", want));
    assert_true(board_log_has(f->b, "2 workers", want));
    for (i = 0; i < 6; i++) {
      int fd = fx_connect(f);
      char msg[32];
      int len = snprintf(msg, sizeof(msg), "systemd %d.%d", round, i);
      expect_echo(fd, 0x42, msg, (uint32_t)len);
      assert_true(fx_worker_pid(fd) != (uint32_t)getpid());
      wire_close(fd);
    }
    assert_int_equal(netfw_server_stop(f->s, 5000), 0);
    free_server(f);
    assert_true(fcntl(lfd, F_GETFD) >= 0);
    assert_int_equal(fcntl(lfd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  }
  close(lfd);
}

/* A bad listen_fd: below -1, or with reuseport, is refused by
 * netfw_server_new (logged). */
static void test_systemd_listen_fd_bad_config(void **state) {
  fx *f = *state;

  f->cfg.listen_fd = -2;
  assert_null(netfw_server_new(&f->cfg));
  assert_true(board_log_has(f->b, "ERROR", "listen_fd is -2"));
  f->cfg.listen_fd = 0;
  f->cfg.reuseport = true;
  assert_null(netfw_server_new(&f->cfg));
  assert_true(board_log_has(f->b, "ERROR", "listen_fd is 0 with reuseport"));
}

/* Starts with listen_fd = fd: expects NETFW_ESYS with errno want, a log line
 * naming why, nothing started (port 0), and start callable again. */
static void expect_refused_fd(fx *f, int fd, int want, const char *why) {
  char line[64];

  f->cfg.listen_fd = fd;
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  errno = 0;
  assert_int_equal(netfw_server_start(f->s), NETFW_ESYS);
  assert_int_equal(errno, want);
  assert_int_equal(netfw_server_port(f->s), 0);
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_NEW);
  snprintf(line, sizeof(line), "listen_fd %d cannot be served: %s", fd, why);
  assert_true(board_log_has(f->b, line, NULL));
}

/* Not a socket, not a stream, not listening, not TCP/IP, not open: start
 * fails with the errno that says which; a socket that starts listening
 * afterwards is then served by the same server. */
static void test_systemd_listen_fd_refused(void **state) {
  fx *f = *state;
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  int p[2], udp, ux, tcp, fd;
  uint16_t port;

  assert_int_equal(pipe(p), 0);
  expect_refused_fd(f, p[0], ENOTSOCK, "not a socket");
  free_server(f);
  udp = socket(AF_INET, SOCK_DGRAM, 0);
  expect_refused_fd(f, udp, EPROTOTYPE, "not a stream socket");
  free_server(f);
  ux = socket(AF_UNIX, SOCK_STREAM, 0);
  snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "netfw-sd-ux-%ld",
           (long)getpid());
  assert_int_equal(bind(ux, (struct sockaddr *)&un, sizeof(un)), 0);
  assert_int_equal(listen(ux, 8), 0);
  expect_refused_fd(f, ux, EAFNOSUPPORT, "not a TCP/IP socket");
  free_server(f);
  expect_refused_fd(f, 999, EBADF, "not a socket");
  free_server(f);
  tcp = tcp_socket(false, &port);
  expect_refused_fd(f, tcp, EINVAL, "not listening");
  assert_int_equal(listen(tcp, 8), 0); /* now it is: start again */
  assert_int_equal(netfw_server_start(f->s), 0);
  assert_int_equal(netfw_server_port(f->s), port);
  fd = fx_connect(&(fx){.port = port});
  expect_echo(fd, 7, "again", 5);
  wire_close(fd);
  close(p[0]);
  close(p[1]);
  close(udp);
  close(ux);
  close(tcp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_systemd_listen_fds_parse),
      cmocka_unit_test(test_systemd_watchdog_parse),
      cmocka_unit_test(test_systemd_env_none),
      cmocka_unit_test(test_systemd_env_refused),
      cmocka_unit_test(test_systemd_env_passed),
      cmocka_unit_test_setup_teardown(test_systemd_listen_fd_serves, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_systemd_listen_fd_bad_config, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_systemd_listen_fd_refused, setup,
                                      teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
