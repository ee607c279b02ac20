/* TLS (OpenSSL 3) as a transport under the stream (runtime/stream).
 *
 * What lives here: the context (ctx.c: an SSL_CTX built from a
 * netfw_tls_config, with every file error named), the transport
 * (transport.c: an SSL object driven through a BIO of ours on the loop: the
 * TCP transport's reads feed it, its output leaves through the TCP
 * transport's writes), and the peer's identity (peer.c). The transport sits
 * on the stream's TCP transport and under the stream itself: framing,
 * limits, coalescing and backpressure stay the stream's. No call here
 * blocks. May depend on runtime/core, runtime/stream, libuv and OpenSSL. */
#ifndef NETFW_RUNTIME_TLS_H
#define NETFW_RUNTIME_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "netfw/tls.h"
#include "stream.h"

/* A TLS context: the certificate, key, trust anchors and settings of one
 * side, shared by its connections (reference counted: a connection keeps
 * the context it started with across a reload). */
typedef struct netfw__tls_ctx netfw__tls_ctx;

/* Room for a message naming the file and OpenSSL's reason. */
#define NETFW__TLS_ERR_LEN 512

/* Builds a context for a server (server true) or a client from t, reading
 * its files now. Returns it (one reference), or NULL with why in err
 * (e.g. "tls key_file 'k.pem': no start line"). */
netfw__tls_ctx *netfw__tls_ctx_new(const netfw_tls_config *t, bool server,
                                   char err[NETFW__TLS_ERR_LEN]);

/* Takes one more reference to x; returns x. */
netfw__tls_ctx *netfw__tls_ctx_ref(netfw__tls_ctx *x);

/* Drops one reference (NULL: nothing); the last frees x. */
void netfw__tls_ctx_unref(netfw__tls_ctx *x);

/* The handshake bound of x in ms (0: none). */
int netfw__tls_ctx_handshake_ms(const netfw__tls_ctx *x);

/* A deep copy of t (its strings too), as a full-size struct of this
 * library's version (fields t lacks take their defaults), or NULL when out
 * of memory or t->size is unusable (too small). Free with
 * netfw__tls_config_free. */
netfw_tls_config *netfw__tls_config_dup(const netfw_tls_config *t);

/* Frees a copy made by netfw__tls_config_dup (NULL: nothing). */
void netfw__tls_config_free(netfw_tls_config *t);

/* Stacks a TLS transport on s (after netfw__stream_init and _open, before
 * netfw__stream_start): `established` then means the handshake is done.
 * Client side: server_name is the SNI and the name verified (NULL: none
 * sent, no name check). Returns 0 or NETFW_ENOMEM (s is then unchanged). */
int netfw__tls_wrap(netfw__stream *s, netfw__tls_ctx *x,
                    const char *server_name);

/* True when s runs over TLS. */
bool netfw__tls_on(const netfw__stream *s);

/* Fills *out with the peer of s (after the handshake). Returns 0, or
 * NETFW_ESTATE when s is not TLS or the handshake is not done. */
int netfw__tls_peer(const netfw__stream *s, netfw_tls_peer *out);

/* Why the handshake of s failed, in words ("" when it did not, or when
 * nothing is known). */
const char *netfw__tls_failure(const netfw__stream *s);

#endif /* NETFW_RUNTIME_TLS_H */
