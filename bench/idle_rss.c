/* idle-rss: memory a server spends per idle connection.
 *
 * Reads the resident set size (VmRSS) of the server's process tree (the
 * process given by --pid and all its descendants: a prefork server's
 * workers), opens N connections, echoes one small frame on each (which also
 * proves the server accepted it), lets the server settle, and reads the RSS
 * again. The report is (after - before) / N bytes per connection, for the
 * moment the connections were opened ("connected") and after their one
 * echo ("after one echo"). Kernel socket buffers are not part of RSS and not
 * counted.
 *
 * With --tls each connection completes a TLS 1.3 handshake (OpenSSL,
 * bench_tls.c) right after its connect, so "connected" is after the
 * handshake, and the echo travels in TLS records. One TLS connection is
 * opened, echoed and closed before the first reading, so that what the
 * server allocates once for its first handshake is not counted.
 *
 * Connections are spread over several 127.0.0.x source addresses
 * (--sources) so that 10 000 or more do not run out of ephemeral ports.
 *
 * Measure a freshly started server: right after another run its RSS still
 * moves while it tears down the previous connections, and memory its
 * allocator kept from them makes the figure meaningless. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_tls.h"
#include "proc_tree.h"

#define BATCH 256 /* connections pinged at a time */
#define PING_SIZE 16

typedef struct options {
  const char *host;
  unsigned long port;
  unsigned long pid;
  unsigned long conns;
  unsigned long sources;
  double settle;
  bool json;
  bool tls;
  const char *tls_ca;
} options;

/* The connections: sockets, and their TLS state when --tls. */
typedef struct conns {
  int *fds;
  SSL **ssls; /* NULL without --tls */
  SSL_CTX *ctx;
} conns;

/* Sum of VmRSS over root and its descendants, in KiB (-1 if root is gone).
 * *nprocs receives how many processes were counted. */
static long tree_rss_kib(long root, int *nprocs) {
  static long tree[PROC_TREE_MAX];
  int nt = proc_tree(root, tree, PROC_TREE_MAX);
  long total = 0;

  if (nt < 0)
    return -1;
  for (int t = 0; t < nt; t++) {
    long kib = proc_rss_kib(tree[t]);
    if (kib < 0 && t == 0)
      return -1;
    if (kib > 0)
      total += kib;
  }
  *nprocs = nt;
  return total;
}

/* ---- connections ------------------------------------------------------------
 */

static int open_conn(const options *o, unsigned long i) {
  struct sockaddr_in src, dst;
  int one = 1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct timeval tv = {5, 0};

  if (fd < 0)
    return -1;
  memset(&src, 0, sizeof(src));
  src.sin_family = AF_INET;
  /* 127.0.0.1, 127.0.0.2, ...: the port is picked at connect time per
   * 4-tuple, so each source address has the whole ephemeral range. */
  src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + (uint32_t)(i % o->sources));
#ifdef IP_BIND_ADDRESS_NO_PORT
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  dst.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->host, &dst.sin_addr) != 1 ||
      bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
      connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

static void ping_frame(uint8_t *f, unsigned long i) {
  bench_hdr_pack(f, (uint16_t)i, PING_SIZE);
  for (int k = 0; k < PING_SIZE; k++)
    f[BENCH_HDR_SIZE + k] = (uint8_t)(i >> (8 * (k % 4))) ^ (uint8_t)k;
}

/* Writes len bytes on connection i (TLS or not); write(2)'s results. */
static ssize_t conn_write(const conns *cs, unsigned long i, const void *buf,
                          size_t len) {
  if (cs->ssls == NULL)
    return write(cs->fds[i], buf, len);
  return bench_tls_write("idle-rss", cs->ssls[i], buf, len);
}

/* Reads up to len bytes from connection i (TLS or not); read(2)'s
 * results (a receive timeout is EAGAIN). */
static ssize_t conn_read(const conns *cs, unsigned long i, void *buf,
                         size_t len) {
  if (cs->ssls == NULL)
    return read(cs->fds[i], buf, len);
  return bench_tls_read("idle-rss", cs->ssls[i], buf, len, NULL);
}

