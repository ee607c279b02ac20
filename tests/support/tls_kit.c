/* The transport switch of the test kits (tls_kit.h): the netfw side sets
 * the TLS configs; the raw side keeps one SSL per socket in a table
 * indexed by the fd, over a BIO that does the socket I/O itself: send with
 * MSG_NOSIGNAL (a test must not die of SIGPIPE, nor hide one the runtime
 * would raise) and a poll bounded by the caller's deadline before every
 * read, so that SSL_read on a blocking socket keeps the plaintext
 * timeouts. */
#include "tls_kit.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "wire.h"

#define MAX_FD 4096
#define HANDSHAKE_MS 10000
#define NO_DEADLINE UINT64_MAX

typedef struct tconn {
  int fd;
  SSL *ssl;
  uint64_t deadline; /* of the read under way (NO_DEADLINE: none)  */
  bool eof;          /* the socket read 0                           */
  bool reset;        /* the socket failed (reset, broken pipe)      */
  bool refused;      /* the server closed during the handshake      */
  bool failed;       /* a TLS error: no close_notify any more        */
  bool notify_sent;  /* our close_notify went out                   */
} tconn;

/* Each slot is used by the one thread that owns the socket; the atomics
 * order a slot's clearing before the close that lets another thread get
 * the same fd number. */
static tconn *conns[MAX_FD];

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char paths[3][PATH_MAX]; /* server.pem, server.key, ca.pem */
static netfw_tls_config server_tls;
static SSL_CTX *client_ctx, *server_ctx;
static BIO_METHOD *bio_method;

const char *tls_kit_dir(void) {
  const char *d = getenv("NETFW_TEST_TLS");
  return d != NULL && d[0] != '\0' ? d : NULL;
}

/* Stops the test program: the kit cannot run as asked. */
static void die(const char *what) {
  fprintf(stderr, "tls_kit: %s\n", what);
  ERR_print_errors_fp(stderr);
  abort();
}

/* ---- The BIO: the socket, with the deadline of the read under way ---- */

/* Sends what OpenSSL wrote (blocking, MSG_NOSIGNAL); -1 on a broken pipe. */
static int bio_write(BIO *b, const char *buf, int len) {
  tconn *t = BIO_get_data(b);
  ssize_t n;

  BIO_clear_retry_flags(b);
  do
    n = send(t->fd, buf, (size_t)len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    t->reset = true;
  return (int)n;
}

/* Waits until t's socket is readable or its deadline passed (polling
 * once even then). */
static bool wait_readable(tconn *t) {
  for (;;) {
    struct pollfd p = {t->fd, POLLIN, 0};
    uint64_t now = wire_now_ms();
    int ms = -1, r;
    if (t->deadline != NO_DEADLINE)
      ms = now < t->deadline ? (int)(t->deadline - now) : 0;
    r = poll(&p, 1, ms);
    if (r > 0)
      return true;
    if (r < 0 && errno != EINTR)
      return true; /* let recv report it */
    if (r == 0 && now >= t->deadline)
      return false;
  }
}

/* Reads from the socket once it is readable; a retry (SSL_read's
 * WANT_READ) when the deadline passed first. */
static int bio_read(BIO *b, char *buf, int len) {
  tconn *t = BIO_get_data(b);
  ssize_t n;

  BIO_clear_retry_flags(b);
  if (!wait_readable(t)) {
    BIO_set_retry_read(b); /* SSL_read: SSL_ERROR_WANT_READ, a timeout */
    return -1;
  }
  do
    n = recv(t->fd, buf, (size_t)len, 0);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    t->eof = true;
  else if (n < 0)
    t->reset = true;
  return (int)n;
}

/* Flush is a no-op; EOF is whether the socket read 0 (OpenSSL tells a
 * truncation from a retry by it). */
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  tconn *t = BIO_get_data(b);

  (void)num;
  (void)ptr;
  if (cmd == BIO_CTRL_FLUSH)
    return 1;
  if (cmd == BIO_CTRL_EOF)
    return t->eof;
  return 0;
}

/* ---- Contexts, made once per process ---- */

/* out = the certificates directory / name. */
static void path_of(char *out, const char *name) {
  if (snprintf(out, PATH_MAX, "%s/%s", tls_kit_dir(), name) >= PATH_MAX)
    die("NETFW_TEST_TLS: path too long");
}

/* Makes the BIO method of the sockets (once). */
static void init_bio_method(void) {
  bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                            "netfw test socket");
  if (bio_method == NULL || !BIO_meth_set_write(bio_method, bio_write) ||
      !BIO_meth_set_read(bio_method, bio_read) ||
      !BIO_meth_set_ctrl(bio_method, bio_ctrl))
    die("BIO_meth_new");
}

