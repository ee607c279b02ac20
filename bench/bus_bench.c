/* bus-bench: the message bus of netfw (netfw/bus.h) against the floor of a
 * relay-free design, one process writing the same frames over AF_UNIX
 * socketpairs to reader processes.
 *
 * netfw (A): a server with W workers (default 4), each subscribed to one
 * channel in create(); one worker (the one the bench's TCP connection
 * lands on) publishes with NETFW_BUS_ECHO, so every message reaches all W
 * workers' on_bus. Workers count in shared memory (mmap'ed before the
 * fork); every count is checked exactly.
 *   throughput: N messages of S bytes as fast as the bus takes them; the
 *     publisher keeps at most --window messages ahead of the slowest
 *     receiver (a credit window read from the shared counters: the bus has
 *     no flow control and drops for a slow receiver). msgs/s = N / (last
 *     delivery anywhere - first publish).
 *   latency: M messages, one per millisecond (uv_timer), CLOCK_MONOTONIC
 *     stamp in the payload; on_bus records now - stamp (bench/histogram.h).
 * baseline (B): a parent writes the same frames (6-byte header + S bytes)
 * to W socketpairs, blocking writes of --batch frames each in the
 * throughput run (one frame per write, paced 1/ms, in the latency run);
 * W forked readers parse and count them.
 * --redis-port P: also the Redis bus: two servers on the Redis at
 * 127.0.0.1:P, publisher alone on server 1, W receivers on server 2
 * (--redis-messages N in the throughput run).
 * Rounds alternate A and B; the report gives medians.
 *
 * This file holds the bench's side and main(); the app the workers run is
 * bus_bench_app.c, the baseline bus_floor.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include <netfw/bus.h>
#include <netfw/netfw.h>

#include "bench_common.h"
#include "bus_bench.h"

#define MAX_ROUNDS 31

/* One receiver's counters (written by that process only). */

options o;

/* ---- the bench's side --------------------------------------------------- */

void die(const char *what) {
  fprintf(stderr, "bus-bench: %s\n", what);
  exit(1);
}

static board *board_new(int subscribe) {
  board *b = mmap(NULL, sizeof(board), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (b == MAP_FAILED)
    die("mmap failed");
  b->subscribe = subscribe;
  b->watch = b;
  return b;
}

void board_reset(board *b) {
  int i;
  for (i = 0; i < MAX_W; i++) {
    atomic_store(&b->slot[i].thr, 0);
    atomic_store(&b->slot[i].lat, 0);
    atomic_store(&b->slot[i].last_ns, 0);
    hist_init(&b->slot[i].h);
  }
  atomic_store(&b->first_ns, 0);
}

static int tcp_connect(uint16_t port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    die("connect to the bench server failed");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void write_all(int fd, const void *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      die("write failed");
    p = (const uint8_t *)p + w;
    n -= (size_t)w;
  }
}

static void read_all(int fd, void *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      die("the bench server closed the connection");
    p = (uint8_t *)p + r;
    n -= (size_t)r;
  }
}

/* One request, one reply of rlen bytes with the same id. */
static void request(int fd, uint16_t id, const void *p, uint32_t n, void *r,
                    uint32_t rlen) {
  uint8_t hdr[BENCH_HDR_SIZE];
  bench_hdr_pack(hdr, id, n);
  write_all(fd, hdr, sizeof(hdr));
  if (n > 0)
    write_all(fd, p, n);
  read_all(fd, hdr, sizeof(hdr));
  if (bench_hdr_id(hdr) != id || bench_hdr_size(hdr) != rlen)
    die("unexpected reply");
  read_all(fd, r, rlen);
}

typedef struct side {
  netfw_server *s;
  board *b;
  int fd; /* connection to the publisher */
} side;

