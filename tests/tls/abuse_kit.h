/* The kit of the TLS abuse tests (test_tls_abuse.c): the test certificates,
 * a log capture shared with the worker processes, a blocking OpenSSL client
 * (the good peer, and the clients with bad certificates) and raw-socket
 * helpers for the peers that do not speak TLS or stop speaking it.
 *
 * Written against the public API, the wire format and OpenSSL's C API
 * only; the server itself comes from tests/robust (rb_server, the echo
 * app). */
#ifndef NETFW_TEST_TLS_ABUSE_KIT_H
#define NETFW_TEST_TLS_ABUSE_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* ---- certificates ---- */

/* The directory holding the certificates of scripts/make-test-certs: the
 * one named by $NETFW_TEST_CERTS when it holds server.pem (a ctest fixture
 * made it), else a fresh temporary one made now (removed at exit). NULL
 * when the script failed. */
const char *ab_certs_dir(void);

/* The path of file name in ab_certs_dir() (static storage: one of 8
 * rotating buffers). */
const char *ab_cert(const char *name);

/* ---- log capture ---- */

/* Routes netfw's log lines, at level info and above, into a buffer shared
 * with the processes forked later (the workers). Call before the server
 * starts. Returns 0 or -1. */
int ab_log_capture(void);

/* Restores the stderr sink (the buffer stays until exit). */
void ab_log_release(void);

/* How many captured lines contain needle. */
int ab_log_count(const char *needle);

/* Waits (bounded by timeout_ms) until at least one captured line contains
 * needle, then settle_ms more for duplicates; returns the count then. */
int ab_log_count_settled(const char *needle, int timeout_ms, int settle_ms);

/* Prints every captured line containing needle (NULL: all) through
 * cmocka's print_message, for a failure's diagnosis. */
void ab_log_dump(const char *needle);

/* "127.0.0.1:PORT" of fd's own end, as the server names the peer. */
void ab_peer_name(int fd, char *out, size_t len);

/* ---- raw peers ---- */

/* Microseconds on the monotonic clock. */
uint64_t ab_now_us(void);

/* Reads until the server closes (EOF or reset) or timeout_ms passes,
 * keeping up to cap bytes of what came in *got (may be NULL) and their
 * count in *n. Returns 0 (EOF), 1 (reset) or -1 (timeout). */
int ab_wait_closed(int fd, int timeout_ms, uint8_t *got, size_t cap, size_t *n);

/* True when p[0..n) is nothing but whole TLS alert records (content type
 * 21, two-byte body): all a refusing server may send. */
bool ab_only_alerts(const uint8_t *p, size_t n);

/* A real ClientHello, as OpenSSL's client writes it, into out (cap bytes).
 * Returns its length, or 0. */
size_t ab_client_hello(uint8_t *out, size_t cap);

/* ---- OpenSSL client ---- */

/* A client context trusting ca.pem and checking the server's certificate;
 * with cert/key (names in ab_certs_dir, or NULL) for mutual TLS. */
SSL_CTX *ab_client_ctx(const char *cert, const char *key);

typedef struct ab_tls {
  int fd;
  SSL *ssl;
  int alert; /* the last alert description received, or -1 */
} ab_tls;

/* Connects to 127.0.0.1:port and runs the handshake on a blocking socket
 * (receive timeout timeout_ms; the name checked is 127.0.0.1). Returns
 * SSL_connect's result (1: done); c must be closed with ab_tls_close
 * whatever it returned. */
int ab_tls_connect(ab_tls *c, SSL_CTX *ctx, uint16_t port, int timeout_ms);

/* As ab_tls_connect, on a socket whose receive buffer is rcvbuf bytes (set
 * before connecting: a peer that reads slowly). */
int ab_tls_connect_rcvbuf(ab_tls *c, SSL_CTX *ctx, uint16_t port,
                          int timeout_ms, int rcvbuf);

/* Sends one frame over c. Returns true when it went. */
bool ab_tls_send(ab_tls *c, uint16_t id, const void *payload, uint32_t size);

/* Reads one frame of exactly id and payload[0..size) from c. */
bool ab_tls_expect(ab_tls *c, uint16_t id, const void *payload, uint32_t size);

/* Sends one frame over c and expects the identical frame back. */
bool ab_tls_echo(ab_tls *c, uint16_t id, const void *payload, uint32_t size);

/* Reads from c (after a handshake the client saw succeed): returns true
 * when the server refused it (an alert, EOF or reset came, no byte of
 * application data). Nothing is written first: a write that meets the
 * server's close makes OpenSSL fail before the alert is read. */
bool ab_tls_refused(ab_tls *c);

/* Frees the SSL object and closes the socket (no close_notify). */
void ab_tls_close(ab_tls *c);

#endif
