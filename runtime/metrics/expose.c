/* The Prometheus text exposition (format 0.0.4) of a netfw_stats snapshot:
 * the families of docs/observability.md, each with its HELP and TYPE
 * lines, in a fixed order. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "netfw/error.h"
#include "text.h"

/* A per-message counter family: its name, help and field. */
typedef struct msg_family {
  const char *name;
  const char *help;
  size_t field; /* offsetof a uint64_t in netfw_msg_stats */
} msg_family;

static const msg_family msg_families[] = {
    {"netfw_messages_received_total", "Frames handed to on_message.",
     offsetof(netfw_msg_stats, received)},
    {"netfw_messages_sent_total", "Frames queued for peers.",
     offsetof(netfw_msg_stats, sent)},
    {"netfw_bytes_received_total",
     "Bytes of the frames handed to on_message (headers included).",
     offsetof(netfw_msg_stats, received_bytes)},
    {"netfw_bytes_sent_total",
     "Bytes of the frames queued for peers (headers included).",
     offsetof(netfw_msg_stats, sent_bytes)},
    {"netfw_messages_malformed_total", "Frames whose payload did not decode.",
     offsetof(netfw_msg_stats, malformed)},
    {"netfw_messages_unhandled_total",
     "Frames the dispatcher had no handler for.",
     offsetof(netfw_msg_stats, unhandled)},
};

#define HISTOGRAM "netfw_handler_duration_seconds"

