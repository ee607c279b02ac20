/* calls-bench: the cost of calls (issue 21), rows p and q of run-bench.
 *
 *   calls-bench --serve [--workers W]
 *       a netfw server with the protocol set (cfg->protocol) that answers
 *       every Req(10) in on_message with Resp(11) carrying the same payload
 *       and echoes anything else unchanged (so netfw-loadgen --id 13
 *       measures its echo ceiling); prints "listening on 127.0.0.1:PORT",
 *       stops on SIGTERM or SIGINT.
 *   calls-bench --row p --port P [...]
 *       one call at a time on one connection: netfw_client_call (A) against
 *       the same request and reply done with a blocking socket (B: one
 *       write(), a buffered read of exactly header + payload, TCP_NODELAY),
 *       alternating A and B for --rounds rounds; medians of each round's
 *       p50 round trip.
 *   calls-bench --row q --port P --window N [...]
 *       --rounds rounds of the async client keeping N calls in flight on
 *       one connection (calls_bench_async.c); the median calls/s.
 * Every reply is checked byte for byte; exit status 1 on any failure. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"
#include "calls_bench.h"
#include "histogram.h"

static const uint16_t req_returns[] = {1};
static const netfw_desc_message msgs[] = {
    {.id = CB_REQ,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "Req"},
     .returns = req_returns,
     .nreturns = 1},
    {.id = CB_RESP,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "Resp"}},
    {.id = CB_NOTE, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Note"}},
};
static const netfw_desc desc = {.abi = NETFW_DESC_ABI,
                                .proto = "callsbench",
                                .messages = msgs,
                                .nmessages = 3};

/* The protocol (calls_bench.h). */
const netfw_desc *cb_desc(void) {
  return &desc;
}

uint8_t *cb_expect;

/* Whether reply is Resp with the expected payload. */
bool cb_reply_ok(const netfw_msg *reply, unsigned long size) {
  return reply != NULL && netfw_msg_id(reply) == CB_RESP &&
         netfw_msg_size(reply) == size &&
         (size == 0 || memcmp(netfw_msg_payload(reply), cb_expect, size) == 0);
}

/* ---- the server ---------------------------------------------------------- */

/* Req: answered at once with Resp(payload); anything else echoed. */
static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_msg_id(m->msg) == CB_REQ)
    netfw_msg_set_id(m->msg, CB_RESP);
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

static const netfw_app app = {.on_message = on_message};

/* Runs the server until SIGTERM or SIGINT. Returns the exit status. */
static int serve(const cb_options *o) {
  netfw_config cfg;
  netfw_server *s;
  sigset_t sigs;
  int sig = 0;

  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  netfw_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = (int)o->workers;
  cfg.protocol = &desc;
  if ((s = netfw_server_new(&cfg)) == NULL || netfw_server_start(s) != 0) {
    fprintf(stderr, "calls-bench: the server did not start\n");
    netfw_server_free(s);
    return 1;
  }
  printf("listening on 127.0.0.1:%u\n", (unsigned)netfw_server_port(s));
  fflush(stdout);
  sigwait(&sigs, &sig);
  netfw_server_stop(s, 5000);
  netfw_server_free(s);
  return 0;
}

/* ---- row p: one call at a time ------------------------------------------- */

typedef int (*call_fn)(void *ctx, const cb_options *o);

/* This process's CPU time (all its threads) in ns. */
static uint64_t cpu_now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One round: calls until warmup + seconds have passed; *p50 in us, *cpu
 * the client's CPU time per call in us (user + system, all threads: the
 * caller, and for A the I/O thread; the server is another process). */
static int run_round(call_fn call, void *ctx, const cb_options *o,
                     double *p50, double *cpu) {
  static hist h;
  uint64_t start = bench_now_ns(), t, cpu0 = 0;
  uint64_t warm_end = start + (uint64_t)(o->warmup * 1e9);
  uint64_t end = warm_end + (uint64_t)(o->seconds * 1e9), n = 0;

  hist_init(&h);
  for (t = start; t < end;) {
    uint64_t t0 = t;
    if (call(ctx, o) < 0)
      return -1;
    t = bench_now_ns();
    if (t0 >= warm_end) {
      if (n == 0)
        cpu0 = cpu_now_ns();
      hist_record(&h, t - t0);
      n++;
    }
  }
  *p50 = (double)hist_quantile(&h, 0.50) / 1e3;
  *cpu = n > 1 ? (double)(cpu_now_ns() - cpu0) / 1e3 / (double)(n - 1) : 0;
  return n > 0 ? 0 : -1;
}

typedef struct call_side {
  netfw_client *client;
  netfw_msg req;
} call_side;

/* A: one netfw_client_call, its reply checked. Returns 0 or -1. */
static int netfw_call_once(void *ctx, const cb_options *o) {
  call_side *s = ctx;
  netfw_msg *reply = NULL;
  int rc = netfw_client_call(s->client, &s->req, &reply, CB_TIMEOUT_MS);

  if (rc != 0 || !cb_reply_ok(reply, o->size)) {
    fprintf(stderr, "calls-bench: netfw_client_call: %s\n",
            rc ? netfw_strerror(rc) : "the reply differs");
    netfw_msg_free(reply);
    return -1;
  }
  netfw_msg_free(reply);
  return 0;
}

