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
 * With --tls it speaks TLS 1.3 (OpenSSL, bench_tls.c): every connection
 * completes its handshake before the run starts, and the frames travel
 * inside TLS records.
 *
 * Plain C, epoll, one thread; it does not use netfw.
 *
 * This file holds the command line, the report and main(); the connection
 * engine is loadgen_engine.c, the shared types loadgen.h. */
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
#include "loadgen.h"
#include "proc_tree.h"

volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static void usage(FILE *f) {
  fprintf(
      f, "usage: netfw-loadgen [--host IP] --port P [--conns N] [--depth D]\n"
         "                     [--size S] [--seconds T] [--warmup W]\n"
         "                     [--grace G] [--id ID] [--json]\n"
         "                     [--tls] [--tls-ca FILE] [--tls-ciphersuites L]\n"
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
         "  --tls        speak TLS 1.3 (full handshakes, no resumption)\n"
         "  --tls-ca FILE  verify the server's certificate (name "
         "localhost) against FILE (implies --tls; default: no verification)\n"
         "  --tls-ciphersuites L  TLS 1.3 suites (default OpenSSL's, "
         "TLS_AES_256_GCM_SHA384 first)\n"
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
    if (strcmp(a, "--tls") == 0) {
      o->tls = true;
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
    else if (strcmp(a, "--tls-ca") == 0) {
      o->tls_ca = val;
      o->tls = true;
    } else if (strcmp(a, "--tls-ciphersuites") == 0)
      o->tls_ciphersuites = val;
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
    if (lg->tls_version != NULL)
      printf(",\"tls_version\":\"%s\",\"tls_cipher\":\"%s\"", lg->tls_version,
             lg->tls_cipher);
    printf("}\n");
  } else {
    printf("netfw-loadgen %s:%s  %lu conns x depth %lu x %lu B, %.1f s after "
           "%.1f s warm-up\n",
           o->host, o->port, o->conns, o->depth, o->size, o->seconds,
           o->warmup);
    if (lg->tls_version != NULL)
      printf("  TLS         %s %s\n", lg->tls_version, lg->tls_cipher);
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
