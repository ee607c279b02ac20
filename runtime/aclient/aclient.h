/* The async client's state (netfw/aclient.h), shared by the API edge
 * (aclient.c), the dialer (dial.c), the connection (conn.c), the calls
 * (calls.c) and reconnecting (backoff.c). Everything runs on the caller's
 * loop thread and takes no lock. Internal. */
#ifndef NETFW_RUNTIME_ACLIENT_H
#define NETFW_RUNTIME_ACLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "calltab.h"
#include "netfw/aclient.h"
#include "stream.h"

/* What a FIFO place stands for. */
enum {
  NETFW__AC_CALL = 0, /* a call waiting for its reply                 */
  NETFW__AC_SEND = 1, /* a request sent with netfw_aclient_send       */
  NETFW__AC_LATE = 2  /* a call that timed out: its reply is dropped  */
};

/* One request sent and not yet answered: a place in the FIFO. */
typedef struct netfw__acall {
  struct netfw__acall *next;  /* the next younger request             */
  struct netfw__acall *xnext; /* the chain of calls expiring now      */
  uint64_t deadline;          /* loop time (ms); UINT64_MAX: none     */
  netfw_call_cb cb;
  void *arg;
  uint16_t req_id;
  uint8_t kind;
} netfw__acall;

/* A state change waiting to be reported from the loop. */
typedef struct netfw__areport {
  netfw_link_state state;
  int err;
} netfw__areport;

#define NETFW__AC_REPORTS 16
#define NETFW__AC_HANDLES 7 /* the handles new() opens, close() closes */

struct netfw_aclient {
  uv_loop_t *loop;
  netfw_aclient_config cfg;
  netfw__calltab *tab; /* NULL: no protocol                           */
  netfw_link_state state;
  bool closing;   /* netfw_aclient_close was called                    */
  bool finishing; /* the handles are being closed                      */
  bool broken;    /* a send broke the stream: drop it from the loop    */
  int handles;    /* handles still open                                */
  char error[256];
  uint64_t late_replies;
  uint16_t bad_req; /* the request a wrong reply came for (EPROTO)    */
  uint64_t pushes;
  netfw_tls_config *tls_cfg;  /* the config's copy; NULL: plaintext     */
  struct netfw__tls_ctx *tls; /* its context                          */

  /* dial.c */
  char *host;
  uint16_t port;
  struct netfw__agai *gai;  /* the name lookup in flight, if any        */
  struct addrinfo *ai;      /* its result                               */
  struct addrinfo *ai_next; /* the next address to try                 */
  int dial_fd;              /* the socket being connected, or -1        */
  int dial_err;             /* the last attempt's error                 */
  bool dialing;             /* a dial is under way                      */
  bool dial_pending;        /* dial once the old stream has closed      */
  bool poll_open;           /* poll is initialised and not yet closed   */
  bool dial_timed_out;
  uint64_t dial_started; /* loop time (ms) the dial began            */
  uv_poll_t poll;        /* the socket's writability while connecting */
  uv_timer_t dial_timer; /* connect_timeout_ms                       */

  /* conn.c */
  netfw__stream_ctx sctx;
  netfw__stream s;
  bool s_open;      /* s is initialised and its closed callback is due      */
  bool established; /* s is up (TLS: the handshake is done)           */
  uv_check_t flush_check;
  uv_prepare_t flush_prepare;
  uv_timer_t fin_timer; /* bounds close's graceful end, and the TLS
                           handshake (the rest of connect_timeout_ms)  */

  /* calls.c */
  netfw__acall *head, *tail;
  size_t ntimed;  /* calls with a deadline in the FIFO           */
  uint64_t armed; /* when deadline_timer fires; 0: not armed     */
  uv_timer_t deadline_timer;

  /* backoff.c */
  uv_timer_t retry;
  int attempts; /* dials since the connection was last up              */
  uint64_t rng; /* xorshift64 state                                    */