/* Connects A's client with the protocol set. Returns 0 or -1. */
static int call_open(call_side *s, const cb_options *o) {
  unsigned long port = 0;
  int rc;

  netfw_msg_init(&s->req, CB_REQ);
  if ((o->size > 0 && netfw_msg_append(&s->req, cb_expect, o->size) != 0) ||
      (s->client = netfw_client_new()) == NULL)
    goto failed_new;
  bench_parse_ulong(o->port, 1, 65535, &port);
  if ((rc = netfw_client_set_protocol(s->client, &desc)) != 0 ||
      (rc = netfw_client_connect(s->client, o->host, (uint16_t)port)) != 0) {
    fprintf(stderr, "calls-bench: netfw client: %s\n", netfw_strerror(rc));
    goto failed_connect;
  }
  return 0;

failed_connect:
  netfw_client_free(s->client);
failed_new:
  netfw_msg_release(&s->req);
  return -1;
}

/* Shuts A's client down and frees it. */
static void call_close(call_side *s) {
  netfw_client_shutdown(s->client, 2000);
  netfw_client_free(s->client);
  netfw_msg_release(&s->req);
}

/* The blocking-socket side: one write of the frame, then reads into a
 * 64 KiB buffer until header + payload are in (usually one read). */
typedef struct raw_side {
  int fd;
  uint8_t *frame, *want; /* the request; the reply it must get */
  uint8_t in[65536];
} raw_side;

/* B: one write, reads until the reply is whole, checks it. 0 or -1. */
static int raw_call_once(void *ctx, const cb_options *o) {
  raw_side *s = ctx;
  size_t len = BENCH_HDR_SIZE + o->size, have = 0;
  ssize_t n;

  do
    n = write(s->fd, s->frame, len);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)len) /* blocking, small: all or an error */
    goto failed;
  while (have < len) {
    n = read(s->fd, s->in + have, sizeof(s->in) - have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto failed;
    have += (size_t)n;
  }
  if (have != len || memcmp(s->in, s->want, len) != 0) {
    fprintf(stderr, "calls-bench: blocking socket: the reply differs\n");
    return -1;
  }
  return 0;

failed:
  fprintf(stderr, "calls-bench: blocking socket: %s\n",
          n < 0 ? strerror(errno) : "connection closed");
  return -1;
}

/* Connects B's socket (TCP_NODELAY), builds its frames. 0 or -1. */
static int raw_open(raw_side *s, const cb_options *o) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
  int one = 1;
  size_t len = BENCH_HDR_SIZE + o->size;

  if (len > sizeof(s->in) || getaddrinfo(o->host, o->port, &hints, &res))
    return -1;
  s->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || connect(s->fd, res->ai_addr, res->ai_addrlen) < 0) {
    fprintf(stderr, "calls-bench: connect: %s\n", strerror(errno));
    freeaddrinfo(res);
    if (s->fd >= 0)
      close(s->fd);
    return -1;
  }
  freeaddrinfo(res);
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  s->frame = malloc(len);
  s->want = malloc(len);
  if (s->frame == NULL || s->want == NULL) {
    free(s->frame);
    free(s->want);
    close(s->fd);
    return -1;
  }
  bench_hdr_pack(s->frame, CB_REQ, (uint32_t)o->size);
  bench_hdr_pack(s->want, CB_RESP, (uint32_t)o->size);
  memcpy(s->frame + BENCH_HDR_SIZE, cb_expect, o->size);
  memcpy(s->want + BENCH_HDR_SIZE, cb_expect, o->size);
  return 0;
}

/* Closes B's socket, frees its frames. */
static void raw_close(raw_side *s) {
  close(s->fd);
  free(s->frame);
  free(s->want);
}

