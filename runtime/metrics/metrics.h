/* Observability inside netfw (docs/observability.md): how workers count and
 * how the parent reads, sums and serves the counts.
 *
 * Shape. Before the first fork the parent maps one table of counter blocks
 * shared with every worker (table.c): a block per worker process, claimed
 * at its fork, and freed (its counts folded into its slot's totals) once
 * the process is reaped. A worker writes only its own block, with plain
 * increments (a relaxed load and store: no lock, no atomic read-modify-
 * write); the parent only reads them. Messages are counted per id through
 * a dense index built from the protocol's names (netfw_config.msg_name):
 * entry 0 of a block is "other", for ids the protocol did not register.
 *
 * Handler time uses a tick clock (clock.c): the CPU's time-stamp counter
 * where the kernel trusts it (clocksource "tsc"), calibrated against
 * CLOCK_MONOTONIC in the parent; CLOCK_MONOTONIC nanoseconds elsewhere.
 * It is read once per run of frames of one entry (netfw__run below).
 *
 * The parent side runs on the supervisor's loop: netfw_server_stats is a
 * supervisor command (snapshot.c), and metrics_addr serves GET /metrics
 * (Prometheus text, expose.c) and GET /healthz through libmicrohttpd
 * driven by that loop (http.c). */
#ifndef NETFW_RUNTIME_METRICS_H
#define NETFW_RUNTIME_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/stats.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#ifndef NETFW_STATS
#define NETFW_STATS 1 /* 0: counting compiled out (the bench's A/B) */
#endif

typedef struct netfw_server netfw_server;

/* ---- counters ---- */

/* A counter in shared memory: one process writes it, others read it. */
typedef _Atomic uint64_t netfw__ctr;

/* Adds n: a plain load and store (the block has one writer). */
static inline void netfw__ctr_add(netfw__ctr *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                        memory_order_relaxed);
}

/* Sets a gauge. */
static inline void netfw__ctr_set(netfw__ctr *c, uint64_t v) {
  atomic_store_explicit(c, v, memory_order_relaxed);
}

/* Reads a counter another process writes. */
static inline uint64_t netfw__ctr_get(const netfw__ctr *c) {
  return atomic_load_explicit((netfw__ctr *)(uintptr_t)c,
                              memory_order_relaxed);
}

/* One message id's counters in a block. handler_ticks is in clock ticks. */
typedef struct netfw__mctr {
  netfw__ctr received, received_bytes, sent, sent_bytes;
  netfw__ctr malformed, unhandled, handler_ticks;
  netfw__ctr buckets[NETFW_STATS_BUCKETS + 1];
} netfw__mctr;

/* One worker process's block. The gauges (open, queued, ready) describe
 * the process while it lives and are dropped when it ends. */
typedef struct netfw__wctr {
  netfw__ctr accepted;
  netfw__ctr open;       /* gauge: connections the app holds            */
  netfw__ctr queued;     /* gauge: output bytes queued                   */
  netfw__ctr queued_max; /* the most this process queued at once         */
  netfw__ctr ready;      /* 1 from create()'s return until it retires or
                            stops: the worker serves its slot             */
  netfw__ctr refused[NETFW_REFUSE_REASON_COUNT];
  netfw__ctr closed[NETFW_CLOSE_REASON_COUNT];
  netfw__ctr bus_published, bus_delivered, bus_dropped_out;
  netfw__mctr msg[]; /* the table's nmsg entries; [0] is "other"          */
} netfw__wctr;

/* What a slot's workers left behind and the supervisor counted for it
 * (supervisor thread only). */
typedef struct netfw__slot_ctr {
  uint64_t started, restarts;
  uint64_t died_signal[65], died_exit[256];
  uint64_t bus_dropped_in; /* what the relay dropped for its workers      */
  netfw__wctr *ended;        /* the sum of its ended processes' blocks     */
} netfw__slot_ctr;

/* The shared table and what the parent knows about it. Made by
 * netfw__metrics_new before the first fork; read-only afterwards except
 * where noted. */
