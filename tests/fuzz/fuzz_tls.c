/* Fuzz target: the server side of the TLS transport (runtime/tls) with
 * arbitrary bytes as the peer's input.
 *
 * Once per process (tls_fuzz_kit.c): the certificates of
 * scripts/make-test-certs in a temporary directory, a server context from
 * server.pem/key (the files are read then, and the directory removed), one
 * libuv loop and one stream context flushed from the loop's check and
 * prepare phases as a worker does. Per input: a socketpair; one end is a
 * server connection (framing over the TLS transport: frames that come out
 * of it are echoed), the other is the peer. The input reaches the server in
 * pieces of 5, 1, 300 and 4096 bytes, cycling, each one read before the
 * next is written (partial records, and several records in one read); then
 * the peer shuts its side down and the loop runs until the stream is
 * closed. A stream that is still open when the loop has nothing left to do
 * is a stuck connection: abort. Leaks are libFuzzer's (LeakSanitizer)
 * to find, crashes and undefined behaviour ASan's and UBSan's.
 *
 * Seeds (corpus/fuzz_tls/): ClientHellos that `openssl s_client` sent to a
 * plain listener (default, -tls1_2, -alpn netfw/1, -groups P-256,
 * -noservername), truncations of one, a ClientHello followed by records a
 * client cannot send yet (ChangeCipherSpec and application data, a forged
 * Finished, a second ClientHello, a TLS 1.2 ClientKeyExchange), an alert,
 * and what is not TLS (a plaintext netfw frame, an HTTP request). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_fuzz_kit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input beyond this is ignored: it all fits in the socketpair's buffer. */
#define INPUT_MAX (64 * 1024)
/* Loop turns allowed for the server to read one piece. */
#define TURNS_PER_PIECE 64

/* Writes the input to peer in pieces, letting the server read each one. */
static void feed(tfk_conn *c, int server_fd, int peer, const uint8_t *data,
                 size_t size) {
  static const size_t pieces[] = {5, 1, 300, 4096};
  size_t at = 0, i = 0;

  while (at < size && !c->closed) {
    size_t n = pieces[i++ % 4];
    ssize_t w;
    int turns = 0;
    if (n > size - at)
      n = size - at;
    w = send(peer, data + at, n, MSG_NOSIGNAL);
    if (w <= 0)
      return; /* the server closed its end */
    at += (size_t)w;
    while (!c->closed && tfk_unread(server_fd) > 0 && turns++ < TURNS_PER_PIECE)
      uv_run(&tfk_loop, UV_RUN_NOWAIT);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfk_conn c;
  int sv[2];

  tfk_init();
  if (size > INPUT_MAX)
    size = INPUT_MAX;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    tfk_die("socketpair failed");
  tfk_open(&c, sv[0]);
  feed(&c, sv[0], sv[1], data, size);
  shutdown(sv[1], SHUT_WR);
  uv_run(&tfk_loop, UV_RUN_DEFAULT);
  if (!c.closed)
    tfk_die("the stream is still open after the peer's EOF (stuck)");
  close(sv[1]);
  return 0;
}
