/* The benchmark clients' TLS side (bench_tls.h): OpenSSL's client API on
 * plain sockets, written for the load generators; it does not use netfw. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench_common.h"
#include "bench_tls.h"

/* Prints and empties OpenSSL's error queue (bench_tls.h). */
void bench_tls_report(const char *prog, const char *what) {
  unsigned long e;
  char buf[256];
  int any = 0;

  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof(buf));
    fprintf(stderr, "%s: %s: %s\n", prog, what, buf);
    any = 1;
  }
  if (!any)
    fprintf(stderr, "%s: %s: TLS failure (no OpenSSL error)\n", prog, what);
}

/* The TLS 1.3 client context the tools share (bench_tls.h). */
SSL_CTX *bench_tls_client_ctx(const char *prog, const char *ca_file,
                              const char *ciphersuites) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

  if (ctx == NULL) {
    bench_tls_report(prog, "SSL_CTX_new");
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  if (ciphersuites != NULL &&
      SSL_CTX_set_ciphersuites(ctx, ciphersuites) != 1) {
    bench_tls_report(prog, "bad TLS 1.3 ciphersuites");
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (ca_file != NULL) {
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
      bench_tls_report(prog, ca_file);
      SSL_CTX_free(ctx);
      return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  }
  return ctx;
}

/* A client SSL on fd, SNI and name check when verifying (bench_tls.h). */
SSL *bench_tls_new(const char *prog, SSL_CTX *ctx, int fd) {
  SSL *ssl = SSL_new(ctx);

  if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
    bench_tls_report(prog, "SSL_new");
    SSL_free(ssl);
    return NULL;
  }
  if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
    SSL_set_tlsext_host_name(ssl, "localhost");
    SSL_set1_host(ssl, "localhost");
  }
  SSL_set_connect_state(ssl);
  return ssl;
}

/* The client handshake, polled within timeout_ms (bench_tls.h). */
int bench_tls_handshake(const char *prog, SSL *ssl, int timeout_ms,
                        const char *what) {
  uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;

  for (;;) {
    int r, err;
    struct pollfd p;
    uint64_t now;

    errno = 0;
    r = SSL_connect(ssl);
    if (r == 1)
      return 0;
    err = SSL_get_error(ssl, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      if (err == SSL_ERROR_SYSCALL && errno != 0)
        fprintf(stderr, "%s: %s: handshake: %s\n", prog, what, strerror(errno));
      else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
        fprintf(stderr, "%s: %s: handshake: the server closed the connection\n",
                prog, what);
      else
        bench_tls_report(prog, what);
      return -1;
    }
    now = bench_now_ns();
    p.fd = SSL_get_fd(ssl);
    p.events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    if (now >= deadline ||
        poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) == 0) {
      fprintf(stderr, "%s: %s: handshake not done within %d ms\n", prog, what,
              timeout_ms);
      return -1;
    }
  }
}

/* Maps SSL_get_error after a failed SSL_read/SSL_write to errno (EAGAIN
 * for a wait on the socket); returns 0 for a clean EOF, else -1. */
static ssize_t io_error(const char *prog, SSL *ssl, int r, bool *want_write) {
  int err = SSL_get_error(ssl, r);

  switch (err) {
  case SSL_ERROR_ZERO_RETURN:
    return 0;
  case SSL_ERROR_WANT_WRITE:
    if (want_write != NULL)
      *want_write = true;
    /* fall through */
  case SSL_ERROR_WANT_READ:
    errno = EAGAIN;
    return -1;
  case SSL_ERROR_SYSCALL:
    if (errno == 0)
      return 0;
    ERR_clear_error();
    return -1;
  default:
    bench_tls_report(prog, "TLS");
    errno = EPROTO;
    return -1;
  }
}

/* SSL_read_ex with read(2)'s conventions (bench_tls.h). */
ssize_t bench_tls_read(const char *prog, SSL *ssl, void *buf, size_t len,
                       bool *want_write) {
  size_t n = 0;
  int r;

  errno = 0;
  r = SSL_read_ex(ssl, buf, len, &n);
  return r == 1 ? (ssize_t)n : io_error(prog, ssl, r, want_write);
}

/* SSL_write_ex with write(2)'s conventions (bench_tls.h). */
ssize_t bench_tls_write(const char *prog, SSL *ssl, const void *buf,
                        size_t len) {
  size_t n = 0;
  int r;

  errno = 0;
  r = SSL_write_ex(ssl, buf, len, &n);
  if (r == 1)
    return (ssize_t)n;
  if (io_error(prog, ssl, r, NULL) == 0)
    errno = EPIPE; /* the peer closed: a write cannot succeed */
  return -1;
}
