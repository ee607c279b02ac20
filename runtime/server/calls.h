/* Calls in a worker (calls.c, callidx.c): the requests read on each
 * connection and the order their replies go out in (include/netfw/server.h,
 * "calls: answering requests"; docs/server.md, "Calls").
 *
 * Only with cfg->protocol set: the worker then has a call table
 * (runtime/core/calltab) and every connection that has read a request has
 * a netfw__calls block, made on its first request (an idle connection, or
 * one of a protocol without requests, carries only a NULL pointer). The
 * block numbers the connection (a worker-wide number, never reused, that
 * reply tokens name; callidx.c finds the connection again by it) and keeps
 * a ring of the requests whose reply has not gone out yet, oldest first:
 * their seqs are head_seq .. next_seq - 1. A reply given while an earlier
 * request is still unanswered is held in its entry's buffer (counted in
 * `held`, against max_output and the worker's memory budget) and written
 * when it becomes the oldest. */
#ifndef NETFW_RUNTIME_SERVER_CALLS_H
#define NETFW_RUNTIME_SERVER_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/server.h"

typedef struct netfw__worker netfw__worker;

/* What became of one request. */
typedef enum {
  NETFW__CALL_WAITING = 0, /* its on_message runs: no reply, not deferred */
  NETFW__CALL_DEFERRED,    /* netfw_conn_defer took its token             */
  NETFW__CALL_FILLING,     /* held reply begun by send_begin, bytes owed */
  NETFW__CALL_READY,       /* held reply complete: waits for its turn     */
  NETFW__CALL_DIRECT       /* the oldest: its reply is being streamed
                              straight out (send_begin/send_more)       */
} netfw__call_state;

/* One request whose reply has not gone out. */
typedef struct netfw__call {
  uint64_t arrived; /* uv_now (ms) when it was read                  */
  uint8_t *buf;     /* the held reply's frame bytes (header + payload) */
  size_t len;
  size_t cap;
  uint16_t id;   /* the request's message id                      */
  uint8_t state; /* netfw__call_state                             */
} netfw__call;

/* A connection's requests. */
typedef struct netfw__calls {
  netfw_conn *conn;
  uint64_t num;      /* the connection's number in its worker (from 1)  */
  uint64_t next_seq; /* given to the next request read (from 1)         */
  uint64_t head_seq; /* ring[head]: the oldest reply not yet out        */
  uint64_t cur_seq;  /* the request whose on_message runs; 0: none      */
  uint64_t fill_seq; /* the held reply send_more fills; 0: none         */
  uint16_t cur_id;   /* the current request's message id                */
  netfw__call *ring; /* cap entries (a power of two)                   */
  uint32_t cap;
  uint32_t head;
  uint32_t count;
  size_t held;                      /* bytes of held replies                */
  struct netfw__calls *idx_next;    /* callidx.c's chain               */
  struct netfw__calls *resume_next; /* the worker's resume list        */
  bool paused;        /* reading paused: count reached max_pending     */
  bool resume_queued; /* in the worker's resume list                   */
  bool stopping;      /* the worker stops: answering what was read,
                         reading no more (netfw__calls_stop)           */
  uint64_t stop_deadline; /* uv_now ms: then shut down, answered or not */
} netfw__calls;

/* The worker's index: connection number -> its calls block. Chained
 * buckets, a power of two of them, grown with the count; numbers are
 * handed out in sequence, so the low bits spread them evenly. */
typedef struct netfw__callidx {
  netfw__calls **slots;
  size_t mask; /* slots - 1; 0 with no slots */
  size_t n;
} netfw__callidx;

/* Adds k (k->num unique). Returns 0 or NETFW_ENOMEM (not added). */
int netfw__callidx_add(netfw__callidx *x, netfw__calls *k);

/* Removes k if present. */
void netfw__callidx_del(netfw__callidx *x, netfw__calls *k);

/* The block numbered num, or NULL. */
netfw__calls *netfw__callidx_find(const netfw__callidx *x, uint64_t num);

/* Frees the buckets (the blocks are the connections'). */
void netfw__callidx_free(netfw__callidx *x);

/* Before on_message for request id on c: gives it the next seq and makes it
 * c's current request (the block is made on the first one). Returns 0 or
 * NETFW_ENOMEM. */
int netfw__calls_begin(netfw_conn *c, uint16_t id);

/* After that on_message: a request neither answered nor deferred is logged
 * at ERROR and c is shut down (NETFW_CLOSE_UNANSWERED). */
void netfw__calls_end(netfw_conn *c);

/* True when c holds max_pending requests whose replies are not out: its
 * reading is then paused (once) until one goes out. */
bool netfw__calls_full(netfw_conn *c);

/* netfw_conn_send while a request of c runs its on_message: one of its
 * replies answers it (written now or held), other ids go out as sent. */
int netfw__calls_send(netfw_conn *c, const netfw_msg *m);

/* netfw_conn_send_begin while a request of c runs its on_message. */
int netfw__calls_send_begin(netfw_conn *c, uint16_t id, uint32_t size);

/* netfw_conn_send_more into a held reply (c->calls->fill_seq set). */
int netfw__calls_send_more(netfw_conn *c, const void *data, size_t len);

/* Writes the replies that are complete and next in order, while no frame
 * is in progress on c; pops a streamed reply that is complete. */
void netfw__calls_flush(netfw_conn *c);

/* A graceful stop of the worker: when c still owes replies, it reads no
 * more requests and stays open until they are out (then it is shut down
 * from the prepare phase) or drain_timeout_ms passes (the sweep shuts it
 * down). Returns true when it holds c open so, false when c owes nothing
 * (or drain_timeout_ms is 0): shut it down now. */
bool netfw__calls_stop(netfw_conn *c);

/* Closes c (logged) when its oldest unanswered request is older than
 * reply_timeout_ms, or when a stop's wait for its replies is over.
 * Returns true when it did. */
bool netfw__calls_sweep(netfw_conn *c, uint64_t now);

/* c stops taking output (closed, shut down, peer gone): drops its held
 * replies and its block; its tokens then find nothing (NETFW_ECLOSED). */
void netfw__calls_release(netfw_conn *c);

/* Delivers again the frames left in the read buffers of connections whose
 * reading was paused at max_pending and that have room again (from the
 * worker's prepare phase, outside any app callback). */
void netfw__calls_resume_all(netfw__worker *w);

/* Bytes held for c (0 without a block). */
static inline size_t netfw__calls_held(const netfw__calls *k) {
  return k != NULL ? k->held : 0;
}

#endif /* NETFW_RUNTIME_SERVER_CALLS_H */