/* Writes the HELP and TYPE lines of a family. */
static void family(netfw__text *t, const char *name, const char *type,
                   const char *help) {
  netfw__text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes a family of one unlabelled sample. */
static void scalar(netfw__text *t, const char *name, const char *type,
                   const char *help, uint64_t v) {
  family(t, name, type, help);
  netfw__text_printf(t, "%s %llu\n", name, (unsigned long long)v);
}

/* Writes a counter family with one label: the sample name_of(i) = v[i]
 * for every i < n, zeros included. */
static void by_label(netfw__text *t, const char *name, const char *help,
                     const char *label, const char *(*name_of)(int),
                     const uint64_t *v, int n) {
  family(t, name, "counter", help);
  for (int i = 0; i < n; i++) {
    netfw__text_printf(t, "%s{%s=\"", name, label);
    netfw__text_label(t, name_of(i));
    netfw__text_printf(t, "\"} %llu\n", (unsigned long long)v[i]);
  }
}

/* netfw_refuse_reason_name and netfw_close_reason_name with an int. */
static const char *refuse_name(int i) {
  return netfw_refuse_reason_name((netfw_refuse_reason)i);
}
static const char *close_name(int i) {
  return netfw_close_reason_name((netfw_close_reason)i);
}

/* The i-th message entry to list: the registered ids first (by id, as the
 * snapshot orders them), "other" (entry 0) last. */
static const netfw_msg_stats *msg_at(const netfw_worker_stats *w, size_t i) {
  return &w->messages[(i + 1) % w->nmessages];
}

/* Writes `message="Add",id="1"` (or `message="?",id="other"`). */
static void msg_labels(netfw__text *t, const netfw_msg_stats *m) {
  netfw__text_puts(t, "message=\"");
  netfw__text_label(t, m->name != NULL ? m->name : "?");
  if (m->name != NULL)
    netfw__text_printf(t, "\",id=\"%u\"", (unsigned)m->id);
  else
    netfw__text_puts(t, "\",id=\"other\"");
}

/* Writes a per-message counter family: every entry, zeros included. */
static void per_msg(netfw__text *t, const netfw_worker_stats *w,
                    const msg_family *f) {
  family(t, f->name, "counter", f->help);
  for (size_t i = 0; i < w->nmessages; i++) {
    const netfw_msg_stats *m = msg_at(w, i);
    uint64_t v;

    memcpy(&v, (const char *)m + f->field, sizeof(v));
    netfw__text_printf(t, "%s{", f->name);
    msg_labels(t, m);
    netfw__text_printf(t, "} %llu\n", (unsigned long long)v);
  }
}

/* Writes ns as seconds in exact decimal: "0", "0.000123", "1.5". */
static void seconds(netfw__text *t, uint64_t ns) {
  char frac[16];
  int n;

  if (ns % 1000000000u == 0) {
    netfw__text_printf(t, "%llu", (unsigned long long)(ns / 1000000000u));
    return;
  }
  n = snprintf(frac, sizeof(frac), "%09llu",
               (unsigned long long)(ns % 1000000000u));
  while (n > 0 && frac[n - 1] == '0')
    frac[--n] = '\0';
  netfw__text_printf(t, "%llu.%s", (unsigned long long)(ns / 1000000000u),
                     frac);
}

/* Writes one message's histogram series: cumulative buckets, +Inf, _sum
 * and _count. +Inf and _count are the buckets' sum (received, once the
 * counts are at rest), so the series is always self-consistent even when
 * the snapshot raced a worker's increments. */
static void histogram(netfw__text *t, const netfw_msg_stats *m) {
  uint64_t cum = 0;

  for (int b = 0; b <= NETFW_STATS_BUCKETS; b++) {
    cum += m->handler_buckets[b];
    netfw__text_puts(t, HISTOGRAM "_bucket{");
    msg_labels(t, m);
    if (b < NETFW_STATS_BUCKETS)
      netfw__text_printf(t, ",le=\"%g\"} %llu\n",
                         (double)netfw_stats_bucket_ns[b] / 1e9,
                         (unsigned long long)cum);
    else
      netfw__text_printf(t, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
  }
  netfw__text_puts(t, HISTOGRAM "_sum{");
  msg_labels(t, m);
  netfw__text_puts(t, "} ");
  seconds(t, m->handler_ns);
  netfw__text_puts(t, "\n" HISTOGRAM "_count{");
  msg_labels(t, m);
  netfw__text_printf(t, "} %llu\n", (unsigned long long)cum);
}

/* Writes the deaths family: "SIGKILL" (sigabbrev_np), "SIG<n>" for a
 * signal without a name, "exit_<code>"; non-zero entries only. */
static void deaths(netfw__text *t, const netfw_worker_stats *w) {
  family(t, "netfw_worker_deaths_total", "counter",
         "Unexpected worker deaths, by the signal that killed the worker or "
         "its exit status.");
  for (int sig = 1; sig < 65; sig++) {
    const char *abbrev = sigabbrev_np(sig);

    if (w->died_signal[sig] == 0)
      continue;
    if (abbrev != NULL)
      netfw__text_printf(t, "netfw_worker_deaths_total{reason=\"SIG%s\"}",
                         abbrev);
    else
      netfw__text_printf(t, "netfw_worker_deaths_total{reason=\"SIG%d\"}", sig);
    netfw__text_printf(t, " %llu\n", (unsigned long long)w->died_signal[sig]);
  }
  for (int code = 0; code < 256; code++)
    if (w->died_exit[code] != 0)
      netfw__text_printf(t,
                         "netfw_worker_deaths_total{reason=\"exit_%d\"} %llu\n",
                         code, (unsigned long long)w->died_exit[code]);
}

/* The connection families. */
static void connections(netfw__text *t, const netfw_worker_stats *w) {
  scalar(t, "netfw_connections_accepted_total", "counter",
         "Sockets accepted by the workers.", w->accepted);
  scalar(t, "netfw_connections_open", "gauge",
         "Connections the application holds now.", w->open);
  by_label(t, "netfw_connections_refused_total",
           "Accepted sockets that never became connections of the "
           "application, by reason.",
           "reason", refuse_name, w->refused, NETFW_REFUSE_REASON_COUNT);
  by_label(t, "netfw_connections_closed_total",
           "Connections closed, by reason.", "reason", close_name, w->closed,
           NETFW_CLOSE_REASON_COUNT);
}

/* The per-message families and the handler-time histogram. */
static void messages(netfw__text *t, const netfw_worker_stats *w) {
  for (size_t f = 0; f < sizeof(msg_families) / sizeof(msg_families[0]); f++)
    per_msg(t, w, &msg_families[f]);
  family(t, HISTOGRAM, "histogram", "Time spent in on_message, per message.");
  for (size_t i = 0; i < w->nmessages; i++)
    histogram(t, msg_at(w, i));
}

/* The worker families. */
static void workers(netfw__text *t, const netfw_stats *st) {
  const netfw_worker_stats *w = &st->total;

  scalar(t, "netfw_workers", "gauge", "Worker slots.",
         st->nworkers > 0 ? (uint64_t)st->nworkers : 0);
  family(t, "netfw_worker_up", "gauge",
         "1 while a worker serves the slot, else 0.");
  for (int i = 0; i < st->nworkers; i++)
    netfw__text_printf(t, "netfw_worker_up{worker=\"%d\"} %d\n", i,
                       st->workers[i].up ? 1 : 0);
  scalar(t, "netfw_workers_started_total", "counter",
         "Worker processes forked, the first ones included.", w->started);
  scalar(t, "netfw_worker_restarts_total", "counter",
         "Worker processes forked to replace one that died.", w->restarts);
  deaths(t, w);
}

int netfw__metrics_expose(const netfw_stats *st, netfw__text *out) {
  const netfw_worker_stats *w = &st->total;

  connections(out, w);
  messages(out, w);
  scalar(out, "netfw_output_queued_bytes", "gauge",
         "Output bytes queued for peers now.", w->output_queued);
  scalar(out, "netfw_output_queued_bytes_max", "gauge",
         "The most output bytes any one worker process queued at once.",
         w->output_queued_max);
  workers(out, st);
  scalar(out, "netfw_bus_published_total", "counter", "Bus messages published.",
         w->bus_published);
  scalar(out, "netfw_bus_delivered_total", "counter",
         "Bus messages handed to on_bus.", w->bus_delivered);
  scalar(out, "netfw_bus_dropped_total", "counter",
         "Bus messages dropped because a queue was full.", w->bus_dropped);
  return out->failed ? NETFW_ENOMEM : 0;
}
