/* netfw — Message: an id and a byte payload, the unit that travels on the wire.
 *
 * A message is filled with netfw_msg_append() (which grows the payload and its
 * size) and read back with netfw_msg_pop() (which copies the next unread bytes
 * and advances a read cursor without changing the payload), as in netframe.
 * On the wire it is a 6-byte little-endian header (u16 id, u32 size) followed
 * by the payload; see docs/wire-format.md.
 *
 * netfw_msg is a complete type so that it can live on the stack
 * (netfw_msg_init / netfw_msg_release); treat its fields as private. */
#ifndef NETFW_MESSAGE_H
#define NETFW_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "netfw/export.h"

typedef struct netfw_msg {
  uint8_t *data_;     /* payload bytes (owned unless flags_ & BORROWED)   */
  uint32_t size_;     /* payload length                                   */
  uint32_t capacity_; /* bytes allocated at data_ (0 when borrowed)       */
  uint32_t cursor_;   /* read position for pop                            */
  uint16_t id_;       /* message id                                       */
  uint16_t flags_;    /* internal                                         */
} netfw_msg;

/* Allocates an empty message with the given id. Returns NULL when out of
 * memory. Free it with netfw_msg_free(). */
NETFW_EXTERN netfw_msg *netfw_msg_new(uint16_t id);

/* Frees a message from netfw_msg_new() and its payload. NULL is a no-op. */
NETFW_EXTERN void netfw_msg_free(netfw_msg *m);

/* Initialises caller-owned storage as an empty message; allocates nothing
 * until the first append. Pair with netfw_msg_release(). */
NETFW_EXTERN void netfw_msg_init(netfw_msg *m, uint16_t id);

/* Frees the payload of an init'ed message and leaves it empty (reusable). */
NETFW_EXTERN void netfw_msg_release(netfw_msg *m);

/* Sets size and cursor to 0; keeps the id and the allocated capacity, so a
 * message can be refilled without allocating again. */
NETFW_EXTERN void netfw_msg_clear(netfw_msg *m);

/* Returns the message id. */
NETFW_EXTERN uint16_t netfw_msg_id(const netfw_msg *m);

/* Sets the message id; payload and cursor are unchanged. */
NETFW_EXTERN void netfw_msg_set_id(netfw_msg *m, uint16_t id);

/* Returns the payload length in bytes; only append changes it. */
NETFW_EXTERN uint32_t netfw_msg_size(const netfw_msg *m);

/* Returns the payload bytes (NULL or dangling-free pointer when size is 0);
 * valid until the next append, clear or release. */
NETFW_EXTERN const uint8_t *netfw_msg_payload(const netfw_msg *m);

/* Appends len bytes to the payload. Returns 0, NETFW_EINVAL (data NULL with
 * len > 0), NETFW_E2BIG (payload would pass UINT32_MAX) or NETFW_ENOMEM; on
 * error the message is unchanged. */
NETFW_EXTERN int netfw_msg_append(netfw_msg *m, const void *data, size_t len);

/* Reserves len more bytes at the end of the payload, grows size by len and
 * returns where to write them (NULL on overflow or out of memory; the message
 * is then unchanged). For encoders that write in place. */
NETFW_EXTERN uint8_t *netfw_msg_append_space(netfw_msg *m, size_t len);

/* Makes room for at least capacity payload bytes in total, so later appends
 * up to that size do not allocate. Returns 0, NETFW_E2BIG or NETFW_ENOMEM. */
NETFW_EXTERN int netfw_msg_reserve(netfw_msg *m, size_t capacity);

/* Copies the next len unread bytes into out and advances the read cursor;
 * size and payload are unchanged. Returns 0, or NETFW_ERANGE (and no advance)
 * when fewer than len bytes remain. out may be NULL to skip bytes. */
NETFW_EXTERN int netfw_msg_pop(netfw_msg *m, void *out, size_t len);

/* Zero-copy pop: returns a pointer to the next len unread bytes and advances
 * the cursor, or NULL (and no advance) when fewer than len remain. The
 * pointer is valid as long as the payload is (see netfw_msg_payload). */
NETFW_EXTERN const void *netfw_msg_pop_view(netfw_msg *m, size_t len);

/* Returns how many payload bytes pop has not yet read. */
NETFW_EXTERN size_t netfw_msg_remaining(const netfw_msg *m);

/* Moves the read cursor back to the start of the payload. */
NETFW_EXTERN void netfw_msg_rewind(netfw_msg *m);

/* Returns a new heap message with the same id and payload (cursor at 0), or
 * NULL when out of memory. */
NETFW_EXTERN netfw_msg *netfw_msg_dup(const netfw_msg *m);

#endif /* NETFW_MESSAGE_H */
