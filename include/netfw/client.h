/* netfw — client: one connection kept by a background I/O thread.
 *
 * netfw_client_connect() connects and starts a thread running its own libuv
 * loop that owns the socket; send, recv and shutdown talk to it through
 * queues. Thread safety: one thread may call netfw_client_send() while
 * another blocks in netfw_client_recv(); every other pair of calls on one
 * client must not overlap. */
#ifndef NETFW_CLIENT_H
#define NETFW_CLIENT_H

#include <stdint.h>

#include "netfw/export.h"
#include "netfw/message.h"

typedef struct netfw_client netfw_client;

/* Allocates an unconnected client (NULL when out of memory). */
NETFW_EXTERN netfw_client *netfw_client_new(void);

/* Sets the largest payload accepted from the peer (default 16 MiB); a bigger
 * frame drops the connection. Call before connect; NETFW_ESTATE after. */
NETFW_EXTERN int netfw_client_set_max_payload(netfw_client *c, uint32_t max);

/* Connects to ip:port and starts the I/O thread. Returns 0, NETFW_ESTATE if
 * already connected, NETFW_EINVAL, NETFW_ECONNREFUSED, NETFW_EHOSTUNREACH,
 * NETFW_ETIMEDOUT, NETFW_EADDRINFO or NETFW_ESYS. */
NETFW_EXTERN int netfw_client_connect(netfw_client *c, const char *ip,
                                      uint16_t port);

/* Queues a copy of m and returns without waiting for the network. Returns 0,
 * NETFW_ESTATE (not connected / shut down), NETFW_ECONNRESET once the
 * connection is lost, NETFW_ENOMEM. */
NETFW_EXTERN int netfw_client_send(netfw_client *c, const netfw_msg *m);

/* Takes the next received message into *out (the caller frees it with
 * netfw_msg_free). timeout_ms: -1 waits forever, 0 does not wait. Returns 0,
 * NETFW_ETIMEDOUT, NETFW_ECONNRESET (only after every message that arrived
 * before the loss was returned), NETFW_ESTATE. */
NETFW_EXTERN int netfw_client_recv(netfw_client *c, netfw_msg **out,
                                   int timeout_ms);

/* Delivers every message sent before the call, closes gracefully and joins
 * the I/O thread; after timeout_ms (-1 = no limit) the connection is aborted
 * instead. Returns 0, NETFW_ETIMEDOUT (aborted) or NETFW_ESTATE. */
NETFW_EXTERN int netfw_client_shutdown(netfw_client *c, int timeout_ms);

/* Shuts the client down (waiting) if connected, then frees it. NULL: no-op. */
NETFW_EXTERN void netfw_client_free(netfw_client *c);

#endif /* NETFW_CLIENT_H */
