/* Prefork server internals shared by server.c and config.c (parent),
 * supervisor.c, command.c and slots.c (the parent's supervision thread, see
 * supervisor.h), worker.c (a worker process), conn.c and output.c (one
 * connection inside a worker, on a runtime/stream stream), calls.c
 * (requests and their replies' order, calls.h) and limits.c. */
#ifndef NETFW_RUNTIME_SERVER_INTERNAL_H
#define NETFW_RUNTIME_SERVER_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <uv.h>

#include "calls.h"
#include "clock.h"
#include "frame.h"
#include "metrics.h"
#include "stream.h"
#include "netfw/server.h"
#include "supervisor.h"

/* ---- memory shared by the parent and every worker (mmap MAP_SHARED) ---- */

#define NETFW__CACHE_LINE 64

/* One per worker slot, on its own cache line (the first member's alignment
 * makes the struct exactly one line: a field too many fails the build
 * below instead of silently spilling into the next slot's line). Workers
 * publish their load so that a busy worker can leave a new connection to an
 * idle one (see docs/server.md, "Accept balance"); the supervisor resets it
 * for each new current worker of the slot and records who that is. */
typedef struct netfw__slot_load {
  _Alignas(NETFW__CACHE_LINE) atomic_int conns; /* open connections of the
                                                   slot's current worker   */
  atomic_int polling;    /* 1 while the worker's loop waits in poll       */
  _Atomic uint64_t beat; /* netfw__now_ms() when its loop last woke up    */
  atomic_int pid;        /* the current worker; 0 while the slot has none */
  _Atomic uint32_t gen;  /* its generation in the slot (1 = first fork)   */
  _Atomic uint64_t bus_dropped; /* bus messages the relay dropped for it  */
  _Atomic uint32_t tls_reloads; /* TLS reloads the worker finished       */
} netfw__slot_load;

_Static_assert(sizeof(netfw__slot_load) == NETFW__CACHE_LINE,
               "netfw__slot_load must be exactly one cache line");
_Static_assert(_Alignof(netfw__slot_load) == NETFW__CACHE_LINE,
               "netfw__slot_load must start on a cache line");

/* ---- parent side ---- */

typedef enum {
  NETFW__SRV_NEW = 0,
  NETFW__SRV_RUNNING,
  NETFW__SRV_STOPPED
} netfw__srv_state;

/* Descriptors netfw__server_keep_fd can mark. */
#define NETFW__KEEP_FDS_MAX 8

struct netfw_server {
  netfw_config cfg; /* full-size copy: cfg.ip points at ip below (or is
                       NULL), cfg.app at app                              */
  netfw_app app;    /* full-size copy of the caller's app                */
  char *ip;
  netfw__srv_state state;
  int nworkers;
  uint16_t port;
  int listen_fd;          /* shared mode: the one socket; else slot 0's  */
  netfw__slot *slots;     /* nworkers entries                            */
  netfw__slot_load *load; /* mmap'ed, nworkers entries                  */
  pid_t parent_pid;

  /* supervisor thread */
  pthread_t thread;
  netfw__sup sup;
  int ready[2]; /* pipe: initial workers -> supervisor, 1 byte each */
  pthread_mutex_t mu;
  pthread_cond_t cv; /* start answered, a command answered           */
  bool start_done;   /* guarded by mu: the supervisor answered start  */
  int start_err;     /* guarded by mu                                 */
  int start_errno;   /* guarded by mu: the thread's errno with start_err */
  int keep_fds[NETFW__KEEP_FDS_MAX]; /* netfw__server_keep_fd         */
  int nkeep;
  char *bus_url;      /* copy of cfg.bus_url                           */
  char bus_ip[64];    /* the broker's address, resolved at start; ""
                         when the bus is local only                    */
  uint16_t bus_port;
  uint64_t bus_origin; /* this server's name on the broker (random)    */
  netfw_tls_config *tls_cfg;  /* copy of cfg.tls (cfg.tls points here) */
  struct netfw__tls_ctx *tls; /* the context forks inherit; NULL: plain;
                                 swapped on the supervisor thread        */
  char *proxy_from;           /* copy of cfg.proxy_from                  */
  struct netfw__proxy_policy *proxy; /* set iff cfg.proxy_protocol      */
  netfw__metrics *metrics; /* the counters (runtime/metrics): made by
                              start, kept after stop until free           */
  char *metrics_addr;      /* copy of cfg.metrics_addr                    */
  uint64_t watchdog_usec; /* systemd's WatchdogSec for this process, read
                             at start (0: off); the supervisor pings at
                             half of it                                 */

