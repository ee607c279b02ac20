/* netfw — prefork server: Config, ServerApp, Connection, OwnedMessage.
 *
 * netfw_server_start() binds one listening socket and forks worker_num worker
 * processes that share it. Every worker runs its own libuv loop, creates its
 * own app instance with app->create(context) and owns the connections it
 * accepted; no worker can reach another's connections (workers talk to
 * each other on the message bus, netfw/bus.h). The callbacks below
 * are always called in a worker process, on its loop thread. */
#ifndef NETFW_SERVER_H
#define NETFW_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/desc.h"
#include "netfw/export.h"
#include "netfw/message.h"
#include "netfw/tls.h"

typedef struct netfw_conn netfw_conn;
typedef struct netfw_server netfw_server;
typedef struct uv_loop_s uv_loop_t; /* libuv's loop (include <uv.h> to use) */

/* A message together with the connection it came from. msg is valid during
 * on_message only; owner until on_client_disconnect returns (or until the
 * server closes the connection itself). */
typedef struct netfw_owned_msg {
  netfw_conn *owner;
  netfw_msg *msg;
} netfw_owned_msg;

/* Why a connection ended, as on_client_closed reports it. The name (second
 * column) is what netfw_close_reason_name() returns: short, stable, fit for
 * a log line or a metrics label. */
#define NETFW_CLOSE_REASON_MAP(XX)                                             \
  XX(PEER, "peer")                 /* the peer closed (EOF)                */  \
  XX(RESET, "reset")               /* the network failed or the peer reset */  \
  XX(SHUTDOWN, "shutdown")         /* the app called netfw_conn_shutdown   */  \
  XX(PROTOCOL, "protocol")         /* oversized frame, unknown id, bad         \
                                      payload (netfw_conn_shutdown_for)     */ \
  XX(OUTPUT_LIMIT, "output_limit") /* unsent output over max_output        */  \
  XX(IDLE, "idle")                 /* nothing received for idle_timeout_ms */  \
  XX(FRAME_TIMEOUT, "frame_timeout") /* a frame took over frame_timeout_ms */  \
  XX(MEMORY, "memory")     /* over the worker's memory budget      */          \
  XX(NOMEM, "nomem")       /* out of memory                        */          \
  XX(STOPPING, "stopping") /* the server is stopping               */          \
  XX(UNANSWERED, "unanswered") /* a request got no reply: its handler  \
                                  neither answered nor deferred it, or  \
                                  reply_timeout_ms passed (docs/calls.md) */

typedef enum netfw_close_reason {
#define XX(name, str) NETFW_CLOSE_##name,
  NETFW_CLOSE_REASON_MAP(XX)
#undef XX
      NETFW_CLOSE_REASON_COUNT
} netfw_close_reason;

/* Returns the reason's short name ("peer", "idle", ...; "unknown" when out
 * of range). */
NETFW_EXTERN const char *netfw_close_reason_name(netfw_close_reason why);

/* The user's application, as netframe's ServerApp. Every member but
 * on_message may be NULL.
 *
 * Owning per-connection state: use on_client_closed. It is called exactly
 * once for every connection that on_client_connect accepted, whoever ended
 * it and why, as the last callback of that connection; the netfw_conn * is
 * invalid once it returns. on_client_disconnect keeps netframe's meaning
 * (the peer went away) and is not enough to free state: closes the server
 * starts (protocol errors, limits, timeouts, stop) do not call it. */
typedef struct netfw_app {
  /* Called once per worker, in the worker; returns the app state. */
  void *(*create)(void *context);
  /* Return false to refuse: what the callback already sent is delivered,
   * then the connection closes; on_client_disconnect is not called.
   * NULL = accept every connection. */
  bool (*on_client_connect)(void *app, netfw_conn *client);
  /* The peer closed or the network failed (never for server-started closes). */
  void (*on_client_disconnect)(void *app, netfw_conn *client);
  /* One complete frame arrived. */
  void (*on_message)(void *app, netfw_owned_msg *msg);
  /* Called once per worker before it exits, after every connection's
   * on_client_closed. The loop then runs on until what destroy closed
   * has finished closing (e.g. netfw_aclient_close). */
  void (*destroy)(void *app);
  /* The connection is gone (see above); why says who ended it. During the
   * call netfw_conn_data and netfw_conn_addr still work, sends are refused
   * (NETFW_ESTATE). */
  void (*on_client_closed)(void *app, netfw_conn *client,
                           netfw_close_reason why);
  /* A message published on a bus channel this worker subscribed to
   * (netfw/bus.h). channel and msg are valid during the call only. */
  void (*on_bus)(void *app, const char *channel, netfw_msg *msg);
  /* New callbacks go here, at the end ("Compatibility" below). */
} netfw_app;

