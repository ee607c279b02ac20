/* netfw-loadgen: an independent load generator for echo servers that speak
 * netfw's framing (6-byte little-endian header: u16 id, u32 size; payload).
 *
 * N connections each keep D frames of S payload bytes in flight. Every echo
 * is checked byte for byte against what was sent: the id, the size, a
 * per-connection sequence number and connection index at the front of the
 * payload (as much of them as the size allows) and a deterministic pattern
 * after them whose phase depends on the sequence number. After a warm-up of
 * W seconds it counts, for T seconds, the echoes received and their round
 * trip times (a log-linear histogram: p50/p99/p99.9, no averages); then it
 * stops sending, waits up to a grace period for what is still in flight and
 * reports. Any mismatch, loss or connection failure is an error: the exit
 * status is 1 when there was one.
 *
 * Plain C, epoll, one thread; it does not use netfw. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"
#include "histogram.h"
#include "proc_tree.h"

#define MAX_CONNS 100000
#define MAX_DEPTH 65536
#define MAX_SIZE (16u * 1024 * 1024)
#define PATTERN_PERIOD 251 /* prime: the phase cycles through all offsets */
#define SEQ_BYTES 8
#define IDX_BYTES 4
#define CONNECT_TIMEOUT_MS 5000

typedef struct options {
  const char *host;
  const char *port;
  unsigned long conns;
  unsigned long depth;
  unsigned long size;
  double seconds;
  double warmup;
  double grace;
  long fixed_id;   /* -1: the id follows the sequence number */
  long server_pid; /* 0: do not measure the server's CPU time */
  bool json;
} options;

typedef struct conn {
  int fd;
  uint32_t index;
  bool open;
  bool want_out;      /* EPOLLOUT is registered */
  uint64_t next_send; /* sequence number of the next frame to queue */
  uint64_t next_recv; /* sequence number of the next echo expected */
  uint64_t *sent_at;  /* send time of seq s at [s % depth] */
  uint8_t *out;       /* queued bytes [out_start, out_end) */
  size_t out_start;
  size_t out_end;
  uint8_t *in; /* received bytes [0, in_len) */
  size_t in_len;
} conn;

typedef struct loadgen {
  options opt;
  int epfd;
  conn *conns;
  uint8_t *pattern; /* PATTERN_PERIOD + size bytes */
  size_t frame_size;
  size_t out_cap;
  size_t in_cap;
  uint64_t warm_end;
  uint64_t meas_end;
  uint64_t hard_end;
  bool sending;
  /* results */
  hist rtt;
  uint64_t msgs;     /* echoes received inside the measured window */
  uint64_t total;    /* echoes received in the whole run */
  uint64_t mismatch; /* echoes that differ from what was sent */
  uint64_t lost;     /* frames never echoed */
  uint64_t conn_errors;
  unsigned long open_conns;
  /* CPU time over the measured window: the server's tree and our own */
  long *server_pids;
  int server_npids;
  double server_cpu0, server_cpu1;
  double self_cpu0, self_cpu1;
  bool window_started, window_ended;
} loadgen;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: netfw-loadgen [--host IP] --port P [--conns N] [--depth D]\n"
          "                     [--size S] [--seconds T] [--warmup W]\n"
          "                     [--grace G] [--id ID] [--json]\n"
          "  --conns N    connections (default 1)\n"
          "  --depth D    frames in flight per connection (default 1)\n"
          "  --size S     payload bytes per frame (default 64)\n"
          "  --seconds T  measured time after the warm-up (default 5)\n"
          "  --warmup W   seconds not measured at the start (default 1)\n"
          "  --grace G    seconds to wait for echoes still in flight (default "
          "5)\n"
          "  --id ID      send every frame with this id (default: the id "
          "follows the sequence number)\n"
          "  --server-pid PID  also report the CPU time the server (PID and "
          "its children) spent per echo in the measured window\n"
          "  --json       print the result as one JSON object\n"
          "Exit status: 0 all echoes verified, 1 errors (mismatch, loss, "
          "connection), 2 usage.\n");
}

