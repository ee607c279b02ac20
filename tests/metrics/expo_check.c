/* The Prometheus exposition checked against a netfw_stats snapshot, in the
 * terms of the metric-name contract (docs/observability.md). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics_kit.h"

/* Fails unless name{labels} is there with the whole value want. */
static void want_u64(const mk_prom *p, const char *name, const char *labels,
                     uint64_t want) {
  uint64_t v = 0;

  if (!mk_prom_u64(p, name, labels, &v))
    fail_msg("/metrics has no whole-number sample %s{%s}", name, labels);
  if (v != want)
    fail_msg("/metrics: %s{%s} is %llu, the snapshot says %llu", name, labels,
             (unsigned long long)v, (unsigned long long)want);
}

/* The message/id labels of entry m. */
static void msg_labels(const netfw_msg_stats *m, char *out, size_t len) {
  if (m->name == NULL)
    snprintf(out, len, "message=\"?\",id=\"other\"");
  else
    snprintf(out, len, "message=\"%s\",id=\"%u\"", m->name, (unsigned)m->id);
}

/* The histogram of entry m: cumulative buckets with the contract's le
 * values, then +Inf, _sum and _count. */
static void want_histogram(const mk_prom *p, const netfw_msg_stats *m,
                           const char *ml) {
  char labels[300];
  uint64_t cum = 0;
  double sum = 0;
  int i;

  for (i = 0; i <= NETFW_STATS_BUCKETS; i++) {
    cum += m->handler_buckets[i];
    if (i < NETFW_STATS_BUCKETS)
      snprintf(labels, sizeof(labels), "%s,le=\"%g\"", ml,
               (double)netfw_stats_bucket_ns[i] / 1e9);
    else
      snprintf(labels, sizeof(labels), "%s,le=\"+Inf\"", ml);
    want_u64(p, "netfw_handler_duration_seconds_bucket", labels, cum);
  }
  want_u64(p, "netfw_handler_duration_seconds_count", ml, m->received);
  if (!mk_prom_double(p, "netfw_handler_duration_seconds_sum", ml, &sum))
    fail_msg("/metrics has no netfw_handler_duration_seconds_sum{%s}", ml);
  if (fabs(sum - (double)m->handler_ns / 1e9) >
      1e-9 + 1e-6 * (double)m->handler_ns / 1e9)
    fail_msg("/metrics: handler _sum{%s} is %.9g, the snapshot says %.9g s", ml,
             sum, (double)m->handler_ns / 1e9);
}

/* Every per-message family, for every entry. */
static void want_messages(const mk_prom *p, const netfw_worker_stats *t) {
  char ml[256];
  size_t i;

  for (i = 0; i < t->nmessages; i++) {
    const netfw_msg_stats *m = &t->messages[i];
    msg_labels(m, ml, sizeof(ml));
    want_u64(p, "netfw_messages_received_total", ml, m->received);
    want_u64(p, "netfw_messages_sent_total", ml, m->sent);
    want_u64(p, "netfw_bytes_received_total", ml, m->received_bytes);
    want_u64(p, "netfw_bytes_sent_total", ml, m->sent_bytes);
    want_u64(p, "netfw_messages_malformed_total", ml, m->malformed);
    want_u64(p, "netfw_messages_unhandled_total", ml, m->unhandled);
    want_histogram(p, m, ml);
  }
  assert_int_equal(mk_prom_count(p, "netfw_messages_received_total"),
                   t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_messages_sent_total"), t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_bytes_received_total"),
                   t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_bytes_sent_total"), t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_messages_malformed_total"),
                   t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_messages_unhandled_total"),
                   t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_handler_duration_seconds_bucket"),
                   t->nmessages * (NETFW_STATS_BUCKETS + 1));
  assert_int_equal(mk_prom_count(p, "netfw_handler_duration_seconds_sum"),
                   t->nmessages);
  assert_int_equal(mk_prom_count(p, "netfw_handler_duration_seconds_count"),
                   t->nmessages);
}

