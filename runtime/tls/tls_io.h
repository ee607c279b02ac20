/* The transport's pieces shared by bio.c, transport.c and write.c.
 * Internal to runtime/tls. */
#ifndef NETFW_RUNTIME_TLS_IO_H
#define NETFW_RUNTIME_TLS_IO_H

#include <pthread.h>

#include <openssl/bio.h>

#include "tls_internal.h"

/* The smallest buffer made, and how much the socket is asked to read. */
#define NETFW__TLS_BUF_MIN (16 * 1024)
#define NETFW__TLS_READ_SIZE (64 * 1024)
/* Plaintext encrypted per step of a long write: what one connection's
 * ciphertext in flight is bounded by. */
#define NETFW__TLS_WRITE_STEP (128 * 1024)

/* A BIO reading tls->in and writing tls->out (one reference), or NULL. */
BIO *netfw__tls_bio_new(netfw__tls *tls);

/* Makes room for n more bytes at b's end (a cached buffer first). Returns
 * 0 or -1 when out of memory. */
int netfw__tls_buf_reserve(netfw__tls *tls, netfw__tls_buf *b, size_t n);

/* Gives b's buffer back to the cache; b is then empty. */
void netfw__tls_buf_release(netfw__tls *tls, netfw__tls_buf *b);

/* Releases b's buffer when all of it was used. */
void netfw__tls_buf_trim(netfw__tls *tls, netfw__tls_buf *b);

/* write.c: the operations of the write side. */
int netfw__tls_try_write(netfw__transport *t, const uv_buf_t *bufs,
                         unsigned n);
int netfw__tls_write(netfw__transport *t, uv_write_t *req,
                     const uv_buf_t *bufs, unsigned n);
size_t netfw__tls_write_queued(const netfw__transport *t);
int netfw__tls_shutdown_write(netfw__transport *t);

/* Writes what OpenSSL made (handshake records, alerts, data) when nothing
 * is being written; moves the write side on (a queued write of the
 * stream, the close_notify). Returns 0 or a libuv error. */
int netfw__tls_pump_out(netfw__tls *tls);

/* The lower transport finished writing tls->wire. */
void netfw__tls_on_lower_written(void *up, uv_write_t *req, int status);

/* transport.c: reports a failure of the connection upward once (logged
 * with the peer; during the handshake it is the handshake's failure). */
void netfw__tls_fail(netfw__tls *tls, const char *why, int status);

#endif /* NETFW_RUNTIME_TLS_IO_H */
