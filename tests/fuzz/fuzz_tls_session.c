/* Fuzz target: the server side of the TLS transport (runtime/tls) after a
 * real handshake, driven by an OpenSSL client whose every move comes from
 * the input.
 *
 * Per input: a socketpair; one end is a server connection (tls_fuzz_kit.c:
 * a stream over the TLS transport whose owner echoes every frame), the
 * other an OpenSSL client on a non-blocking socket. Both run in this
 * thread: the client's calls alternate with turns of the server's loop.
 * The first input byte configures the client (bit 0: TLS 1.2 at most;
 * bit 1: records of at most 512 bytes); then, until the input ends, each
 * byte picks an operation and the bytes after it are its argument:
 *   0, 1  application data: n = next byte + 1, then n bytes (sent as they
 *         are: the server parses them as frames and echoes what it can);
 *   2     a block: (next byte + 1) * 256 bytes of the pattern of the next
 *         4 bytes (large frames from small inputs);
 *   3     raw bytes injected under TLS: n = next byte % 32 + 1, then n
 *         bytes written straight to the socket (the server must fail);
 *   4     TLS 1.3: a KeyUpdate asking for the server's; TLS 1.2: a
 *         renegotiation (which the server refuses);
 *   5     eight turns of the server's loop, the client reading;
 *   6     the client's close_notify;
 *   7     the client's FIN (shutdown of its write side).
 * Then the client's FIN (if not sent yet) and turns until the server
 * connection is closed. The checks:
 * - the handshake with a good client succeeds;
 * - whatever the client reads is the next part of what it sent (the echo
 *   is exact and in order: nothing lost in the middle, duplicated or
 *   reordered);
 * - the server's records always decrypt unless the client misbehaved
 *   (raw bytes, a renegotiation);
 * - the server connection closes after the client's FIN (not stuck);
 * - unless the client misbehaved or one of its calls failed (a write
 *   that meets the server's close after an oversized header makes OpenSSL
 *   fail every read after it), every complete frame sent before the end
 *   came back whole (a reply the socket took in part must not be dropped
 *   at the peer's EOF).
 * Leaks, crashes and undefined behaviour are the sanitizers' to find. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls_fuzz_kit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define INPUT_MAX (16 * 1024)
/* Plaintext one input may send: the rest of its data operations are
 * skipped. */
#define SENT_MAX (256 * 1024)
/* Bound on loop turns while waiting for any one thing. */
#define TURNS 20000

typedef struct sess {
  tfk_conn c;
  SSL *cli;
  int fd;          /* the client's end                           */
  size_t sent_len; /* plaintext the client sent (in sent[])      */
  size_t echoed;   /* how much of it came back                   */
  bool misbehaved; /* raw bytes or a renegotiation: may fail     */
  bool notified;   /* close_notify sent: no more data            */
  bool fin;        /* the client's write side is shut            */
  bool dead;       /* a client call failed: it writes no more    */
  bool eof;        /* the client read its end                    */
} sess;

static uint8_t sent[SENT_MAX];

/* One turn of the server's loop, without blocking. */
static void turn(void) {
  uv_run(&tfk_loop, UV_RUN_NOWAIT);
}

/* Reads what the server sent: it must be the next part of what was sent,
 * and decrypt unless the client misbehaved. */
