/* Server, parent side: bind/listen, start and stop, the run state. The
 * config is taken by config.c; the workers are forked and watched by the
 * supervisor thread (supervisor.c). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include "addr.h"
#include "broker.h"
#include "log_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"

/* Every refusal is logged at ERROR with its reason (netfw_config_check's
 * words), so that a NULL from here is never silent. */
netfw_server *netfw_server_new(const netfw_config *cfg) {
  netfw_server *s;
  char why[256];
  int rc;

  if (cfg == NULL) {
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: the config is NULL");
    return NULL;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: out of memory");
    return NULL;
  }
  if (netfw__config_take(cfg, &s->cfg, &s->app, why, sizeof(why)) != 0 ||
      netfw__config_check(&s->cfg, why, sizeof(why)) != 0) {
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: %s", why);
    goto failed_config;
  }
  if ((s->cfg.ip != NULL && (s->ip = strdup(s->cfg.ip)) == NULL) ||
      (s->cfg.bus_url != NULL && (s->bus_url = strdup(s->cfg.bus_url)) == NULL))
    goto failed_copy;
  s->cfg.ip = s->ip;
  s->cfg.bus_url = s->bus_url;
  /* These log their own refusals (a TLS file, ...); only ENOMEM is not. */
  if ((rc = netfw__server_tls_setup(s)) != 0 ||
      (rc = netfw__server_proxy_setup(s)) != 0 ||
      (rc = netfw__server_stats_setup(s)) != 0 ||
      (rc = netfw__cond_init_monotonic(&s->state_cv)) != 0)
    goto failed_setup;
  atomic_init(&s->run_state, NETFW_RUN_NEW);
  s->listen_fd = -1;
  s->ready[0] = s->ready[1] = -1;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  return s;

failed_setup:
  if (rc == NETFW_ENOMEM) /* (the condition variable's -1 too) */
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: out of memory");
  netfw__server_stats_free(s);
  netfw__server_proxy_free(s);
  netfw__server_tls_free(s);
  goto failed_strings;
failed_copy:
  netfw_log(NETFW_LOG_ERROR, "netfw_server_new: out of memory");
failed_strings:
  free(s->bus_url);
  free(s->ip);
failed_config:
  free(s);
  return NULL;
}

/* netframe binds to socket.gethostbyname(socket.gethostname()): the first
 * IPv4 address this host's name resolves to. */
static int host_address(char *out, size_t len) {
  char name[256];
  struct addrinfo hints, *res;
  int rc;

  if (gethostname(name, sizeof(name) - 1) != 0)
    return NETFW_ESYS;
  name[sizeof(name) - 1] = '\0';
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(name, NULL, &hints, &res) != 0)
    return NETFW_EADDRINFO;
  rc = getnameinfo(res->ai_addr, res->ai_addrlen, out, (socklen_t)len, NULL, 0,
                   NI_NUMERICHOST);
  freeaddrinfo(res);
  return rc == 0 ? 0 : NETFW_EADDRINFO;
}

/* Creates, binds and listens one socket on ai for port. */
static int listen_one(const struct addrinfo *ai, uint16_t port, bool reuseport,
                      int *out) {
  struct sockaddr_storage ss;
  int fd, one = 1, err;

  memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
  if (ss.ss_family == AF_INET)
    ((struct sockaddr_in *)&ss)->sin_port = htons(port);
  else
    ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
  fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return NETFW_ESYS;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      (reuseport &&
       setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0))
    goto failed;
  if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) != 0)
    goto failed;
  if (listen(fd, SOMAXCONN) != 0)
    goto failed;
  *out = fd;
  return 0;

failed:
  err = errno;
  close(fd);
  errno = err;
  return err == EADDRINUSE ? NETFW_EADDRINUSE : NETFW_ESYS;
}

/* Binds the listening socket(s): one shared by every worker, or with
 * reuseport one per worker slot, all on the port the first one got. */
