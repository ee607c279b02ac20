/* The transport switch of the test kits: the same test binaries run over
 * plaintext, or over TLS when NETFW_TEST_TLS names a directory made by
 * scripts/make-test-certs (ctest registers a `<test>_tls` variant that sets
 * it; tests/CMakeLists.txt, netfw_add_test(... TLS)).
 *
 * Over TLS the kits turn it on everywhere they start something: servers
 * get cfg.tls (server.pem/key), netfw clients trust ca.pem, and the raw
 * socket peers (wire.c, the client tests' peer.c) speak TLS through
 * OpenSSL on their blocking sockets, fd by fd. Tests then reach the bytes
 * through wire.h only (wire_send_all, wire_read_some, wire_close ...), never
 * send/recv/close on such a socket themselves.
 *
 * What a peer reads is the application's bytes, exactly. EOF is the peer's
 * close_notify; a TCP EOF without it (a truncation) reads as a reset, and
 * is reported on stderr. A connection the server closed before the
 * handshake finished (max_connections, stopping) reads as EOF: its kernel
 * may answer the unread ClientHello with a reset, which is not what the
 * test is about. */
#ifndef NETFW_TEST_TLS_KIT_H
#define NETFW_TEST_TLS_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netfw/netfw.h"

/* The certificates directory when the tests run over TLS, else NULL. */
const char *tls_kit_dir(void);

/* Over TLS: sets cfg->tls to the directory's server.pem/server.key (static
 * storage). Plaintext: leaves cfg alone. */
void tls_kit_server_config(netfw_config *cfg);

/* Over TLS: netfw_client_set_tls(c) trusting the directory's ca.pem (the
 * name checked is the host given to connect). Returns its result; 0 in
 * plaintext. */
int tls_kit_client(netfw_client *c);

/* Skips the calling cmocka test in the TLS variant, saying why. */
#define TLS_KIT_PLAINTEXT_ONLY(why)                                            \
  do {                                                                         \
    if (tls_kit_dir() != NULL) {                                               \
      print_message("skipped over TLS: %s\n", (why));                          \
      skip();                                                                  \
    }                                                                          \
  } while (0)

/* ---- The raw socket side, used by wire.c ----
 * A socket becomes a TLS one with tls_kit_connect or tls_kit_accept, and
 * stays one until tls_kit_close. Each socket is used by one thread. */

/* The client handshake on the connected socket fd (10 s bound; the server
 * is verified against ca.pem for 127.0.0.1). Returns 0 (done, or refused:
 * the server closed during the handshake, then reads see EOF) or -1
 * (failed: printed on stderr; fd is left plaintext and open). */
int tls_kit_connect(int fd);

/* The server handshake on the accepted socket fd, with server.pem, within
 * timeout_ms. Returns 0 or -1 (printed; fd left plaintext and open). */
int tls_kit_accept(int fd, int timeout_ms);

/* True once fd is a TLS socket. */
bool tls_kit_has(int fd);

/* Writes all len bytes (SSL_write). Returns 0, or -1 when the connection
 * is gone. */
int tls_kit_write(int fd, const void *buf, size_t len);

/* Reads what is decrypted first, waiting until deadline (wire_now_ms
 * clock). Returns the count, 0 on close_notify, -1 on timeout, -2 on a
 * reset, a truncation or a TLS error. */
ssize_t tls_kit_read(int fd, void *buf, size_t len, uint64_t deadline);

/* Sends close_notify, then shuts the socket's write side; reading goes on.
 * Returns 0 or -1. */
int tls_kit_shutdown_wr(int fd);

/* Sends close_notify (unless the connection failed or already sent it),
 * forgets the TLS state and closes fd. Records that already arrived are
 * taken in first: TLS's own (the peer's close_notify, tickets) must not
 * turn the close into a reset; unread application data does, with no
 * close_notify, as a plaintext close with unread data would. */
void tls_kit_close(int fd);

/* Forgets the TLS state without a close_notify and closes fd (SO_LINGER 0
 * set by the caller: a reset). */
void tls_kit_drop(int fd);

#endif /* NETFW_TEST_TLS_KIT_H */