  /* what netfw_server_state reports (a netfw_run_state): changed only by
   * netfw__server_publish, under mu, with state_cv broadcast */
  atomic_int run_state;
  pthread_cond_t state_cv; /* CLOCK_MONOTONIC; netfw_server_wait       */
};

/* Copies the caller's cfg and its app into out and app_out (full-size;
 * fields and callbacks the caller's structs lack take their defaults) and
 * points out->app at app_out. Returns 0, or NETFW_EINVAL with the reason in
 * why (why_len bytes, one line) for struct sizes the library cannot handle
 * (config.c). */
int netfw__config_take(const netfw_config *cfg, netfw_config *out,
                       netfw_app *app_out, char *why, size_t why_len);

/* Checks a full-size config (one netfw__config_take made): the rules
 * netfw_config_check documents. Returns 0, or NETFW_EINVAL (or
 * NETFW_ENOMEM) with a one-line reason in why (check.c). */
int netfw__config_check(const netfw_config *cfg, char *why, size_t why_len);

/* Marks fd, made by netfw in the parent before the workers start, as one
 * that every worker keeps (workers close other inherited close-on-exec
 * sockets). Returns 0 or NETFW_ENOMEM when the table is full. */
int netfw__server_keep_fd(netfw_server *s, int fd);


/* Moves the public run state forward to `to` (NEW < RUNNING < FAILED <
 * STOPPED; FAILED is final) and wakes netfw_server_wait. Any thread. */
void netfw__server_publish(netfw_server *s, netfw_run_state to);

/* Closes the parent's listening socket(s); idempotent. Called on the
 * supervisor thread when a crash loop stops the server or a stop begins,
 * and again by stop once the thread is joined. */
void netfw__close_listeners(netfw_server *s);

/* ---- systemd: socket activation and readiness (systemd.c, notify.c) ---- */

/* Reads the socket-activation variables as sd_listen_fds does: pid and fds
 * are LISTEN_PID and LISTEN_FDS (NULL when unset), self this process's pid.
 * Returns how many sockets were passed (from fd 3 on), 0 when none or for
 * another process, -1 for a value that is not a whole number in range. */
int netfw__listen_fds_parse(const char *pid, const char *fds, pid_t self);

/* Reads the watchdog variables as sd_watchdog_enabled does: usec and pid are
 * WATCHDOG_USEC and WATCHDOG_PID (NULL when unset). Returns the interval in
 * microseconds, or 0 when off, for another process or malformed. */
uint64_t netfw__watchdog_parse(const char *usec, const char *pid, pid_t self);

/* The watchdog interval systemd asked of this process (WATCHDOG_USEC, with
 * libsystemd's sd_watchdog_enabled when built with it); 0 when off. */
uint64_t netfw__watchdog_usec(void);

/* Tells the service manager state ("READY=1", "STOPPING=1", "WATCHDOG=1",
 * "RELOADING=1", several joined by newlines): one non-blocking datagram to
 * the unix socket NOTIFY_SOCKET names (a path, or "@name" for an abstract
 * one; other address kinds go to libsystemd's sd_notify when built with
 * it). A state starting with "RELOADING=1" gets MONOTONIC_USEC=<now> added,
 * as systemd 253 on asks. Never waits for the manager. Returns 1 when sent,
 * 0 without NOTIFY_SOCKET, -1 when it failed (the first failure logged).
 * Any thread of the parent: netfw_server_start (READY=1),
 * netfw_server_stop (STOPPING=1), the supervisor's watchdog timer, and
 * netfw_server_reload's steps on the supervisor thread (RELOADING=1 before
 * the first new worker, READY=1 once every slot's new worker accepts). */
int netfw__notify(const char *state);

/* On the supervisor thread, once the first workers accept: starts the
 * sup.watchdog timer (initialised by the loop) sending WATCHDOG=1 every
 * watchdog_usec / 2 while the server serves; nothing when it is off. */
void netfw__watchdog_start(netfw_server *s);

/* Starts the supervisor thread, which forks the first workers, waits until
 * each one listens and reports the result. Returns 0 or a NETFW_E* code
 * (then no worker and no thread is left). */
