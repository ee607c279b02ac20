/* The TLS abuse tests' kit (see abuse_kit.h). */
#include "abuse_kit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "netfw/log.h"
#include "wire.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must name the source tree (scripts/make-test-certs)"
#endif

/* ---- certificates ---- */

static char certs[512];
static pid_t certs_owner; /* the process that made a temporary directory */

/* Removes the temporary directory, in the process that made it only (the
 * workers are forked from this one and may run exit handlers too). */
static void remove_certs(void) {
  char cmd[600];

  if (certs_owner != getpid())
    return;
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certs);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", certs);
}

/* True when dir/server.pem exists. */
static bool has_certs(const char *dir) {
  char path[600];
  struct stat st;

  snprintf(path, sizeof(path), "%s/server.pem", dir);
  return stat(path, &st) == 0;
}

const char *ab_certs_dir(void) {
  const char *env = getenv("NETFW_TEST_CERTS");
  const char *tmp = getenv("TMPDIR");
  char cmd[1200];

  if (certs[0] != '\0')
    return certs;
  if (env != NULL && has_certs(env)) {
    snprintf(certs, sizeof(certs), "%s", env);
    return certs;
  }
  snprintf(certs, sizeof(certs), "%s/netfw-tls-abuse-XXXXXX",
           tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(certs) == NULL) {
    certs[0] = '\0';
    return NULL;
  }
  certs_owner = getpid();
  atexit(remove_certs);
  snprintf(cmd, sizeof(cmd),
           "bash '%s/scripts/make-test-certs' '%s' >/dev/null",
           NETFW_SOURCE_DIR, certs);
  if (system(cmd) != 0 || !has_certs(certs))
    return NULL;
  return certs;
}

const char *ab_cert(const char *name) {
  static char bufs[8][640];
  static int next;
  char *b = bufs[next++ % 8];

  snprintf(b, sizeof(bufs[0]), "%s/%s", ab_certs_dir(), name);
  return b;
}

/* ---- log capture ---- */

#define LOG_CAP (4u << 20)

typedef struct shared_log {
  atomic_size_t len;
  char buf[LOG_CAP];
} shared_log;

static shared_log *logbuf;

/* The sink: appends the line to the shared buffer (it runs in the workers
 * too; the buffer is MAP_SHARED, so the test sees their lines). */
static void sink(netfw_log_level level, const char *line, void *arg) {
  size_t n = strlen(line) + 1;
  size_t at = atomic_fetch_add(&logbuf->len, n);

  (void)level;
  (void)arg;
  if (getenv("NETFW_TEST_VERBOSE") != NULL)
    fprintf(stderr, "%s\n", line);
  if (at + n > LOG_CAP)
    return;
  memcpy(logbuf->buf + at, line, n - 1);
  logbuf->buf[at + n - 1] = '\n';
}