typedef struct netfw__metrics {
  size_t nmsg;         /* 1 + the registered ids                            */
  uint16_t *ids;       /* nmsg ids; ids[0] = 0 ("other")                    */
  char **names;        /* nmsg names (copies); names[0] = NULL              */
  uint16_t *index;     /* 65536 entries: id -> entry (0: "other")          */
  uint64_t bucket_ticks[NETFW_STATS_BUCKETS]; /* the bounds, in ticks      */
  double ns_per_tick;  /* ticks -> nanoseconds                              */
  bool tsc;            /* ticks are the time-stamp counter                  */
  size_t stride;       /* bytes per block (whole cache lines)               */
  int nslots;          /* worker slots                                      */
  int nblocks;         /* blocks in the shared map                          */
  uint8_t *map;        /* nblocks * stride bytes, MAP_SHARED                */
  bool *used;          /* supervisor: blocks claimed by a live process      */
  netfw__slot_ctr *slots; /* supervisor: nslots entries                     */
  struct netfw__http *http; /* the metrics endpoint, or NULL (http.c;
                               supervisor thread)                         */
  _Atomic uint16_t http_port; /* its port while it serves; 0: not serving
                               (any thread)                               */
} netfw__metrics;

/* Makes the table for nslots worker slots, each with up to `per_slot`
 * processes alive at once, registering the ids msg_name names (NULL: none;
 * called for every id 0..65535 once). Returns NULL when out of memory
 * (logged). Parent, before the first fork. */
netfw__metrics *netfw__metrics_new(int nslots, int per_slot,
                                   const char *(*msg_name)(uint16_t id));

/* Unmaps and frees m (NULL: nothing). Every worker must be reaped. */
void netfw__metrics_free(netfw__metrics *m);

/* ---- the tick clock (clock.c) ---- */

/* Calibrates the tick clock (fills m->tsc and m->ns_per_tick) and the
 * bucket bounds in ticks. Parent, before the first fork (takes ~5 ms when
 * the time-stamp counter is used). */
void netfw__metrics_clock_init(netfw__metrics *m);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t netfw__metrics_mono_ns(void);

/* Now, in ticks of the clock m chose. */
static inline uint64_t netfw__metrics_now(const netfw__metrics *m) {
#if !NETFW_STATS
  (void)m;
  return 0;
#endif
#if defined(__x86_64__) || defined(__i386__)
  if (m->tsc)
    return __rdtsc();
#endif
  (void)m;
  return netfw__metrics_mono_ns();
}

/* Nanoseconds in `ticks` ticks. */
uint64_t netfw__metrics_ns(const netfw__metrics *m, uint64_t ticks);

/* ---- supervisor side (table.c) ---- */

/* Claims a zeroed block for a process about to be forked into slot.
 * Returns NULL when none is free (logged: the process then counts into a
 * private block). */
netfw__wctr *netfw__metrics_claim(netfw__metrics *m, int slot);

/* Folds block b of an ended process of slot into the slot's totals and
 * frees it (NULL: nothing). */
void netfw__metrics_release(netfw__metrics *m, int slot, netfw__wctr *b);

/* Counts an unexpected death of a worker of slot (status as waitpid gives
 * it; -1 unknown: not counted by cause). */
void netfw__metrics_died(netfw__metrics *m, int slot, int status);

/* ---- worker side: the message path ---- */

/* The entry of id in block b. */
static inline netfw__mctr *netfw__metrics_msg(const netfw__metrics *m,
                                              netfw__wctr *b, uint16_t id) {
  return &b->msg[m->index[id]];
}

/* Frames of one entry (one registered id, or "other") handed to
 * on_message one after another, in one read: they are counted together,
 * with one clock reading at the end of the run (the handlers' time, and
 * framing them). Each frame of a run gets
 * the run's average in the histogram; their sum is exact. A frame that
 * arrives alone (request and response) is a run of one: timed exactly.
 * Pipelined frames of one message share a reading, which keeps counting
 * to a few instructions per frame. */
typedef struct netfw__run {
  uint64_t start;  /* ticks when the run began                          */
  size_t bytes;    /* frame bytes in the run                            */
  uint32_t frames; /* frames in the run                                 */
  uint16_t entry;  /* their entry in the table                          */
} netfw__run;