#define NETFW_DEFAULT_PORT 54314
#define NETFW_DEFAULT_MAX_PAYLOAD (16u * 1024 * 1024)
#define NETFW_DEFAULT_MAX_OUTPUT ((size_t)64 * 1024 * 1024)
#define NETFW_DEFAULT_DRAIN_MS 5000
#define NETFW_DEFAULT_WORKER_MEMORY ((size_t)1024 * 1024 * 1024)
#define NETFW_DEFAULT_FRAME_TIMEOUT_MS 30000
#define NETFW_DEFAULT_BUS_QUEUE ((size_t)16 * 1024 * 1024)
#define NETFW_DEFAULT_REPLY_TIMEOUT_MS 30000
#define NETFW_DEFAULT_MAX_PENDING 1024

typedef struct netfw_config {
  /* Set by netfw_config_init: the sizes of netfw_config and netfw_app this
   * program was compiled with (see "Compatibility" below). Leave them. */
  uint32_t size;
  uint32_t app_size;
  const netfw_app *app; /* required                                          */
  void *context;        /* handed to app->create() in every worker           */
  const char *ip;       /* NULL: this host's address by its name (netframe)  */
  uint16_t port;        /* default 54314; 0 = any free port                  */
  int worker_num;       /* default 1; 0 = one per CPU                        */
  uint32_t max_payload; /* largest accepted payload; default 16 MiB          */
  size_t max_output;    /* per-connection unsent bytes; default 64 MiB       */
  int idle_timeout_ms;  /* close connections silent this long; 0 = off       */
  int max_connections;  /* per worker; extra ones closed at accept; 0 = off  */
  int drain_timeout_ms; /* bound on reading to EOF after shutdown; 5000      */
  bool reuseport;       /* one SO_REUSEPORT socket per worker: see docs     */
  size_t worker_memory; /* per worker: buffered input + output of all its
                           connections; over it, the largest holders are
                           closed; default 1 GiB; 0 = off                   */
  int frame_timeout_ms; /* a frame whose header arrived must be complete
                           within this; default 30000; 0 = off             */
  const char *bus_url;  /* NULL or "local": the bus joins this server's
                           workers; "redis://HOST:PORT": and every server
                           on that Redis (docs/bus.md)                     */
  size_t bus_queue;     /* bound on each bus queue (a worker's publishes,
                           a worker's deliveries, the broker's); default
                           16 MiB                                          */
  const netfw_tls_config *tls; /* NULL: plaintext; else TLS on every
                           connection (netfw/tls.h; copied by
                           netfw_server_new, which fails, logged, when a
                           file cannot be used)                             */
  bool proxy_protocol;  /* every connection starts with a PROXY protocol
                           header (v1 or v2) from a load balancer, read
                           before TLS and on_client_connect;
                           netfw_conn_addr then gives the client's address
                           from it (docs/deploy.md)                        */
  const char *proxy_from; /* the sources trusted to send that header:
                           comma-separated networks, "127.0.0.1/32,
                           10.0.0.0/8,::1/128"; NULL: any source; a bad
                           list makes netfw_server_new fail (logged)      */
  int listen_fd;        /* -1 (default): bind ip:port; else serve this
                           listening socket (systemd socket activation:
                           netfw_listen_fd_from_env); ip and port unused;
                           netfw serves a duplicate, the caller keeps fd
                           (which becomes non-blocking)                   */
  const char *(*msg_name)(uint16_t id); /* the protocol's message names
                           (<proto>_msg_name; the generated
                           <proto>_server_config_init sets it): the
                           statistics count those ids by name, the rest
                           as "other" (netfw/stats.h); NULL: none         */
  const char *metrics_addr; /* NULL (default): off; "127.0.0.1:9464": the
                           parent serves GET /metrics (Prometheus text)
                           and GET /healthz there (docs/observability.md;
                           port 0: any free one, netfw_server_metrics_port)
                           */
  const netfw_desc *protocol; /* the protocol (<proto>_descriptor; the
                           generated <proto>_server_config_init sets it):
                           its requests' replies are kept in request
                           order on each connection (docs/calls.md);
                           NULL: no calls, every send goes out as sent  */
  int reply_timeout_ms; /* a request left unanswered this long closes its
                           connection (NETFW_CLOSE_UNANSWERED, logged);
                           default 30000; 0 = off                       */
  int max_pending;      /* requests read on one connection and not yet
                           answered; at it the connection's reading
                           pauses until one is; default 1024            */
  /* New fields go here, at the end (docs/server.md, "Compatibility"). */
} netfw_config;

