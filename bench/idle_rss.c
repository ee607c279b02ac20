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
} options;

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

/* Sends one frame on each of fds[from, to), then reads and checks every
 * echo. Returns 0 or -1. */
static int ping_batch(const int *fds, unsigned long from, unsigned long to) {
  uint8_t f[BENCH_HDR_SIZE + PING_SIZE], in[sizeof(f)];

  for (unsigned long i = from; i < to; i++) {
    ping_frame(f, i);
    if (write(fds[i], f, sizeof(f)) != (ssize_t)sizeof(f)) {
      fprintf(stderr, "idle-rss: write on connection %lu: %s\n", i,
              strerror(errno));
      return -1;
    }
  }
  for (unsigned long i = from; i < to; i++) {
    size_t got = 0;
    while (got < sizeof(in)) {
      ssize_t n = read(fds[i], in + got, sizeof(in) - got);
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
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (strcmp(a, "--json") == 0) {
      o->json = true;
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
    else
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

int main(int argc, char **argv) {
  options o;
  struct rlimit rl;
  long before, connected, after;
  int nproc = 0, *fds;
  unsigned long opened = 0;
  int rc = 1;

  if (parse_args(argc, argv, &o) < 0) {
    fprintf(stderr, "usage: idle-rss --port P --pid SERVER_PID [--host IP] "
                    "[--conns N] [--sources K] [--settle S] [--json]\n");
    return 2;
  }
  /* One descriptor per connection: raise the soft limit to the hard one. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o.conns + 16) {
    fprintf(stderr,
            "idle-rss: %lu connections need more descriptors than "
            "the limit %lu (ulimit -n)\n",
            o.conns, (unsigned long)rl.rlim_cur);
    return 1;
  }
  fds = malloc(o.conns * sizeof(int));
  if (fds == NULL)
    return 1;
  before = tree_rss_kib((long)o.pid, &nproc);
  if (before < 0) {
    fprintf(stderr, "idle-rss: no process %lu\n", o.pid);
    goto done;
  }
  /* Open them all (a full listen backlog only slows connect down: the
   * kernel retries the SYN), settle, read; then one echo on each. */
  for (opened = 0; opened < o.conns; opened++) {
    fds[opened] = open_conn(&o, opened);
    if (fds[opened] < 0) {
      fprintf(stderr, "idle-rss: connection %lu: %s\n", opened,
              strerror(errno));
      goto done;
    }
  }
  settle(o.settle);
  connected = tree_rss_kib((long)o.pid, &nproc);
  for (unsigned long i = 0; i < o.conns; i += BATCH)
    if (ping_batch(fds, i, i + BATCH < o.conns ? i + BATCH : o.conns) < 0)
      goto done;
  settle(o.settle);
  after = tree_rss_kib((long)o.pid, &nproc);
  if (connected < 0 || after < 0) {
    fprintf(stderr, "idle-rss: the server exited\n");
    goto done;
  }
  {
    double per_conn = (double)(connected - before) * 1024 / (double)o.conns;
    double per_echo = (double)(after - before) * 1024 / (double)o.conns;
    if (o.json)
      printf("{\"conns\":%lu,\"processes\":%d,\"rss_before_kib\":%ld,"
             "\"rss_connected_kib\":%ld,\"rss_after_kib\":%ld,"
             "\"bytes_per_conn\":%.0f,\"bytes_per_conn_after_echo\":%.0f}\n",
             o.conns, nproc, before, connected, after, per_conn, per_echo);
    else
      printf("idle-rss: %lu connections to pid %lu (%d processes)\n"
             "  RSS before %ld KiB, connected %ld KiB, after one echo each "
             "%ld KiB\n"
             "  per connection: %.0f B connected, %.0f B after one echo\n",
             o.conns, o.pid, nproc, before, connected, after, per_conn,
             per_echo);
  }
  rc = 0;

done:
  for (unsigned long i = 0; i < opened; i++)
    close(fds[i]);
  free(fds);
  return rc;
}
