/* The write side of the TLS transport. Plaintext from the stream is
 * encrypted into tls->out (through the BIO) and written below from
 * tls->wire, one write at a time:
 * - try_write encrypts up to NETFW__TLS_WRITE_STEP bytes when nothing is
 *   pending and tries the socket at once; what the socket leaves goes to a
 *   queued write, and the plaintext counts as taken;
 * - write (the stream's queued write) is encrypted a step at a time, each
 *   step once the previous one left, and completed when all of it left;
 * - shutdown_write queues our close_notify after everything else, then
 *   shuts the socket's write side. */
#include <string.h>

#include <openssl/err.h>

#include "netfw/error.h"
#include "tls_internal.h"

/* Encrypts plaintext from bufs[*i] at byte *off on, up to limit bytes.
 * Returns the bytes encrypted, or -1 (OpenSSL failed: out of memory). */
static ssize_t encrypt(netfw__tls *tls, const uv_buf_t *bufs, unsigned n,
                       unsigned *i, size_t *off, size_t limit) {
  size_t done = 0;

  while (*i < n && done < limit) {
    size_t len = bufs[*i].len - *off;
    int w;
    if (len > limit - done)
      len = limit - done;
    if (len > 0) {
      ERR_clear_error();
      w = SSL_write(tls->ssl, bufs[*i].base + *off, (int)len);
      if (w <= 0)
        return -1;
      done += (size_t)w;
      *off += (size_t)w;
    }
    if (*off == bufs[*i].len) {
      (*i)++;
      *off = 0;
    }
  }
  return (ssize_t)done;
}

/* Hands tls->out to a queued write below (it becomes tls->wire). */
static int start_write(netfw__tls *tls) {
  netfw__tls_buf b = tls->out;
  uv_buf_t u;
  int err;

  tls->out = tls->wire; /* empty */
  tls->wire = b;
  u.base = (char *)b.base + b.off;
  u.len = b.len - b.off;
  tls->flags |= NETFW__TLS_WRITING;
  err = tls->lower->ops->write(tls->lower, &tls->wreq, &u, 1);
  if (err != 0)
    tls->flags &= ~(uint32_t)NETFW__TLS_WRITING;
  return err;
}

static bool out_pending(const netfw__tls *tls) {
  return tls->out.len > tls->out.off;
}

int netfw__tls_try_write(netfw__transport *t, const uv_buf_t *bufs,
                         unsigned n) {
  netfw__tls *tls = (netfw__tls *)t;
  unsigned i = 0;
  size_t off = 0;
  ssize_t taken;
  uv_buf_t u;
  int w;

  if (!(tls->flags & NETFW__TLS_ESTABLISHED) ||
      (tls->flags & (NETFW__TLS_WRITING | NETFW__TLS_CLOSING |
                     NETFW__TLS_FAILED | NETFW__TLS_SHUT_WANTED)) ||
      tls->up_req != NULL || out_pending(tls))
    return UV_EAGAIN;
  taken = encrypt(tls, bufs, n, &i, &off, NETFW__TLS_WRITE_STEP);
  if (taken < 0)
    return UV_ENOMEM;
  u.base = (char *)tls->out.base + tls->out.off;
  u.len = tls->out.len - tls->out.off;
  w = tls->lower->ops->try_write(tls->lower, &u, 1);
  if (w < 0 && w != UV_EAGAIN)
    return w;
  tls->out.off += w > 0 ? (size_t)w : 0;
  netfw__tls_buf_trim(tls, &tls->out);
  if (out_pending(tls) && (w = start_write(tls)) != 0)
    return w;
  return (int)taken;
}

int netfw__tls_write(netfw__transport *t, uv_write_t *req,
                     const uv_buf_t *bufs, unsigned n) {
  netfw__tls *tls = (netfw__tls *)t;
  unsigned i;

  if (tls->up_req != NULL || n > sizeof(tls->up_bufs) / sizeof(bufs[0]))
    return UV_EINVAL;
  if (tls->flags & (NETFW__TLS_CLOSING | NETFW__TLS_FAILED))
    return UV_ECANCELED;
  tls->up_req = req;
  tls->up_n = n;
  tls->up_i = 0;
  tls->up_left = 0;
  for (i = 0; i < n; i++) {
    tls->up_bufs[i] = bufs[i];
    tls->up_left += bufs[i].len;
  }
  return netfw__tls_pump_out(tls);
}