/* Sends one frame on each of connections [from, to), then reads and checks
 * every echo. Returns 0 or -1. */
static int ping_batch(const conns *cs, unsigned long from, unsigned long to) {
  uint8_t f[BENCH_HDR_SIZE + PING_SIZE], in[sizeof(f)];

  for (unsigned long i = from; i < to; i++) {
    ping_frame(f, i);
    if (conn_write(cs, i, f, sizeof(f)) != (ssize_t)sizeof(f)) {
      fprintf(stderr, "idle-rss: write on connection %lu: %s\n", i,
              strerror(errno));
      return -1;
    }
  }
  for (unsigned long i = from; i < to; i++) {
    size_t got = 0;
    while (got < sizeof(in)) {
      ssize_t n = conn_read(cs, i, in + got, sizeof(in) - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        fprintf(stderr, "idle-rss: no echo on connection %lu: %s\n", i,
                n == 0 ? "closed by the server" : strerror(errno));
        return -1;
      }
      got += (size_t)n;
    }
    ping_frame(f, i);
    if (memcmp(in, f, sizeof(f)) != 0) {
      fprintf(stderr, "idle-rss: wrong echo on connection %lu\n", i);
      return -1;
    }
  }
  return 0;
}

static int parse_args(int argc, char **argv, options *o) {
  o->host = "127.0.0.1";
  o->port = 0;
  o->pid = 0;
  o->conns = 10000;
  o->sources = 0;
  o->settle = 1.0;
  o->json = false;
  o->tls = false;
  o->tls_ca = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (strcmp(a, "--json") == 0) {
      o->json = true;
      continue;
    }
    if (strcmp(a, "--tls") == 0) {
      o->tls = true;
      continue;
    }
    if (val == NULL)
      return -1;
    i++;
    if (strcmp(a, "--host") == 0)
      o->host = val;
    else if (strcmp(a, "--port") == 0)
      bad = bench_parse_ulong(val, 1, 65535, &o->port);
    else if (strcmp(a, "--pid") == 0)
      bad = bench_parse_ulong(val, 1, 1ul << 30, &o->pid);
    else if (strcmp(a, "--conns") == 0)
      bad = bench_parse_ulong(val, 1, 1000000, &o->conns);
    else if (strcmp(a, "--sources") == 0)
      bad = bench_parse_ulong(val, 1, 250, &o->sources);
    else if (strcmp(a, "--settle") == 0)
      bad = bench_parse_seconds(val, 60, &o->settle);
    else if (strcmp(a, "--tls-ca") == 0) {
      o->tls_ca = val;
      o->tls = true;
    } else
      return -1;
    if (bad)
      return -1;
  }
  if (o->sources == 0)
    o->sources = 1 + o->conns / 4000; /* room for TIME_WAIT of past runs */
  return o->port == 0 || o->pid == 0 ? -1 : 0;
}

