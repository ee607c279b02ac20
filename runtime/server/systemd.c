/* systemd socket activation: the listening socket a service manager passed
 * to this process (LISTEN_PID, LISTEN_FDS; docs/deploy.md, "systemd").
 *
 * Built with libsystemd, netfw_listen_fd_from_env asks sd_listen_fds(1);
 * without it, it reads the two variables the same way: they are for this
 * process only when LISTEN_PID is its pid, the sockets start at fd 3, they
 * are made close-on-exec, and the variables (LISTEN_FDNAMES too) are removed
 * from the environment whatever they held, so that a child never mistakes
 * them for its own and a second call finds nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef NETFW_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "netfw/log.h"
#include "server_internal.h"

/* The first descriptor a service manager passes (SD_LISTEN_FDS_START). */
#define LISTEN_FDS_FIRST 3

/* Parses text, decimal digits only (no sign, no spaces), into *out when it
 * is at most max. Returns false otherwise. */
static bool parse_whole(const char *text, unsigned long long max,
                        unsigned long long *out) {
  unsigned long long v = 0;
  const char *p = text;

  if (*p == '\0')
    return false;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  if (*p != '\0')
    return false;
  *out = v;
  return true;
}

int netfw__listen_fds_parse(const char *pid, const char *fds, pid_t self) {
  unsigned long long p, n;

  if (pid == NULL || fds == NULL)
    return 0;
  if (!parse_whole(pid, INT_MAX, &p) || p == 0)
    return -1;
  if ((pid_t)p != self)
    return 0; /* inherited from the process it was meant for */
  if (!parse_whole(fds, INT_MAX - LISTEN_FDS_FIRST, &n) || n == 0)
    return -1;
  return (int)n;
}

uint64_t netfw__watchdog_parse(const char *usec, const char *pid, pid_t self) {
  unsigned long long u, p;

  if (usec == NULL || !parse_whole(usec, UINT64_MAX, &u) || u == 0)
    return 0;
  if (pid != NULL && (!parse_whole(pid, INT_MAX, &p) || (pid_t)p != self))
    return 0;
  return u;
}

#ifdef NETFW_HAVE_LIBSYSTEMD

/* How many sockets systemd passed: sd_listen_fds(1). -1 on an error. */
static int listen_fds(void) {
  int n = sd_listen_fds(1);

  if (n < 0)
    netfw_log(NETFW_LOG_WARN, "socket activation: sd_listen_fds: %s",
              strerror(-n));
  return n < 0 ? -1 : n;
}

uint64_t netfw__watchdog_usec(void) {
  uint64_t usec = 0;

  return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

#else

/* How many sockets the environment passed, read as sd_listen_fds(1) would.
 * -1 for malformed variables or a descriptor that is not open. */
static int listen_fds(void) {
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  int n = netfw__listen_fds_parse(pid, fds, getpid()), fd;

  if (n < 0)
    netfw_log(NETFW_LOG_WARN,
              "socket activation: LISTEN_PID=%s LISTEN_FDS=%s ignored (a "
              "pid and a count of 1 or more expected)",
              pid, fds);
  for (fd = LISTEN_FDS_FIRST; fd < LISTEN_FDS_FIRST + n; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) != 0) {
      netfw_log(NETFW_LOG_WARN, "socket activation: fd %d: %s", fd,
                strerror(errno));
      n = -1;
    }
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return n;
}

uint64_t netfw__watchdog_usec(void) {
  return netfw__watchdog_parse(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"),
                               getpid());
}

#endif

int netfw_listen_fd_from_env(void) {
  int n = listen_fds();

  if (n <= 0)
    return -1;
  if (n > 1)
    netfw_log(NETFW_LOG_WARN,
              "socket activation: %d sockets passed; netfw serves the first "
              "(fd %d), the others stay unused",
              n, LISTEN_FDS_FIRST);
  return LISTEN_FDS_FIRST;
}