static void drain(sess *x) {
  static uint8_t buf[16384];

  while (!x->eof) {
    size_t n = 0;
    int e;
    ERR_clear_error();
    if (SSL_read_ex(x->cli, buf, sizeof(buf), &n) == 1) {
      if (n > x->sent_len - x->echoed || memcmp(buf, sent + x->echoed, n) != 0)
        tfk_die("the echo is not what was sent");
      x->echoed += n;
      continue;
    }
    e = SSL_get_error(x->cli, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      return;
    if (e == SSL_ERROR_SSL && !x->misbehaved)
      tfk_die("the server's records do not decrypt");
    x->eof = true; /* its close_notify or EOF, a reset, or an alert */
  }
}

/* Repeats an OpenSSL call of the client until it is done, turning the
 * server's loop while it waits. Returns false when it failed. */
static bool client_call(sess *x, int (*call)(SSL *ssl)) {
  int turns, r, e;

  for (turns = 0; turns < TURNS; turns++) {
    ERR_clear_error();
    r = call(x->cli);
    if (r >= 0 && (r == 1 || call == SSL_shutdown))
      return true;
    e = SSL_get_error(x->cli, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
      break;
    turn();
    drain(x);
  }
  x->dead = true;
  return false;
}

/* Sends application data (as much as SENT_MAX leaves room for). The
 * bytes count as sent from the first try on: records of a write that had
 * to wait may already have left, and their echo may come before the write
 * is done. */
static void client_write(sess *x, const uint8_t *p, size_t n) {
  int turns = 0, e;

  if (x->notified || x->fin || x->dead)
    return;
  if (n > SENT_MAX - x->sent_len)
    n = SENT_MAX - x->sent_len;
  memcpy(sent + x->sent_len, p, n);
  x->sent_len += n;
  while (n > 0 && turns++ < TURNS) {
    size_t w = 0;
    ERR_clear_error();
    if (SSL_write_ex(x->cli, p, n, &w) == 1) {
      p += w;
      n -= w;
      continue;
    }
    e = SSL_get_error(x->cli, 0);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      x->dead = true;
      return;
    }
    turn();
    drain(x);
  }
  if (n > 0)
    x->dead = true; /* never done: the server stopped reading */
}

/* The handshake with the server; true when both ends are done. */
static bool handshake(sess *x) {
  int turns, r, e;

  for (turns = 0; turns < TURNS && !x->c.closed; turns++) {
    ERR_clear_error();
    r = SSL_do_handshake(x->cli);
    if (r == 1 && x->c.established)
      return true;
    if (r != 1) {
      e = SSL_get_error(x->cli, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return false;
    }
    turn();
  }
  return false;
}

/* A KeyUpdate (TLS 1.3) or a renegotiation (TLS 1.2), sent now. */
static void client_rekey(sess *x) {
  if (x->notified || x->fin || x->dead)
    return;
  if (SSL_version(x->cli) == TLS1_3_VERSION) {
    if (SSL_key_update(x->cli, SSL_KEY_UPDATE_REQUESTED) == 1)
      (void)client_call(x, SSL_do_handshake);
    return;
  }
  x->misbehaved = true; /* the server refuses renegotiation */
  if (SSL_renegotiate(x->cli) == 1)
    (void)client_call(x, SSL_do_handshake);
}

/* Runs one operation from d[0..left); returns the bytes it used. */
static size_t step(sess *x, const uint8_t *d, size_t left) {
  size_t n;
  int i;

  switch (d[0] % 8) {
  case 0:
  case 1:
    if (left < 2)
      return left;
    n = (size_t)d[1] + 1 < left - 2 ? (size_t)d[1] + 1 : left - 2;
    client_write(x, d + 2, n);
    return 2 + n;
  case 2: {
    static uint8_t block[256 * 256];
    if (left < 6)
      return left;
    n = ((size_t)d[1] + 1) * 256;
    for (i = 0; (size_t)i < n; i++)
      block[i] = d[2 + i % 4];
    client_write(x, block, n);
    return 6;
  }
  case 3:
    if (left < 2)
      return left;
    n = (size_t)(d[1] % 32) + 1 < left - 2 ? (size_t)(d[1] % 32) + 1 : left - 2;
    if (!x->fin && send(x->fd, d + 2, n, MSG_NOSIGNAL) > 0)
      x->misbehaved = true;
    return 2 + n;
  case 4:
    client_rekey(x);
    return 1;
  case 5:
    for (i = 0; i < 8; i++) {
      turn();
      drain(x);
    }
    return 1;
  case 6:
    if (!x->notified && !x->fin && !x->dead) {
      x->notified = true;
      (void)client_call(x, SSL_shutdown);
    }
    return 1;
  default:
    if (!x->fin)
      shutdown(x->fd, SHUT_WR);
    x->fin = true;
    return 1;
  }
}

/* The bytes of the complete frames at the start of p[0..len), up to one
 * whose header is over the server's limit (the server stops there). */
static size_t whole_frames(const uint8_t *p, size_t len) {
  size_t at = 0;

  while (len - at >= 6) {
    uint32_t size = (uint32_t)p[at + 2] | (uint32_t)p[at + 3] << 8 |
                    (uint32_t)p[at + 4] << 16 | (uint32_t)p[at + 5] << 24;
    if (size > TFK_MAX_PAYLOAD || len - at - 6 < size)
      break;
    at += 6 + (size_t)size;
  }
  return at;
}

/* The client's FIN, then turns until the server connection closed; then
 * the checks of the end. */
static void finish(sess *x) {
  int turns;

  if (!x->fin)
    shutdown(x->fd, SHUT_WR);
  x->fin = true;
  for (turns = 0; !x->c.closed && turns < TURNS; turns++) {
    turn();
    drain(x);
  }
  if (!x->c.closed)
    tfk_die("the server connection is still open after the FIN (stuck)");
  drain(x);
  /* A client whose write met the server's close (after a header over the
   * limit) fails its reads from then on: what came is unknowable. */
  if (!x->misbehaved && !x->dead &&
      x->echoed != whole_frames(sent, x->sent_len))
    tfk_die("a complete frame sent before the end was not echoed whole");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sess x;
  int sv[2];
  size_t at = 1;

  tfk_init();
  if (size < 1)
    return 0;
  if (size > INPUT_MAX)
    size = INPUT_MAX;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    tfk_die("socketpair failed");
  memset(&x, 0, sizeof(x));
  x.fd = sv[1];
  if (fcntl(x.fd, F_SETFL, O_NONBLOCK) != 0 ||
      (x.cli = SSL_new(tfk_client_ctx())) == NULL ||
      SSL_set_fd(x.cli, x.fd) != 1 ||
      X509_VERIFY_PARAM_set1_host(SSL_get0_param(x.cli), "localhost", 0) != 1)
    tfk_die("client setup failed");
  SSL_set_connect_state(x.cli);
  if (data[0] & 1)
    SSL_set_max_proto_version(x.cli, TLS1_2_VERSION);
  if (data[0] & 2)
    SSL_set_max_send_fragment(x.cli, 512);
  tfk_open(&x.c, sv[0]);
  if (!handshake(&x))
    tfk_die("the handshake with a good client failed");
  while (at < size)
    at += step(&x, data + at, size - at);
  finish(&x);
  SSL_free(x.cli);
  close(x.fd);
  uv_run(&tfk_loop, UV_RUN_DEFAULT);
  return 0;
}