static int parse_args(int argc, char **argv, options *o) {
  unsigned long v = 0;

  memset(o, 0, sizeof(*o));
  o->host = "127.0.0.1";
  o->conns = 1;
  o->depth = 1;
  o->size = 64;
  o->seconds = 5;
  o->warmup = 1;
  o->grace = 5;
  o->fixed_id = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;

    if (strcmp(a, "--json") == 0) {
      o->json = true;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (val == NULL) {
      fprintf(stderr, "netfw-loadgen: %s needs a value\n", a);
      return -1;
    }
    i++;
    if (strcmp(a, "--host") == 0)
      o->host = val;
    else if (strcmp(a, "--port") == 0) {
      bad = bench_parse_ulong(val, 1, 65535, &v);
      o->port = val;
    } else if (strcmp(a, "--conns") == 0)
      bad = bench_parse_ulong(val, 1, MAX_CONNS, &o->conns);
    else if (strcmp(a, "--depth") == 0)
      bad = bench_parse_ulong(val, 1, MAX_DEPTH, &o->depth);
    else if (strcmp(a, "--size") == 0)
      bad = bench_parse_ulong(val, 0, MAX_SIZE, &o->size);
    else if (strcmp(a, "--seconds") == 0)
      bad = bench_parse_seconds(val, 86400, &o->seconds);
    else if (strcmp(a, "--warmup") == 0)
      bad = bench_parse_seconds(val, 3600, &o->warmup);
    else if (strcmp(a, "--grace") == 0)
      bad = bench_parse_seconds(val, 3600, &o->grace);
    else if (strcmp(a, "--server-pid") == 0) {
      bad = bench_parse_ulong(val, 1, 1ul << 30, &v);
      o->server_pid = (long)v;
    } else if (strcmp(a, "--id") == 0) {
      bad = bench_parse_ulong(val, 0, 65535, &v);
      o->fixed_id = (long)v;
    } else {
      fprintf(stderr, "netfw-loadgen: unknown option %s\n", a);
      return -1;
    }
    if (bad) {
      fprintf(stderr, "netfw-loadgen: bad value for %s: %s\n", a, val);
      return -1;
    }
  }
  if (o->port == NULL) {
    fprintf(stderr, "netfw-loadgen: --port is required\n");
    return -1;
  }
  if (o->seconds <= 0) {
    fprintf(stderr, "netfw-loadgen: --seconds must be > 0\n");
    return -1;
  }
  if ((double)o->depth * (double)(o->size + BENCH_HDR_SIZE) > 1e9) {
    fprintf(stderr, "netfw-loadgen: depth x size over 1 GB per connection\n");
    return -1;
  }
  return 0;
}

/* ---- frame contents ------------------------------------------------------ */

static uint16_t frame_id(const loadgen *lg, uint64_t seq) {
  return lg->opt.fixed_id >= 0 ? (uint16_t)lg->opt.fixed_id : (uint16_t)seq;
}

/* The bytes at the front of the payload: seq (u64 LE) then the connection
 * index (u32 LE), cut to the payload size. */
static size_t stamp(uint8_t *out, size_t size, uint64_t seq, uint32_t index) {
  uint8_t tmp[SEQ_BYTES + IDX_BYTES];
  size_t n = size < sizeof(tmp) ? size : sizeof(tmp);

  for (int i = 0; i < SEQ_BYTES; i++)
    tmp[i] = (uint8_t)(seq >> (8 * i));
  for (int i = 0; i < IDX_BYTES; i++)
    tmp[SEQ_BYTES + i] = (uint8_t)(index >> (8 * i));
  memcpy(out, tmp, n);
  return n;
}

static const uint8_t *pattern_at(const loadgen *lg, uint64_t seq,
                                 uint32_t index) {
  return lg->pattern + (seq + (uint64_t)index * 7) % PATTERN_PERIOD;
}

static void frame_write(const loadgen *lg, const conn *c, uint64_t seq,
                        uint8_t *out) {
  size_t size = lg->opt.size;
  size_t n;

  bench_hdr_pack(out, frame_id(lg, seq), (uint32_t)size);
  out += BENCH_HDR_SIZE;
  n = stamp(out, size, seq, c->index);
  memcpy(out + n, pattern_at(lg, seq, c->index) + n, size - n);
}