/* The raw clients' context (trusts ca.pem) and the raw servers' (server.pem,
 * no session tickets). */
static void init_contexts(void) {
  client_ctx = SSL_CTX_new(TLS_client_method());
  server_ctx = SSL_CTX_new(TLS_server_method());
  if (client_ctx == NULL || server_ctx == NULL)
    die("SSL_CTX_new");
  if (SSL_CTX_load_verify_locations(client_ctx, paths[2], NULL) != 1)
    die(paths[2]);
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_use_certificate_chain_file(server_ctx, paths[0]) != 1 ||
      SSL_CTX_use_PrivateKey_file(server_ctx, paths[1], SSL_FILETYPE_PEM) != 1)
    die(paths[0]);
  /* the scripted peer sends exactly what its script says */
  SSL_CTX_set_num_tickets(server_ctx, 0);
}

/* Everything the kit needs over TLS, made on first use. */
static void init_once(void) {
  path_of(paths[0], "server.pem");
  path_of(paths[1], "server.key");
  path_of(paths[2], "ca.pem");
  netfw_tls_config_init(&server_tls);
  server_tls.cert_file = paths[0];
  server_tls.key_file = paths[1];
  init_bio_method();
  init_contexts();
}

/* ---- The netfw side ---- */

void tls_kit_server_config(netfw_config *cfg) {
  if (tls_kit_dir() == NULL)
    return;
  pthread_once(&once, init_once);
  cfg->tls = &server_tls;
}

int tls_kit_client(netfw_client *c) {
  netfw_tls_config t;

  if (tls_kit_dir() == NULL)
    return 0;
  pthread_once(&once, init_once);
  netfw_tls_config_init(&t);
  t.ca_file = paths[2];
  return netfw_client_set_tls(c, &t);
}

/* ---- The raw side ---- */

/* fd's TLS state, or NULL for a plaintext socket. */
static tconn *conn_of(int fd) {
  if (fd < 0 || fd >= MAX_FD)
    return NULL;
  return __atomic_load_n(&conns[fd], __ATOMIC_ACQUIRE);
}

bool tls_kit_has(int fd) {
  return conn_of(fd) != NULL;
}

/* A new SSL over fd from ctx, entered in the table. */
static tconn *conn_new(int fd, SSL_CTX *ctx) {
  tconn *t;
  BIO *b;

  if (fd < 0 || fd >= MAX_FD)
    die("fd out of the table's range");
  if (__atomic_load_n(&conns[fd], __ATOMIC_ACQUIRE) != NULL)
    die("a socket was closed without wire_close (its TLS state is left)");
  t = calloc(1, sizeof(*t));
  b = BIO_new(bio_method);
  if (t == NULL || b == NULL || (t->ssl = SSL_new(ctx)) == NULL)
    die("out of memory");
  t->fd = fd;
  t->deadline = NO_DEADLINE;
  BIO_set_data(b, t);
  BIO_set_init(b, 1);
  SSL_set_bio(t->ssl, b, b);
  __atomic_store_n(&conns[fd], t, __ATOMIC_RELEASE);
  return t;
}

/* Takes t out of the table and frees it (the socket stays open). */
static void conn_free(tconn *t) {
  __atomic_store_n(&conns[t->fd], NULL, __ATOMIC_RELEASE);
  SSL_free(t->ssl);
  free(t);
}

/* Prints why a handshake failed, then forgets t (fd stays open). */
static int handshake_failed(tconn *t, const char *side, int err) {
  long v = SSL_get_verify_result(t->ssl);

  fprintf(stderr, "tls_kit: %s handshake on fd %d failed (%s, ssl error %d",
          side, t->fd, err == SSL_ERROR_WANT_READ ? "timed out" : "error",
          err);
  if (v != X509_V_OK)
    fprintf(stderr, ", verify: %s", X509_verify_cert_error_string(v));
  fprintf(stderr, ")\n");
  ERR_print_errors_fp(stderr);
  conn_free(t);
  return -1;
}

int tls_kit_connect(int fd) {
  tconn *t;
  int rc, err;

  pthread_once(&once, init_once);
  t = conn_new(fd, client_ctx);
  if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), "127.0.0.1"))
    die("X509_VERIFY_PARAM_set1_ip_asc");
  t->deadline = wire_now_ms() + HANDSHAKE_MS;
  ERR_clear_error();
  rc = SSL_connect(t->ssl);
  t->deadline = NO_DEADLINE;
  if (rc == 1)
    return 0;
  err = SSL_get_error(t->ssl, rc);
  if (err != SSL_ERROR_WANT_READ && (t->eof || t->reset)) {
    t->refused = true; /* the server closed before the handshake ended */
    fprintf(stderr, "tls_kit: fd %d: the server closed during the handshake "
                    "(read as EOF)\n", fd);
    ERR_clear_error();
    return 0;
  }
  return handshake_failed(t, "client", err);
}