/* qsort's order for doubles. */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static double median(double *v, unsigned long n) {
  qsort(v, n, sizeof(v[0]), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Row p: A and B alternate (A B, B A, ...); prints the medians. */
static int row_p(const cb_options *o) {
  static raw_side rs;
  call_side cs;
  double a[CB_MAX_ROUNDS], b[CB_MAX_ROUNDS], ma, mb;
  double ca[CB_MAX_ROUNDS], cb[CB_MAX_ROUNDS], mca, mcb;
  int rc = 1;

  if (call_open(&cs, o) < 0)
    return 1;
  if (raw_open(&rs, o) < 0)
    goto failed_raw;
  for (unsigned long r = 0; r < o->rounds; r++) {
    if ((r % 2 == 1 && run_round(raw_call_once, &rs, o, &b[r], &cb[r]) < 0) ||
        run_round(netfw_call_once, &cs, o, &a[r], &ca[r]) < 0 ||
        (r % 2 == 0 && run_round(raw_call_once, &rs, o, &b[r], &cb[r]) < 0))
      goto failed_round;
    fprintf(stderr,
            "  row p round %lu/%lu: netfw_client_call p50 %.1f us "
            "(client CPU %.1f us/call), blocking socket p50 %.1f us "
            "(%.1f us/call)\n",
            r + 1, o->rounds, a[r], ca[r], b[r], cb[r]);
  }
  ma = median(a, o->rounds);
  mb = median(b, o->rounds);
  mca = median(ca, o->rounds);
  mcb = median(cb, o->rounds);
  if (o->json)
    printf("{\"size\":%lu,\"rounds\":%lu,\"call_p50_us\":%.1f,"
           "\"raw_p50_us\":%.1f,\"ratio_p50\":%.3f,\"call_cpu_us\":%.1f,"
           "\"raw_cpu_us\":%.1f}\n",
           o->size, o->rounds, ma, mb, ma / mb, mca, mcb);
  else
    printf("row p: %lu B calls, median of %lu rounds: netfw_client_call p50 "
           "%.1f us, blocking socket p50 %.1f us, ratio %.3f (target <= 1.3); "
           "client CPU per call %.1f us vs %.1f us\n",
           o->size, o->rounds, ma, mb, ma / mb, mca, mcb);
  rc = 0;

failed_round:
  raw_close(&rs);
failed_raw:
  call_close(&cs);
  return rc;
}

/* Row q: --rounds rounds of the async client; prints the median. */
static int row_q(const cb_options *o) {
  double v[CB_MAX_ROUNDS], m;

  for (unsigned long r = 0; r < o->rounds; r++) {
    if (cb_async_round(o, &v[r]) < 0)
      return 1;
    fprintf(stderr,
            "  row q round %lu/%lu: async client, window %lu: %.0f "
            "calls/s\n",
            r + 1, o->rounds, o->window, v[r]);
  }
  m = median(v, o->rounds);
  if (o->json)
    printf("{\"size\":%lu,\"window\":%lu,\"rounds\":%lu,"
           "\"calls_per_s\":%.0f}\n",
           o->size, o->window, o->rounds, m);
  else
    printf("row q: async client, 1 connection, window %lu, %lu B: %.0f "
           "calls/s (median of %lu)\n",
           o->window, o->size, m, o->rounds);
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

/* Parses one "--name value" option into o; -1 on a bad one. */
static int parse_opt(const char *a, const char *val, cb_options *o) {
  unsigned long port = 0;

  if (strcmp(a, "--host") == 0)
    o->host = val;
  else if (strcmp(a, "--port") == 0) {
    o->port = val;
    return bench_parse_ulong(val, 1, 65535, &port);
  } else if (strcmp(a, "--row") == 0) {
    o->row = val[0];
    return (val[0] == 'p' || val[0] == 'q') && val[1] == '\0' ? 0 : -1;
  } else if (strcmp(a, "--workers") == 0)
    return bench_parse_ulong(val, 1, 64, &o->workers);
  else if (strcmp(a, "--size") == 0)
    return bench_parse_ulong(val, 0, 65000, &o->size);
  else if (strcmp(a, "--rounds") == 0)
    return bench_parse_ulong(val, 1, CB_MAX_ROUNDS, &o->rounds);
  else if (strcmp(a, "--window") == 0)
    return bench_parse_ulong(val, 1, 65536, &o->window);
  else if (strcmp(a, "--seconds") == 0)
    return bench_parse_seconds(val, 3600, &o->seconds) || o->seconds <= 0;
  else if (strcmp(a, "--warmup") == 0)
    return bench_parse_seconds(val, 3600, &o->warmup);
  else
    return -1;
  return 0;
}

/* Fills o from the command line (defaults first). Returns 0 or -1. */
static int parse_args(int argc, char **argv, cb_options *o) {
  *o = (cb_options){.host = "127.0.0.1",
                    .workers = 1,
                    .size = 64,
                    .rounds = 5,
                    .window = 256,
                    .seconds = 2,
                    .warmup = 0.5};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      o->json = true;
    else if (strcmp(argv[i], "--serve") == 0)
      o->serve = true;
    else if (i + 1 >= argc || parse_opt(argv[i], argv[i + 1], o) != 0)
      return -1;
    else
      i++;
  }
  return o->serve || (o->port != NULL && o->row != 0) ? 0 : -1;
}

int main(int argc, char **argv) {
  cb_options o;
  int rc;

  if (parse_args(argc, argv, &o) < 0) {
    fprintf(stderr,
            "usage: calls-bench --serve [--workers W]\n"
            "       calls-bench --row p|q --port P [--host IP] [--size S]\n"
            "                   [--rounds N] [--seconds T] [--warmup W]\n"
            "                   [--window N] [--json]\n"
            "  p: netfw_client_call vs a blocking socket, p50 round trip\n"
            "  q: async client calls/s, N calls in flight (default 256)\n");
    return 2;
  }
  if (o.serve)
    return serve(&o);
  signal(SIGPIPE, SIG_IGN);
  if ((cb_expect = malloc(o.size + 1)) == NULL)
    return 1;
  for (unsigned long i = 0; i < o.size; i++)
    cb_expect[i] = (uint8_t)(i * 37 + 11);
  rc = o.row == 'p' ? row_p(&o) : row_q(&o);
  free(cb_expect);
  return rc;
}
