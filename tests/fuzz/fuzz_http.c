/* Fuzz target: the metrics endpoint's HTTP core (runtime/metrics/http.c,
 * libmicrohttpd under it): the input is the raw bytes a client sends on
 * one connection.
 *
 * One core without a listening socket lives across inputs; each input gets
 * a socketpair whose one end is handed to the core (netfw__http_add_fd).
 * The input is written to the other end, which is shut for writing once
 * the core has read it, and the loop is turned (UV_RUN_NOWAIT) until the
 * core closes the connection. Checked: the core
 * always ends the connection (within a bounded number of runs), what it
 * sends back is a sequence of HTTP/1.1 responses whose status codes are
 * ones it may answer with, a GET /metrics answered 200 carries the render
 * callback's body, and an input that starts with a well-formed scrape gets
 * that answer first. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "http.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY "# TYPE fuzz_total counter\nfuzz_total 1\n"
#define SCRAPE "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
#define MAX_RUNS 20000
#define MAX_OUT (1u << 20)

static bool health;

/* The fixed exposition. */
static int render(void *arg, int what, netfw__text *out) {
  (void)arg, (void)what;
  return netfw__text_puts(out, BODY);
}

/* /healthz follows the input's length. */
static bool healthy(void *arg) {
  (void)arg;
  return health;
}

/* The loop the core runs on, turned by the harness. */
static uv_loop_t loop;

/* The core, made on first use and kept (a process-wide fuzz fixture). */
static netfw__http *core(void) {
  static netfw__http *h;
  netfw__http_config cfg = {.render = render, .healthy = healthy};

  if (h == NULL) {
    if (uv_loop_init(&loop) != 0 || netfw__http_start(&loop, &cfg, &h) != 0)
      abort();
  }
  return h;
}

/* Reads what the core sent into out (up to MAX_OUT). Returns true once
 * the core closed its end (EOF or reset). */
static bool drain(int fd, char *out, size_t *len) {
  char junk[4096];

  for (;;) {
    size_t room = MAX_OUT - *len;
    ssize_t n =
        room > 0 ? read(fd, out + *len, room) : read(fd, junk, sizeof(junk));
    if (n > 0 && room > 0)
      *len += (size_t)n;
    if (n > 0)
      continue;
    if (n == 0)
      return true;
    return errno != EAGAIN && errno != EINTR;
  }
}

/* Bytes queued for the core on its end of the pair (0 once it closed). */
static int unread(int fd) {
  int n = 0;

  if (ioctl(fd, FIONREAD, &n) != 0)
    return 0;
  return n;
}

/* True when s (len bytes) begins with "HTTP/1.1 NNN " and NNN is a status
 * the core, or libmicrohttpd for a bad request, may send. */
static bool status_ok(const char *s, size_t len, int *status) {
  static const int allowed[] = {100, 200, 400, 404, 405, 413, 414,
                                417, 431, 500, 501, 503, 505};

  if (len < 13 || memcmp(s, "HTTP/1.1 ", 9) != 0 || s[12] != ' ')
    return false;
  *status = atoi(s + 9);
  for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
    if (*status == allowed[i])
      return true;
  return false;
}

/* Checks one response (len bytes): a status line we allow; a 200 of the
 * exposition carries exactly BODY after its headers, or nothing (HEAD). */
static void check_response(const char *r, size_t len) {
  const char *blank;
  size_t body;
  int status;

  if (!status_ok(r, len, &status)) {
    fprintf(stderr, "bad response: %.*s\n", (int)(len > 80 ? 80 : len), r);
    abort();
  }
  if (status != 200 || memmem(r, len, "version=0.0.4", 13) == NULL)
    return;
  if ((blank = memmem(r, len, "\r\n\r\n", 4)) == NULL)
    return; /* cut short: the connection closed while sending */
  body = len - (size_t)(blank + 4 - r);
  if (body != 0 && (body != strlen(BODY) || memcmp(blank + 4, BODY, body))) {
    fprintf(stderr, "200 without the exposition's body\n");
    abort();
  }
}

/* Splits out into responses (each begins with "HTTP/1.1 ") and checks
 * each one. */
static void check_output(const char *out, size_t len) {
  const char *p = out, *end = out + len;

  while (p < end) {
    const char *next = memmem(p + 1, (size_t)(end - p - 1), "HTTP/1.1 ", 9);
    check_response(p, (size_t)((next != NULL ? next : end) - p));
    p = next != NULL ? next : end;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  netfw__http *h = core();
  static char out[MAX_OUT];
  size_t sent = 0, len = 0;
  bool closed = false;
  int sv[2];

  health = size % 2 == 0;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
    abort();
  if (netfw__http_add_fd(h, sv[1]) != 0)
    abort();
  for (int runs = 0, idle = 0; !closed; runs++) {
    if (runs == MAX_RUNS) {
      fprintf(stderr, "the connection was never closed\n");
      abort();
    }
    while (sent < size) {
      ssize_t n = write(sv[0], data + sent, size - sent);
      if (n <= 0)
        break;
      sent += (size_t)n;
    }
    /* The end of the input comes a turn after the core read its last
     * bytes, as a FIN of its own: libmicrohttpd 0.9.75 (edge-triggered
     * epoll) misses an EOF queued behind the last bytes of an incomplete
     * request, and only its idle timeout (10 s) ends such a connection
     * (test_http checks that bound), too slow for a fuzzer. */
    if (sent == size && unread(sv[1]) == 0 && ++idle == 2)
      shutdown(sv[0], SHUT_WR);
    uv_run(&loop, UV_RUN_NOWAIT); /* as the supervisor's loop would */
    closed = drain(sv[0], out, &len);
  }
  close(sv[0]);
  check_output(out, len);
  /* a well-formed first request is answered (a known answer) */
  if (size >= strlen(SCRAPE) && memcmp(data, SCRAPE, strlen(SCRAPE)) == 0 &&
      (len < 15 || memcmp(out, "HTTP/1.1 200 OK", 15) != 0 ||
       memmem(out, len, "\r\n\r\n" BODY, 4 + strlen(BODY)) == NULL)) {
    fprintf(stderr, "GET /metrics not answered with the exposition\n");
    abort();
  }
  return 0;
}