size_t netfw__tls_write_queued(const netfw__transport *t) {
  const netfw__tls *tls = (const netfw__tls *)t;

  return tls->up_left + (tls->out.len - tls->out.off) +
         tls->lower->ops->write_queued(tls->lower);
}

int netfw__tls_shutdown_write(netfw__transport *t) {
  netfw__tls *tls = (netfw__tls *)t;

  tls->flags |= NETFW__TLS_SHUT_WANTED;
  return netfw__tls_pump_out(tls);
}

/* Encrypts the next step of the stream's queued write. Returns 0 or a
 * libuv error. */
static int encrypt_step(netfw__tls *tls) {
  size_t off = 0;
  ssize_t done;
  unsigned i = tls->up_i;

  /* up_bufs[up_i] was advanced in place: its base moves as it is used */
  done = encrypt(tls, tls->up_bufs, tls->up_n, &i, &off,
                 NETFW__TLS_WRITE_STEP);
  if (done < 0)
    return UV_ENOMEM;
  if (i < tls->up_n) {
    tls->up_bufs[i].base += off;
    tls->up_bufs[i].len -= off;
  }
  tls->up_i = i;
  tls->up_left -= (size_t)done;
  return 0;
}

/* The stream's queued write has all left: tell it. */
static void complete_up(netfw__tls *tls, int status) {
  uv_write_t *req = tls->up_req;

  tls->up_req = NULL;
  tls->up_left = 0;
  tls->t.ev->written(tls->t.up, req, status);
}

/* The end of the write side once nothing else is left: our close_notify,
 * then the socket's FIN. */
static int shut_step(netfw__tls *tls) {
  if (!(tls->flags & NETFW__TLS_NOTIFY_SENT)) {
    tls->flags |= NETFW__TLS_NOTIFY_SENT;
    if (tls->flags & NETFW__TLS_ESTABLISHED) {
      ERR_clear_error();
      (void)SSL_shutdown(tls->ssl);
      ERR_clear_error();
    }
    return 1; /* next: write it, then the FIN */
  }
  tls->flags |= NETFW__TLS_LOWER_SHUT;
  return tls->lower->ops->shutdown_write(tls->lower);
}

int netfw__tls_pump_out(netfw__tls *tls) {
  int err;

  while (!(tls->flags & (NETFW__TLS_WRITING | NETFW__TLS_CLOSING))) {
    if (out_pending(tls))
      return start_write(tls);
    if (tls->up_req != NULL && !(tls->flags & NETFW__TLS_ESTABLISHED))
      return 0; /* written once the handshake is done */
    if (tls->up_req != NULL && tls->up_left > 0) {
      if ((err = encrypt_step(tls)) != 0)
        return err;
      continue;
    }
    if (tls->up_req != NULL) {
      complete_up(tls, 0); /* the stream may queue more: it comes back */
      return 0;
    }
    if (!(tls->flags & NETFW__TLS_SHUT_WANTED) ||
        (tls->flags & NETFW__TLS_LOWER_SHUT))
      return 0;
    if ((err = shut_step(tls)) <= 0)
      return err;
  }
  return 0;
}

void netfw__tls_on_lower_written(void *up, uv_write_t *req, int status) {
  netfw__tls *tls = up;
  int err;

  (void)req;
  tls->flags &= ~(uint32_t)NETFW__TLS_WRITING;
  netfw__tls_buf_release(tls, &tls->wire);
  if (status == UV_ECANCELED || (tls->flags & NETFW__TLS_CLOSING))
    return; /* the stream's own write is cancelled when the close ends */
  if (status < 0) {
    if (tls->up_req != NULL)
      complete_up(tls, status);
    else
      netfw__tls_fail(tls, uv_strerror(status), status);
    return;
  }
  if ((err = netfw__tls_pump_out(tls)) != 0 &&
      !(tls->flags & NETFW__TLS_CLOSING)) {
    if (tls->up_req != NULL)
      complete_up(tls, err);
    else
      netfw__tls_fail(tls, uv_strerror(err), err);
    return;
  }
  if (!(tls->flags & (NETFW__TLS_WRITING | NETFW__TLS_CLOSING)) &&
      tls->up_req == NULL && !out_pending(tls))
    tls->t.ev->drained(tls->t.up); /* what try_write left is out */
}
