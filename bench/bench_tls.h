/* The benchmark clients' TLS side (OpenSSL 3, the C API directly; no
 * netfw): a client context, a handshake bounded in time, and reads and
 * writes on non-blocking sockets mapped to read(2)/write(2) conventions.
 * netfw-loadgen, idle-rss and handshake-bench use it; none of them
 * resumes sessions, so every handshake is a full one. */
#ifndef NETFW_BENCH_TLS_H
#define NETFW_BENCH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* A TLS 1.3 client context with the session cache off, read-ahead on,
 * partial writes from a buffer that may move between retries, and an EOF
 * without close_notify read as an ordinary EOF. ca_file: verify the
 * server's chain against it (NULL: no chain verification; the handshake's
 * own signature is always checked). ciphersuites: a TLS 1.3 suite list, or
 * NULL for OpenSSL's default (AES-256-GCM first). prog names the caller in
 * messages. NULL (reported on stderr) on failure. */
SSL_CTX *bench_tls_client_ctx(const char *prog, const char *ca_file,
                              const char *ciphersuites);

/* A new client SSL on fd (which stays the caller's), SNI "localhost" when
 * the context verifies. NULL (reported) on failure. */
SSL *bench_tls_new(const char *prog, SSL_CTX *ctx, int fd);

/* Runs the client handshake of ssl on its (blocking or non-blocking)
 * socket, polling at most timeout_ms in all. Returns 0, or -1 (reported
 * on stderr with what). */
int bench_tls_handshake(const char *prog, SSL *ssl, int timeout_ms,
                        const char *what);

/* SSL_read with read(2)'s results: > 0 bytes, 0 at EOF (close_notify or
 * a plain TCP EOF), -1 with errno EAGAIN when OpenSSL waits on the socket
 * (*want_write set when it waits to write), other errno on failure (EPROTO
 * for a TLS error, reported on stderr). */
ssize_t bench_tls_read(const char *prog, SSL *ssl, void *buf, size_t len,
                       bool *want_write);

/* SSL_write (len > 0) with write(2)'s results: > 0 bytes taken, -1 with
 * errno EAGAIN when the socket is full, other errno on failure. */
ssize_t bench_tls_write(const char *prog, SSL *ssl, const void *buf,
                        size_t len);

/* Prints OpenSSL's error queue after "prog: what:" on stderr and empties
 * it. */
void bench_tls_report(const char *prog, const char *what);

#endif /* NETFW_BENCH_TLS_H */
