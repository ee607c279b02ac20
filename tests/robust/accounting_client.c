/* accounting_client: the accounting streamer as a program, to run against
 * any echo server (examples' echo_server, a netframe echo, ...):
 *
 *   accounting_client --port P [--conns 200] [--msgs 5000] [--window 16]
 *                     [--sizes mixed|small] [--seed N] [--seconds S]
 *                     [--timeout S]
 *
 * --seconds S is the soak mode: connections that finish their messages are
 * replaced by new ones until S seconds have passed. Prints the totals and
 * exits 0 only when nothing was lost, corrupted, duplicated or reordered and
 * every connection finished. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "accounting.h"

static void usage(FILE *out) {
  fprintf(out, "usage: accounting_client --port P [--conns N] [--msgs N] "
               "[--window N] [--sizes mixed|small] [--seed N] [--seconds S] "
               "[--timeout S]\n");
}

static int parse_long(const char *s, long min, long max, long *out) {
  char *end;
  long v = strtol(s, &end, 10);

  if (end == s || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"port", required_argument, NULL, 'p'},
      {"conns", required_argument, NULL, 'c'},
      {"msgs", required_argument, NULL, 'm'},
      {"window", required_argument, NULL, 'w'},
      {"sizes", required_argument, NULL, 'z'},
      {"seed", required_argument, NULL, 's'},
      {"seconds", required_argument, NULL, 'S'},
      {"timeout", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  acct_cfg cfg = {.conns = 200, .msgs = 5000, .window = 16, .seed = 1};
  long v, timeout_s = 600;
  struct timespec t0, t1;
  acct_stats s;
  char line[512];
  accounting *a;
  int o, left;

  while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    int bad = 0;
    switch (o) {
    case 'p':
      bad = parse_long(optarg, 1, 65535, &v);
      cfg.port = (uint16_t)v;
      break;
    case 'c':
      bad = parse_long(optarg, 1, 100000, &v);
      cfg.conns = (int)v;
      break;
    case 'm':
      bad = parse_long(optarg, 1, 1L << 40, &v);
      cfg.msgs = v;
      break;
    case 'w':
      bad = parse_long(optarg, 1, 64, &v);
      cfg.window = (int)v;
      break;
    case 's':
      bad = parse_long(optarg, 0, 1L << 62, &v);
      cfg.seed = (uint64_t)v;
      break;
    case 'S':
      bad = parse_long(optarg, 1, 86400 * 7, &v);
      cfg.soak_ms = (int)(v * 1000);
      break;
    case 't':
      bad = parse_long(optarg, 1, 86400 * 8, &timeout_s);
      break;
    case 'z':
      if (optarg[0] == 'm')
        cfg.sizes = ACCT_SIZES_MIXED;
      else if (optarg[0] == 's')
        cfg.sizes = ACCT_SIZES_SMALL;
      else
        bad = -1;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      bad = -1;
    }
    if (bad) {
      usage(stderr);
      return 2;
    }
  }
  if (cfg.port == 0 || optind != argc) {
    usage(stderr);
    return 2;
  }
  if (cfg.soak_ms > 0 && timeout_s < cfg.soak_ms / 1000 + 120)
    timeout_s = cfg.soak_ms / 1000 + 120;
  a = acct_new(&cfg);
  if (a == NULL || acct_open(a) != 0) {
    perror("accounting_client: connect");
    acct_free(a);
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  left = acct_run(a, (int)(timeout_s * 1000));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  acct_totals(a, &s);
  acct_format(&s, line, sizeof(line));
  printf("%s; %.2f s; %d connection(s) still running\n", line,
         (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
         left);
  acct_free(a);
  return left == 0 && s.lost == 0 && s.corrupted == 0 && s.duplicated == 0 &&
                 s.reordered == 0 && s.conns_eof == 0 && s.conns_reset == 0 &&
                 s.conns_failed == 0
             ? 0
             : 1;
}