static void settle(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* Opens connection i into cs (and runs its TLS handshake with --tls).
 * Returns 0, or -1 (reported). */
static int open_one(const options *o, conns *cs, unsigned long i) {
  char what[48];

  cs->fds[i] = open_conn(o, i);
  if (cs->fds[i] < 0) {
    fprintf(stderr, "idle-rss: connection %lu: %s\n", i, strerror(errno));
    return -1;
  }
  if (cs->ssls == NULL)
    return 0;
  snprintf(what, sizeof(what), "connection %lu", i);
  cs->ssls[i] = bench_tls_new("idle-rss", cs->ctx, cs->fds[i]);
  if (cs->ssls[i] == NULL)
    return -1;
  return bench_tls_handshake("idle-rss", cs->ssls[i], 5000, what);
}

/* Closes connections [0, n) of cs. */
static void close_all(conns *cs, unsigned long n) {
  for (unsigned long i = 0; i < n; i++) {
    if (cs->ssls != NULL)
      SSL_free(cs->ssls[i]);
    if (cs->fds[i] >= 0)
      close(cs->fds[i]);
  }
}

/* With --tls: one connection handshaken, echoed and closed, so that the
 * server's one-time TLS set-up is behind us. 0 or -1. */
static int tls_warmup(const options *o, conns *cs) {
  int fd = -1;
  SSL *ssl = NULL;
  conns one = {&fd, &ssl, cs->ctx};
  int rc = open_one(o, &one, 0) == 0 && ping_batch(&one, 0, 1) == 0 ? 0 : -1;

  close_all(&one, 1);
  settle(o->settle);
  return rc;
}

/* Prints the result (JSON or text). */
static void report(const options *o, int nproc, long before, long connected,
                   long after) {
  double per_conn = (double)(connected - before) * 1024 / (double)o->conns;
  double per_echo = (double)(after - before) * 1024 / (double)o->conns;

  if (o->json)
    printf("{\"conns\":%lu,\"tls\":%d,\"processes\":%d,\"rss_before_kib\":%ld,"
           "\"rss_connected_kib\":%ld,\"rss_after_kib\":%ld,"
           "\"bytes_per_conn\":%.0f,\"bytes_per_conn_after_echo\":%.0f}\n",
           o->conns, o->tls, nproc, before, connected, after, per_conn,
           per_echo);
  else
    printf("idle-rss: %lu %sconnections to pid %lu (%d processes)\n"
           "  RSS before %ld KiB, connected %ld KiB, after one echo each "
           "%ld KiB\n"
           "  per connection: %.0f B connected, %.0f B after one echo\n",
           o->conns, o->tls ? "TLS " : "", o->pid, nproc, before, connected,
           after, per_conn, per_echo);
}

/* Raises the descriptor limit to its hard limit; -1 (reported) when n
 * connections still do not fit. */
static int raise_fd_limit(unsigned long n) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 16) {
    fprintf(stderr,
            "idle-rss: %lu connections need more descriptors than "
            "the limit %lu (ulimit -n)\n",
            n, (unsigned long)rl.rlim_cur);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  conns cs = {NULL, NULL, NULL};
  long before, connected, after;
  int nproc = 0;
  unsigned long opened = 0;
  int rc = 1;

  if (parse_args(argc, argv, &o) < 0) {
    fprintf(stderr, "usage: idle-rss --port P --pid SERVER_PID [--host IP] "
                    "[--conns N] [--sources K] [--settle S] [--tls] "
                    "[--tls-ca FILE] [--json]\n");
    return 2;
  }
  if (raise_fd_limit(o.conns) < 0)
    return 1;
  cs.fds = malloc(o.conns * sizeof(int));
  if (o.tls) {
    cs.ssls = calloc(o.conns, sizeof(SSL *));
    cs.ctx = bench_tls_client_ctx("idle-rss", o.tls_ca, NULL);
    if (cs.ctx != NULL) /* our own memory: buffers only while in use */
      SSL_CTX_set_mode(cs.ctx, SSL_MODE_RELEASE_BUFFERS);
  }
  if (cs.fds == NULL || (o.tls && (cs.ssls == NULL || cs.ctx == NULL)))
    goto done;
  if (o.tls && tls_warmup(&o, &cs) < 0)
    goto done;
  before = tree_rss_kib((long)o.pid, &nproc);
  if (before < 0) {
    fprintf(stderr, "idle-rss: no process %lu\n", o.pid);
    goto done;
  }
  /* Open them all (a full listen backlog only slows connect down: the
   * kernel retries the SYN), settle, read; then one echo on each. */
  for (opened = 0; opened < o.conns; opened++)
    if (open_one(&o, &cs, opened) < 0) {
      opened++; /* its socket is open */
      goto done;
    }
  settle(o.settle);
  connected = tree_rss_kib((long)o.pid, &nproc);
  for (unsigned long i = 0; i < o.conns; i += BATCH)
    if (ping_batch(&cs, i, i + BATCH < o.conns ? i + BATCH : o.conns) < 0)
      goto done;
  settle(o.settle);
  after = tree_rss_kib((long)o.pid, &nproc);
  if (connected < 0 || after < 0) {
    fprintf(stderr, "idle-rss: the server exited\n");
    goto done;
  }
  report(&o, nproc, before, connected, after);
  rc = 0;

done:
  if (cs.fds != NULL)
    close_all(&cs, opened);
  free(cs.fds);
  free(cs.ssls);
  SSL_CTX_free(cs.ctx);
  return rc;
}
