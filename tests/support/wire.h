/* A blocking test client that speaks the wire format by hand (no netfw
 * client): frames out, frames in with a poll timeout, EOF detection. Over
 * plaintext or TLS (tls_kit.h: NETFW_TEST_TLS): a socket from wire_connect
 * or wire_accept is used through these functions only, closed by
 * wire_close. */
#ifndef NETFW_TEST_WIRE_H
#define NETFW_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Connects to 127.0.0.1:port (close-on-exec socket), with the TLS
 * handshake when over TLS. Returns fd or -1. */
int wire_connect(uint16_t port);

/* wire_connect with SO_RCVBUF set to rcvbuf before connecting (0: the
 * default). */
int wire_connect_rcvbuf(uint16_t port, int rcvbuf);

/* Accepts one connection on the listening socket lfd within timeout_ms
 * (with the TLS handshake when over TLS). Returns fd or -1. */
int wire_accept(int lfd, int timeout_ms);

/* Writes all len bytes (MSG_NOSIGNAL). Returns 0, or -1 when the connection
 * is gone. */
int wire_send_all(int fd, const void *buf, size_t len);

/* Sends one frame. Returns 0, or -1 when the connection is gone. */
int wire_send(int fd, uint16_t id, const void *payload, uint32_t size);

/* Sends only a header announcing size bytes. Returns 0 or -1. */
int wire_send_hdr(int fd, uint16_t id, uint32_t size);

/* Reads what arrives within timeout_ms. Returns the count, 0 on EOF, -1 on
 * timeout, -2 on a reset (or, over TLS, a truncation or TLS error). */
ssize_t wire_read_some(int fd, void *buf, size_t len, int timeout_ms);

/* Receives one frame within timeout_ms. Returns 1 (frame: *payload is
 * malloc'ed, caller frees; NULL when size is 0), 0 on EOF before any byte of
 * a frame, -1 on timeout, -2 on a reset or an EOF inside a frame. */
int wire_recv(int fd, uint16_t *id, uint8_t **payload, uint32_t *size,
              int timeout_ms);

/* Reads and discards until EOF. Returns 0 (EOF), 1 (reset) or -1 (timeout);
 * *discarded (may be NULL) receives the byte count. */
int wire_wait_eof(int fd, int timeout_ms, size_t *discarded);

/* Ends our sending side (TLS: close_notify first), reading goes on.
 * Returns 0 or -1. */
int wire_shutdown_wr(int fd);

/* Closes (TLS: close_notify first): the peer sees an EOF. */
void wire_close(int fd);

/* Closes with SO_LINGER 0, so the peer sees a reset (TLS: no close_notify
 * either). */
void wire_close_rst(int fd);

/* Milliseconds on the monotonic clock. */
uint64_t wire_now_ms(void);

#endif /* NETFW_TEST_WIRE_H */
