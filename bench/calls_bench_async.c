/* calls-bench row q: pipelined calls per second through the async client
 * (netfw_aclient) on one connection, o->window calls always in flight: each
 * reply (checked byte for byte) sends the next call. Counted after the
 * warm-up for o->seconds, on this thread's own libuv loop; two timers mark
 * the phases, so that the client, not a clock read per reply, is timed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bench_common.h"
#include "calls_bench.h"

typedef struct arun {
  const cb_options *o;
  netfw_aclient *a;
  netfw_msg req;
  uv_timer_t phase_timer;
  int phase; /* 0 warm-up, 1 counted, 2 over */
  uint64_t counted, in_flight;
  int err; /* first failure */
  bool up, closed, stopping;
} arun;

static void send_call(arun *r);

/* A reply: checked, counted in the measured phase, the next call sent. */
static void on_reply(void *arg, int status, netfw_msg *reply) {
  arun *r = arg;

  r->in_flight--;
  if (status != 0 || !cb_reply_ok(reply, r->o->size)) {
    if (r->err == 0)
      r->err = status != 0 ? status : NETFW_EPROTO;
    r->stopping = true;
    return;
  }
  if (r->phase == 1)
    r->counted++;
  else if (r->phase == 2)
    r->stopping = true;
  if (!r->stopping)
    send_call(r);
}

/* Sends one call; records the error (the run then winds down). */
static void send_call(arun *r) {
  int rc = netfw_aclient_call(r->a, &r->req, CB_TIMEOUT_MS, on_reply, r);

  if (rc != 0) {
    if (r->err == 0)
      r->err = rc;
    r->stopping = true;
    return;
  }
  r->in_flight++;
}

/* UP, DOWN (an error for the run) and CLOSED. */
static void on_state(void *user, netfw_link_state st, int err) {
  arun *r = user;

  if (st == NETFW_LINK_UP)
    r->up = true;
  else if (st == NETFW_LINK_DOWN && r->err == 0)
    r->err = err != 0 ? err : NETFW_ECONNRESET;
  else if (st == NETFW_LINK_CLOSED)
    r->closed = true;
}

/* Wakes the loop every 10 ms, so that run_while looks at its clock. */
static void tick(uv_timer_t *t) {
  (void)t;
}

/* Runs loop until done(r) (at most 15 s). */
static void run_while(uv_loop_t *loop, arun *r, bool (*done)(const arun *)) {
  uv_timer_t t;
  uint64_t limit = bench_now_ns() + (uint64_t)CB_TIMEOUT_MS * 3000000u;

  uv_timer_init(loop, &t);
  uv_timer_start(&t, tick, 10, 10);
  while (!done(r) && bench_now_ns() < limit)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}
/* run_while's conditions: up (or failed), every call ended, closed. */
static bool is_up(const arun *r) {
  return r->up || r->err != 0;
}
static bool drained(const arun *r) {
  return r->in_flight == 0 && (r->stopping || r->err != 0);
}
static bool is_closed(const arun *r) {
  return r->closed;
}

/* Warm-up over: counts for o->seconds; then over. */
static void on_phase(uv_timer_t *t) {
  arun *r = t->data;

  if (++r->phase == 1)
    uv_timer_start(t, on_phase, (uint64_t)(r->o->seconds * 1e3), 0);
}

/* Connects, keeps the window full for warmup + seconds, drains, closes. */
static int async_run(uv_loop_t *loop, arun *r) {
  const cb_options *o = r->o;
  unsigned long port = 0;

  bench_parse_ulong(o->port, 1, 65535, &port);
  if (netfw_aclient_connect(r->a, o->host, (uint16_t)port) != 0)
    return -1;
  run_while(loop, r, is_up);
  if (!r->up)
    return -1;
  uv_timer_init(loop, &r->phase_timer);
  r->phase_timer.data = r;
  uv_update_time(loop);
  uv_timer_start(&r->phase_timer, on_phase, (uint64_t)(o->warmup * 1e3), 0);
  for (unsigned long i = 0; i < o->window && !r->stopping; i++)
    send_call(r);
  run_while(loop, r, drained);
  uv_close((uv_handle_t *)&r->phase_timer, NULL);
  return r->err == 0 && r->in_flight == 0 ? 0 : -1;
}

/* Row q, one round (calls_bench.h). */
int cb_async_round(const cb_options *o, double *rate) {
  uv_loop_t loop;
  netfw_aclient_config cfg;
  arun r = {.o = o};
  int rc = -1;

  if (uv_loop_init(&loop) != 0)
    return -1;
  netfw_msg_init(&r.req, CB_REQ);
  if (o->size > 0 && netfw_msg_append(&r.req, cb_expect, o->size) != 0)
    goto failed_msg;
  netfw_aclient_config_init(&cfg);
  cfg.protocol = cb_desc();
  cfg.on_state = on_state;
  cfg.user = &r;
  if ((r.a = netfw_aclient_new(&loop, &cfg)) == NULL)
    goto failed_msg;
  rc = async_run(&loop, &r);
  if (rc != 0)
    fprintf(stderr, "calls-bench: async client: %s (%s)\n",
            netfw_strerror(r.err), netfw_aclient_error(r.a));
  *rate = (double)r.counted / o->seconds;
  netfw_aclient_close(r.a);
  run_while(&loop, &r, is_closed);

failed_msg:
  netfw_msg_release(&r.req);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}
