/* The client's handoff queues between the application and the I/O thread
 * (internal). Neither locks: the client guards both with its mutex.
 *
 * netfw__outbuf collects encoded frames (header and payload) back to back, so
 * whatever was sent while the previous write was in flight goes out in one
 * write. netfw__inbox is a FIFO of received messages; each entry is one
 * allocation holding the netfw_msg and its link, with the msg first so that
 * netfw_msg_free() on the returned message frees the whole entry. */
#ifndef NETFW_RUNTIME_CLIENT_QUEUE_H
#define NETFW_RUNTIME_CLIENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "netfw/message.h"

typedef struct netfw__outbuf {
  uint8_t *base;
  size_t len;
  size_t cap;
} netfw__outbuf;

void netfw__outbuf_init(netfw__outbuf *b);
void netfw__outbuf_free(netfw__outbuf *b);

/* Appends m encoded as one frame (6-byte header, then the payload), leaving
 * out its first skip bytes (0: the whole frame; more: the rest of a frame
 * partly written already). Returns 0 or NETFW_ENOMEM (the buffer is then
 * unchanged). */
int netfw__outbuf_put_frame(netfw__outbuf *b, const netfw_msg *m, size_t skip);

/* Exchanges the contents of a and b (no copy). */
void netfw__outbuf_swap(netfw__outbuf *a, netfw__outbuf *b);

/* Empties b after its bytes were written, keeping the memory for reuse
 * unless it grew past what a burst of small messages needs. */
void netfw__outbuf_consumed(netfw__outbuf *b);

typedef struct netfw__inbox_entry {
  netfw_msg msg; /* first: &entry->msg is the pointer malloc returned */
  struct netfw__inbox_entry *next;
} netfw__inbox_entry;

typedef struct netfw__inbox {
  netfw__inbox_entry *head;
  netfw__inbox_entry **tail; /* &last->next, or &head when empty */
} netfw__inbox;

void netfw__inbox_init(netfw__inbox *q);

/* Frees every message still queued. */
void netfw__inbox_clear(netfw__inbox *q);

/* Makes an entry holding a copy of size payload bytes (no payload allocation
 * for size 0). Returns NULL when out of memory. */
netfw__inbox_entry *netfw__inbox_entry_new(uint16_t id, const uint8_t *payload,
                                           uint32_t size);

/* Appends one entry at the tail. */
void netfw__inbox_push(netfw__inbox *q, netfw__inbox_entry *e);

/* Moves every entry of src to the tail of dst, in order; src ends empty. */
void netfw__inbox_splice(netfw__inbox *dst, netfw__inbox *src);

/* Removes the head and returns its message (the caller frees it with
 * netfw_msg_free), or NULL when empty. */
netfw_msg *netfw__inbox_pop(netfw__inbox *q);

#endif /* NETFW_RUNTIME_CLIENT_QUEUE_H */
