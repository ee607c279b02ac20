/* The TLS fuzz targets' shared setup (see tls_fuzz_kit.h). */
#include "tls_fuzz_kit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "netfw/log.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must name the source tree (scripts/make-test-certs)"
#endif

uv_loop_t tfk_loop;
static uv_check_t check;
static uv_prepare_t prepare;
static netfw__stream_ctx sctx;
static netfw__tls_ctx *server_ctx;
static SSL_CTX *client_ctx;

void tfk_die(const char *what) {
  fprintf(stderr, "tls fuzz: %s\n", what);
  abort();
}

/* ---- the server connection's owner: an echo ---- */

/* The handshake is done: read. */
static void on_established(netfw__stream *s) {
  ((tfk_conn *)s)->established = true;
  if (netfw__stream_read_start(s) != 0)
    netfw__stream_close(s, true);
}

/* Echoes every frame; after a header over the limit, the replies already
 * queued leave and the connection ends, as a server's does. */
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
    netfw__stream_fin(s, false);
}

/* Notes why the stream was lost (it closes itself). */
static void on_lost(netfw__stream *s, int status) {
  ((tfk_conn *)s)->lost = status;
}

/* The last event of the connection. */
static void on_closed(netfw__stream *s) {
  ((tfk_conn *)s)->closed = true;
}

static const netfw__stream_events events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .written = NULL,
    .closed = on_closed,
};

/* Flushes the streams after the loop's I/O callbacks. */
static void on_check(uv_check_t *h) {
  (void)h;
  netfw__stream_ctx_flush(&sctx);
}

/* Flushes the streams before the loop blocks. */
static void on_prepare(uv_prepare_t *h) {
  (void)h;
  netfw__stream_ctx_flush(&sctx);
}

/* ---- once per process ---- */

/* A log sink that drops every line. */
static void quiet(netfw_log_level level, const char *line, void *arg) {
  (void)level;
  (void)line;
  (void)arg;
}

/* The client context, trusting ca_file. */
static SSL_CTX *make_client(const char *ca_file) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

  if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
    tfk_die("client context");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return ctx;
}

/* Both contexts, from certificates made now in a temporary directory
 * (removed once read). */
static void make_ctxs(void) {
  const char *tmp = getenv("TMPDIR");
  char dir[512], cmd[1400], cert[600], key[600], ca[600];
  char err[NETFW__TLS_ERR_LEN];
  netfw_tls_config t;

  snprintf(dir, sizeof(dir), "%s/netfw-fuzz-tls-XXXXXX",
           tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL)
    tfk_die("mkdtemp failed");
  snprintf(cmd, sizeof(cmd),
           "bash '%s/scripts/make-test-certs' '%s' >/dev/null",
           NETFW_SOURCE_DIR, dir);
  if (system(cmd) != 0)
    tfk_die("scripts/make-test-certs failed");
  snprintf(cert, sizeof(cert), "%s/server.pem", dir);
  snprintf(key, sizeof(key), "%s/server.key", dir);
  snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
  netfw_tls_config_init(&t);
  t.cert_file = cert;
  t.key_file = key;
  t.handshake_timeout_ms = 0; /* the owner's bound; none here */
  server_ctx = netfw__tls_ctx_new(&t, true, err);
  client_ctx = make_client(ca);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "tls fuzz: could not remove %s\n", dir);
  if (server_ctx == NULL)
    tfk_die(err);
}

void tfk_init(void) {
  static bool ready;

  if (ready)
    return;
  ready = true;
  signal(SIGPIPE, SIG_IGN);
  netfw_log_set_sink(quiet, NULL);
  netfw_log_set_level(NETFW_LOG_DEBUG); /* format every line, print none */
  make_ctxs();
  if (uv_loop_init(&tfk_loop) != 0 || uv_check_init(&tfk_loop, &check) != 0 ||
      uv_prepare_init(&tfk_loop, &prepare) != 0)
    tfk_die("libuv setup failed");
  uv_check_start(&check, on_check);
  uv_prepare_start(&prepare, on_prepare);
  uv_unref((uv_handle_t *)&check); /* uv_run returns once streams are done */
  uv_unref((uv_handle_t *)&prepare);
  netfw__stream_ctx_init(&sctx, &tfk_loop, &events, 4);
}

netfw__tls_ctx *tfk_server_ctx(void) {
  return server_ctx;
}

SSL_CTX *tfk_client_ctx(void) {
  return client_ctx;
}

void tfk_open(tfk_conn *c, int fd) {
  memset(c, 0, sizeof(*c));
  if (netfw__stream_init(&c->s, &sctx, TFK_MAX_PAYLOAD) != 0 ||
      netfw__stream_open(&c->s, fd) != 0 ||
      netfw__tls_wrap(&c->s, server_ctx, NULL) != 0)
    tfk_die("stream setup failed");
  netfw__stream_start(&c->s);
}

int tfk_unread(int fd) {
  int n = 0;

  return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}