/* ---- Compatibility: netfw_config and netfw_app grow at their end ----
 *
 * A program compiled against older headers keeps running with a newer
 * libnetfw: netfw_config_init records the sizes of both structs as the
 * program was compiled (cfg->size, cfg->app_size), and the library reads
 * only that many bytes of each. A field the program's struct does not have
 * takes its default; a callback it does not have is NULL. Always fill a
 * config with netfw_config_init (a config it did not fill is refused). A
 * program compiled against newer headers than the library it runs with is
 * refused by netfw_server_new (logged) unless only NULL callbacks are new.
 *
 * Fills cfg with the defaults above and the given app; a macro, so that the
 * sizes are the caller's. */
#define netfw_config_init(cfg, app)                                            \
  netfw_config_init_sized((cfg), (app), sizeof(netfw_config), sizeof(netfw_app))

/* What netfw_config_init expands to: fills the first cfg_size bytes of cfg
 * (a netfw_config as the caller's headers define it) with the defaults and
 * app, and records cfg_size and app_size (sizeof(netfw_app) as the caller
 * knows it). For bindings that cannot use the macro. */
NETFW_EXTERN void netfw_config_init_sized(netfw_config *cfg,
                                          const netfw_app *app, size_t cfg_size,
                                          size_t app_size);

/* Checks cfg as netfw_server_new will, without logging or creating
 * anything: returns 0, or NETFW_EINVAL with a one-line reason naming the
 * field and its bad value in why (why_len bytes, NUL-terminated, cut to
 * fit; why may be NULL): no app or no on_message, a negative count or
 * timeout, max_output 0 or over 2 GiB, bus_queue 0, listen_fd below -1 or
 * with reuseport, a bus_url, proxy_from or metrics_addr it cannot parse,
 * a protocol whose returns index past its messages, max_pending below 1,
 * struct sizes it cannot handle (not filled by netfw_config_init, or from
 * newer headers); NETFW_ENOMEM. TLS files are read by netfw_server_new,
 * not here. */
NETFW_EXTERN int netfw_config_check(const netfw_config *cfg, char *why,
                                    size_t why_len);

/* Validates (netfw_config_check) and copies cfg (ip and app are copied).
 * Returns NULL on a bad config, an unusable TLS file or when out of
 * memory, always with the reason logged at ERROR ("netfw_server_new:
 * worker_num is -1: ..."). */
NETFW_EXTERN netfw_server *netfw_server_new(const netfw_config *cfg);

/* Binds, listens and forks the workers; returns once every worker accepts
 * connections. 0, NETFW_ESTATE if already started (or stopped),
 * NETFW_EADDRINUSE, NETFW_EADDRINFO, NETFW_ETIMEDOUT (workers not ready
 * within 30 s) or NETFW_ESYS (errno kept; ECHILD when a worker exited before
 * it was ready). On failure nothing is left running and start may be
 * called again. */
NETFW_EXTERN int netfw_server_start(netfw_server *s);

/* Returns the bound port (after a successful start; 0 before). */
NETFW_EXTERN uint16_t netfw_server_port(const netfw_server *s);

/* Stops the workers gracefully (queued output delivered, destroy called).
 * timeout_ms -1 waits for them; otherwise what is left after timeout_ms is
 * killed. Returns 0, or NETFW_ESTATE when not running (or when called in a
 * process other than the one that started it, e.g. in a worker). */
NETFW_EXTERN int netfw_server_stop(netfw_server *s, int timeout_ms);

/* Frees the server, stopping it first (waiting forever) if it still runs
 * and this is the process that started it. */
NETFW_EXTERN void netfw_server_free(netfw_server *s);

/* Queues a copy of m for the peer. Returns 0, NETFW_ESTATE after shutdown or
 * close, NETFW_E2BIG over the output limit (the connection is then closed),
 * NETFW_EINVAL (NULL; with cfg->protocol: m is a reply that answers no
 * request being handled, see "calls" below), NETFW_ENOMEM. Call only from
 * the worker's callbacks. */
NETFW_EXTERN int netfw_conn_send(netfw_conn *c, const netfw_msg *m);

/* Starts a frame of size payload bytes whose payload follows in pieces
 * through netfw_conn_send_more (large replies without holding them whole).
 * Until all size bytes are given, other sends on c return NETFW_ESTATE.
 * Returns 0, NETFW_ESTATE, NETFW_E2BIG (output limit: c is closed) or
 * NETFW_ENOMEM. */