/* True when buf holds exactly the frame c sent as seq (header included). */
static bool frame_check(const loadgen *lg, const conn *c, uint64_t seq,
                        const uint8_t *buf) {
  size_t size = lg->opt.size;
  uint8_t front[SEQ_BYTES + IDX_BYTES];
  size_t n;

  if (bench_hdr_id(buf) != frame_id(lg, seq) || bench_hdr_size(buf) != size)
    return false;
  buf += BENCH_HDR_SIZE;
  n = stamp(front, size, seq, c->index);
  if (memcmp(buf, front, n) != 0)
    return false;
  return memcmp(buf + n, pattern_at(lg, seq, c->index) + n, size - n) == 0;
}

/* ---- connections --------------------------------------------------------- */

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Connects to ai with a bounded wait; returns a non-blocking socket or -1. */
static int connect_one(const struct addrinfo *ai) {
  int one = 1, err = 0;
  socklen_t len = sizeof(err);
  struct pollfd p;
  int fd =
      socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

  if (fd < 0)
    return -1;
  if (set_nonblock(fd) < 0)
    goto failed;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
    return fd;
  if (errno != EINPROGRESS)
    goto failed;
  p.fd = fd;
  p.events = POLLOUT;
  if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1) {
    errno = ETIMEDOUT;
    goto failed;
  }
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    goto failed;
  if (err != 0) {
    errno = err;
    goto failed;
  }
  return fd;

failed:
  err = errno;
  close(fd);
  errno = err;
  return -1;
}

static void conn_close(loadgen *lg, conn *c) {
  if (!c->open)
    return;
  epoll_ctl(lg->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->open = false;
  lg->open_conns--;
}

/* A connection that failed: its frames in flight are lost. */
static void conn_fail(loadgen *lg, conn *c, const char *what, int err) {
  fprintf(stderr, "netfw-loadgen: connection %u: %s%s%s\n", c->index, what,
          err ? ": " : "", err ? strerror(err) : "");
  lg->conn_errors++;
  lg->lost += c->next_send - c->next_recv;
  c->next_recv = c->next_send;
  conn_close(lg, c);
}

static void conn_set_out(loadgen *lg, conn *c, bool want) {
  struct epoll_event ev;

  if (c->want_out == want)
    return;
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (epoll_ctl(lg->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
    conn_fail(lg, c, "epoll_ctl", errno);
    return;
  }
  c->want_out = want;
}

/* Queues frames until depth are in flight (while sending is on), stamping
 * their send time with now. */
static void conn_fill(loadgen *lg, conn *c, uint64_t now) {
  size_t fs = lg->frame_size;

  if (!lg->sending)
    return;
  while (c->next_send - c->next_recv < lg->opt.depth) {
    if (lg->out_cap - c->out_end < fs) {
      size_t pending = c->out_end - c->out_start;
      memmove(c->out, c->out + c->out_start, pending);
      c->out_start = 0;
      c->out_end = pending;
    }
    frame_write(lg, c, c->next_send, c->out + c->out_end);
    c->out_end += fs;
    c->sent_at[c->next_send % lg->opt.depth] = now;
    c->next_send++;
  }
}

/* Writes what is queued; registers EPOLLOUT for what the socket refuses. */
static void conn_flush(loadgen *lg, conn *c) {
  while (c->open && c->out_end > c->out_start) {
    ssize_t n = write(c->fd, c->out + c->out_start, c->out_end - c->out_start);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        conn_set_out(lg, c, true);
        return;
      }
      conn_fail(lg, c, "write", errno);
      return;
    }
    c->out_start += (size_t)n;
  }
  if (!c->open)
    return;
  c->out_start = c->out_end = 0;
  conn_set_out(lg, c, false);
}

/* Checks and counts every complete echo in the input buffer. Returns false
 * when the stream went wrong (the connection is then closed). */
static bool conn_consume(loadgen *lg, conn *c, uint64_t now) {
  size_t pos = 0, fs = lg->frame_size;

  while (c->in_len - pos >= BENCH_HDR_SIZE) {
    const uint8_t *f = c->in + pos;
    uint64_t seq = c->next_recv;
    uint64_t rtt;

    if (seq == c->next_send || bench_hdr_size(f) != lg->opt.size) {
      lg->mismatch++;
      conn_fail(lg, c,
                seq == c->next_send ? "unexpected extra frame"
                                    : "echo with a wrong size",
                0);
      return false;
    }
    if (c->in_len - pos < fs)
      break;
    if (!frame_check(lg, c, seq, f)) {
      lg->mismatch++;
      fprintf(stderr,
              "netfw-loadgen: connection %u: echo of frame %llu differs "
              "from what was sent\n",
              c->index, (unsigned long long)seq);
      c->next_recv++;
      conn_fail(lg, c, "stream no longer trusted", 0);
      return false;
    }
    rtt = now - c->sent_at[seq % lg->opt.depth];
    c->next_recv++;
    lg->total++;
    if (now >= lg->warm_end && now < lg->meas_end) {
      lg->msgs++;
      hist_record(&lg->rtt, rtt);
    }
    pos += fs;
  }
  if (pos > 0) {
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
  }
  return true;
}

