/* Readiness, stop, reload and watchdog notifications to the service manager
 * (the sd_notify protocol; docs/deploy.md, "systemd"). Only the parent
 * notifies: it is the service's main process; the workers never do.
 *
 * One datagram, the state lines, to the unix socket NOTIFY_SOCKET names
 * ("/path", or "@name" in the abstract namespace), sent from a fresh
 * non-blocking socket: a manager that does not read makes the send fail
 * (EAGAIN), never wait. netfw sends it itself even when built with
 * libsystemd: sd_notify's socket is blocking, and with the manager's queue
 * full (10 datagrams by default, net.unix.max_dgram_qlen) it waits until the
 * manager reads, which would stall the supervisor's loop. libsystemd's
 * sd_notify serves the address kinds netfw does not know (systemd 254's
 * "vsock:...", say). */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifdef NETFW_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "netfw/log.h"
#include "server_internal.h"

/* Fills *sa with the address NOTIFY_SOCKET names and returns its length, or
 * 0 when it is neither an absolute path nor "@name", or too long. */
static socklen_t notify_addr(const char *name, struct sockaddr_un *sa) {
  size_t n = strlen(name);

  if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
    return 0;
  memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, name, n);
  if (name[0] == '@')
    sa->sun_path[0] = '\0'; /* abstract: the length says where it ends */
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

/* An address netfw does not know: libsystemd's sd_notify when netfw was
 * built with it (1, 0 or -errno), else -EAFNOSUPPORT. */
static int notify_other(const char *state) {
#ifdef NETFW_HAVE_LIBSYSTEMD
  return sd_notify(0, state);
#else
  (void)state;
  return -EAFNOSUPPORT;
#endif
}

/* Sends state to NOTIFY_SOCKET without waiting. Returns 1, 0 (no
 * NOTIFY_SOCKET) or -errno. getenv on the supervisor thread, as sd_notify
 * would: the program must not change its environment from another thread
 * while a server runs (docs/deploy.md). */
static int notify_send(const char *state) {
  const char *name = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sa;
  socklen_t len;
  ssize_t n;
  int fd, err;

  if (name == NULL || name[0] == '\0')
    return 0;
  len = notify_addr(name, &sa);
  if (len == 0)
    return notify_other(state);
  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -errno;
  n = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
             (struct sockaddr *)&sa, len);
  err = n < 0 ? -errno : 1;
  close(fd);
  return err;
}

/* Logs a failed notification: the first as a warning (a Type=notify unit
 * would wait for READY=1 in vain), the rest (watchdog pings) at debug. */
static void notify_failed(const char *state, int err) {
  static atomic_bool warned;
  const char *nl = strchr(state, '\n');
  int len = nl != NULL ? (int)(nl - state) : (int)strlen(state);

  netfw_log(atomic_exchange(&warned, true) ? NETFW_LOG_DEBUG : NETFW_LOG_WARN,
            "systemd: cannot send %.*s to NOTIFY_SOCKET %s: %s", len, state,
            getenv("NOTIFY_SOCKET") != NULL ? getenv("NOTIFY_SOCKET") : "",
            strerror(-err));
}

/* Called by the server (READY=1 from netfw_server_start, STOPPING=1 from
 * netfw_server_stop, WATCHDOG=1 from the supervisor's timer below) and by
 * netfw_server_reload (the `reload` part of issue 16) on the supervisor
 * thread: RELOADING=1 before its first new worker, READY=1 once every slot's
 * new worker accepts. */
int netfw__notify(const char *state) {
  char buf[256];
  int err;

  if (strncmp(state, "RELOADING=1", 11) == 0 &&
      strstr(state, "MONOTONIC_USEC=") == NULL) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(buf, sizeof(buf), "%s\nMONOTONIC_USEC=%llu", state,
             (unsigned long long)ts.tv_sec * 1000000ull +
                 (unsigned long long)ts.tv_nsec / 1000ull);
    state = buf;
  }
  err = notify_send(state);
  if (err < 0)
    notify_failed(state, err);
  return err < 0 ? -1 : err;
}

/* ---- the watchdog: WATCHDOG=1 from the supervisor's loop ---- */

/* Pings while the server serves: a server whose workers kept crashing
 * (FAILED) stops pinging, so that systemd's watchdog restarts the service
 * even when the program does not exit. */
static void on_watchdog(uv_timer_t *t) {
  netfw_server *s = t->data;

  if (!s->sup.respawn_off)
    netfw__notify("WATCHDOG=1");
}

void netfw__watchdog_start(netfw_server *s) {
  uint64_t ms = s->watchdog_usec / 2000; /* half the interval */

  if (s->watchdog_usec == 0)
    return;
  if (ms == 0)
    ms = 1;
  s->sup.watchdog.data = s;
  uv_timer_start(&s->sup.watchdog, on_watchdog, ms, ms);
  netfw_log(NETFW_LOG_INFO,
            "systemd: watchdog every %llu ms (WATCHDOG_USEC=%llu)",
            (unsigned long long)ms, (unsigned long long)s->watchdog_usec);
}
