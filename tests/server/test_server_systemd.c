/* systemd integration, in process: the socket-activation variables
 * (netfw__listen_fds_parse, netfw_listen_fd_from_env), serving a listening
 * socket the caller passes (netfw_config.listen_fd), and the notifications
 * (netfw__notify; READY=1 / STOPPING=1 from start and stop, WATCHDOG=1
 * from the supervisor) read from a NOTIFY_SOCKET this test binds.
 *
 * Built twice where netfw uses libsystemd: test_server_systemd runs the
 * library as built (sd_listen_fds, sd_watchdog_enabled), and
 * test_server_systemd_own compiles netfw's own readers (systemd.c and
 * notify.c without libsystemd) into the test, so that both paths pass the
 * same assertions. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fixture.h"
#include "server_internal.h"

/* ---- helpers ---- */

/* Drops every variable these tests set. */
static void env_clear(void) {
  static const char *const vars[] = {"LISTEN_PID",
                                     "LISTEN_FDS",
                                     "LISTEN_FDNAMES",
                                     "NOTIFY_SOCKET",
                                     "WATCHDOG_USEC",
                                     "WATCHDOG_PID",
                                     NULL};
  int i;

  for (i = 0; vars[i] != NULL; i++)
    unsetenv(vars[i]);
}

static void setenv_int(const char *name, long v) {
  char buf[32];

  snprintf(buf, sizeof(buf), "%ld", v);
  setenv(name, buf, 1);
}

/* A TCP socket on 127.0.0.1, any port (in *port), listening unless
 * listening is false. Blocking and inheritable, as a service manager
 * passes it. */
static int tcp_socket(bool listening, uint16_t *port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  assert_true(fd >= 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  if (listening)
    assert_int_equal(listen(fd, 64), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  if (port != NULL)
    *port = ntohs(sa.sin_port);
  return fd;
}

/* A unix datagram socket standing for systemd's notify socket: bound to an
 * abstract name ("@...") or to a path, and named by NOTIFY_SOCKET. */
typedef struct sink {
  int fd;
  char name[108];
} sink;

static void sink_open(sink *k, bool abstract) {
  static int n;
  struct sockaddr_un sa;
  size_t len;

  k->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true(k->fd >= 0);
  if (abstract)
    snprintf(k->name, sizeof(k->name), "@netfw-sd-test-%ld-%d", (long)getpid(),
             n++);
  else
    snprintf(k->name, sizeof(k->name), "/tmp/netfw-sd-test-%ld-%d.sock",
             (long)getpid(), n++);
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  len = strlen(k->name);
  memcpy(sa.sun_path, k->name, len);
  if (abstract)
    sa.sun_path[0] = '\0';
  else
    unlink(k->name);
  assert_int_equal(bind(k->fd, (struct sockaddr *)&sa,
                        (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                    len + (abstract ? 0 : 1))),
                   0);
  setenv("NOTIFY_SOCKET", k->name, 1);
}

static void sink_close(sink *k) {
  close(k->fd);
  if (k->name[0] == '/')
    unlink(k->name);
}

/* Receives one datagram within timeout_ms into buf (NUL-terminated).
 * Returns its length, or -1 when none came. */
static int sink_recv(sink *k, char *buf, size_t len, int timeout_ms) {
  struct pollfd p = {k->fd, POLLIN, 0};
  ssize_t n;

  if (poll(&p, 1, timeout_ms) != 1)
    return -1;
  n = recv(k->fd, buf, len - 1, 0);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return (int)n;
}

/* Expects exactly this datagram next, within 10 s. */
static void sink_expect(sink *k, const char *want) {
  char buf[512];

  assert_true(sink_recv(k, buf, sizeof(buf), 10000) >= 0);
  assert_string_equal(buf, want);
}

/* Receives datagrams (10 s each at most) until one equals want; the others
 * must be "WATCHDOG=1" (counted in *pings when not NULL). */
static void sink_expect_after_pings(sink *k, const char *want, int *pings) {
  char buf[512];

  for (;;) {
    assert_true(sink_recv(k, buf, sizeof(buf), 10000) >= 0);
    if (strcmp(buf, want) == 0)
      return;
    assert_string_equal(buf, "WATCHDOG=1");
    if (pings != NULL)
      (*pings)++;
  }
}

/* Expects nothing for quiet_ms. */
static void sink_expect_none(sink *k, int quiet_ms) {
  char buf[512];

  if (sink_recv(k, buf, sizeof(buf), quiet_ms) >= 0)
    fail_msg("unexpected notification \"%s\"", buf);
}

/* ---- the variables, parsed ---- */

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

static void test_systemd_env_none(void **state) {
  (void)state;
  env_clear();
  assert_int_equal(netfw_listen_fd_from_env(), -1);
}

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

static void free_server(fx *f) {
  netfw_server_free(f->s);
  f->s = NULL;
}

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
  assert_true(board_log_has(f->b, "listen_fd -2", NULL));
  f->cfg.listen_fd = 0;
  f->cfg.reuseport = true;
  assert_null(netfw_server_new(&f->cfg));
  assert_true(board_log_has(f->b, "listen_fd and reuseport", NULL));
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

/* ---- netfw__notify ---- */

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

static void *slow_create(void *context) {
  sleep_ms(SLOW_CREATE_MS);
  return context;
}

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

static int setup(void **state) {
  env_clear();
  return fx_setup(state);
}

static int teardown(void **state) {
  int rc = fx_teardown(state);

  env_clear();
  return rc;
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