int netfw__supervisor_start(netfw_server *s);

/* Asks the supervisor to stop the workers (SIGTERM, then SIGKILL after
 * timeout_ms unless -1), waits until all are reaped and joins the thread.
 * After a stop already done (or under way) it only joins, once. */
void netfw__supervisor_stop(netfw_server *s, int timeout_ms);

/* ---- worker side ---- */

/* Everything a worker process needs, handed over by the fork. */
typedef struct netfw__worker_args {
  const netfw_config *cfg;
  int slot;
  int nslots;
  int listen_fd;
  int ready_fd; /* -1 for a respawned worker */
  pid_t parent_pid;
  netfw__slot_load *load;
  bool reuseport;
  const int *keep_fds; /* descriptors made for the workers: kept open */
  int nkeep;
  int bus_fd; /* the worker's end of its bus link; -1: none */
  struct netfw__tls_ctx *tls; /* the server's TLS context; NULL: plain */
  uint32_t gen; /* the slot's generation this worker is forked as */
  const struct netfw__proxy_policy *proxy; /* PROXY headers; NULL: off  */
  const netfw__metrics *metrics; /* the counter table                  */
  netfw__wctr *ctr; /* this worker's block; NULL: count privately       */
} netfw__worker_args;

/* The signal that retires a worker (a reload): stop accepting, serve the
 * open connections until they end or drain_timeout_ms passes, then shut
 * them down gracefully and exit 0. SIGTERM stops at once (all shut down
 * gracefully now). */
#define NETFW__SIG_RETIRE SIGUSR2

/* The worker process main: never returns (exits 0 after a graceful stop,
 * non-zero when it could not start). Call right after fork in the child. */
void netfw__worker_main(const netfw__worker_args *a) __attribute__((noreturn));

typedef struct netfw__worker netfw__worker;

/* A part of a worker that lives on its loop (see worker.c): the acceptor,
 * the flush phases, the deadline sweep, the SIGTERM handler; later the bus,
 * metrics and TLS reloads. Handles a module owns live in netfw__worker. */
typedef struct netfw__module {
  const char *name;
  /* The loop exists (the app's create() has not run yet). 0 or a libuv
   * error: the worker then exits. */
  int (*init)(netfw__worker *w);
  /* A graceful stop begins: take no new work (may be NULL). */
  void (*stop)(netfw__worker *w);
  /* Every connection is gone: close the module's handles (uv_close). */
  void (*close)(netfw__worker *w);
} netfw__module;

/* The acceptor module (accept.c), the bus module (runtime/bus), the
 * TLS module (tls.c: reloads on SIGHUP), the statistics module (stats.c:
 * the worker's counter block and its gauges) and the calls module (calls.c:
 * the call table from cfg->protocol and the connection index). */
extern const netfw__module netfw__calls_module;
extern const netfw__module netfw__stats_module;
extern const netfw__module netfw__accept_module;
extern const netfw__module netfw__bus_module;
extern const netfw__module netfw__tls_module;

/* Copies cfg.tls and builds the server's context (tls.c); logs why not.
 * Returns 0 (also without TLS), NETFW_EINVAL or NETFW_ETLS. */
int netfw__server_tls_setup(netfw_server *s);

/* Copies cfg.proxy_from and makes the PROXY policy (proxy.c); logs why
 * not. Returns 0, NETFW_EINVAL or NETFW_ENOMEM. */
int netfw__server_proxy_setup(netfw_server *s);

/* Checks and copies cfg.metrics_addr (stats.c); logs why not. Returns 0,
 * NETFW_EINVAL or NETFW_ENOMEM. */
int netfw__server_stats_setup(netfw_server *s);

/* Makes the counter table for s->nworkers slots (stats.c). Returns 0 or
 * NETFW_ENOMEM (logged). */
int netfw__server_stats_start(netfw_server *s);

/* Releases what netfw__server_stats_setup and _start made. */
void netfw__server_stats_free(netfw_server *s);

/* Releases what netfw__server_proxy_setup made. */
void netfw__server_proxy_free(netfw_server *s);

/* Releases what netfw__server_tls_setup made. */
void netfw__server_tls_free(netfw_server *s);

/* On the supervisor thread: x (one reference, taken) becomes the context
 * forks inherit, and every worker is told to reload (SIGHUP). */