/* Connections: accepted, open, refused and closed by every reason. */
static void want_connections(const mk_prom *p, const netfw_worker_stats *t) {
  char l[96];
  int r;

  want_u64(p, "netfw_connections_accepted_total", "", t->accepted);
  want_u64(p, "netfw_connections_open", "", t->open);
  for (r = 0; r < NETFW_REFUSE_REASON_COUNT; r++) {
    snprintf(l, sizeof(l), "reason=\"%s\"", netfw_refuse_reason_name(r));
    want_u64(p, "netfw_connections_refused_total", l, t->refused[r]);
  }
  for (r = 0; r < NETFW_CLOSE_REASON_COUNT; r++) {
    snprintf(l, sizeof(l), "reason=\"%s\"", netfw_close_reason_name(r));
    want_u64(p, "netfw_connections_closed_total", l, t->closed[r]);
  }
  assert_int_equal(mk_prom_count(p, "netfw_connections_refused_total"),
                   NETFW_REFUSE_REASON_COUNT);
  assert_int_equal(mk_prom_count(p, "netfw_connections_closed_total"),
                   NETFW_CLOSE_REASON_COUNT);
}

/* Workers: up per slot, started, restarts, deaths by their non-zero
 * reasons. */
static void want_workers(const mk_prom *p, const netfw_stats *st) {
  const netfw_worker_stats *t = &st->total;
  char l[96];
  size_t deaths = 0;
  int i;

  want_u64(p, "netfw_workers", "", (uint64_t)st->nworkers);
  for (i = 0; i < st->nworkers; i++) {
    snprintf(l, sizeof(l), "worker=\"%d\"", i);
    want_u64(p, "netfw_worker_up", l, st->workers[i].up ? 1 : 0);
  }
  assert_int_equal(mk_prom_count(p, "netfw_worker_up"), st->nworkers);
  want_u64(p, "netfw_workers_started_total", "", t->started);
  want_u64(p, "netfw_worker_restarts_total", "", t->restarts);
  for (i = 1; i < 65; i++) {
    const char *abbrev = sigabbrev_np(i);
    if (t->died_signal[i] == 0)
      continue;
    if (abbrev != NULL)
      snprintf(l, sizeof(l), "reason=\"SIG%s\"", abbrev);
    else
      snprintf(l, sizeof(l), "reason=\"SIG%d\"", i);
    want_u64(p, "netfw_worker_deaths_total", l, t->died_signal[i]);
    deaths++;
  }
  for (i = 0; i < 256; i++) {
    if (t->died_exit[i] == 0)
      continue;
    snprintf(l, sizeof(l), "reason=\"exit_%d\"", i);
    want_u64(p, "netfw_worker_deaths_total", l, t->died_exit[i]);
    deaths++;
  }
  assert_int_equal(mk_prom_count(p, "netfw_worker_deaths_total"), deaths);
}

void mk_assert_exposition(const mk_prom *p, const netfw_stats *st) {
  const netfw_worker_stats *t = &st->total;
  int i;

  assert_int_equal(p->nfam, MK_NFAMILIES);
  for (i = 0; i < MK_NFAMILIES; i++) {
    const char *type = mk_prom_type(p, mk_families[i][0]);
    if (type == NULL || strcmp(type, mk_families[i][1]) != 0)
      fail_msg("/metrics: family %s is %s, not a %s", mk_families[i][0],
               type != NULL ? type : "missing", mk_families[i][1]);
  }
  want_connections(p, t);
  want_messages(p, t);
  want_u64(p, "netfw_output_queued_bytes", "", t->output_queued);
  want_u64(p, "netfw_output_queued_bytes_max", "", t->output_queued_max);
  want_workers(p, st);
  want_u64(p, "netfw_bus_published_total", "", t->bus_published);
  want_u64(p, "netfw_bus_delivered_total", "", t->bus_delivered);
  want_u64(p, "netfw_bus_dropped_total", "", t->bus_dropped);
}
