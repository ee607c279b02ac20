/* client-bench: ping-pong round trips through netfw's client library
 * (netfw_client_send + netfw_client_recv) against a plain blocking-socket
 * client (one write, reads until the echo is whole), both talking to the
 * same echo server. One frame in flight at a time, so the figure is the
 * latency each client adds. Rounds alternate the two clients (netfw,
 * blocking, netfw, ...) and the report gives the median over rounds of each
 * round's p50/p99 RTT; every echo is checked byte for byte. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netfw/netfw.h>

#include "bench_common.h"
#include "histogram.h"

#define MAX_ROUNDS 63
#define RECV_TIMEOUT_MS 5000

typedef struct options {
  const char *host;
  const char *port;
  unsigned long size;
  unsigned long rounds;
  double seconds;
  double warmup;
  bool json;
} options;

typedef struct result {
  double p50_us;
  double p99_us;
  double rate;
} result;

static uint8_t *expect; /* the payload every ping carries */

/* One timed run: calls ping() until warmup + seconds have passed and
 * records the RTTs after the warm-up. Returns 0 or -1 (ping failed). */
typedef int (*ping_fn)(void *ctx, const options *o);

static int run_round(ping_fn ping, void *ctx, const options *o, result *r) {
  static hist h;
  uint64_t start = bench_now_ns();
  uint64_t warm_end = start + (uint64_t)(o->warmup * 1e9);
  uint64_t end = warm_end + (uint64_t)(o->seconds * 1e9);
  uint64_t n = 0, t;

  hist_init(&h);
  for (t = start; t < end;) {
    uint64_t t0 = t;
    if (ping(ctx, o) < 0)
      return -1;
    t = bench_now_ns();
    if (t0 >= warm_end) {
      hist_record(&h, t - t0);
      n++;
    }
  }
  r->p50_us = (double)hist_quantile(&h, 0.50) / 1e3;
  r->p99_us = (double)hist_quantile(&h, 0.99) / 1e3;
  r->rate = (double)n / o->seconds;
  return n > 0 ? 0 : -1;
}

/* ---- the netfw client --------------------------------------------------- */

typedef struct netfw_side {
  netfw_client *client;
  netfw_msg msg;
} netfw_side;

static int netfw_ping(void *ctx, const options *o) {
  netfw_side *s = ctx;
  netfw_msg *reply = NULL;
  int rc = netfw_client_send(s->client, &s->msg);

  if (rc == 0)
    rc = netfw_client_recv(s->client, &reply, RECV_TIMEOUT_MS);
  if (rc != 0) {
    fprintf(stderr, "client-bench: netfw client: %s\n", netfw_strerror(rc));
    return -1;
  }
  if (netfw_msg_id(reply) != 7 || netfw_msg_size(reply) != o->size ||
      (o->size > 0 && memcmp(netfw_msg_payload(reply), expect, o->size))) {
    fprintf(stderr, "client-bench: netfw client: echo differs\n");
    netfw_msg_free(reply);
    return -1;
  }
  netfw_msg_free(reply);
  return 0;
}

static int netfw_open(netfw_side *s, const options *o) {
  unsigned long port;
  int rc;

  netfw_msg_init(&s->msg, 7);
  if (o->size > 0 && netfw_msg_append(&s->msg, expect, o->size) != 0)
    goto failed_msg;
  s->client = netfw_client_new();
  if (s->client == NULL)
    goto failed_msg;
  bench_parse_ulong(o->port, 1, 65535, &port);
  rc = netfw_client_connect(s->client, o->host, (uint16_t)port);
  if (rc != 0) {
    fprintf(stderr, "client-bench: netfw connect: %s\n", netfw_strerror(rc));
    goto failed_connect;
  }
  return 0;

failed_connect:
  netfw_client_free(s->client);
failed_msg:
  netfw_msg_release(&s->msg);
  return -1;
}

static void netfw_close(netfw_side *s) {
  netfw_client_shutdown(s->client, 2000);
  netfw_client_free(s->client);
  netfw_msg_release(&s->msg);
}

/* ---- the blocking-socket client ------------------------------------------ */

typedef struct plain_side {
  int fd;
  uint8_t *frame; /* header + payload to send */
  uint8_t *in;
} plain_side;

static int plain_ping(void *ctx, const options *o) {
  plain_side *s = ctx;
  size_t len = BENCH_HDR_SIZE + o->size, done = 0;

  while (done < len) {
    ssize_t n = write(s->fd, s->frame + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto failed;
    done += (size_t)n;
  }
  for (done = 0; done < len;) {
    ssize_t n = read(s->fd, s->in + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto failed;
    done += (size_t)n;
  }
  if (memcmp(s->in, s->frame, len) != 0) {
    fprintf(stderr, "client-bench: blocking client: echo differs\n");
    return -1;
  }
  return 0;

failed:
  fprintf(stderr, "client-bench: blocking client: %s\n",
          errno ? strerror(errno) : "connection closed");
  return -1;
}

static int plain_open(plain_side *s, const options *o) {
  struct addrinfo hints, *res;
  int one = 1;

  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(o->host, o->port, &hints, &res) != 0)
    return -1;
  s->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || connect(s->fd, res->ai_addr, res->ai_addrlen) < 0) {
    fprintf(stderr, "client-bench: connect: %s\n", strerror(errno));
    freeaddrinfo(res);
    if (s->fd >= 0)
      close(s->fd);
    return -1;
  }
  freeaddrinfo(res);
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  s->frame = malloc(BENCH_HDR_SIZE + o->size);
  s->in = malloc(BENCH_HDR_SIZE + o->size);
  if (s->frame == NULL || s->in == NULL) {
    free(s->frame);
    free(s->in);
    close(s->fd);
    return -1;
  }
  bench_hdr_pack(s->frame, 7, (uint32_t)o->size);
  if (o->size > 0)
    memcpy(s->frame + BENCH_HDR_SIZE, expect, o->size);
  return 0;
}