int ab_log_capture(void) {
  if (logbuf == NULL) {
    void *p = mmap(NULL, sizeof(shared_log), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return -1;
    logbuf = p;
  }
  atomic_store(&logbuf->len, 0);
  netfw_log_set_level(NETFW_LOG_INFO);
  netfw_log_set_sink(sink, NULL);
  return 0;
}

void ab_log_release(void) {
  netfw_log_set_sink(NULL, NULL);
}

/* Calls fn on every captured line containing needle (NULL: every line);
 * returns how many. */
static int each_line(const char *needle, void (*fn)(const char *line)) {
  size_t len = atomic_load(&logbuf->len);
  char *copy, *line, *save = NULL;
  int n = 0;

  if (len > LOG_CAP)
    len = LOG_CAP;
  copy = malloc(len + 1);
  if (copy == NULL)
    return -1;
  memcpy(copy, logbuf->buf, len);
  copy[len] = '\0';
  for (line = strtok_r(copy, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save))
    if (needle == NULL || strstr(line, needle) != NULL) {
      n++;
      if (fn != NULL)
        fn(line);
    }
  free(copy);
  return n;
}

int ab_log_count(const char *needle) {
  return each_line(needle, NULL);
}

int ab_log_count_settled(const char *needle, int timeout_ms, int settle_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;

  while (ab_log_count(needle) < 1 && wire_now_ms() < deadline) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  {
    struct timespec ts = {settle_ms / 1000, (long)(settle_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
  return ab_log_count(needle);
}

/* Prints one captured line (ab_log_dump). */
static void print_line(const char *line) {
  print_message("  log: %s\n", line);
}

void ab_log_dump(const char *needle) {
  each_line(needle, print_line);
}

void ab_peer_name(int fd, char *out, size_t len) {
  struct sockaddr_in sa;
  socklen_t sl = sizeof(sa);

  if (getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
    snprintf(out, len, "?");
    return;
  }
  snprintf(out, len, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* ---- raw peers ---- */

uint64_t ab_now_us(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int ab_wait_closed(int fd, int timeout_ms, uint8_t *got, size_t cap,
                   size_t *n) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  uint8_t buf[4096];

  *n = 0;
  for (;;) {
    uint64_t now = wire_now_ms();
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    if (now >= deadline)
      return -1;
    if (poll(&p, 1, (int)(deadline - now)) <= 0)
      continue; /* EINTR, or the deadline: checked above */
    r = recv(fd, buf, sizeof(buf), 0);
    if (r == 0)
      return 0;
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (r < 0)
      return 1; /* ECONNRESET: a reset counts as closed */
    if (got != NULL && *n < cap)
      memcpy(got + *n, buf, (size_t)r < cap - *n ? (size_t)r : cap - *n);
    *n += (size_t)r;
  }
}

bool ab_only_alerts(const uint8_t *p, size_t n) {
  size_t at = 0;

  while (at < n) {
    if (n - at < 7 || p[at] != 21 || p[at + 1] != 3 || p[at + 3] != 0 ||
        p[at + 4] != 2)
      return false;
    at += 7;
  }
  return true;
}

size_t ab_client_hello(uint8_t *out, size_t cap) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
  BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
  int n = 0;

  if (ssl == NULL || rb == NULL || wb == NULL) {
    BIO_free(rb);
    BIO_free(wb);
    goto done;
  }
  SSL_set_bio(ssl, rb, wb); /* ssl owns both now */
  SSL_set_connect_state(ssl);
  SSL_set_tlsext_host_name(ssl, "localhost");
  if (SSL_do_handshake(ssl) == -1 &&
      SSL_get_error(ssl, -1) == SSL_ERROR_WANT_READ)
    n = BIO_read(wb, out, (int)cap);
done:
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return n > 0 ? (size_t)n : 0;
}

/* ---- OpenSSL client ---- */

SSL_CTX *ab_client_ctx(const char *cert, const char *key) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

  if (ctx == NULL)
    return NULL;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  if (SSL_CTX_load_verify_locations(ctx, ab_cert("ca.pem"), NULL) != 1 ||
      (cert != NULL &&
       (SSL_CTX_use_certificate_chain_file(ctx, ab_cert(cert)) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, ab_cert(key), SSL_FILETYPE_PEM) !=
            1))) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* Records the description of every alert the server sends. */
static void on_info(const SSL *ssl, int where, int ret) {
  ab_tls *c = SSL_get_app_data(ssl);

  if ((where & SSL_CB_READ_ALERT) && c != NULL)
    c->alert = ret & 0xff;
}

/* Connects to 127.0.0.1:port with SO_RCVBUF rcvbuf (0: the default).
 * Returns the fd or -1. */
static int connect_rcvbuf(uint16_t port, int rcvbuf) {
  struct sockaddr_in sa;
  int fd;

  if (rcvbuf == 0)
    return wire_connect(port);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0 ||
      connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int ab_tls_connect(ab_tls *c, SSL_CTX *ctx, uint16_t port, int timeout_ms) {
  return ab_tls_connect_rcvbuf(c, ctx, port, timeout_ms, 0);
}

int ab_tls_connect_rcvbuf(ab_tls *c, SSL_CTX *ctx, uint16_t port,
                          int timeout_ms, int rcvbuf) {
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

  c->ssl = NULL;
  c->alert = -1;
  c->fd = connect_rcvbuf(port, rcvbuf);
  if (c->fd < 0)
    return -1;
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  c->ssl = SSL_new(ctx);
  if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), "127.0.0.1") != 1)
    return -1;
  SSL_set_app_data(c->ssl, c);
  SSL_set_info_callback(c->ssl, on_info);
  return SSL_connect(c->ssl);
}

/* Writes all of buf over c. Returns true when it went. */
static bool tls_write_all(ab_tls *c, const uint8_t *buf, size_t len) {
  size_t done = 0;

  while (done < len) {
    size_t n = 0;
    if (SSL_write_ex(c->ssl, buf + done, len - done, &n) != 1)
      return false;
    done += n;
  }
  return true;
}

/* Reads exactly len bytes from c. Returns true when they came. */
static bool tls_read_all(ab_tls *c, uint8_t *buf, size_t len) {
  size_t done = 0;

  while (done < len) {
    size_t n = 0;
    if (SSL_read_ex(c->ssl, buf + done, len - done, &n) != 1)
      return false;
    done += n;
  }
  return true;
}

/* A frame: the 6-byte header (id u16 LE, size u32 LE) and the payload,
 * malloc'ed into *out. Returns its length, or 0. */
static size_t frame_pack(uint16_t id, const void *payload, uint32_t size,
                         uint8_t **out) {
  uint8_t *f = malloc(6 + (size_t)size);

  if (f == NULL)
    return 0;
  f[0] = (uint8_t)id;
  f[1] = (uint8_t)(id >> 8);
  f[2] = (uint8_t)size;
  f[3] = (uint8_t)(size >> 8);
  f[4] = (uint8_t)(size >> 16);
  f[5] = (uint8_t)(size >> 24);
  if (size > 0)
    memcpy(f + 6, payload, size);
  *out = f;
  return 6 + (size_t)size;
}

bool ab_tls_send(ab_tls *c, uint16_t id, const void *payload, uint32_t size) {
  uint8_t *f = NULL;
  size_t len = frame_pack(id, payload, size, &f);
  bool ok = len > 0 && tls_write_all(c, f, len);

  free(f);
  return ok;
}

bool ab_tls_expect(ab_tls *c, uint16_t id, const void *payload, uint32_t size) {
  uint8_t *f = NULL, *back = NULL;
  size_t len = frame_pack(id, payload, size, &f);
  bool ok = false;

  if (len == 0)
    return false;
  back = malloc(len);
  if (back != NULL && tls_read_all(c, back, len))
    ok = memcmp(f, back, len) == 0;
  free(f);
  free(back);
  return ok;
}

bool ab_tls_echo(ab_tls *c, uint16_t id, const void *payload, uint32_t size) {
  return ab_tls_send(c, id, payload, size) &&
         ab_tls_expect(c, id, payload, size);
}

bool ab_tls_refused(ab_tls *c) {
  uint8_t b[64];
  size_t n = 0;
  int err;

  ERR_clear_error();
  errno = 0;
  if (SSL_read_ex(c->ssl, b, sizeof(b), &n) == 1)
    return false; /* application data: served */
  err = SSL_get_error(c->ssl, 0);
  if (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))
    return false; /* the receive timeout: neither served nor refused */
  return c->alert >= 0 || err == SSL_ERROR_ZERO_RETURN ||
         err == SSL_ERROR_SYSCALL || err == SSL_ERROR_SSL;
}

void ab_tls_close(ab_tls *c) {
  SSL_free(c->ssl);
  c->ssl = NULL;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}