static int bind_all(netfw_server *s) {
  char host[64];
  const char *ip = s->cfg.ip;
  struct addrinfo hints, *res;
  int i, err;

  if (ip == NULL) {
    err = host_address(host, sizeof(host));
    if (err != 0)
      return err;
    ip = host;
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (getaddrinfo(ip, NULL, &hints, &res) != 0)
    return NETFW_EADDRINFO;
  s->port = s->cfg.port;
  for (i = 0; i < s->nworkers; i++) {
    int fd;
    err = listen_one(res, s->port, s->cfg.reuseport, &fd);
    if (err != 0)
      break;
    s->port = netfw__addr_bound_port(fd);
    s->slots[i].listen_fd = fd;
    if (!s->cfg.reuseport)
      break;
  }
  freeaddrinfo(res);
  if (err != 0)
    return err;
  s->listen_fd = s->slots[0].listen_fd;
  for (i = 1; !s->cfg.reuseport && i < s->nworkers; i++)
    s->slots[i].listen_fd = s->listen_fd;
  return 0;
}

/* Checks that fd is a listening TCP socket (IPv4 or IPv6). Returns 0, or
 * NETFW_ESYS with errno: EBADF/ENOTSOCK (not a socket), EPROTOTYPE (not a
 * stream), EINVAL (not listening), EAFNOSUPPORT (not TCP/IP). Logs why. */
static int check_listener(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(int), slen = sizeof(ss);
  int type = 0, acc = 0, err = 0;
  const char *why = NULL;

  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    err = errno, why = "not a socket";
  else if (type != SOCK_STREAM)
    err = EPROTOTYPE, why = "not a stream socket";
  else if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 ||
           acc == 0)
    err = EINVAL, why = "not listening";
  else if (getsockname(fd, (struct sockaddr *)&ss, &slen) != 0 ||
           (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
    err = EAFNOSUPPORT, why = "not a TCP/IP socket";
  if (why == NULL)
    return 0;
  netfw_log(NETFW_LOG_ERROR, "listen_fd %d cannot be served: %s (%s)", fd, why,
            strerror(err));
  errno = err;
  return NETFW_ESYS;
}

/* Serves the caller's listening socket (cfg.listen_fd; systemd socket
 * activation): through a close-on-exec duplicate, made non-blocking as a
 * bound socket is (the flag is the socket's, so the caller's descriptor
 * becomes non-blocking too), which every worker shares and stop closes;
 * the caller's descriptor stays the caller's. */
static int adopt_listener(netfw_server *s) {
  int i, fd, fl, err = check_listener(s->cfg.listen_fd);

  if (err != 0)
    return err;
  fd = fcntl(s->cfg.listen_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return NETFW_ESYS;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
    err = errno;
    close(fd);
    errno = err;
    return NETFW_ESYS;
  }
  s->listen_fd = fd;
  s->port = netfw__addr_bound_port(fd);
  for (i = 0; i < s->nworkers; i++)
    s->slots[i].listen_fd = fd;
  return 0;
}

/* Writes "ADDR port N" of the listening socket into buf and returns it;
 * "an inherited socket (fd 3), ADDR port N" for cfg.listen_fd. */
static const char *listener_name(const netfw_server *s, char *buf, size_t len) {
  struct sockaddr_storage ss;
  socklen_t slen = sizeof(ss);
  char ip[64] = "?";
  int n = 0;

  if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &slen) == 0)
    (void)getnameinfo((struct sockaddr *)&ss, slen, ip, sizeof(ip), NULL, 0,
                      NI_NUMERICHOST);
  if (s->cfg.listen_fd >= 0)
    n = snprintf(buf, len, "inherited socket (fd %d), ", s->cfg.listen_fd);
  snprintf(buf + n, len - (size_t)n, "%s port %u", ip, (unsigned)s->port);
  return buf;
}

