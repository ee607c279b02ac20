/* netfw — async client: one connection on the caller's libuv loop.
 *
 * Everything happens on the loop given to netfw_aclient_new, in the thread
 * that runs it, and no call blocks: connect starts a dial (name lookup,
 * TCP, TLS handshake, all inside connect_timeout_ms) and returns; state
 * changes, replies and pushes arrive as callbacks from the loop. Inside a
 * server worker, give it netfw_worker_loop(): a handler can then call
 * another netfw service without stalling the worker (docs/calls.md).
 *
 * Calls match replies to requests first in first out, as the blocking
 * client's do (netfw/client.h, "calls"): each netfw_aclient_call ends with
 * exactly one callback, the reply, or an error at its deadline or at the
 * loss of the connection. Messages that answer no call (pushes) go to
 * on_push. Nothing here is thread-safe: use one aclient from its loop's
 * thread only. */
#ifndef NETFW_ACLIENT_H
#define NETFW_ACLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "netfw/desc.h"
#include "netfw/export.h"
#include "netfw/link.h"
#include "netfw/message.h"
#include "netfw/tls.h"

typedef struct netfw_aclient netfw_aclient;
typedef struct uv_loop_s uv_loop_t; /* libuv's loop (include <uv.h>) */

typedef struct netfw_aclient_config {
  uint32_t size;              /* set by netfw_aclient_config_init: leave  */
  const netfw_desc *protocol; /* its requests and replies (the generated
                                 <proto>_descriptor, outliving the client);
                                 NULL: no calls, every message to on_push */
  uint32_t max_payload;       /* largest payload accepted; default 16 MiB;
                                 a bigger frame drops the connection      */
  size_t max_output;          /* bytes queued and not yet written;
                                 default 64 MiB; past it send and call
                                 return NETFW_EAGAIN                      */
  int connect_timeout_ms;     /* name lookup + TCP + TLS; default 10000  */
  const netfw_tls_config *tls; /* NULL: plaintext (copied by new)         */
  netfw_reconnect reconnect;  /* off by default (netfw/link.h)           */
  /* A message that answers no call (a push, or the reply to a request sent
   * with netfw_aclient_send). msg is valid during the call only. NULL:
   * such messages are dropped (counted as pushes, not logged). */
  void (*on_push)(void *user, netfw_msg *msg);
  /* Every state change (netfw/link.h); may be NULL. CLOSED is the last
   * callback of the client, after which it is freed. */
  netfw_link_cb on_state;
  void *user;                 /* handed to on_push and on_state           */
  /* New fields go here, at the end. */
} netfw_aclient_config;

/* Fills cfg with the defaults above (a macro: records the caller's size). */
#define netfw_aclient_config_init(cfg)                                         \
  netfw_aclient_config_init_sized((cfg), sizeof(netfw_aclient_config))

/* What netfw_aclient_config_init expands to. */
NETFW_EXTERN void netfw_aclient_config_init_sized(netfw_aclient_config *cfg,
                                                  size_t size);

/* Makes a client on loop (not connected; cfg is copied). Returns NULL with
 * the reason logged at ERROR for a bad config (a field out of range, a
 * malformed protocol, an unusable TLS file) or when out of memory. */
NETFW_EXTERN netfw_aclient *netfw_aclient_new(uv_loop_t *loop,
                                              const netfw_aclient_config *cfg);

/* Starts connecting to host:port (a numeric address or a name): on_state
 * reports CONNECTING, then UP, or DOWN with the error (NETFW_EADDRINFO,
 * NETFW_ECONNREFUSED, NETFW_ETIMEDOUT, NETFW_ETLS, ...; then with
 * reconnect on the dials go on, else it stays DOWN until connect is
 * called again). Returns 0; NETFW_EINVAL (NULL host, port 0); NETFW_ESTATE
 * (already connecting or up, or closing); NETFW_ENOMEM. */
NETFW_EXTERN int netfw_aclient_connect(netfw_aclient *a, const char *host,
                                       uint16_t port);

/* Queues a copy of m. Returns 0; NETFW_ENOTCONN (not UP); NETFW_EAGAIN
 * (over max_output: nothing queued); NETFW_EINVAL; NETFW_ENOMEM. */
NETFW_EXTERN int netfw_aclient_send(netfw_aclient *a, const netfw_msg *m);

/* Called once per call: status 0 with reply (valid during the call only,
 * never NULL then), or an error with reply NULL: NETFW_ETIMEDOUT (the
 * deadline passed; a reply coming later is dropped and counted),
 * NETFW_ECONNRESET (the connection was lost first, or the client was
 * closed), NETFW_EPROTO (the server answered with a message that is not
 * one of the request's replies: the connection is dropped). */
typedef void (*netfw_call_cb)(void *arg, int status, netfw_msg *reply);

/* Sends req, a request of the protocol, and calls cb(arg, ...) once with
 * its reply or an error, never from inside this call. timeout_ms: > 0, or
 * -1 for no deadline but the connection's life. Returns 0 (cb will be
 * called); NETFW_ENOTCONN (not UP); NETFW_EAGAIN (over max_output);
 * NETFW_EINVAL (NULL, a bad timeout, req not a request of the protocol);
 * NETFW_ESTATE (no protocol); NETFW_ENOMEM. On an error cb is never
 * called. */
NETFW_EXTERN int netfw_aclient_call(netfw_aclient *a, const netfw_msg *req,
                                    int timeout_ms, netfw_call_cb cb,
                                    void *arg);

/* The state now (netfw/link.h). */
NETFW_EXTERN netfw_link_state netfw_aclient_state(const netfw_aclient *a);

/* Replies that came after their call had timed out (dropped). */
NETFW_EXTERN uint64_t netfw_aclient_late_replies(const netfw_aclient *a);

/* Why the client went DOWN last, in words ("connection refused by
 * 127.0.0.1:4000", "closed by the server", TLS's reason); "" when up. */
NETFW_EXTERN const char *netfw_aclient_error(const netfw_aclient *a);

/* Closes the client: queued output is flushed and the connection ended
 * gracefully (bounded by connect_timeout_ms), calls still waiting end
 * with NETFW_ECONNRESET, reconnecting stops; then on_state(CLOSED) and the
 * client is freed, all from the loop (the loop must run on). Callbacks
 * never run inside this call. NULL or a second close: no-op. */
NETFW_EXTERN void netfw_aclient_close(netfw_aclient *a);

#endif /* NETFW_ACLIENT_H */