void netfw__server_tls_swap(netfw_server *s, struct netfw__tls_ctx *x);

/* uv_close(h) unless it is closing already or was never initialised. */
void netfw__close_handle(uv_handle_t *h);

/* Connection flags (the stream's own state is in c->s.flags). */
enum {
  NETFW__C_ACCEPTED = 1u << 0, /* on_client_connect said yes: app-visible  */
  NETFW__C_DRAINING = 1u << 1, /* counted in ndraining: shut down by us, or
                                  the peer left (a drain deadline applies) */
  NETFW__C_REFUSED = 1u << 2,  /* on_client_connect said no               */
  NETFW__C_FAILED = 1u << 3,   /* the TLS or PROXY layer refused it or
                                  timed out before it was established    */
  NETFW__C_OWNED = 1u << 8     /* accepted: on_client_closed still owed    */
};

/* Set in every live connection; cleared when it is freed, so a handle the
 * app kept past on_client_closed is caught instead of used. */
#define NETFW__CONN_MAGIC 0x6e66636fu /* "nfco" */

/* One accepted connection: the app-facing side of a stream. Kept small: an
 * idle connection holds no read or write buffer, only this struct (the
 * benchmark targets <= 2 KiB RSS per idle connection). */
struct netfw_conn {
  uint32_t magic;       /* NETFW__CONN_MAGIC while the handle is valid */
  uint8_t close_reason; /* netfw_close_reason: the first cause decided */
  uint32_t flags;
  uint32_t stream_left;    /* payload bytes still owed by send_begin/more */
  netfw__stream s;         /* the bytes; s.ctx is the worker's sctx    */
  void *data;              /* netfw_conn_set_data                     */
  netfw_conn *prev, *next; /* the worker's connection list            */
  uint64_t deadline;       /* idle deadline, or drain deadline after
                              shutdown (uv_now ms); 0 = none          */
  size_t idle_queued;      /* output queued when the idle bound was last
                              renewed for output still leaving         */
  uint64_t frame_deadline; /* a started frame must be complete by then
                              (uv_now ms); 0 = no frame in progress     */
  union {                  /* the peer's address, kept from the start  */
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
  } peer;
  netfw__calls *calls;     /* its requests (calls.h); NULL until the
                              first one, and always without a protocol */
};

struct netfw__worker {
  uv_loop_t loop;
  uv_poll_t accept_poll;
  uv_timer_t accept_pause; /* resumes accepting after a balance pause  */
  uv_timer_t sweep;        /* idle and drain deadlines                 */
  uv_signal_t sigterm;
  uv_signal_t sigretire;   /* NETFW__SIG_RETIRE: a reload retires us    */
  uv_timer_t retire_end;   /* the retired worker's serving bound        */
  uv_prepare_t prepare; /* flush before the loop blocks             */
  uv_check_t check;     /* flush after I/O callbacks                */
  const netfw_config *cfg;
  void *app;
  netfw__slot_load *load;
  int slot;
  int nslots;
  int listen_fd;
  bool reuseport;
  int bus_fd; /* the bus link until the bus module takes it; -1 */
  bool accepting;
  bool force_accept; /* the pause ended: accept the next one      */
  bool stopping;
  bool retiring; /* retired by a reload: serving what is open  */
  bool finished; /* the modules' close() ran                  */
  uint32_t gen;  /* this worker's generation in its slot       */
  netfw__slot_load *spare; /* written instead of the slot's record once
                              a newer generation owns it               */
  int nconns;
  int ndraining;          /* connections with a drain deadline         */
  netfw_conn *conns;      /* all open connections                      */
  netfw__stream_ctx sctx; /* the streams' flush list, buffer cache (8
                             buffers of <= 1 MiB) and memory total     */
  struct netfw__tls_ctx *tls; /* for new connections; NULL: plaintext  */
  const struct netfw__proxy_policy *proxy; /* PROXY headers; NULL: off  */
  uv_signal_t sighup;         /* the tls module: reload the files      */
  bool sighup_on;
  bool tls_reloading;         /* a reload runs on the thread pool      */
  bool tls_again;             /* and another SIGHUP came meanwhile     */
  const netfw__metrics *metrics; /* the counter table                    */
  netfw__wctr *ctr;           /* this process's block (never NULL once
                                 the stats module ran)                 */
  uv_prepare_t stats_prepare; /* publishes the gauges each iteration  */
  struct netfw__calltab *calltab; /* cfg->protocol's calls; NULL: none   */
  uint64_t last_num;          /* the last connection number given      */
  netfw__callidx callidx;     /* connection number -> calls block      */
  netfw__calls *resume;       /* blocks to deliver again (calls.c)     */
  size_t calls_pending;       /* requests whose reply is not out, over
                                 every connection                      */
};