static void plain_close(plain_side *s) {
  close(s->fd);
  free(s->frame);
  free(s->in);
}

/* ---- main -----------------------------------------------------------------
 */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, unsigned long n) {
  qsort(v, n, sizeof(v[0]), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_args(int argc, char **argv, options *o) {
  o->host = "127.0.0.1";
  o->port = NULL;
  o->size = 64;
  o->rounds = 5;
  o->seconds = 2;
  o->warmup = 0.5;
  o->json = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    unsigned long port;
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
    else if (strcmp(a, "--port") == 0) {
      bad = bench_parse_ulong(val, 1, 65535, &port);
      o->port = val;
    } else if (strcmp(a, "--size") == 0)
      bad = bench_parse_ulong(val, 0, 16u << 20, &o->size);
    else if (strcmp(a, "--rounds") == 0)
      bad = bench_parse_ulong(val, 1, MAX_ROUNDS, &o->rounds);
    else if (strcmp(a, "--seconds") == 0)
      bad = bench_parse_seconds(val, 3600, &o->seconds) || o->seconds <= 0;
    else if (strcmp(a, "--warmup") == 0)
      bad = bench_parse_seconds(val, 3600, &o->warmup);
    else
      return -1;
    if (bad)
      return -1;
  }
  return o->port == NULL ? -1 : 0;
}

int main(int argc, char **argv) {
  options o;
  netfw_side ns;
  plain_side ps;
  double n50[MAX_ROUNDS], n99[MAX_ROUNDS], p50[MAX_ROUNDS], p99[MAX_ROUNDS];
  double nrate[MAX_ROUNDS], prate[MAX_ROUNDS];
  int rc = 1;

  if (parse_args(argc, argv, &o) < 0) {
    fprintf(stderr,
            "usage: client-bench --port P [--host IP] [--size S] [--rounds N]"
            " [--seconds T] [--warmup W] [--json]\n"
            "  ping-pong RTT through netfw_client vs a blocking socket, "
            "against one echo server\n");
    return 2;
  }
  expect = malloc(o.size + 1);
  if (expect == NULL)
    return 1;
  for (unsigned long i = 0; i < o.size; i++)
    expect[i] = (uint8_t)(i * 37 + 11);
  if (netfw_open(&ns, &o) < 0)
    goto failed_netfw;
  if (plain_open(&ps, &o) < 0)
    goto failed_plain;
  for (unsigned long r = 0; r < o.rounds; r++) {
    result a, b;
    if (run_round(netfw_ping, &ns, &o, &a) < 0 ||
        run_round(plain_ping, &ps, &o, &b) < 0)
      goto failed_round;
    n50[r] = a.p50_us;
    n99[r] = a.p99_us;
    nrate[r] = a.rate;
    p50[r] = b.p50_us;
    p99[r] = b.p99_us;
    prate[r] = b.rate;
    fprintf(stderr,
            "  client round %lu/%lu: netfw p50 %.1f us, blocking "
            "p50 %.1f us\n",
            r + 1, o.rounds, a.p50_us, b.p50_us);
  }
  {
    double a50 = median(n50, o.rounds), b50 = median(p50, o.rounds);
    double a99 = median(n99, o.rounds), b99 = median(p99, o.rounds);
    double ar = median(nrate, o.rounds), br = median(prate, o.rounds);
    if (o.json)
      printf("{\"size\":%lu,\"rounds\":%lu,\"netfw_p50_us\":%.1f,"
             "\"netfw_p99_us\":%.1f,\"netfw_msgs_per_s\":%.0f,"
             "\"blocking_p50_us\":%.1f,\"blocking_p99_us\":%.1f,"
             "\"blocking_msgs_per_s\":%.0f,\"ratio_p50\":%.3f}\n",
             o.size, o.rounds, a50, a99, ar, b50, b99, br, a50 / b50);
    else
      printf("client-bench %s:%s, %lu B ping-pong, median of %lu rounds x "
             "%.1f s\n"
             "  netfw_client     p50 %.1f us  p99 %.1f us  %.0f msgs/s\n"
             "  blocking socket  p50 %.1f us  p99 %.1f us  %.0f msgs/s\n"
             "  ratio (p50)      %.3f  (target <= 1.5)\n",
             o.host, o.port, o.size, o.rounds, o.seconds, a50, a99, ar, b50,
             b99, br, a50 / b50);
  }
  rc = 0;

failed_round:
  plain_close(&ps);
failed_plain:
  netfw_close(&ns);
failed_netfw:
  free(expect);
  return rc;
}