void netfw__close_listeners(netfw_server *s) {
  int i;

  for (i = 0; s->slots != NULL && i < s->nworkers; i++) {
    if (s->slots[i].listen_fd >= 0 &&
        (s->cfg.reuseport || s->slots[i].listen_fd != s->listen_fd))
      close(s->slots[i].listen_fd);
    s->slots[i].listen_fd = -1;
  }
  if (s->listen_fd >= 0)
    close(s->listen_fd);
  s->listen_fd = -1;
}

/* Resolves the broker of a redis:// bus_url (here, in the caller's thread:
 * the supervisor's loop must not block on a name lookup) and picks this
 * start's origin. Returns 0 or NETFW_EADDRINFO (logged). */
static int bus_resolve(netfw_server *s) {
  struct addrinfo hints, *res;
  char host[256];

  s->bus_ip[0] = '\0';
  if (s->cfg.bus_url == NULL ||
      netfw__broker_parse_url(s->cfg.bus_url, host, sizeof(host),
                              &s->bus_port) != 0)
    return 0; /* "local" */
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0) {
    netfw_log(NETFW_LOG_ERROR, "bus: cannot resolve the broker host %s", host);
    return NETFW_EADDRINFO;
  }
  if (getnameinfo(res->ai_addr, res->ai_addrlen, s->bus_ip,
                  (socklen_t)sizeof(s->bus_ip), NULL, 0, NI_NUMERICHOST) != 0)
    s->bus_ip[0] = '\0';
  freeaddrinfo(res);
  if (s->bus_ip[0] == '\0')
    return NETFW_EADDRINFO;
  if (getrandom(&s->bus_origin, sizeof(s->bus_origin), 0) !=
      (ssize_t)sizeof(s->bus_origin))
    s->bus_origin = netfw__now_ms() ^ ((uint64_t)getpid() << 32);
  return 0;
}

static void release_run_state(netfw_server *s) {
  netfw__close_listeners(s);
  if (s->load != NULL)
    munmap(s->load, sizeof(*s->load) * (size_t)s->nworkers);
  s->load = NULL;
  free(s->slots);
  s->slots = NULL;
}

/* Logs the start and tells systemd (sd_notify): READY=1, every worker
 * accepts. */
static void announce_ready(const netfw_server *s) {
  char where[128], state[192];

  listener_name(s, where, sizeof(where));
  netfw_log(NETFW_LOG_INFO, "server started: %s, %d worker%s", where,
            s->nworkers, s->nworkers == 1 ? "" : "s");
  snprintf(state, sizeof(state), "READY=1\nSTATUS=serving %s, %d worker%s",
           where, s->nworkers, s->nworkers == 1 ? "" : "s");
  netfw__notify(state);
}

int netfw_server_start(netfw_server *s) {
  long ncpu;
  int i, err;

  if (s == NULL)
    return NETFW_EINVAL;
  if (s->state != NETFW__SRV_NEW)
    return NETFW_ESTATE;
  netfw__log_settle(); /* the workers inherit the log settings: one report */
  ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  s->nworkers =
      s->cfg.worker_num > 0 ? s->cfg.worker_num : (int)(ncpu > 0 ? ncpu : 1);
  s->slots = calloc((size_t)s->nworkers, sizeof(*s->slots));
  if (s->slots == NULL)
    return NETFW_ENOMEM;
  for (i = 0; i < s->nworkers; i++)
    s->slots[i].listen_fd = -1;
  s->load = mmap(NULL, sizeof(*s->load) * (size_t)s->nworkers,
                 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s->load == MAP_FAILED) {
    s->load = NULL;
    err = NETFW_ENOMEM;
    goto failed;
  }
  err = s->cfg.listen_fd >= 0 ? adopt_listener(s) : bind_all(s);
  if (err == 0)
    err = bus_resolve(s);
  if (err == 0)
    err = netfw__server_stats_start(s);
  if (err != 0)
    goto failed;
  s->parent_pid = getpid();
  s->watchdog_usec = netfw__watchdog_usec();
  err = netfw__supervisor_start(s);
  if (err != 0)
    goto failed;
  s->state = NETFW__SRV_RUNNING;
  netfw__server_publish(s, NETFW_RUN_RUNNING);
  announce_ready(s);
  return 0;

failed:
  i = errno;
  release_run_state(s);
  netfw__metrics_free(s->metrics);
  s->metrics = NULL;
  s->port = 0;
  errno = i;
  return err;
}

