/* Message internals shared by the server and client runtimes. */
#ifndef NETFW_RUNTIME_MESSAGE_INTERNAL_H
#define NETFW_RUNTIME_MESSAGE_INTERNAL_H

#include "netfw/message.h"

/* The payload belongs to someone else (a read buffer); the first append
 * copies it into memory of the message's own. */
#define NETFW__MSG_BORROWED 0x1u

/* Makes m a read-only view of size bytes at data (no copy, no allocation):
 * how the server hands a frame in its read buffer to on_message. */
void netfw__msg_borrow(netfw_msg *m, uint16_t id, const uint8_t *data,
                       uint32_t size);

/* Hands ownership of a malloc'ed buffer of size bytes (capacity cap) to an
 * empty init'ed message: how the client turns a received frame into a msg. */
void netfw__msg_adopt(netfw_msg *m, uint16_t id, uint8_t *data, uint32_t size,
                      uint32_t cap);

#endif /* NETFW_RUNTIME_MESSAGE_INTERNAL_H */
