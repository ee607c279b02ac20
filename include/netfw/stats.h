/* netfw — what a running server counted: connections, frames and bytes per
 * message name, handler time, queued output, worker deaths and restarts, the
 * bus. Every worker counts into its own block of memory shared with the
 * parent (plain increments, no locks); netfw_server_stats sums the blocks,
 * and netfw_config.metrics_addr serves the same numbers to Prometheus
 * (docs/observability.md). Counters only grow while the server exists: a
 * worker that dies or retires leaves its counts to its slot. */
#ifndef NETFW_STATS_H
#define NETFW_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/export.h"
#include "netfw/server.h"

/* The handler-time histogram: bucket i counts handler calls that took at
 * most netfw_stats_bucket_ns[i] nanoseconds (and more than bucket i-1's
 * bound); bucket NETFW_STATS_BUCKETS counts the longer ones. The bounds go
 * from 1 µs to 1 s in 1-2.5-5 steps. Frames of one message handed over one
 * after another from one read share one clock reading: each counts their
 * average (docs/observability.md, "Handler time"). */
#define NETFW_STATS_BUCKETS 19
NETFW_EXTERN extern const uint64_t netfw_stats_bucket_ns[NETFW_STATS_BUCKETS];

/* Why an accepted socket never became a connection of the app (it never
 * reached on_client_connect, or was refused there). The name is what
 * netfw_refuse_reason_name() returns, the metrics' reason label. */
#define NETFW_REFUSE_REASON_MAP(XX)                                            \
  XX(APP, "app")                         /* on_client_connect said no      */  \
  XX(MAX_CONNECTIONS, "max_connections") /* the worker was full            */  \
  XX(HANDSHAKE, "handshake") /* the TLS handshake or the PROXY header failed   \
                                or took too long                          */   \
  XX(LOST, "lost")         /* the peer left or the network failed first */     \
  XX(STOPPING, "stopping") /* the worker stopped first                  */     \
  XX(NOMEM, "nomem")       /* out of memory                             */

typedef enum netfw_refuse_reason {
#define XX(name, str) NETFW_REFUSE_##name,
  NETFW_REFUSE_REASON_MAP(XX)
#undef XX
      NETFW_REFUSE_REASON_COUNT
} netfw_refuse_reason;

/* Returns the reason's short name ("app", ...; "unknown" when out of
 * range). */
NETFW_EXTERN const char *netfw_refuse_reason_name(netfw_refuse_reason why);

/* One message id's counts. Frames and bytes are the protocol's frames
 * (header included, before TLS). */
typedef struct netfw_msg_stats {
  uint16_t id;          /* the message id (0 for the "other" entry)       */
  const char *name;     /* its name in the schema; NULL for "other": ids
                           the protocol did not register (valid until
                           netfw_stats_free)                              */
  uint64_t received;    /* frames handed to on_message                    */
  uint64_t received_bytes;
  uint64_t sent; /* frames queued by netfw_conn_send/_send_begin      */
  uint64_t sent_bytes;
  uint64_t malformed;  /* frames whose payload did not decode            */
  uint64_t unhandled;  /* frames the dispatcher had no handler for       */
  uint64_t handler_ns; /* total time spent in on_message for them        */
  uint64_t handler_buckets[NETFW_STATS_BUCKETS + 1]; /* see above; not
                           cumulative: they sum to received            */
} netfw_msg_stats;

/* What one worker slot counted over all its processes (respawned and
 * reloaded ones included), or, in netfw_stats.total, the whole server. */
typedef struct netfw_worker_stats {
  int slot;        /* the slot's index; -1 in the total                  */
  long pid;        /* its serving worker now; 0 when none (or the total) */
  uint32_t generation; /* that worker's generation (1 = the first fork)   */
  bool up;         /* a worker serves the slot (its app's create()
                      returned; total: every slot's, while the server
                      runs)                                             */
  uint64_t accepted;   /* sockets accepted                               */
  uint64_t open;       /* connections of the app now (a gauge)           */
  uint64_t refused[NETFW_REFUSE_REASON_COUNT];
  uint64_t closed[NETFW_CLOSE_REASON_COUNT]; /* by on_client_closed's
                                                reason                   */
  uint64_t output_queued;     /* output bytes queued now (a gauge)      */
  uint64_t output_queued_max; /* the most any one worker process queued */
  uint64_t started;   /* worker processes forked (first ones included)   */
  uint64_t restarts;  /* forked to replace a worker that died            */
  uint64_t died_signal[65]; /* worker deaths by the signal that killed it
                               (index = signal number, 1..64)            */
  uint64_t died_exit[256];  /* deaths by exit status (unexpected exits)  */
  uint64_t bus_published; /* bus messages published                      */
  uint64_t bus_delivered; /* bus messages handed to on_bus               */
  uint64_t bus_dropped;   /* dropped: a queue was full (either side)     */
  netfw_msg_stats all;    /* the sum of messages[] (id 0, name NULL)     */
  size_t nmessages;          /* 1 + the ids the protocol registered       */
  netfw_msg_stats *messages; /* [0]: "other"; then by id                  */
} netfw_worker_stats;

typedef struct netfw_stats {
  netfw_worker_stats total;    /* the whole server                        */
  int nworkers;                /* worker slots                            */
  netfw_worker_stats *workers; /* one per slot                            */
} netfw_stats;

/* Fills *out with what s counted so far (any state after a successful
 * start; after a stop, the final counts). Allocates: release with
 * netfw_stats_free. Returns 0, NETFW_EINVAL (NULL), NETFW_ESTATE (never
 * started, or not the process that started s) or NETFW_ENOMEM. Any thread
 * of that process. */
NETFW_EXTERN int netfw_server_stats(netfw_server *s, netfw_stats *out);

/* The port GET /metrics is served on (after a successful start with
 * metrics_addr set; 0 otherwise). */
NETFW_EXTERN uint16_t netfw_server_metrics_port(const netfw_server *s);

/* Releases what netfw_server_stats allocated in *st (not st itself). */
NETFW_EXTERN void netfw_stats_free(netfw_stats *st);

/* Counts a frame the app's dispatcher could not use, for the statistics
 * above: malformed (its payload did not decode) or unhandled (no handler
 * for its id). Generated dispatchers call it; hand-written ones may. Call
 * from on_message, with the frame being handled. */
NETFW_EXTERN void netfw_conn_count_bad(netfw_conn *c, const netfw_msg *m,
                                       bool malformed);

#endif /* NETFW_STATS_H */