NETFW_EXTERN int netfw_conn_send_begin(netfw_conn *c, uint16_t id,
                                       uint32_t size);

/* Queues the next len bytes of the frame started by netfw_conn_send_begin.
 * Returns 0, NETFW_EINVAL (len over what the frame still owes), NETFW_ESTATE
 * (closed), NETFW_E2BIG (output limit: c is closed) or NETFW_ENOMEM (c is
 * closed: the frame cannot be finished). */
NETFW_EXTERN int netfw_conn_send_more(netfw_conn *c, const void *data,
                                      size_t len);

/* Returns the bytes queued for c that the socket has not taken yet: pace a
 * large reply by it (max_output bounds it). */
NETFW_EXTERN size_t netfw_conn_queued(const netfw_conn *c);

/* ---- calls: answering requests (docs/calls.md) ----
 *
 * With cfg->protocol set, every request (a message whose schema names its
 * replies with `returns`) read on a connection takes the next place in that
 * connection's reply order, and its reply goes out only after the replies
 * of every earlier request: a reply given early is held (counted against
 * max_output) until then. A handler answers its request either at once,
 * by sending one of its replies on the connection during on_message
 * (netfw_conn_send, netfw_conn_send_begin, or the generated send helpers),
 * or later: it takes the request's token with netfw_conn_defer and
 * answers with netfw_reply_send from the worker's loop (a timer, a bus
 * message, an async call's callback). A request whose on_message returns
 * with neither is a bug in the app: logged at ERROR, and the connection is
 * closed (NETFW_CLOSE_UNANSWERED), since every later reply would wait for
 * it. Messages that are no reply (pushes) go out when sent. A reply sent
 * any other way (outside its request's on_message, or during another
 * request's) is refused with NETFW_EINVAL and logged at WARN: the client
 * would take it for the answer of its oldest call. */

/* A request's place on its connection: a value, safe to copy and to keep
 * after the connection is gone (netfw_reply_send then says so). */
typedef struct netfw_reply {
  uint64_t conn; /* the connection's number in its worker (never reused) */
  uint64_t seq;  /* the request's number on the connection (from 1)    */
} netfw_reply;

/* During on_message for a request on c: takes its token, so that the app
 * answers later with netfw_reply_send. Returns 0 and *r; NETFW_ESTATE (not
 * inside on_message for a request of c, or that request was answered or
 * deferred already); NETFW_EINVAL (NULL). */
NETFW_EXTERN int netfw_conn_defer(netfw_conn *c, netfw_reply *r);

/* Answers the request r stands for with m, one of its replies (m is
 * copied). It is written as soon as every earlier request of the
 * connection is answered. Returns 0; NETFW_ECLOSED (the connection is
 * gone: nothing to do); NETFW_ESTATE (r was answered already, or was never
 * given by netfw_conn_defer); NETFW_EINVAL (NULL m, or m is not one of the
 * request's replies: nothing sent); NETFW_E2BIG (output limit: the
 * connection is closed); NETFW_ENOMEM. Only on the worker's loop thread. */
NETFW_EXTERN int netfw_reply_send(netfw_reply r, const netfw_msg *m);

/* Returns the libuv loop of the worker that owns c, for the app's own
 * handles and requests (timers, uv_fs_*, uv_queue_work). Such work must not
 * outlive the connection's on_client_closed without checking. */
NETFW_EXTERN uv_loop_t *netfw_conn_loop(const netfw_conn *c);

/* Returns the libuv loop of the calling worker process: from the app's
 * create() on, in any of its callbacks. NULL outside a worker. */
NETFW_EXTERN uv_loop_t *netfw_worker_loop(void);

/* Delivers everything queued, then closes (shutdown(SHUT_WR), drain the peer
 * until EOF or drain_timeout_ms, close). on_client_disconnect is not called;
 * on_client_closed is, with NETFW_CLOSE_SHUTDOWN, once the socket closes. */
NETFW_EXTERN void netfw_conn_shutdown(netfw_conn *c);

/* As netfw_conn_shutdown, with the reason on_client_closed will get (e.g.
 * NETFW_CLOSE_PROTOCOL from a malformed-message hook; a value out of range
 * counts as NETFW_CLOSE_SHUTDOWN). */
NETFW_EXTERN void netfw_conn_shutdown_for(netfw_conn *c,
                                          netfw_close_reason why);

