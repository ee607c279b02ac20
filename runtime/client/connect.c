/* Dialing: a plain non-blocking connect in the caller's thread, bounded by a
 * timeout, so that a refused or unreachable peer is reported at once and with
 * its cause before any thread exists. The name lookup (resolve.c) takes its
 * share of the same timeout: one deadline covers the lookup and every
 * address tried. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "clock.h"
#include "netfw/error.h"

/* Translates a connect errno into the closest netfw code. */
static int map_errno(int err) {
  switch (err) {
  case ECONNREFUSED:
    return NETFW_ECONNREFUSED;
  case EHOSTUNREACH:
  case ENETUNREACH:
  case EHOSTDOWN:
  case ENETDOWN:
    return NETFW_EHOSTUNREACH;
  case ETIMEDOUT:
    return NETFW_ETIMEDOUT;
  case ECONNRESET: /* accepted, then reset before we looked */
  case ECONNABORTED:
  case EPIPE:
    return NETFW_ECONNRESET;
  case ENOMEM:
  case ENOBUFS:
    return NETFW_ENOMEM;
  default:
    errno = err;
    return NETFW_ESYS;
  }
}

/* Waits until the connect in progress on fd completes or deadline (ms on the
 * monotonic clock; -1: none) passes. Returns 0 or the failing errno. */
static int wait_connected(int fd, int64_t deadline) {
  struct pollfd pfd = {.fd = fd, .events = POLLOUT};
  socklen_t len = sizeof(int);
  int err = 0;

  for (;;) {
    int wait = -1, n;
    if (deadline >= 0) {
      int64_t left = deadline - (int64_t)netfw__now_ms();
      if (left <= 0)
        return ETIMEDOUT;
      wait = left > 1000000 ? 1000000 : (int)left;
    }
    n = poll(&pfd, 1, wait);
    if (n > 0)
      break;
    if (n < 0 && errno != EINTR)
      return errno;
  }
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return errno;
  return err;
}

/* One attempt on one address. Returns 0 and the socket, or an errno. */
static int dial_one(const struct addrinfo *ai, int64_t deadline, int *fd_out) {
  int one = 1, err = 0;
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  ai->ai_protocol);

  if (fd < 0)
    return errno;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    err = errno == EINPROGRESS ? wait_connected(fd, deadline) : errno;
    if (err != 0) {
      close(fd);
      return err;
    }
  }
  /* Small request/response messages must not wait for Nagle. */
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  *fd_out = fd;
  return 0;
}

int netfw__client_dial(const char *ip, uint16_t port, int timeout_ms, int *fd) {
  int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)netfw__now_ms() + timeout_ms;
  struct addrinfo *res, *ai;
  int err = ECONNREFUSED;
  int rc = netfw__client_resolve(ip, port, deadline, &res);

  if (rc != 0)
    return rc;
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    err = dial_one(ai, deadline, fd);
    if (err == 0 || err == ETIMEDOUT)
      break;
  }
  freeaddrinfo(res);
  return err == 0 ? 0 : map_errno(err);
}