static void conn_on_readable(loadgen *lg, conn *c) {
  ssize_t n;
  uint64_t now;

  n = read(c->fd, c->in + c->in_len, lg->in_cap - c->in_len);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      conn_fail(lg, c, "read", errno);
    return;
  }
  if (n == 0) {
    if (c->next_send != c->next_recv || c->in_len > 0 || lg->sending)
      conn_fail(lg, c, "closed by the server", 0);
    else
      conn_close(lg, c);
    return;
  }
  c->in_len += (size_t)n;
  now = bench_now_ns();
  if (!conn_consume(lg, c, now))
    return;
  conn_fill(lg, c, now);
  conn_flush(lg, c);
}

/* ---- the run ------------------------------------------------------------- */

static int setup(loadgen *lg) {
  struct addrinfo hints, *res;
  int rc;

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(lg->opt.host, lg->opt.port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "netfw-loadgen: %s: %s\n", lg->opt.host, gai_strerror(rc));
    return -1;
  }
  lg->frame_size = BENCH_HDR_SIZE + lg->opt.size;
  lg->out_cap = lg->frame_size * lg->opt.depth;
  /* Room for every echo that can be pending (depth frames) but at least two
   * frames and 4 KiB, at most 256 KiB unless one frame needs more. */
  lg->in_cap = lg->out_cap < 256 * 1024 ? lg->out_cap : 256 * 1024;
  if (lg->in_cap < 2 * lg->frame_size)
    lg->in_cap = 2 * lg->frame_size;
  if (lg->in_cap < 4096)
    lg->in_cap = 4096;
  lg->pattern = malloc(PATTERN_PERIOD + lg->opt.size);
  lg->conns = calloc(lg->opt.conns, sizeof(conn));
  lg->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (lg->pattern == NULL || lg->conns == NULL || lg->epfd < 0) {
    fprintf(stderr, "netfw-loadgen: out of memory or epoll: %s\n",
            strerror(errno));
    goto failed;
  }
  for (size_t i = 0; i < PATTERN_PERIOD + lg->opt.size; i++)
    lg->pattern[i] = (uint8_t)((i * 131u + 17u) ^ (i >> 8));
  for (unsigned long i = 0; i < lg->opt.conns; i++) {
    conn *c = &lg->conns[i];
    struct epoll_event ev;

    c->index = (uint32_t)i;
    c->fd = -1;
    c->sent_at = malloc(lg->opt.depth * sizeof(uint64_t));
    c->out = malloc(lg->out_cap);
    c->in = malloc(lg->in_cap);
    if (c->sent_at == NULL || c->out == NULL || c->in == NULL) {
      fprintf(stderr, "netfw-loadgen: out of memory\n");
      goto failed;
    }
    c->fd = connect_one(res);
    if (c->fd < 0) {
      fprintf(stderr, "netfw-loadgen: connect %s:%s (connection %lu): %s\n",
              lg->opt.host, lg->opt.port, i, strerror(errno));
      goto failed;
    }
    c->open = true;
    lg->open_conns++;
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(lg->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
      fprintf(stderr, "netfw-loadgen: epoll_ctl: %s\n", strerror(errno));
      goto failed;
    }
  }
  freeaddrinfo(res);
  if (lg->opt.server_pid > 0) {
    /* The tree is read once here; in the window only its processes' stat
     * files are read (cheap), at its two ends. */
    lg->server_pids = malloc(PROC_TREE_MAX * sizeof(long));
    if (lg->server_pids == NULL)
      return -1;
    lg->server_npids =
        proc_tree(lg->opt.server_pid, lg->server_pids, PROC_TREE_MAX);
    if (lg->server_npids < 0) {
      fprintf(stderr, "netfw-loadgen: no process %ld\n", lg->opt.server_pid);
      return -1;
    }
  }
  return 0;