/* Starts counting frames from now. */
static inline void netfw__run_begin(const netfw__metrics *m, netfw__run *r) {
  r->start = netfw__metrics_now(m);
  r->bytes = 0;
  r->frames = 0;
  r->entry = 0;
}

/* Counts the run so far (its handlers took until now) and starts the next
 * one now. */
static inline void netfw__run_flush(const netfw__metrics *m, netfw__wctr *b,
                                    netfw__run *r) {
#if NETFW_STATS
  netfw__mctr *e;
  uint64_t now, ticks, each;
  int i = 0;

  if (r->frames == 0)
    return;
  now = netfw__metrics_now(m);
  ticks = now - r->start;
  each = r->frames == 1 ? ticks : ticks / r->frames;
  while (i < NETFW_STATS_BUCKETS && each > m->bucket_ticks[i])
    i++;
  e = &b->msg[r->entry];
  netfw__ctr_add(&e->received, r->frames);
  netfw__ctr_add(&e->received_bytes, r->bytes);
  netfw__ctr_add(&e->handler_ticks, ticks);
  netfw__ctr_add(&e->buckets[i], r->frames);
  r->start = now;
  r->bytes = 0;
  r->frames = 0;
#else
  (void)m, (void)b, (void)r;
#endif
}

/* Adds a frame of id and `bytes` about to be handed to on_message; a frame
 * of another entry ends the run before it. */
static inline void netfw__run_add(const netfw__metrics *m, netfw__wctr *b,
                                  netfw__run *r, uint16_t id, size_t bytes) {
#if NETFW_STATS
  uint16_t entry = m->index[id];

  if (r->frames > 0 && entry != r->entry)
    netfw__run_flush(m, b, r);
  r->entry = entry;
  r->frames++;
  r->bytes += bytes;
#else
  (void)m, (void)b, (void)r, (void)id, (void)bytes;
#endif
}

/* Counts a frame of `bytes` queued for a peer. */
static inline void netfw__count_sent(const netfw__metrics *m, netfw__wctr *b,
                                     uint16_t id, size_t bytes) {
#if NETFW_STATS
  netfw__mctr *e = netfw__metrics_msg(m, b, id);

  netfw__ctr_add(&e->sent, 1);
  netfw__ctr_add(&e->sent_bytes, bytes);
#else
  (void)m, (void)b, (void)id, (void)bytes;
#endif
}

/* ---- parent side: reading (snapshot.c) ---- */

/* Fills *out from the table of a server (its slots, live blocks and the
 * totals of ended processes). Supervisor thread, or any thread of the
 * parent once it has been joined. Returns 0 or NETFW_ENOMEM. */
int netfw__metrics_snapshot(netfw_server *s, netfw_stats *out);

/* True while the server runs and every slot has a serving worker, one
 * whose app's create() returned (what GET /healthz reports). Supervisor
 * thread. */
bool netfw__metrics_all_up(netfw_server *s);

/* ---- Prometheus text (expose.c) ---- */

/* A growing text buffer. */
typedef struct netfw__text {
  char *buf;
  size_t len, cap;
  bool failed; /* an allocation failed: the text is incomplete */
} netfw__text;

/* Appends the Prometheus text exposition (format 0.0.4) of st to out:
 * every metric with its HELP and TYPE lines. Returns 0 or NETFW_ENOMEM. */
int netfw__metrics_expose(const netfw_stats *st, netfw__text *out);

/* ---- the HTTP endpoint (http.c) ---- */

/* Parses "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464"; port 0: any free
 * one) into host (NUL-terminated) and *port. Returns 0 or NETFW_EINVAL. */
int netfw__metrics_addr_parse(const char *addr, char *host, size_t host_len,
                              uint16_t *port);

/* Starts serving GET /metrics and GET /healthz on addr from the supervisor's
 * loop. Returns 0 or a NETFW_E* code (logged). Supervisor thread. */
int netfw__metrics_http_start(netfw_server *s, const char *addr);

/* The port it listens on (0: not serving). Any thread. */
uint16_t netfw__metrics_http_port(const netfw_server *s);

/* Stops serving and closes its handles (idempotent). Supervisor thread. */
void netfw__metrics_http_stop(netfw_server *s);

#endif /* NETFW_RUNTIME_METRICS_H */
