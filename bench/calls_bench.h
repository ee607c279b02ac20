/* calls-bench's shared parts (calls_bench.c, calls_bench_async.c): the
 * protocol, the options and the round helpers. */
#ifndef NETFW_CALLS_BENCH_H
#define NETFW_CALLS_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include <netfw/netfw.h>

#define CB_REQ 10 /* Req -> server returns Resp (same payload)   */
#define CB_RESP 11
#define CB_NOTE 13 /* one-way: the server echoes it (loadgen --id) */
#define CB_MAX_ROUNDS 63
#define CB_TIMEOUT_MS 5000

typedef struct cb_options {
  const char *host;
  const char *port;
  char row; /* 'p' or 'q'; 0 with --serve */
  bool serve;
  unsigned long workers;
  unsigned long size;
  unsigned long rounds;
  unsigned long window;
  double seconds;
  double warmup;
  bool json;
} cb_options;

/* The protocol: Req(10) returns Resp(11); Note(13) one-way. */
const netfw_desc *cb_desc(void);
/* The payload every request carries (size bytes, a fixed pattern). */
extern uint8_t *cb_expect;
/* Whether reply is Resp carrying cb_expect's size bytes. */
bool cb_reply_ok(const netfw_msg *reply, unsigned long size);
/* Row q, one round: calls/s of the async client keeping o->window calls in
 * flight on one connection. Returns 0 and *rate, or -1 (logged). */
int cb_async_round(const cb_options *o, double *rate);

#endif /* NETFW_CALLS_BENCH_H */
