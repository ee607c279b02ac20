/* baseline_echo: the hand-written epoll echo server netfw is measured
 * against. Same framing (6-byte little-endian header: u16 id, u32 size, then
 * the payload), same process model (W forked workers on one listen socket).
 *
 * It is meant to be the honest ceiling, so it does the obvious things and
 * nothing clever: per readiness event one read() into the connection's
 * buffer; every complete frame in it is echoed; one write() sends them all,
 * straight from the input buffer (an echo is the input itself). Bytes the
 * socket does not take stay where they are: reading pauses (EPOLLIN off,
 * EPOLLOUT on) until they are gone, which is the backpressure a real server
 * needs. Frame sizes are checked against --max-payload before the buffer
 * grows; an oversized frame closes the connection.
 *
 * Prints "listening on IP:PORT" (flushed) once the socket listens, so
 * scripts can start it with --port 0. SIGTERM/SIGINT stop the parent, which
 * stops the workers; workers also die with the parent (PR_SET_PDEATHSIG). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_WORKERS 256
#define BUF_INITIAL 65536
#define DEFAULT_MAX_PAYLOAD (16u * 1024 * 1024)

typedef struct conn {
  int fd;
  uint8_t *buf; /* [0, send_end) complete frames, [send_end, len) partial */
  size_t cap;
  size_t len;
  size_t send_start; /* echo bytes [send_start, send_end) not yet written */
  size_t send_end;
} conn;

static volatile sig_atomic_t stop_requested;
static uint32_t max_payload = DEFAULT_MAX_PAYLOAD;

/* Accept balance: open connections per worker, in memory shared by all
 * workers (one counter each, updated atomically). A worker with more than
 * the least loaded one steps aside for a moment instead of accepting, so a
 * burst of connections is spread evenly, as netfw's server does. */
static uint32_t *loads;
static unsigned long nworkers = 1, self;

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void conn_free(int epfd, conn *c) {
  __atomic_sub_fetch(&loads[self], 1, __ATOMIC_RELAXED);
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->buf);
  free(c);
}

/* Length of the run of complete frames at buf[from, len); -1 when a header
 * announces more than max_payload. *need receives the buffer size the first
 * incomplete frame needs (counted from from). */
static long long complete_frames(const uint8_t *buf, size_t from, size_t len,
                                 size_t *need) {
  size_t pos = from;

  *need = 0;
  while (len - pos >= BENCH_HDR_SIZE) {
    uint32_t size = bench_hdr_size(buf + pos);
    if (size > max_payload)
      return -1;
    if (len - pos - BENCH_HDR_SIZE < size) {
      *need = BENCH_HDR_SIZE + (size_t)size;
      break;
    }
    pos += BENCH_HDR_SIZE + (size_t)size;
  }
  return (long long)(pos - from);
}

static int conn_watch(int epfd, conn *c, uint32_t events) {
  struct epoll_event ev;

  ev.events = events;
  ev.data.ptr = c;
  return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes the pending echo. Returns 0 when all is written, 1 when the socket
 * is full (EPOLLOUT registered), -1 on error. */
static int conn_send(int epfd, conn *c) {
  while (c->send_start < c->send_end) {
    ssize_t n =
        write(c->fd, c->buf + c->send_start, c->send_end - c->send_start);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return conn_watch(epfd, c, EPOLLOUT) < 0 ? -1 : 1;
      return -1;
    }
    c->send_start += (size_t)n;
  }
  /* Everything echoed: move the partial frame to the front. */
  memmove(c->buf, c->buf + c->send_end, c->len - c->send_end);
  c->len -= c->send_end;
  c->send_start = c->send_end = 0;
  return 0;
}

/* One read, echo every complete frame with one write. Returns -1 when the
 * connection must close. */
static int conn_on_readable(int epfd, conn *c) {
  ssize_t n;
  long long done;
  size_t need;

  n = read(c->fd, c->buf + c->len, c->cap - c->len);
  if (n <= 0)
    return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  c->len += (size_t)n;
  done = complete_frames(c->buf, 0, c->len, &need);
  if (done < 0)
    return -1;
  if (need > c->cap) { /* a frame bigger than the buffer: grow, bounded */
    uint8_t *nb = realloc(c->buf, need);
    if (nb == NULL)
      return -1;
    c->buf = nb;
    c->cap = need;
  }
  if (done == 0)
    return 0;
  c->send_start = 0;
  c->send_end = (size_t)done;
  return conn_send(epfd, c) < 0 ? -1 : 0;
}

static int conn_on_writable(int epfd, conn *c) {
  int rc = conn_send(epfd, c);

  if (rc != 0)
    return rc < 0 ? -1 : 0;
  return conn_watch(epfd, c, EPOLLIN);
}

/* True when another worker holds fewer connections than this one. */
static bool should_step_aside(void) {
  uint32_t mine = __atomic_load_n(&loads[self], __ATOMIC_RELAXED);

  for (unsigned long w = 0; w < nworkers; w++)
    if (__atomic_load_n(&loads[w], __ATOMIC_RELAXED) < mine)
      return true;
  return false;
}

/* Accepts one connection per wake-up. Every worker watches the listening
 * socket (no EPOLLEXCLUSIVE) and takes one connection at a time; with the
 * step-aside rule above a burst of connections is spread over the workers
 * instead of landing on whichever woke first. The extra wake-ups happen
 * while connections open, not while the benchmark measures. */