/* The worker that owns c (its stream context is the worker's sctx). */
static inline netfw__worker *netfw__conn_worker(const netfw_conn *c) {
  return (netfw__worker *)(void *)((char *)c->s.ctx -
                                   offsetof(netfw__worker, sctx));
}

/* Re-reads the TLS files off the loop and swaps the worker's context
 * (tls.c). */
void netfw__worker_tls_reload(netfw__worker *w);

/* The load record this worker publishes into: its slot's while it is the
 * slot's current generation, else a private one (a reload forked a newer
 * generation, which owns the slot's record from its fork on). */
netfw__slot_load *netfw__worker_load(netfw__worker *w);

/* The worker this process runs, or NULL outside a worker. */
netfw__worker *netfw__worker_self(void);

/* Sets up w->sctx for the worker's connections (before any accept). */
void netfw__conn_setup(netfw__worker *w);

/* Takes ownership of an accepted socket: creates the connection, runs
 * on_client_connect and starts reading. Closes fd on failure. */
void netfw__conn_accept(netfw__worker *w, int fd);

/* Flushes every connection in the worker's flush list. */
void netfw__conn_flush_all(netfw__worker *w);

/* Starts a server-side graceful close of every connection (worker stop). */
void netfw__conn_shutdown_all(netfw__worker *w);

/* Closes connections past their idle, frame or drain deadline (limits.c). */
void netfw__conn_sweep(netfw__worker *w);

/* Closes the connections holding the most until the worker's buffers fit
 * cfg->worker_memory again (limits.c). */
void netfw__worker_budget_check(netfw__worker *w);

/* Closes c at once, whatever is queued; why is kept for on_client_closed
 * unless an earlier cause was recorded. Its buffers are released now. */
void netfw__conn_close(netfw_conn *c, netfw_close_reason why);

/* Server-side graceful close: flush, shutdown(SHUT_WR), drain, close. */
void netfw__conn_begin_shutdown(netfw_conn *c, netfw_close_reason why);

/* Aborts the process when c was used after its on_client_closed (func
 * names the API call in the log line). */
void netfw__conn_check_live(const netfw_conn *c, const char *func);

/* True once c delivers no more input and takes no more output. */
static inline bool netfw__conn_stopped(const netfw_conn *c) {
  return (c->s.flags & NETFW__S_STOPPED) != 0;
}

/* Queues one whole frame for c as netfw_conn_send does (output limit,
 * statistics). Returns 0, NETFW_E2BIG or NETFW_ENOMEM (c may be closed). */
int netfw__conn_write(netfw_conn *c, uint16_t id, const uint8_t *payload,
                      uint32_t size);

/* Queues a frame header for c as netfw_conn_send_begin does. Returns 0,
 * NETFW_E2BIG or NETFW_ENOMEM. */
int netfw__conn_write_begin(netfw_conn *c, uint16_t id, uint32_t size);

/* Closes c when n more bytes would take its unsent output (held replies
 * included) over max_output. Returns 0, or NETFW_E2BIG when it closed c. */
int netfw__conn_output_check(netfw_conn *c, size_t n);

/* Counts a frame of id with size payload bytes queued for c's peer. */
void netfw__conn_count_sent(netfw_conn *c, uint16_t id, uint32_t size);

/* Hands the frames left in c's read buffer to on_message (its reading was
 * paused at max_pending), then reads again when there is room. */
void netfw__conn_redeliver(netfw_conn *c);

/* Writes "ip:port" of c's peer into buf and returns buf ("unknown peer"
 * when it has none). */
const char *netfw__conn_peer_name(const netfw_conn *c, char *buf, size_t len);

/* Starts or stops the sweep timer as the deadlines in use require. */
void netfw__worker_sweep_update(netfw__worker *w);

/* Called by conn.c when a connection is gone (after its close callback). */
void netfw__worker_conn_gone(netfw__worker *w);

#endif /* NETFW_RUNTIME_SERVER_INTERNAL_H */