failed:
  freeaddrinfo(res);
  return -1;
}

static void teardown(loadgen *lg) {
  if (lg->conns != NULL) {
    for (unsigned long i = 0; i < lg->opt.conns; i++) {
      conn *c = &lg->conns[i];
      if (c->open)
        close(c->fd);
      free(c->sent_at);
      free(c->out);
      free(c->in);
    }
  }
  free(lg->conns);
  free(lg->pattern);
  free(lg->server_pids);
  if (lg->epfd >= 0)
    close(lg->epfd);
}

static unsigned long in_flight(const loadgen *lg) {
  unsigned long n = 0;

  for (unsigned long i = 0; i < lg->opt.conns; i++)
    if (lg->conns[i].open)
      n += (unsigned long)(lg->conns[i].next_send - lg->conns[i].next_recv);
  return n;
}

static double self_cpu_seconds(void) {
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Reads the CPU clocks when the measured window opens and closes. */
static void window_marks(loadgen *lg, uint64_t now) {
  if (!lg->window_started && now >= lg->warm_end) {
    lg->window_started = true;
    lg->self_cpu0 = self_cpu_seconds();
    if (lg->server_pids != NULL)
      lg->server_cpu0 = proc_cpu_seconds(lg->server_pids, lg->server_npids);
  }
  if (!lg->window_ended && now >= lg->meas_end) {
    lg->window_ended = true;
    lg->self_cpu1 = self_cpu_seconds();
    if (lg->server_pids != NULL)
      lg->server_cpu1 = proc_cpu_seconds(lg->server_pids, lg->server_npids);
  }
}

/* Milliseconds from now until t (at least 0, rounded up). */
static int ms_until(uint64_t now, uint64_t t) {
  return t <= now ? 0 : (int)((t - now + 999999) / 1000000);
}

static void run(loadgen *lg) {
  enum { MAX_EVENTS = 256 };
  struct epoll_event evs[MAX_EVENTS];
  uint64_t start = bench_now_ns();

  lg->warm_end = start + (uint64_t)(lg->opt.warmup * 1e9);
  lg->meas_end = lg->warm_end + (uint64_t)(lg->opt.seconds * 1e9);
  lg->hard_end = lg->meas_end + (uint64_t)(lg->opt.grace * 1e9);
  lg->sending = true;
  for (unsigned long i = 0; i < lg->opt.conns; i++) {
    conn_fill(lg, &lg->conns[i], start);
    conn_flush(lg, &lg->conns[i]);
  }
  for (;;) {
    uint64_t now = bench_now_ns();
    int n, timeout;

    if (interrupted) {
      fprintf(stderr, "netfw-loadgen: interrupted\n");
      lg->conn_errors++;
      break;
    }
    window_marks(lg, now);
    if (lg->sending && now >= lg->meas_end)
      lg->sending = false;
    if (!lg->sending && (in_flight(lg) == 0 || now >= lg->hard_end))
      break;
    if (lg->open_conns == 0)
      break;
    timeout = ms_until(now, !lg->window_started ? lg->warm_end
                            : lg->sending       ? lg->meas_end
                                                : lg->hard_end);
    n = epoll_wait(lg->epfd, evs, MAX_EVENTS, timeout);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fprintf(stderr, "netfw-loadgen: epoll_wait: %s\n", strerror(errno));
      lg->conn_errors++;
      break;
    }
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c->open)
        continue;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        conn_on_readable(lg, c);
      if (c->open && (evs[i].events & EPOLLOUT))
        conn_flush(lg, c);
    }
  }
  /* Whatever is still in flight now never came back; bytes received that
   * are not part of an expected echo are a mismatch. */
  for (unsigned long i = 0; i < lg->opt.conns; i++) {
    conn *c = &lg->conns[i];
    if (c->open && c->next_send == c->next_recv && c->in_len > 0) {
      fprintf(stderr,
              "netfw-loadgen: connection %u: %zu unexpected byte(s) after "
              "the last echo\n",
              c->index, c->in_len);
      lg->mismatch++;
    }
    if (c->open && c->next_send != c->next_recv) {
      fprintf(stderr,
              "netfw-loadgen: connection %u: %llu frame(s) not echoed "
              "within the grace period\n",
              c->index, (unsigned long long)(c->next_send - c->next_recv));
      lg->lost += c->next_send - c->next_recv;
    }
  }
}

