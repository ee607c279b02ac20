/* The client's FIFO of requests awaiting their replies (internal; guarded
 * by the client's lock). A server answers one connection's requests in
 * order, so each reply belongs to the oldest entry (docs/client.md,
 * "Calls"). Every request sent takes an entry, in the order its frame
 * enters the output buffer: a call waits on its entry; a plain send's
 * entry sends its reply to the inbox; a call that timed out leaves its
 * entry abandoned, and its late reply is dropped. */
#ifndef NETFW_RUNTIME_CLIENT_CALLS_H
#define NETFW_RUNTIME_CLIENT_CALLS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/message.h"

typedef enum netfw__call_kind {
  NETFW__CALL_SEND,     /* sent by netfw_client_send: reply to the inbox  */
  NETFW__CALL_WAIT,     /* a call is waiting for it                       */
  NETFW__CALL_ABANDONED /* its call timed out: the reply is dropped       */
} netfw__call_kind;

typedef struct netfw__call {
  struct netfw__call *next;
  uint16_t req; /* the request's message id                      */
  netfw__call_kind kind;
  atomic_bool done;  /* WAIT: finished; it left the FIFO, the caller
                        frees it (set under the lock; the caller's
                        spin reads it without)                        */
  int rc;            /* done: 0 or why it failed                      */
  netfw_msg *reply;  /* done with rc 0: the reply                     */
  pthread_cond_t cv; /* WAIT: signalled when done                     */
} netfw__call;

typedef struct netfw__calls {
  netfw__call *head;
  netfw__call **tail; /* &last->next, or &head when empty */
} netfw__calls;

/* Makes an entry for request id req (wait: a call's, with its condition).
 * Returns NULL when out of memory. */
netfw__call *netfw__call_new(uint16_t req, bool wait);

/* Frees an entry and the reply it still holds (NULL: nothing). */
void netfw__call_free(netfw__call *k);

/* Finishes a WAIT entry that has left the FIFO (rc, and reply for rc 0)
 * and wakes its caller, or frees any other entry (and reply). */
void netfw__call_finish(netfw__call *k, int rc, netfw_msg *reply);

void netfw__calls_init(netfw__calls *q);

/* Appends k at the tail. */
void netfw__calls_push(netfw__calls *q, netfw__call *k);

/* Removes and returns the head (NULL when empty). */
netfw__call *netfw__calls_pop(netfw__calls *q);

/* Empties the FIFO: waiting calls finish with rc, the others are freed. */
void netfw__calls_fail_all(netfw__calls *q, int rc);

#endif /* NETFW_RUNTIME_CLIENT_CALLS_H */
