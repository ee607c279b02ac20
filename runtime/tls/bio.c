/* The BIO between OpenSSL and the transport: OpenSSL reads the ciphertext
 * the socket delivered (tls->in) and writes what it makes into tls->out;
 * nothing here touches a socket. Buffers come from the stream context's
 * cache and go back to it once empty, so an idle connection holds none. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>

#include "tls_internal.h"

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

/* OpenSSL reads ciphertext: what is left of tls->in; at its end, "retry"
 * (more is coming) or 0 after the socket's EOF. */
static int bio_read(BIO *b, char *out, int len) {
  netfw__tls *tls = BIO_get_data(b);
  size_t avail = tls->in.len - tls->in.off;

  BIO_clear_retry_flags(b);
  if (avail == 0) {
    if (tls->flags & NETFW__TLS_IN_EOF)
      return 0;
    BIO_set_retry_read(b);
    return -1;
  }
  if ((size_t)len < avail)
    avail = (size_t)len;
  memcpy(out, tls->in.base + tls->in.off, avail);
  tls->in.off += avail;
  return (int)avail;
}

/* OpenSSL writes ciphertext: appended to tls->out (never "retry"). */
static int bio_write(BIO *b, const char *data, int len) {
  netfw__tls *tls = BIO_get_data(b);

  BIO_clear_retry_flags(b);
  if (len <= 0)
    return 0;
  if (netfw__tls_buf_reserve(tls, &tls->out, (size_t)len) != 0)
    return -1;
  memcpy(tls->out.base + tls->out.len, data, (size_t)len);
  tls->out.len += (size_t)len;
  return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  netfw__tls *tls = BIO_get_data(b);

  (void)num;
  (void)ptr;
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_PENDING:
    return (long)(tls->in.len - tls->in.off);
  case BIO_CTRL_WPENDING:
    return (long)(tls->out.len - tls->out.off);
  case BIO_CTRL_EOF:
    return (tls->flags & NETFW__TLS_IN_EOF) && tls->in.off == tls->in.len;
  default:
    return 0;
  }
}

static void make_method(void) {
  method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "netfw");
  if (method == NULL)
    return;
  BIO_meth_set_read(method, bio_read);
  BIO_meth_set_write(method, bio_write);
  BIO_meth_set_ctrl(method, bio_ctrl);
}

BIO *netfw__tls_bio_new(netfw__tls *tls) {
  BIO *b;

  pthread_once(&method_once, make_method);
  if (method == NULL || (b = BIO_new(method)) == NULL)
    return NULL;
  BIO_set_data(b, tls);
  BIO_set_init(b, 1);
  return b;
}

/* ---- buffers ---- */

int netfw__tls_buf_reserve(netfw__tls *tls, netfw__tls_buf *b, size_t n) {
  if (b->off > 0 && b->off == b->len)
    b->off = b->len = 0;
  return netfw__stream_buf_grow(tls->sctx, &b->base, &b->cap, b->len + n,
                                NETFW__TLS_BUF_MIN) == 0
             ? 0
             : -1;
}

void netfw__tls_buf_release(netfw__tls *tls, netfw__tls_buf *b) {
  netfw__stream_buf_give(tls->sctx, b->base, b->cap);
  memset(b, 0, sizeof(*b));
}

void netfw__tls_buf_trim(netfw__tls *tls, netfw__tls_buf *b) {
  if (b->base != NULL && b->off == b->len)
    netfw__tls_buf_release(tls, b);
}
