/* Hand-built netfw_stats snapshots (see stats_sample.h). */
#include "stats_sample.h"

#include <signal.h>
#include <string.h>

static netfw_msg_stats small_msgs[2];
static netfw_worker_stats small_workers[1];

void sample_stats_small(netfw_stats *st) {
  netfw_msg_stats *other = &small_msgs[0], *ping = &small_msgs[1];

  memset(st, 0, sizeof(*st));
  memset(small_msgs, 0, sizeof(small_msgs));
  other->received = 1; /* an id the protocol did not register */
  other->received_bytes = 10;
  other->unhandled = 1;
  other->handler_ns = 800;
  other->handler_buckets[0] = 1;
  ping->id = 7;
  ping->name = "Ping";
  ping->received = 3;
  ping->received_bytes = 36;
  ping->sent = 2;
  ping->sent_bytes = 24;
  ping->malformed = 1;
  ping->handler_ns = 1500000123;                  /* 1.500000123 s */
  ping->handler_buckets[0] = 1;                   /* <= 1 µs   */
  ping->handler_buckets[2] = 1;                   /* <= 5 µs   */
  ping->handler_buckets[NETFW_STATS_BUCKETS] = 1; /* > 1 s */
  st->total.slot = -1;
  st->total.up = true;
  st->total.accepted = 3;
  st->total.open = 1;
  st->total.refused[NETFW_REFUSE_APP] = 1;
  st->total.closed[NETFW_CLOSE_PEER] = 2;
  st->total.output_queued = 0;
  st->total.output_queued_max = 4096;
  st->total.started = 2;
  st->total.restarts = 1;
  st->total.died_signal[SIGKILL] = 1;
  st->total.nmessages = 2;
  st->total.messages = small_msgs;
  small_workers[0] = st->total;
  small_workers[0].slot = 0;
  small_workers[0].pid = 4242;
  small_workers[0].generation = 2;
  st->nworkers = 1;
  st->workers = small_workers;
}

static netfw_msg_stats full_msgs[4];
static netfw_worker_stats full_workers[3];

/* Fills message entry m with numbers derived from k. */
static void full_msg(netfw_msg_stats *m, uint16_t id, const char *name,
                     uint64_t k) {
  memset(m, 0, sizeof(*m));
  m->id = id;
  m->name = name;
  m->sent = 2 * k;
  m->sent_bytes = 2 * k * (12 + id);
  m->malformed = k % 3;
  m->unhandled = name == NULL ? k : 0;
  for (int b = 0; b <= NETFW_STATS_BUCKETS; b++) {
    m->handler_buckets[b] = (k + (uint64_t)b) % 4;
    m->received += m->handler_buckets[b];
    m->handler_ns += m->handler_buckets[b] * (1000u << (b % 16));
  }
  m->received_bytes = m->received * (12 + id);
}

void sample_stats_full(netfw_stats *st) {
  memset(st, 0, sizeof(*st));
  full_msg(&full_msgs[0], 0, NULL, 1);
  full_msg(&full_msgs[1], 1, "Add", 5);
  full_msg(&full_msgs[2], 2, "Sub", 0);
  full_msg(&full_msgs[3], 300, "Echo_v2", 9);
  st->total.slot = -1;
  st->total.accepted = 1000;
  st->total.open = 17;
  for (int i = 0; i < NETFW_REFUSE_REASON_COUNT; i++)
    st->total.refused[i] = (uint64_t)i;
  for (int i = 0; i < NETFW_CLOSE_REASON_COUNT; i++)
    st->total.closed[i] = (uint64_t)(10 * i);
  st->total.output_queued = 65536;
  st->total.output_queued_max = 1 << 20;
  st->total.started = 6;
  st->total.restarts = 3;
  st->total.died_signal[SIGKILL] = 1;
  st->total.died_signal[SIGSEGV] = 1;
  st->total.died_signal[SIGRTMIN + 2] = 1;
  st->total.died_exit[3] = 1;
  st->total.bus_published = 40;
  st->total.bus_delivered = 120;
  st->total.bus_dropped = 2;
  st->total.nmessages = 4;
  st->total.messages = full_msgs;
  for (int i = 0; i < 3; i++) {
    full_workers[i] = st->total;
    full_workers[i].slot = i;
    full_workers[i].up = i != 1;
    full_workers[i].pid = i != 1 ? 100 + i : 0;
  }
  st->nworkers = 3;
  st->workers = full_workers;
}
