/* netfw-loadgen's shared types (loadgen.c: command line and report;
 * loadgen_engine.c: connections and the run): the limits, the options, a
 * connection, the whole generator with its results, and the engine's entry
 * points. */
#ifndef NETFW_BENCH_LOADGEN_H
#define NETFW_BENCH_LOADGEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

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
  bool tls;                     /* speak TLS 1.3 (bench_tls.h)        */
  const char *tls_ca;           /* verify the server against it, or NULL */
  const char *tls_ciphersuites; /* TLS 1.3 suites, or NULL (default) */
} options;

struct ssl_st;
struct ssl_ctx_st;

typedef struct conn {
  int fd;
  struct ssl_st *ssl; /* NULL: plaintext */
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
  struct ssl_ctx_st *tls_ctx; /* NULL: plaintext */
  const char *tls_version;    /* what the first connection negotiated */
  const char *tls_cipher;
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

/* Set by SIGINT/SIGTERM (loadgen.c): the run stops early. */
extern volatile sig_atomic_t interrupted;

/* Resolves the target, allocates, connects every connection and registers
 * it with epoll; -1 (reported on stderr) on failure. */
int setup(loadgen *lg);

/* Closes every connection and frees what setup() allocated. */
void teardown(loadgen *lg);

/* Runs warm-up, measured window and grace period; counts the results. */
void run(loadgen *lg);

#endif