static void report(const loadgen *lg) {
  const options *o = &lg->opt;
  double rate = (double)lg->msgs / o->seconds;
  double mbps = rate * (double)o->size / 1e6;
  double p50 = (double)hist_quantile(&lg->rtt, 0.50) / 1e3;
  double p99 = (double)hist_quantile(&lg->rtt, 0.99) / 1e3;
  double p999 = (double)hist_quantile(&lg->rtt, 0.999) / 1e3;
  uint64_t errors = lg->mismatch + lg->lost + lg->conn_errors;
  bool window = lg->window_ended;
  double self_util = window ? (lg->self_cpu1 - lg->self_cpu0) / o->seconds : 0;
  double srv_cpu = window ? lg->server_cpu1 - lg->server_cpu0 : 0;
  double srv_us = lg->msgs > 0 ? srv_cpu * 1e6 / (double)lg->msgs : 0;
  bool srv = window && lg->server_pids != NULL;

  if (o->json) {
    printf("{\"conns\":%lu,\"depth\":%lu,\"size\":%lu,\"seconds\":%.3f,"
           "\"warmup\":%.3f,\"msgs\":%llu,\"msgs_per_s\":%.1f,"
           "\"mb_per_s\":%.3f,\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f,"
           "\"rtt_p999_us\":%.1f,\"rtt_max_us\":%.1f,\"echoes_total\":%llu,"
           "\"mismatches\":%llu,\"lost\":%llu,\"conn_errors\":%llu,"
           "\"errors\":%llu,\"loadgen_cpu_util\":%.3f",
           o->conns, o->depth, o->size, o->seconds, o->warmup,
           (unsigned long long)lg->msgs, rate, mbps, p50, p99, p999,
           (double)lg->rtt.max / 1e3, (unsigned long long)lg->total,
           (unsigned long long)lg->mismatch, (unsigned long long)lg->lost,
           (unsigned long long)lg->conn_errors, (unsigned long long)errors,
           self_util);
    if (srv)
      printf(",\"server_cpu_s\":%.3f,\"server_cpu_util\":%.3f,"
             "\"server_cpu_us_per_msg\":%.3f",
             srv_cpu, srv_cpu / o->seconds, srv_us);
    printf("}\n");
  } else {
    printf("netfw-loadgen %s:%s  %lu conns x depth %lu x %lu B, %.1f s after "
           "%.1f s warm-up\n",
           o->host, o->port, o->conns, o->depth, o->size, o->seconds,
           o->warmup);
    printf("  throughput  %.0f msgs/s  %.2f MB/s (payload echoed)\n", rate,
           mbps);
    printf("  RTT         p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f "
           "us\n",
           p50, p99, p999, (double)lg->rtt.max / 1e3);
    printf("  verified    %llu echoes (%llu measured); errors %llu "
           "(mismatch %llu, lost %llu, connection %llu)\n",
           (unsigned long long)lg->total, (unsigned long long)lg->msgs,
           (unsigned long long)errors, (unsigned long long)lg->mismatch,
           (unsigned long long)lg->lost, (unsigned long long)lg->conn_errors);
    printf("  CPU         load generator %.0f %% of a core", self_util * 100);
    if (srv)
      printf("; server %.2f s = %.0f %% of a core, %.3f us per echo", srv_cpu,
             srv_cpu / o->seconds * 100, srv_us);
    printf("\n");
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  static loadgen lg; /* the histogram is large: keep it off the stack */
  struct sigaction sa;
  int rc;

  if (parse_args(argc, argv, &lg.opt) < 0) {
    usage(stderr);
    return 2;
  }
  lg.epfd = -1;
  signal(SIGPIPE, SIG_IGN);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  hist_init(&lg.rtt);
  if (setup(&lg) < 0) {
    teardown(&lg);
    return 1;
  }
  run(&lg);
  report(&lg);
  rc = lg.mismatch + lg.lost + lg.conn_errors == 0 && lg.msgs > 0 ? 0 : 1;
  if (lg.msgs == 0 && rc != 0 && lg.mismatch + lg.lost + lg.conn_errors == 0)
    fprintf(stderr, "netfw-loadgen: no echo arrived in the measured window\n");
  teardown(&lg);
  return rc;
}
