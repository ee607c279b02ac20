/* Helpers of the systemd tests (test_server_systemd.c,
 * test_server_notify.c): their environment variables, TCP listeners made as
 * a service manager passes them, and a NOTIFY_SOCKET standing for systemd's
 * (a unix datagram socket the test reads). */
#ifndef NETFW_TEST_SYSTEMD_KIT_H
#define NETFW_TEST_SYSTEMD_KIT_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fixture.h"
#include "server_internal.h"

/* Drops every variable these tests set. */
static inline void env_clear(void) {
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

/* Sets name to the decimal v. */
static inline void setenv_int(const char *name, long v) {
  char buf[32];

  snprintf(buf, sizeof(buf), "%ld", v);
  setenv(name, buf, 1);
}

/* A TCP socket on 127.0.0.1, any port (in *port), listening unless
 * listening is false. Blocking and inheritable, as a service manager
 * passes it. */
static inline int tcp_socket(bool listening, uint16_t *port) {
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

/* Binds k (a fresh name each call) and points NOTIFY_SOCKET at it. */
static inline void sink_open(sink *k, bool abstract) {
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

/* Closes the socket (and removes its path). */
static inline void sink_close(sink *k) {
  close(k->fd);
  if (k->name[0] == '/')
    unlink(k->name);
}

/* Receives one datagram within timeout_ms into buf (NUL-terminated).
 * Returns its length, or -1 when none came. */
static inline int sink_recv(sink *k, char *buf, size_t len, int timeout_ms) {
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
static inline void sink_expect(sink *k, const char *want) {
  char buf[512];

  assert_true(sink_recv(k, buf, sizeof(buf), 10000) >= 0);
  assert_string_equal(buf, want);
}

/* Receives datagrams (10 s each at most) until one equals want; the others
 * must be "WATCHDOG=1" (counted in *pings when not NULL). */
static inline void sink_expect_after_pings(sink *k, const char *want,
                                           int *pings) {
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
static inline void sink_expect_none(sink *k, int quiet_ms) {
  char buf[512];

  if (sink_recv(k, buf, sizeof(buf), quiet_ms) >= 0)
    fail_msg("unexpected notification \"%s\"", buf);
}

/* Frees the fixture's server (stopping it if it runs). */
static inline void free_server(fx *f) {
  netfw_server_free(f->s);
  f->s = NULL;
}

/* Per-test setup and teardown: the fixture, without systemd's variables. */
static inline int setup(void **state) {
  env_clear();
  return fx_setup(state);
}

/* Stops and frees the fixture, then drops the variables again. */
static inline int teardown(void **state) {
  int rc = fx_teardown(state);

  env_clear();
  return rc;
}

#endif /* NETFW_TEST_SYSTEMD_KIT_H */