static void accept_one(int epfd, int lfd) {
  struct epoll_event ev;
  int one = 1;
  conn *c;
  int fd;

  do
    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (fd < 0)
    return; /* EAGAIN (another worker took it) or out of descriptors */
  __atomic_add_fetch(&loads[self], 1, __ATOMIC_RELAXED);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c = calloc(1, sizeof(*c));
  if (c == NULL || (c->buf = malloc(BUF_INITIAL)) == NULL) {
    free(c);
    close(fd);
    __atomic_sub_fetch(&loads[self], 1, __ATOMIC_RELAXED);
    return;
  }
  c->fd = fd;
  c->cap = BUF_INITIAL;
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    free(c->buf);
    free(c);
    close(fd);
    __atomic_sub_fetch(&loads[self], 1, __ATOMIC_RELAXED);
  }
}

/* A worker's event loop; returns its exit status when asked to stop.
 * Connections still open then are closed by the exit. */
static int worker_run(int lfd, const sigset_t *waitmask) {
  enum { MAX_EVENTS = 256 };
  struct epoll_event evs[MAX_EVENTS], lev;
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  bool listening = false, stepped_aside = false;

  if (epfd < 0)
    return 1;
  lev.events = EPOLLIN;
  lev.data.ptr = NULL;
  while (!stop_requested) {
    int n;
    if (!listening && !stepped_aside) { /* (re)join the accepting workers */
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0)
        return 1;
      listening = true;
    }
    /* Stop signals stay blocked except inside epoll_pwait: none is lost
     * between the check above and the wait. After stepping aside, wake up
     * within a millisecond to listen again. */
    n = epoll_pwait(epfd, evs, MAX_EVENTS, stepped_aside ? 1 : -1, waitmask);
    stepped_aside = false;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      int rc;
      if (c == NULL) {
        if (should_step_aside()) {
          epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
          listening = false;
          stepped_aside = true;
        } else {
          accept_one(epfd, lfd);
        }
        continue;
      }
      if (c->send_end > c->send_start) /* EPOLLOUT (or an error) */
        rc = conn_on_writable(epfd, c);
      else
        rc = conn_on_readable(epfd, c);
      if (rc < 0)
        conn_free(epfd, c);
    }
  }
  return 0;
}

static int listen_on(const char *ip, uint16_t port, uint16_t *bound) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int one = 1;
  int fd;

  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
    fprintf(stderr, "baseline_echo: bad IPv4 address %s\n", ip);
    return -1;
  }
  fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    goto failed_socket;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(fd, 1024) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
    goto failed_bind;
  *bound = ntohs(sa.sin_port);
  return fd;

failed_bind:
  close(fd);
failed_socket:
  fprintf(stderr, "baseline_echo: listen on %s:%u: %s\n", ip, port,
          strerror(errno));
  return -1;
}

static void usage(FILE *f) {
  fprintf(f, "usage: baseline_echo [--ip IP] [--port P] [--workers W] "
             "[--max-payload BYTES]\n"
             "  defaults: --ip 127.0.0.1 --port 0 (any free port, printed) "
             "--workers 1\n");
}

int main(int argc, char **argv) {
  const char *ip = "127.0.0.1";
  unsigned long port = 0, workers = 1, maxp = DEFAULT_MAX_PAYLOAD;
  pid_t pids[MAX_WORKERS], parent = getpid();
  struct sigaction sa;
  sigset_t block, old;
  uint16_t bound;
  unsigned long alive = 0;
  int lfd, status = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (val == NULL) {
      usage(stderr);
      return 2;
    }
    i++;
    if (strcmp(a, "--ip") == 0)
      ip = val;
    else if (strcmp(a, "--port") == 0)
      bad = bench_parse_ulong(val, 0, 65535, &port);
    else if (strcmp(a, "--workers") == 0)
      bad = bench_parse_ulong(val, 1, MAX_WORKERS, &workers);
    else if (strcmp(a, "--max-payload") == 0)
      bad = bench_parse_ulong(val, 0, UINT32_MAX, &maxp);
    else
      bad = 1;
    if (bad) {
      fprintf(stderr, "baseline_echo: bad option %s %s\n", a, val);
      usage(stderr);
      return 2;
    }
  }

  max_payload = (uint32_t)maxp;
  signal(SIGPIPE, SIG_IGN);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_stop; /* no SA_RESTART: epoll_wait returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* Keep stop signals blocked outside sigsuspend so none is missed. */
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &old);
  signal(SIGCHLD, on_stop); /* a worker that dies wakes the parent too */

  lfd = listen_on(ip, (uint16_t)port, &bound);
  if (lfd < 0)
    return 1;
  nworkers = workers;
  loads = mmap(NULL, workers * sizeof(*loads), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (loads == MAP_FAILED) {
    fprintf(stderr, "baseline_echo: mmap: %s\n", strerror(errno));
    return 1;
  }
  for (unsigned long i = 0; i < workers; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      fprintf(stderr, "baseline_echo: fork: %s\n", strerror(errno));
      stop_requested = 1;
      break;
    }
    if (pid == 0) {
      self = i;
      signal(SIGCHLD, SIG_DFL);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) /* the parent died before prctl */
        _exit(0);
      _exit(worker_run(lfd, &old));
    }
    pids[alive++] = pid;
  }
  printf("listening on %s:%u\n", ip, bound);
  fflush(stdout);

  /* The parent waits for a stop signal or a worker's death. */
  while (!stop_requested)
    sigsuspend(&old);
  for (unsigned long i = 0; i < alive; i++)
    kill(pids[i], SIGTERM);
  for (unsigned long i = 0; i < alive; i++) {
    int ws;
    if (waitpid(pids[i], &ws, 0) == pids[i] &&
        !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) &&
        !(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM))
      status = 1;
  }
  close(lfd);
  return status;
}