int tls_kit_accept(int fd, int timeout_ms) {
  tconn *t;
  int rc;

  pthread_once(&once, init_once);
  t = conn_new(fd, server_ctx);
  t->deadline = wire_now_ms() + (uint64_t)timeout_ms;
  ERR_clear_error();
  rc = SSL_accept(t->ssl);
  t->deadline = NO_DEADLINE;
  if (rc == 1)
    return 0;
  return handshake_failed(t, "server", SSL_get_error(t->ssl, rc));
}

int tls_kit_write(int fd, const void *buf, size_t len) {
  tconn *t = conn_of(fd);
  const uint8_t *p = buf;

  if (t == NULL || t->refused || t->failed)
    return -1;
  while (len > 0) {
    int chunk = len > (1u << 30) ? 1 << 30 : (int)len;
    ERR_clear_error();
    if (SSL_write(t->ssl, p, chunk) != chunk) {
      t->failed = true;
      ERR_clear_error();
      return -1;
    }
    p += chunk;
    len -= (size_t)chunk;
  }
  return 0;
}

/* What a failed SSL_read means: -1 a timeout, -2 the end of the
 * connection (printed when it is not a plain reset). */
static ssize_t read_failed(tconn *t, int err) {
  if (err == SSL_ERROR_WANT_READ)
    return -1;
  t->failed = true;
  if (t->eof && !t->reset)
    fprintf(stderr, "tls_kit: fd %d: the peer closed without close_notify "
                    "(a truncation: read as a reset)\n",
            t->fd);
  else if (err == SSL_ERROR_SSL) {
    fprintf(stderr, "tls_kit: fd %d: TLS error while reading\n", t->fd);
    ERR_print_errors_fp(stderr);
  }
  ERR_clear_error();
  return -2;
}

ssize_t tls_kit_read(int fd, void *buf, size_t len, uint64_t deadline) {
  tconn *t = conn_of(fd);
  int n, err;

  if (t == NULL)
    return -2;
  if (t->refused)
    return 0;
  if (t->failed)
    return -2;
  t->deadline = deadline;
  ERR_clear_error();
  n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
  t->deadline = NO_DEADLINE;
  if (n > 0)
    return n;
  err = SSL_get_error(t->ssl, n);
  if (err == SSL_ERROR_ZERO_RETURN)
    return 0;
  return read_failed(t, err);
}

/* Sends our close_notify once, unless the connection cannot carry it. */
static int send_notify(tconn *t) {
  if (t->refused || t->failed || t->notify_sent)
    return t->notify_sent ? 0 : -1;
  ERR_clear_error();
  if (SSL_shutdown(t->ssl) < 0) {
    t->failed = true;
    ERR_clear_error();
    return -1;
  }
  t->notify_sent = true;
  return 0;
}

int tls_kit_shutdown_wr(int fd) {
  tconn *t = conn_of(fd);
  int rc;

  if (t == NULL)
    return -1;
  rc = send_notify(t);
  if (shutdown(fd, SHUT_WR) != 0)
    rc = -1;
  return rc;
}

/* Takes in the records that already arrived, without waiting. Returns true
 * when application data was among them: unread data, on which a plaintext
 * close resets the connection. Records that carry none (the peer's
 * close_notify, session tickets) must not make the close a reset, as they
 * would if left unread in the socket. */
static bool unread_data(tconn *t) {
  uint8_t sink[4096];
  int n;

  if (t->refused || t->failed)
    return false;
  t->deadline = wire_now_ms(); /* poll once */
  ERR_clear_error();
  n = SSL_read(t->ssl, sink, sizeof(sink));
  t->deadline = NO_DEADLINE;
  if (n <= 0) {
    if (SSL_get_error(t->ssl, n) != SSL_ERROR_ZERO_RETURN &&
        SSL_get_error(t->ssl, n) != SSL_ERROR_WANT_READ)
      t->failed = true;
    ERR_clear_error();
  }
  return n > 0;
}

void tls_kit_close(int fd) {
  tconn *t = conn_of(fd);

  if (t != NULL) {
    if (unread_data(t)) { /* as in plaintext: a reset, no close_notify */
      struct linger l = {1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    } else {
      (void)send_notify(t);
    }
    conn_free(t);
  }
  close(fd);
}

void tls_kit_drop(int fd) {
  tconn *t = conn_of(fd);

  if (t != NULL)
    conn_free(t);
  close(fd);
}