  /* aclient.c: reports and work deferred out of API calls */
  uv_idle_t kick;
  netfw__areport reports[NETFW__AC_REPORTS];
  int nreports;
  bool fail_calls; /* close: fail the FIFO's calls from the loop       */
};

/* aclient.c */

/* Queues a state report (delivered from the loop, never inside an API
 * call) and sets a->state. */
void netfw__aclient_report(netfw_aclient *a, netfw_link_state st, int err);

/* Sets netfw_aclient_error's text (printf-style). */
void netfw__aclient_set_error(netfw_aclient *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees the client once closing and nothing (stream, dial) is left:
 * closes its handles; on_state(CLOSED) and the free follow from the last
 * close callback. */
void netfw__aclient_maybe_finish(netfw_aclient *a);

/* Starts the idle handle that runs deferred work in the next iteration. */
void netfw__aclient_kick(netfw_aclient *a);

/* dial.c */

/* Starts a dial to a->host:a->port (lookup and TCP within
 * connect_timeout_ms). Its end: netfw__aconn_up or netfw__aconn_dial_failed.
 * Returns 0 or NETFW_ENOMEM. */
int netfw__adial_start(netfw_aclient *a);

/* Stops a dial under way (close): the lookup is left to finish and free
 * itself, the socket is closed from the poll's close callback. */
void netfw__adial_cancel(netfw_aclient *a);

/* conn.c */

/* What the client's stream context reports to (conn.c). */
extern const netfw__stream_events netfw__aconn_events;

/* The dial connected fd: starts the stream over it (TLS: the handshake,
 * within what is left of connect_timeout_ms); UP once it is established. */
void netfw__aconn_up(netfw_aclient *a, int fd);

/* The dial failed with err (a NETFW_E* code): DOWN, then the backoff. */
void netfw__aconn_dial_failed(netfw_aclient *a, int err);

/* The connection is lost or refused (err, why): DOWN, calls fail with
 * NETFW_ECONNRESET, the stream closes; the backoff follows its close. */
void netfw__aconn_down(netfw_aclient *a, int err, const char *why);

/* Keeps the loop alive through the connection only while a request
 * waits for its reply (an idle client does not hold a server worker's
 * loop, so its graceful stop can finish). */
void netfw__aconn_hold(netfw_aclient *a);

/* Starts the graceful end for close (bounded by connect_timeout_ms). */
void netfw__aconn_fin(netfw_aclient *a);

/* Queues one frame. Returns 0, NETFW_EAGAIN (over max_output) or
 * NETFW_ENOMEM. */
int netfw__aconn_send(netfw_aclient *a, uint16_t id, const uint8_t *payload,
                      uint32_t size);

/* calls.c */

/* Takes a FIFO place for request req_id: a call (cb set, timeout_ms > 0
 * or -1) or a plain send's request (cb NULL). Returns 0 or NETFW_ENOMEM. */
int netfw__acalls_push(netfw_aclient *a, uint16_t req_id, int timeout_ms,
                       netfw_call_cb cb, void *arg);

/* Drops the youngest place (its send failed); no callback. */
void netfw__acalls_pop_tail(netfw_aclient *a);

/* Routes one received message: the head call's reply, a late reply, or a
 * push. Returns 0 or NETFW_EPROTO (a wrong reply: the caller drops the
 * connection; the call was told). */
int netfw__acalls_deliver(netfw_aclient *a, netfw_msg *m);

/* Ends every call in the FIFO with err and empties it. */
void netfw__acalls_fail_all(netfw_aclient *a, int err);

/* backoff.c */

/* Seeds the jitter. */
void netfw__abackoff_init(netfw_aclient *a);

/* After a failed dial or a lost connection: starts the next wait when
 * reconnecting is on and attempts are left. */
void netfw__abackoff_schedule(netfw_aclient *a);

/* The wait before dial n (0-based) with d = min(max_ms, initial_ms * 2^n):
 * uniformly in [d/2, d]. */
uint64_t netfw__abackoff_wait(netfw_aclient *a, int n);

#endif /* NETFW_RUNTIME_ACLIENT_H */
