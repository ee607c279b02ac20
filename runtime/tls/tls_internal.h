/* What the files of runtime/tls share beyond tls.h: the context's and the
 * transport's layouts, the BIO and buffers (bio.c), the write side
 * (write.c) and the failure path (transport.c). Internal to runtime/tls:
 * the rest of the runtime includes only tls.h. */
#ifndef NETFW_RUNTIME_TLS_INTERNAL_H
#define NETFW_RUNTIME_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include "tls.h"

struct netfw__tls_ctx {
  atomic_int refs;
  bool server;
  SSL_CTX *ctx;
  int handshake_ms;               /* 0: no bound                        */
  unsigned char alpn_wire[64];    /* a length byte, then the name       */
  unsigned alpn_wire_len;         /* 0: no ALPN                         */
};

/* A byte buffer: [off, len) is what is left to use. */
typedef struct netfw__tls_buf {
  uint8_t *base;
  size_t off, len, cap;
} netfw__tls_buf;

/* Transport flags. */
enum {
  NETFW__TLS_ESTABLISHED = 1u << 0, /* the handshake is done              */
  NETFW__TLS_READING = 1u << 1,     /* the stream wants input             */
  NETFW__TLS_LOWER_READING = 1u << 2,
  NETFW__TLS_FAILED = 1u << 3,     /* failed: reported, nothing more     */
  NETFW__TLS_IN_EOF = 1u << 4,     /* the socket's EOF came              */
  NETFW__TLS_WRITING = 1u << 5,    /* out is being written below         */
  NETFW__TLS_SHUT_WANTED = 1u << 6, /* end the write side once flushed   */
  NETFW__TLS_NOTIFY_SENT = 1u << 7, /* our close_notify is queued         */
  NETFW__TLS_LOWER_SHUT = 1u << 8,  /* the socket's write side is shut    */
  NETFW__TLS_CLOSING = 1u << 9,
  NETFW__TLS_TIMER_CLOSED = 1u << 10,
  NETFW__TLS_LOWER_CLOSED = 1u << 11,
  NETFW__TLS_EOF_SENT = 1u << 12,   /* the stream got its EOF             */
  NETFW__TLS_HEARD = 1u << 13       /* a byte came from the peer          */
};

/* The TLS transport of one connection (transport.c). */
typedef struct netfw__tls {
  netfw__transport t;       /* what the stream sees                      */
  netfw__transport *lower;  /* the TCP transport under it                */
  netfw__stream_ctx *sctx;  /* its buffers come from this cache          */
  netfw__tls_ctx *x;        /* one reference                             */
  SSL *ssl;
  uv_timer_t timer;         /* the handshake bound; then a kick for input
                               left over when reading starts again       */
  netfw__tls_buf in;        /* ciphertext read, not yet decrypted        */
  netfw__tls_buf out;       /* ciphertext made, not yet written          */
  netfw__tls_buf wire;      /* ciphertext being written below            */
  uv_write_t wreq;          /* the write of wire                         */
  uv_write_t *up_req;       /* the stream's queued write, in progress    */
  uv_buf_t up_bufs[4];      /* its plaintext still to encrypt            */
  unsigned up_n, up_i;
  size_t up_left;
  uint32_t flags;
  char *failure;            /* why the handshake failed (malloc)         */
  char peer[56];            /* "ip:port" of the peer, kept for the log
                               (NETFW__ADDR_NAME_LEN)                  */
} netfw__tls;

/* Writes OpenSSL's last reason into buf and clears its error queue. */
void netfw__tls_reason(char *buf, size_t len);

/* The transport that s runs over when it is TLS, else NULL. */
netfw__tls *netfw__tls_of(const netfw__stream *s);

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

#endif /* NETFW_RUNTIME_TLS_INTERNAL_H */