/* Writes the peer's IP (NUL-terminated) into ip and its port into *port.
 * Returns 0, NETFW_EINVAL (ip_len too small) or NETFW_ESYS. */
NETFW_EXTERN int netfw_conn_addr(const netfw_conn *c, char *ip, size_t ip_len,
                                 uint16_t *port);

/* Attaches per-connection user state (netfw never frees it). */
NETFW_EXTERN void netfw_conn_set_data(netfw_conn *c, void *data);

/* Returns what netfw_conn_set_data() stored (NULL at first). */
NETFW_EXTERN void *netfw_conn_data(const netfw_conn *c);

/* Replaces the workers one at a time without refusing a connection or
 * losing a reply (docs/server.md, "Reload"): for each slot a new worker is
 * forked and accepts before the old one is told to retire (SIGUSR2); the
 * old one stops accepting and keeps serving its open connections until
 * they end or drain_timeout_ms passes, then shuts them down gracefully.
 * With TLS the files are re-read first. Tells systemd RELOADING=1, then
 * READY=1. Returns 0 once every slot's new worker accepts (an old one may
 * still take a connection or two before it retires; those are served);
 * NETFW_EINVAL (NULL); NETFW_ESTATE (not running, a reload under way, a
 * slot with 4 generations still draining, or a stop or crash loop ended
 * it); NETFW_ETLS (a TLS file is unusable: logged, nothing changed);
 * NETFW_ETIMEDOUT (a new worker was not ready within 30 s: it is killed
 * and the old one keeps serving that slot); NETFW_ESYS (errno ECHILD: a
 * new worker exited before it was ready; the old one keeps serving). */
NETFW_EXTERN int netfw_server_reload(netfw_server *s);

/* The listening socket systemd passed to this process (LISTEN_FDS and
 * LISTEN_PID, socket activation): its descriptor, for netfw_config.
 * listen_fd; -1 when there is none (or it is another process's). Uses
 * libsystemd's sd_listen_fds where netfw was built with it. */
NETFW_EXTERN int netfw_listen_fd_from_env(void);

/* Re-reads the TLS certificate, key and CA files of a running server: the
 * parent checks them first, then every worker loads them for the
 * connections it accepts next (open connections keep theirs and are not
 * dropped). Returns 0 once every worker uses the new files; NETFW_ETLS (a
 * file is unusable: logged with the file's name and OpenSSL's reason, and
 * the old certificate stays); NETFW_ESTATE (not running, or no TLS);
 * NETFW_ETIMEDOUT (a worker did not answer within 5 s). */
NETFW_EXTERN int netfw_server_reload_tls(netfw_server *s);

/* Fills *out with the TLS peer of c (its verified certificate's identity,
 * the version and cipher). Returns 0, NETFW_ESTATE when c is not a TLS
 * connection, NETFW_EINVAL for NULL. Call from the worker's callbacks
 * (on_client_connect on: the handshake is done by then). */
NETFW_EXTERN int netfw_conn_tls_peer(const netfw_conn *c, netfw_tls_peer *out);

/* ---- Run state: is the server still serving? ----
 *
 * NEW before a successful start; RUNNING once start returned 0; FAILED when
 * the workers kept crashing (5 in a row died within 3 s of their fork): the
 * server then stopped serving on its own (listening socket closed, no more
 * respawns, the workers left were sent SIGTERM); STOPPED after
 * netfw_server_stop on a server that had not failed. FAILED stays FAILED
 * through stop. A failed server still needs netfw_server_stop (or _free) to
 * reap its workers and join its thread; start on it returns NETFW_ESTATE. */
typedef enum netfw_run_state {
  NETFW_RUN_NEW = 0,
  NETFW_RUN_RUNNING,
  NETFW_RUN_FAILED,
  NETFW_RUN_STOPPED
} netfw_run_state;

/* Returns the server's run state (NETFW_RUN_NEW for NULL); any thread. */
NETFW_EXTERN netfw_run_state netfw_server_state(const netfw_server *s);

/* Blocks until the state is no longer NETFW_RUN_RUNNING or timeout_ms
 * passes (-1: no limit; 0: do not block); any thread of the process that
 * started s (elsewhere, e.g. in a worker, it does not block). Returns the
 * state then (a netfw_run_state, >= 0: RUNNING only when the timeout
 * passed; NEW at once if never started), or NETFW_EINVAL for NULL or a
 * timeout below -1. Do not free s while a thread waits. */
NETFW_EXTERN int netfw_server_wait(netfw_server *s, int timeout_ms);

#endif /* NETFW_SERVER_H */
