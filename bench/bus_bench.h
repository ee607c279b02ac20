/* bus-bench's shared declarations: the counters receivers keep in shared
 * memory, the options, the bench's requests to the workers' app
 * (bus_bench_app.c) and the socketpair baseline (bus_floor.c). */
#ifndef NETFW_BENCH_BUS_BENCH_H
#define NETFW_BENCH_BUS_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

#include <netfw/netfw.h>

#define MAX_W 8
enum { ID_PROBE = 0x7400, ID_THR, ID_LAT }; /* bus message ids */
enum { REQ_RUN = 0x7410, REQ_PROBE, REQ_WHO };     /* bench -> worker */
enum { MODE_THR = 1, MODE_LAT = 2 };

typedef struct rslot {
  atomic_int pid;
  atomic_ullong probe, thr, lat, bad;
  atomic_ullong last_ns; /* the latest delivery of the run */
  hist h;                /* latency run */
} rslot;

typedef struct board {
  atomic_int nslots;
  int subscribe;          /* create() subscribes */
  atomic_ullong first_ns; /* the publisher's first publish of the run */
  struct board *watch;    /* the receivers the credit window watches */
  int nwatch;
  rslot slot[MAX_W];
} board;

typedef struct options {
  unsigned long workers, size, messages, lat_messages, rounds, window, batch;
  unsigned long redis_port, redis_messages;
  bool json, no_baseline, baseline_only;
} options;

extern options o;

typedef struct result {
  double rate, p50_us, p99_us, p50_other_us;
  int ok;
} result;

/* The netfw app every worker runs (bus_bench_app.c). */
extern const netfw_app bench_app;

/* Prints what and exits 1. */
void die(const char *what);
/* Writes all n bytes (dies on error). */
void write_all(int fd, const void *p, size_t n);
/* Zeroes the counters and histograms of a run. */
void board_reset(board *b);
/* One baseline run, throughput (lat 0) or latency, over w's W slots. */
void baseline_run(board *w, int lat, result *res);

#endif /* NETFW_BENCH_BUS_BENCH_H */
