/* What the TLS fuzz targets (fuzz_tls.c, fuzz_tls_session.c) share: the
 * contexts made once per process from the certificates of
 * scripts/make-test-certs, one libuv loop with a stream context flushed
 * from its check and prepare phases as a worker does, and a server
 * connection (a stream over the TLS transport) whose owner echoes every
 * frame, as the servers' echo apps do. */
#ifndef NETFW_FUZZ_TLS_KIT_H
#define NETFW_FUZZ_TLS_KIT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "stream.h"
#include "tls.h"

/* The largest payload the server connection accepts; a header announcing
 * more ends it (gracefully: the replies before it still leave). */
#define TFK_MAX_PAYLOAD (1024 * 1024)

/* A server connection. */
typedef struct tfk_conn {
  netfw__stream s; /* first: the events get the stream */
  bool established;
  bool closed;
  int lost; /* the status `lost` reported, 0 when none */
} tfk_conn;

extern uv_loop_t tfk_loop;

/* Prints what failed and aborts (a finding, or a broken setup). */
void tfk_die(const char *what);

/* Sets everything up on the first call (SIGPIPE ignored, netfw's log
 * formatted but not printed); later calls do nothing. */
void tfk_init(void);

/* The server context (server.pem/key, no handshake bound). */
netfw__tls_ctx *tfk_server_ctx(void);

/* An OpenSSL client context that verifies the server against the test CA
 * and takes an EOF without close_notify as the end. */
SSL_CTX *tfk_client_ctx(void);

/* Makes c a server connection on fd (stream, TLS transport, started). */
void tfk_open(tfk_conn *c, int fd);

/* Bytes waiting to be read on fd (FIONREAD), 0 when it cannot tell. */
int tfk_unread(int fd);

#endif
