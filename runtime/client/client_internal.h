/* The client's state, shared by the API edge (client.c), the dialer
 * (connect.c) and the I/O thread (io.c). Internal. */
#ifndef NETFW_RUNTIME_CLIENT_INTERNAL_H
#define NETFW_RUNTIME_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <netdb.h>
#include <uv.h>

#include "calls.h"
#include "frame.h"
#include "netfw/client.h"
#include "queue.h"
#include "stream.h"

/* What the application sees. */
typedef enum netfw__client_state {
  NETFW__CLIENT_NEW,       /* connect not yet succeeded */
  NETFW__CLIENT_CONNECTED, /* send/recv allowed */
  NETFW__CLIENT_CLOSED     /* shut down: connect again, or free */
} netfw__client_state;

struct netfw_client {
  /* Settings: written before connect, read-only once the thread runs. */
  uint32_t max_payload;
  size_t max_inbox; /* 0: no limit */
  int connect_timeout_ms;
  size_t max_output;                 /* 0: no limit                     */
  struct netfw__calltab *calltab;    /* set_protocol's; NULL: none      */
  netfw_reconnect reconnect;         /* initial_ms 0: off               */
  netfw_link_cb link_cb;             /* NULL: none                      */
  void *link_user;
  char *host;        /* the last connect's, for redials (link.c)        */
  char *server_name; /* what TLS verifies on a redial                   */
  uint16_t port;
  netfw_tls_config *tls_cfg; /* netfw_client_set_tls's copy; NULL: plain */
  struct netfw__tls_ctx *tls; /* its context                          */
  char error[512];            /* netfw_client_error                   */

  /* Shared: every field in this block is guarded by lock. */
  pthread_mutex_t lock;
  pthread_cond_t readable;    /* inbox grew, the connection ended, or closed */
  pthread_cond_t finished_cv; /* the I/O thread set finished */
  netfw__client_state state;
  netfw__outbuf out;  /* frames sent but not yet taken by the I/O thread */
  netfw__inbox inbox; /* frames received but not yet taken by recv */
  bool lost;          /* the connection ended before a shutdown asked for it */
  int loss;           /* why (netfw_client_loss): NETFW_ECLOSED, ... */
  bool shutdown_req;  /* shutdown was called: flush, FIN, drain, finish */
  bool abort_req;     /* shutdown's timeout expired: reset now */
  bool finished;      /* the I/O thread is done; wake must not be used */
  size_t inbox_bytes; /* what the inbox holds (payloads and entries) */
  bool read_paused;   /* the I/O thread stopped reading: inbox full */
  bool resume_req;    /* recv made room: the I/O thread reads again */
  int result;         /* shutdown's return value, set with finished */
  int recv_waiting;   /* recv calls blocked until something arrives */
  netfw__calls calls; /* requests sent and not yet answered, in order */
  uint64_t late_replies; /* replies dropped: their call had timed out */
  _Atomic uint64_t call_ns; /* recent calls' round trip (a moving average,
                               calls.c): whether waiting awake pays   */
  bool up;              /* reconnect: the connection the application saw
                           is up (a loss of it is reported to recv)      */
  bool loss_unreported; /* reconnect: recv owes one NETFW_ECONNRESET     */
  bool gave_up;         /* reconnect: max_attempts dials failed: down    */

  /* Shared without the lock (see io.c, "waiting for the next send"). */
  atomic_bool io_spinning; /* the I/O thread waits awake for a send   */
  atomic_bool out_ready;   /* send queued output since it was taken   */
  atomic_size_t stream_bytes; /* output in the stream, not yet written */

  /* The I/O thread's own (set up before it starts, joined after). */
  pthread_t thread;
  uv_loop_t loop;
  uv_async_t wake;
  uv_check_t flush;       /* writes what the iteration queued        */
  netfw__stream_ctx sctx; /* the stream's buffer cache and flush list */
  netfw__stream s;        /* the connection: framing, writes, FIN    */
  bool s_closed;          /* the stream's closed callback ran        */
  bool aborted;           /* the connection was reset on abort_req   */
  int read_rc;            /* starting to read, when established      */
  bool established;       /* the transport is up (TLS: handshake done) */
  int hs_status;          /* the libuv status a handshake failed with */
  netfw_tls_peer peer;    /* the server, as the handshake showed it   */
  uv_timer_t redial;      /* reconnect: the backoff (link.c)          */
  bool io_running;        /* the I/O thread runs the loop             */
  bool redialing;         /* the stream is a redial's, not yet up     */
  unsigned attempt;       /* dials failed in a row since the last up  */
  uint64_t rnd;           /* the jitter's xorshift state              */
};