static void side_start(side *sd, board *b, int workers, const char *bus_url) {
  netfw_config cfg;

  netfw_config_init(&cfg, &bench_app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = workers;
  cfg.context = b;
  cfg.bus_url = bus_url;
  sd->b = b;
  if ((sd->s = netfw_server_new(&cfg)) == NULL ||
      netfw_server_start(sd->s) != 0)
    die("netfw_server_start failed");
}

static uint64_t wait_all(board *w, int lat, uint64_t want, int ms) {
  uint64_t deadline = bench_now_ns() + (uint64_t)ms * 1000000u, low;
  int i;
  do {
    low = UINT64_MAX;
    for (i = 0; i < w->nwatch; i++) {
      uint64_t v = atomic_load(lat ? &w->slot[i].lat : &w->slot[i].thr);
      if (v < low)
        low = v;
    }
    if (low >= want)
      return low;
    usleep(lat ? 20000 : 2000); /* do not steal the CPU being measured */
  } while (bench_now_ns() < deadline);
  return low;
}

/* Probes until every watched receiver got one (the subscriptions are in
 * effect), 10 s at most. Returns false if they never did. */
static bool probe_all(side *pub, board *w) {
  uint64_t deadline = bench_now_ns() + 10000000000ull;
  int rc, i, all;
  do {
    request(pub->fd, REQ_PROBE, NULL, 0, &rc, 4);
    if (rc != 0 && rc != NETFW_ENOTCONN)
      die("probe publish failed");
    usleep(2000);
    for (all = 1, i = 0; i < w->nwatch; i++)
      all &= atomic_load(&w->slot[i].probe) > 0;
  } while (!all && bench_now_ns() < deadline);
  if (all)
    usleep(50000);
  return all;
}

/* One netfw run: throughput (lat 0) or latency. */
static void netfw_run(side *pub, board *w, int lat, uint32_t pubpid,
                      unsigned long count, result *res) {
  uint32_t req[2] = {lat ? MODE_LAT : MODE_THR,
                     (uint32_t)(lat ? o.lat_messages : count)};
  uint32_t r[3];
  uint64_t want = req[1], got, last = 0;
  static hist all, other;
  int i;

  board_reset(w);
  board_reset(pub->b);
  request(pub->fd, REQ_RUN, req, 8, r, sizeof(r));
  got = wait_all(w, lat, want, 60000);
  usleep(20000); /* nothing beyond want may arrive */
  res->ok = r[2] == 0 && r[0] == want && got == want;
  hist_init(&all);
  hist_init(&other);
  for (i = 0; i < w->nwatch; i++) {
    rslot *s = &w->slot[i];
    uint64_t n = atomic_load(lat ? &s->lat : &s->thr), ls = atomic_load(&s->last_ns);
    if (n != want || atomic_load(&s->bad) != 0)
      res->ok = 0;
    if (ls > last)
      last = ls;
    for (unsigned k = 0; lat && k < HIST_BUCKETS; k++) {
      all.count[k] += s->h.count[k];
      if ((uint32_t)atomic_load(&s->pid) != pubpid)
        other.count[k] += s->h.count[k];
    }
    if (lat) {
      all.total += s->h.total;
      all.max = s->h.max > all.max ? s->h.max : all.max;
      if ((uint32_t)atomic_load(&s->pid) != pubpid) {
        other.total += s->h.total;
        other.max = s->h.max > other.max ? s->h.max : other.max;
      }
    }
  }
  if (!res->ok)
    fprintf(stderr, "bus-bench: netfw %s run: published %u (rc %d, %u EAGAIN),"
            " slowest receiver %llu of %llu\n", lat ? "latency" : "throughput",
            r[0], (int)r[2], r[1], (unsigned long long)got,
            (unsigned long long)want);
  if (lat) {
    res->p50_us = (double)hist_quantile(&all, 0.50) / 1e3;
    res->p99_us = (double)hist_quantile(&all, 0.99) / 1e3;
    res->p50_other_us = (double)hist_quantile(&other, 0.50) / 1e3;
  } else {
    uint64_t first = atomic_load(&pub->b->first_ns);
    res->rate = last > first ? (double)want * 1e9 / (double)(last - first) : 0;
  }
}

/* ---- main --------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, unsigned long n) {
  qsort(v, n, sizeof(*v), cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bus-bench [--workers W] [--size S] [--messages N]"
          " [--lat-messages M] [--rounds R] [--window K] [--batch B]"
          " [--redis-port P] [--redis-messages N] [--no-baseline | --baseline-only] [--json]\n");
  exit(2);
}

static void parse(int argc, char **argv) {
  o = (options){.workers = 4, .size = 64, .messages = 1000000,
                .lat_messages = 1000, .rounds = 3, .window = 16384,
                .batch = 64, .redis_messages = 200000};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (strcmp(a, "--json") == 0) { o.json = true; continue; }
    if (strcmp(a, "--no-baseline") == 0) { o.no_baseline = true; continue; }
    if (strcmp(a, "--baseline-only") == 0) { o.baseline_only = true; continue; }
    if (strcmp(a, "--workers") == 0) bad = bench_parse_ulong(v, 1, MAX_W, &o.workers);
    else if (strcmp(a, "--size") == 0) bad = bench_parse_ulong(v, 12, 60000, &o.size);
    else if (strcmp(a, "--messages") == 0) bad = bench_parse_ulong(v, 1, 1ul << 31, &o.messages);
    else if (strcmp(a, "--lat-messages") == 0) bad = bench_parse_ulong(v, 1, 1ul << 20, &o.lat_messages);
    else if (strcmp(a, "--rounds") == 0) bad = bench_parse_ulong(v, 1, MAX_ROUNDS, &o.rounds);
    else if (strcmp(a, "--window") == 0) bad = bench_parse_ulong(v, 1, 1ul << 24, &o.window);
    else if (strcmp(a, "--batch") == 0) bad = bench_parse_ulong(v, 1, 4096, &o.batch);
    else if (strcmp(a, "--redis-messages") == 0) bad = bench_parse_ulong(v, 1, 1ul << 31, &o.redis_messages);
    else if (strcmp(a, "--redis-port") == 0) bad = bench_parse_ulong(v, 1, 65535, &o.redis_port);
    else usage();
    if (bad)
      usage();
    i++;
  }
}

int main(int argc, char **argv) {
  double nr[MAX_ROUNDS], n50[MAX_ROUNDS], n99[MAX_ROUNDS], no50[MAX_ROUNDS];
  double br[MAX_ROUNDS], b50[MAX_ROUNDS], b99[MAX_ROUNDS];
  double rr[MAX_ROUNDS], r50[MAX_ROUNDS], r99[MAX_ROUNDS];
  side loc = {0}, r1 = {0}, r2 = {0};
  board *bl, *bb = NULL, *rb1 = NULL, *rb2 = NULL;
  char url[64];
  uint32_t pid, rpid = 0;
  int ok = 1;

  parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  netfw_log_set_level(NETFW_LOG_WARN);
  bl = board_new(1);
  bl->nwatch = (int)o.workers;
  if (!o.baseline_only) {
    side_start(&loc, bl, (int)o.workers, NULL);
    loc.fd = tcp_connect(netfw_server_port(loc.s));
    request(loc.fd, REQ_WHO, NULL, 0, &pid, 4);
    if (!probe_all(&loc, bl))
      die("the subscriptions never took effect (no probe arrived)");
  }
  if (!o.no_baseline || o.baseline_only) {
    bb = board_new(0);
    bb->nwatch = (int)o.workers;
  }
  if (o.redis_port != 0 && !o.baseline_only) { /* publisher alone on server 1, receivers on 2 */
    snprintf(url, sizeof(url), "redis://127.0.0.1:%lu", o.redis_port);
    rb1 = board_new(0);
    rb2 = board_new(1);
    rb2->nwatch = (int)o.workers;
    rb1->watch = rb2;
    side_start(&r1, rb1, 1, url);
    side_start(&r2, rb2, (int)o.workers, url);
    r1.fd = tcp_connect(netfw_server_port(r1.s));
    request(r1.fd, REQ_WHO, NULL, 0, &rpid, 4);
    if (!probe_all(&r1, rb2)) { /* reported as nan, not a failure */
      fprintf(stderr, "bus-bench: the Redis bus delivered nothing in 10 s "
              "(no probe arrived): no Redis figures\n");
      rb2 = NULL;
    }
  }
  for (unsigned long r = 0; r < o.rounds; r++) {
    result a = {0}, al = {0}, b = {0}, bl2 = {0}, x = {0}, xl = {0};
    if (!o.baseline_only) {
      netfw_run(&loc, bl, 0, pid, o.messages, &a);
      netfw_run(&loc, bl, 1, pid, 0, &al);
    } else {
      a.ok = al.ok = 1;
    }
    nr[r] = a.rate, n50[r] = al.p50_us, n99[r] = al.p99_us;
    no50[r] = al.p50_other_us;
    ok &= a.ok & al.ok;
    if (bb != NULL) {
      baseline_run(bb, 0, &b);
      baseline_run(bb, 1, &bl2);
      br[r] = b.rate, b50[r] = bl2.p50_us, b99[r] = bl2.p99_us;
      ok &= b.ok & bl2.ok;
    }
    if (rb2 != NULL) {
      netfw_run(&r1, rb2, 0, rpid, o.redis_messages, &x);
      netfw_run(&r1, rb2, 1, rpid, 0, &xl);
      rr[r] = x.rate, r50[r] = xl.p50_us, r99[r] = xl.p99_us;
      ok &= x.ok & xl.ok;
    }
    fprintf(stderr, "  bus round %lu/%lu: netfw %.0f msgs/s, p50 %.1f us "
            "(others %.1f), p99 %.1f us; baseline %.0f msgs/s, p50 %.1f us, "
            "p99 %.1f us", r + 1, o.rounds, a.rate, al.p50_us,
            al.p50_other_us, al.p99_us, b.rate, bl2.p50_us, bl2.p99_us);
    if (rb2 != NULL)
      fprintf(stderr, "; redis %.0f msgs/s, p50 %.1f us, p99 %.1f us", x.rate,
              xl.p50_us, xl.p99_us);
    fprintf(stderr, "\n");
  }
  unsigned long R = o.rounds;
  double mnr = median(nr, R), mn50 = median(n50, R), mn99 = median(n99, R);
  double mno50 = median(no50, R);
  double mbr = bb ? median(br, R) : 0, mb50 = bb ? median(b50, R) : 0;
  double mb99 = bb ? median(b99, R) : 0;
  double mrr = rb2 ? median(rr, R) : 0, mr50 = rb2 ? median(r50, R) : 0;
  double mr99 = rb2 ? median(r99, R) : 0;
  if (o.json)
    printf("{\"workers\":%lu,\"size\":%lu,\"messages\":%lu,\"lat_messages\":%lu,"
           "\"rounds\":%lu,\"verified\":%d,\"netfw_msgs_per_s\":%.0f,"
           "\"netfw_p50_us\":%.1f,\"netfw_p99_us\":%.1f,"
           "\"netfw_p50_others_us\":%.1f,\"baseline_msgs_per_s\":%.0f,"
           "\"baseline_p50_us\":%.1f,\"baseline_p99_us\":%.1f,"
           "\"redis_msgs_per_s\":%.0f,\"redis_p50_us\":%.1f,"
           "\"redis_p99_us\":%.1f,\"redis_ok\":%d}\n",
           o.workers, o.size, o.messages, o.lat_messages, R, ok, mnr, mn50,
           mn99, mno50, mbr, mb50, mb99, mrr, mr50, mr99, rb2 != NULL);
  else
    printf("bus-bench: %lu workers, %lu B, medians of %lu rounds%s\n"
           "  netfw bus: %.0f msgs/s (x%lu deliveries), p50 %.1f us, p99 %.1f us\n"
           "  baseline:  %.0f msgs/s, p50 %.1f us, p99 %.1f us\n"
           "  redis bus: %.0f msgs/s, p50 %.1f us, p99 %.1f us\n",
           o.workers, o.size, R, ok ? "" : " (SOME RUNS DID NOT VERIFY)", mnr,
           o.workers, mn50, mn99, mbr, mb50, mb99, mrr, mr50, mr99);
  if (loc.s != NULL) {
    close(loc.fd);
    netfw_server_free(loc.s);
  }
  if (r1.s != NULL) {
    close(r1.fd);
    netfw_server_free(r1.s);
    netfw_server_free(r2.s);
  }
  return ok ? 0 : 1;
}
