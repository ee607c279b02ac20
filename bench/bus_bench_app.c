/* bus-bench's netfw app (bench_app, bus_bench.h), run by every worker: the
 * receivers count what on_bus delivers in shared memory; the worker the
 * bench's connection lands on publishes the throughput run (a credit window
 * read from the shared counters) or the latency run (one message per ms),
 * and answers the bench's requests. The bench's side is in bus_bench.c. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include <netfw/bus.h>
#include <netfw/netfw.h>

#include "bench_common.h"
#include "bus_bench.h"

#define CHANNEL "bench"

/* ---- the netfw app ------------------------------------------------------ */

typedef struct bapp {
  board *b;
  rslot *me;
  netfw_conn *ctl; /* the bench's connection, when this worker publishes */
  uv_idle_t idle;
  uv_timer_t timer;
  int mode;
  uint32_t left, seq, eagain;
  uint8_t buf[1 << 16];
} bapp;

static void *app_create(void *context) {
  board *b = context;
  bapp *a = calloc(1, sizeof(*a));
  int i = atomic_fetch_add(&b->nslots, 1);

  if (a == NULL || i >= MAX_W)
    abort();
  a->b = b;
  a->me = &b->slot[i];
  uv_idle_init(netfw_worker_loop(), &a->idle);
  uv_timer_init(netfw_worker_loop(), &a->timer);
  a->idle.data = a->timer.data = a;
  if (b->subscribe && netfw_bus_subscribe(CHANNEL) != 0)
    abort();
  atomic_store(&a->me->pid, (int)getpid());
  return a;
}

static void app_destroy(void *app) {
  bapp *a = app;
  uv_close((uv_handle_t *)&a->idle, NULL);
  uv_close((uv_handle_t *)&a->timer, NULL);
  /* the loop is gone with the process; a is freed by the exit */
}

static void app_on_bus(void *app, const char *channel, netfw_msg *m) {
  bapp *a = app;
  const uint8_t *p = netfw_msg_payload(m);
  uint64_t now = bench_now_ns(), ns;

  (void)channel;
  if (netfw_msg_size(m) < 12) {
    atomic_fetch_add(&a->me->bad, 1);
    return;
  }
  memcpy(&ns, p, 8);
  switch (netfw_msg_id(m)) {
  case ID_PROBE:
    atomic_fetch_add(&a->me->probe, 1);
    break;
  case ID_THR:
    atomic_store_explicit(&a->me->last_ns, now, memory_order_relaxed);
    atomic_fetch_add_explicit(&a->me->thr, 1, memory_order_release);
    break;
  case ID_LAT:
    hist_record(&a->me->h, now - ns);
    atomic_store_explicit(&a->me->last_ns, now, memory_order_relaxed);
    atomic_fetch_add_explicit(&a->me->lat, 1, memory_order_release);
    break;
  default:
    atomic_fetch_add(&a->me->bad, 1);
  }
}

static void reply(netfw_conn *c, uint16_t id, const void *p, uint32_t n) {
  netfw_msg m;
  netfw_msg_init(&m, id);
  if (netfw_msg_append(&m, p, n) == 0)
    netfw_conn_send(c, &m);
  netfw_msg_release(&m);
}

static int publish(bapp *a, uint16_t id) {
  uint64_t now = bench_now_ns();
  memcpy(a->buf, &now, 8);
  memcpy(a->buf + 8, &a->seq, 4);
  return netfw_bus_publish_bytes(CHANNEL, id, a->buf, (uint32_t)o.size,
                                 NETFW_BUS_ECHO);
}

static void run_done(bapp *a, int rc) {
  uint32_t r[3] = {a->seq, a->eagain, (uint32_t)rc};
  uv_idle_stop(&a->idle);
  uv_timer_stop(&a->timer);
  if (a->ctl != NULL)
    reply(a->ctl, REQ_RUN, r, sizeof(r));
  a->mode = 0;
}

static uint64_t slowest(const board *w) {
  uint64_t m = UINT64_MAX, v;
  int i;
  for (i = 0; i < w->nwatch; i++)
    if ((v = atomic_load_explicit(&w->slot[i].thr, memory_order_relaxed)) < m)
      m = v;
  return m;
}

static void thr_tick(uv_idle_t *h);
static void thr_resume(uv_timer_t *t) {
  bapp *a = t->data;
  uv_idle_start(&a->idle, thr_tick);
}

/* Publishes until the window is full or the bus says EAGAIN; then waits
 * 1 ms on a timer (spinning would take the CPU the receivers need). */
static void thr_tick(uv_idle_t *h) {
  bapp *a = h->data;
  uint64_t low = slowest(a->b->watch);
  int k, rc;

  for (k = 0; k < 1024 && a->left > 0; k++) {
    if (a->seq - low >= o.window && (low = slowest(a->b->watch), 1) &&
        a->seq - low >= o.window)
      break;
    if ((rc = publish(a, ID_THR)) == NETFW_EAGAIN) {
      a->eagain++;
      break;
    }
    if (rc != 0) {
      run_done(a, rc);
      return;
    }
    if (a->seq++ == 0)
      atomic_store(&a->b->first_ns, bench_now_ns());
    a->left--;
  }
  if (a->left == 0) {
    run_done(a, 0);
  } else if (k < 1024) {
    uv_idle_stop(&a->idle);
    uv_timer_start(&a->timer, thr_resume, 1, 0);
  }
}

static void lat_tick(uv_timer_t *t) {
  bapp *a = t->data;
  int rc = publish(a, ID_LAT);

  if (rc != 0 && rc != NETFW_EAGAIN) {
    run_done(a, rc);
    return;
  }
  if (rc == 0)
    a->seq++;
  else
    a->eagain++;
  if (--a->left == 0)
    run_done(a, 0);
}

static void app_on_message(void *app, netfw_owned_msg *om) {
  bapp *a = app;
  const uint8_t *p = netfw_msg_payload(om->msg);
  uint32_t r[2], mode, count;
  int rc;

  switch (netfw_msg_id(om->msg)) {
  case REQ_WHO:
    r[0] = (uint32_t)getpid();
    reply(om->owner, REQ_WHO, r, 4);
    return;
  case REQ_PROBE:
    rc = publish(a, ID_PROBE);
    reply(om->owner, REQ_PROBE, &rc, 4);
    return;
  case REQ_RUN:
    if (netfw_msg_size(om->msg) != 8 || a->mode != 0)
      break;
    memcpy(&mode, p, 4);
    memcpy(&count, p + 4, 4);
    a->ctl = om->owner;
    a->mode = (int)mode;
    a->left = count;
    a->seq = a->eagain = 0;
    if (mode == MODE_THR)
      uv_idle_start(&a->idle, thr_tick);
    else
      uv_timer_start(&a->timer, lat_tick, 1, 1);
    return;
  }
  netfw_conn_shutdown(om->owner);
}

static void app_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  bapp *a = app;
  (void)why;
  if (a->ctl == c) {
    a->ctl = NULL;
    if (a->mode != 0)
      run_done(a, 0);
  }
}

const netfw_app bench_app = {
    .create = app_create,
    .on_message = app_on_message,
    .destroy = app_destroy,
    .on_client_closed = app_closed,
    .on_bus = app_on_bus,
};
