/* netfw-loadgen's connection engine (loadgen.h): the frames' contents and
 * their byte-for-byte check, the non-blocking connections, and the epoll
 * run with its warm-up, measured window and grace period. The command line
 * and the report are in loadgen.c. Plain C, epoll, one thread. */
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
#include "bench_tls.h"
#include "histogram.h"
#include "loadgen.h"
#include "proc_tree.h"

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
  SSL_free(c->ssl);
  c->ssl = NULL;
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

/* One write of what is queued on c, through TLS when c has it; write(2)'s
 * results. */
static ssize_t conn_write(conn *c) {
  const uint8_t *buf = c->out + c->out_start;
  size_t len = c->out_end - c->out_start;

  if (c->ssl == NULL)
    return write(c->fd, buf, len);
  return bench_tls_write("netfw-loadgen", c->ssl, buf, len);
}

/* Writes what is queued; registers EPOLLOUT for what the socket refuses. */
static void conn_flush(loadgen *lg, conn *c) {
  while (c->open && c->out_end > c->out_start) {
    ssize_t n = conn_write(c);
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

/* One read into c's input buffer (at most one TLS record's plaintext when
 * c has TLS); read(2)'s results. */
static ssize_t conn_read(const loadgen *lg, conn *c) {
  uint8_t *buf = c->in + c->in_len;
  size_t len = lg->in_cap - c->in_len;

  if (c->ssl == NULL)
    return read(c->fd, buf, len);
  return bench_tls_read("netfw-loadgen", c->ssl, buf, len, NULL);
}

/* One read, its echoes checked, new frames queued and written. Returns
 * false when there is nothing more to read now or c closed. */
static bool conn_read_once(loadgen *lg, conn *c) {
  ssize_t n = conn_read(lg, c);
  uint64_t now;

  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      conn_fail(lg, c, "read", errno);
    return false;
  }
  if (n == 0) {
    if (c->next_send != c->next_recv || c->in_len > 0 || lg->sending)
      conn_fail(lg, c, "closed by the server", 0);
    else
      conn_close(lg, c);
    return false;
  }
  c->in_len += (size_t)n;
  now = bench_now_ns();
  if (!conn_consume(lg, c, now))
    return false;
  conn_fill(lg, c, now);
  conn_flush(lg, c);
  return c->open;
}

/* Plaintext: one read per readiness event. TLS: reads on while OpenSSL
 * holds bytes it already took from the socket (epoll cannot see those). */
static void conn_on_readable(loadgen *lg, conn *c) {
  while (conn_read_once(lg, c) && c->ssl != NULL && SSL_has_pending(c->ssl))
    ;
}

/* Runs c's TLS handshake (bounded by CONNECT_TIMEOUT_MS); the first
 * connection's version and cipher are kept for the report. 0 or -1. */
static int conn_tls_start(loadgen *lg, conn *c) {
  char what[48];

  snprintf(what, sizeof(what), "connection %u", c->index);
  c->ssl = bench_tls_new("netfw-loadgen", lg->tls_ctx, c->fd);
  if (c->ssl == NULL || bench_tls_handshake("netfw-loadgen", c->ssl,
                                            CONNECT_TIMEOUT_MS, what) < 0)
    return -1;
  if (lg->tls_version == NULL) {
    lg->tls_version = SSL_get_version(c->ssl);
    lg->tls_cipher = SSL_get_cipher_name(c->ssl);
  }
  return 0;
}

/* ---- the run ------------------------------------------------------------- */

int setup(loadgen *lg) {
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
  if (lg->opt.tls) {
    lg->tls_ctx = bench_tls_client_ctx("netfw-loadgen", lg->opt.tls_ca,
                                       lg->opt.tls_ciphersuites);
    if (lg->tls_ctx == NULL)
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
    if (lg->tls_ctx != NULL && conn_tls_start(lg, c) < 0)
      goto failed;
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

void teardown(loadgen *lg) {
  if (lg->conns != NULL) {
    for (unsigned long i = 0; i < lg->opt.conns; i++) {
      conn *c = &lg->conns[i];
      SSL_free(c->ssl);
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
  SSL_CTX_free(lg->tls_ctx);
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

void run(loadgen *lg) {
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