/* True when automatic reconnection is on (a setting: no lock needed). */
#define NETFW__RECONNECT_ON(c) ((c)->reconnect.initial_ms > 0)

/* Resolves host:port into *res (freed with freeaddrinfo) by deadline (ms
 * on the monotonic clock; -1: none). A numeric address is converted at
 * once; a name is looked up on a helper thread, which is left to finish
 * (and free its result) alone when the deadline passes. Returns 0,
 * NETFW_ETIMEDOUT, NETFW_EADDRINFO, NETFW_ENOMEM or NETFW_ESYS. */
int netfw__client_resolve(const char *host, uint16_t port, int64_t deadline,
                          struct addrinfo **res);

/* The lookup netfw__client_resolve runs (getaddrinfo; tests may replace it
 * to make a lookup slow). */
extern int (*netfw__client_getaddrinfo)(const char *host, const char *service,
                                        const struct addrinfo *hints,
                                        struct addrinfo **res);

/* Connects a non-blocking TCP socket to ip:port within timeout_ms (-1: the
 * system's limit), trying every resolved address. Returns 0 and the socket
 * in *fd, or a NETFW_E* code naming the cause. */
int netfw__client_dial(const char *ip, uint16_t port, int timeout_ms, int *fd);

/* Sets up the loop around fd (taking ownership of it, even on failure),
 * runs the TLS handshake when TLS is on (server_name: what to verify and
 * send as SNI) and starts the I/O thread. Returns 0, NETFW_ETLS,
 * NETFW_ETIMEDOUT (no handshake in time), NETFW_ECONNRESET, NETFW_ENOMEM
 * or NETFW_ESYS. */
int netfw__client_io_start(netfw_client *c, int fd, const char *server_name);

/* What one received message counts against max_inbox. */
#define NETFW__INBOX_COST(size) ((size_t)(size) + sizeof(netfw__inbox_entry))

/* Wakes the I/O thread to look at the shared state. Call with c->lock held;
 * does nothing once the thread has finished. */
void netfw__client_io_wake(netfw_client *c);

/* What netfw__client_route did with a received message. */
enum {
  NETFW__ROUTE_INBOX,   /* not for a call: the caller puts it in the inbox */
  NETFW__ROUTE_CALL,    /* given to its waiting call                       */
  NETFW__ROUTE_TAKEN,   /* dropped: a late reply                           */
  NETFW__ROUTE_MISMATCH /* it answers not the oldest request: freed; the
                           connection must be dropped (why says so)        */
};

/* Matches a received message to the oldest pending request (lock held;
 * I/O thread). Returns a NETFW__ROUTE_* value. */
int netfw__client_route(netfw_client *c, netfw_msg *m, char *why,
                        size_t whylen);

/* Queues m's frame for the I/O thread (lock held) and, with k, appends k
 * to the FIFO in the same step. Returns 0, NETFW_ESTATE, NETFW_ECONNRESET,
 * NETFW_EAGAIN (over max_output: nothing queued) or NETFW_ENOMEM. */
int netfw__client_queue(netfw_client *c, const netfw_msg *m, netfw__call *k);

/* Sets *ts to timeout_ms from now on the monotonic clock. */
void netfw__deadline_after(struct timespec *ts, int timeout_ms);

/* Opens a new stream on fd (a redial's; taking ownership of fd) on the
 * I/O thread's loop and starts it; established or lost follow as for the
 * first one. On failure the stream is closed, so `closed` follows. */
void netfw__client_stream_restart(netfw_client *c, int fd);

/* Reports a state change to the link callback, if any (I/O thread). */
void netfw__client_link_report(netfw_client *c, netfw_link_state st, int err);

/* The n-th wait in a row before a redial (netfw/link.h: equal jitter),
 * in ms, from the random value rnd. */
uint64_t netfw__reconnect_delay(const netfw_reconnect *r, unsigned n,
                                uint64_t rnd);

/* The stream of a connection closed with reconnect on and no shutdown
 * asked (I/O thread): reports DOWN and waits out the backoff before the
 * next dial, or gives up after max_attempts. */
void netfw__client_link_down(netfw_client *c);

/* A redial's stream is established (I/O thread): the client is up again. */
void netfw__client_link_up(netfw_client *c);

/* Joins the finished I/O thread and releases the loop and its buffers. */
void netfw__client_io_join(netfw_client *c);

#endif /* NETFW_RUNTIME_CLIENT_INTERNAL_H */
