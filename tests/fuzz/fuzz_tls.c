/* Fuzz target: the server side of the TLS transport (runtime/tls) with
 * arbitrary bytes as the peer's input.
 *
 * Once per process: the certificates of scripts/make-test-certs in a
 * temporary directory, a server context from server.pem/key (the files are
 * read then, and the directory removed), one libuv loop and one stream
 * context flushed from the loop's check and prepare phases as a worker
 * does. Per input: a socketpair; one end is a stream (framing over the TLS
 * transport, as a server connection has it: frames that come out of it
 * are echoed), the other is the peer. The input reaches the server in
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
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "stream.h"
#include "tls.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must name the source tree (scripts/make-test-certs)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Input beyond this is ignored: it all fits in the socketpair's buffer. */
#define INPUT_MAX (64 * 1024)
#define MAX_PAYLOAD (1024 * 1024)
/* Loop turns allowed for the server to read one piece. */
#define TURNS_PER_PIECE 64

typedef struct conn {
  netfw__stream s; /* first: the events get the stream */
  int closed;
  int lost;
} conn;

static uv_loop_t loop;
static uv_check_t check;
static uv_prepare_t prepare;
static netfw__stream_ctx sctx;
static netfw__tls_ctx *tls;

/* ---- the stream's owner ---- */

static void on_established(netfw__stream *s) {
  if (netfw__stream_read_start(s) != 0)
    netfw__stream_close(s, true);
}

/* Echoes every frame; a header over MAX_PAYLOAD ends the connection. */
static void on_readable(netfw__stream *s) {
  netfw_frame f;
  bool broken;
  int rc;

  while ((rc = netfw__stream_next(s, &f)) == 1)
    if (netfw__stream_send(s, f.id, f.payload, f.size, &broken) != 0) {
      netfw__stream_close(s, true);
      return;
    }
  if (rc != 0)
    netfw__stream_close(s, true);
}

static void on_lost(netfw__stream *s, int status) {
  ((conn *)s)->lost = status;
}

static void on_closed(netfw__stream *s) {
  ((conn *)s)->closed = 1;
}

static const netfw__stream_events events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .written = NULL,
    .closed = on_closed,
};

static void on_flush(uv_handle_t *h) {
  (void)h;
  netfw__stream_ctx_flush(&sctx);
}

static void on_check(uv_check_t *h) {
  on_flush((uv_handle_t *)h);
}

static void on_prepare(uv_prepare_t *h) {
  on_flush((uv_handle_t *)h);
}

/* ---- once per process ---- */

static void quiet(netfw_log_level level, const char *line, void *arg) {
  (void)level;
  (void)line;
  (void)arg;
}

static void die(const char *what) {
  fprintf(stderr, "fuzz_tls: %s\n", what);
  abort();
}

/* The server context, from certificates made now in a temporary directory
 * (removed once read). */
static netfw__tls_ctx *make_ctx(void) {
  const char *tmp = getenv("TMPDIR");
  char dir[512], cmd[1400], cert[600], key[600], err[NETFW__TLS_ERR_LEN];
  netfw_tls_config t;
  netfw__tls_ctx *x;

  snprintf(dir, sizeof(dir), "%s/netfw-fuzz-tls-XXXXXX",
           tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL)
    die("mkdtemp failed");
  snprintf(cmd, sizeof(cmd), "bash '%s/scripts/make-test-certs' '%s' >/dev/null",
           NETFW_SOURCE_DIR, dir);
  if (system(cmd) != 0)
    die("scripts/make-test-certs failed");
  snprintf(cert, sizeof(cert), "%s/server.pem", dir);
  snprintf(key, sizeof(key), "%s/server.key", dir);
  netfw_tls_config_init(&t);
  t.cert_file = cert;
  t.key_file = key;
  t.handshake_timeout_ms = 0; /* the owner's bound; none here */
  x = netfw__tls_ctx_new(&t, true, err);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "fuzz_tls: could not remove %s\n", dir);
  if (x == NULL)
    die(err);
  return x;
}

static void init_once(void) {
  signal(SIGPIPE, SIG_IGN);
  netfw_log_set_sink(quiet, NULL);
  netfw_log_set_level(NETFW_LOG_DEBUG); /* format every line, print none */
  tls = make_ctx();
  if (uv_loop_init(&loop) != 0 || uv_check_init(&loop, &check) != 0 ||
      uv_prepare_init(&loop, &prepare) != 0)
    die("libuv setup failed");
  uv_check_start(&check, on_check);
  uv_prepare_start(&prepare, on_prepare);
  uv_unref((uv_handle_t *)&check); /* uv_run returns when streams are done */
  uv_unref((uv_handle_t *)&prepare);
  netfw__stream_ctx_init(&sctx, &loop, &events, 4);
}

/* ---- one input ---- */

/* Bytes written to the peer's end that the server has not read yet. */
static int unread(int fd) {
  int n = 0;

  return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

/* Writes the input to peer in pieces, letting the server read each one. */
static void feed(conn *c, int server_fd, int peer, const uint8_t *data,
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
    while (!c->closed && unread(server_fd) > 0 && turns++ < TURNS_PER_PIECE)
      uv_run(&loop, UV_RUN_NOWAIT);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  conn c;
  int sv[2];

  if (!ready) {
    init_once();
    ready = 1;
  }
  if (size > INPUT_MAX)
    size = INPUT_MAX;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    die("socketpair failed");
  memset(&c, 0, sizeof(c));
  if (netfw__stream_init(&c.s, &sctx, MAX_PAYLOAD) != 0 ||
      netfw__stream_open(&c.s, sv[0]) != 0 ||
      netfw__tls_wrap(&c.s, tls, NULL) != 0)
    die("stream setup failed");
  netfw__stream_start(&c.s);
  feed(&c, sv[0], sv[1], data, size);
  shutdown(sv[1], SHUT_WR);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!c.closed)
    die("the stream is still open after the peer's EOF (stuck)");
  close(sv[1]);
  return 0;
}