uint16_t netfw_server_port(const netfw_server *s) {
  return s != NULL && s->state != NETFW__SRV_NEW ? s->port : 0;
}

/* True in a worker (or any other fork) of the process that started s: the
 * supervisor thread and the workers belong to that process alone. */
static bool foreign(const netfw_server *s) {
  return s->state == NETFW__SRV_RUNNING && getpid() != s->parent_pid;
}

int netfw_server_stop(netfw_server *s, int timeout_ms) {
  if (s == NULL)
    return NETFW_EINVAL;
  if (s->state != NETFW__SRV_RUNNING || foreign(s))
    return NETFW_ESTATE;
  netfw__notify("STOPPING=1");
  netfw__supervisor_stop(s, timeout_ms < 0 ? -1 : timeout_ms);
  release_run_state(s);
  s->state = NETFW__SRV_STOPPED;
  netfw__server_publish(s, NETFW_RUN_STOPPED); /* a FAILED one stays so */
  return 0;
}

void netfw_server_free(netfw_server *s) {
  if (s == NULL)
    return;
  if (s->state == NETFW__SRV_RUNNING && !foreign(s))
    netfw_server_stop(s, -1);
  pthread_cond_destroy(&s->state_cv);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  netfw__server_stats_free(s);
  netfw__server_proxy_free(s);
  netfw__server_tls_free(s);
  free(s->bus_url);
  free(s->ip);
  free(s);
}

void netfw__server_publish(netfw_server *s, netfw_run_state to) {
  int cur;

  pthread_mutex_lock(&s->mu);
  cur = atomic_load(&s->run_state);
  if (cur != NETFW_RUN_FAILED && (int)to > cur)
    atomic_store(&s->run_state, (int)to);
  pthread_cond_broadcast(&s->state_cv);
  pthread_mutex_unlock(&s->mu);
}

netfw_run_state netfw_server_state(const netfw_server *s) {
  return s != NULL ? (netfw_run_state)atomic_load(&s->run_state)
                   : NETFW_RUN_NEW;
}

/* The CLOCK_MONOTONIC time timeout_ms from now. */
static struct timespec deadline_in(int timeout_ms) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* parent_pid is read only after RUNNING was seen under mu: start wrote it
 * before publishing RUNNING. In a fork (a worker) nothing would ever wake
 * the wait, so it returns at once there. */
int netfw_server_wait(netfw_server *s, int timeout_ms) {
  struct timespec until;
  int st;

  if (s == NULL || timeout_ms < -1)
    return NETFW_EINVAL;
  if (timeout_ms >= 0)
    until = deadline_in(timeout_ms);
  pthread_mutex_lock(&s->mu);
  for (;;) {
    st = atomic_load(&s->run_state);
    if (st != NETFW_RUN_RUNNING || getpid() != s->parent_pid || timeout_ms == 0)
      break;
    if (timeout_ms < 0)
      pthread_cond_wait(&s->state_cv, &s->mu);
    else if (pthread_cond_timedwait(&s->state_cv, &s->mu, &until) != 0)
      timeout_ms = 0; /* timed out: one last look at the state */
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

int netfw__server_keep_fd(netfw_server *s, int fd) {
  if (s->nkeep >= NETFW__KEEP_FDS_MAX)
    return NETFW_ENOMEM;
  s->keep_fds[s->nkeep++] = fd;
  return 0;
}
