/* The HTTP endpoint's generic core (runtime/metrics/http.c) on its own
 * libuv loop in a thread, against real loopback sockets: routing, exact
 * status lines, headers and bodies, HEAD, keep-alive, a render failure, a
 * 1 MiB header (answered 431 or closed, memory bounded), a slow client
 * that does not delay another's scrape, the connection limit, the idle
 * timeout. Addresses: test_http_addr.c. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "http.h"
#include "http_client.h"
#include "metrics.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "text.h"

#define BODY "# HELP t_total A test.\n# TYPE t_total counter\nt_total 42\n"
#define EXPOSITION "text/plain; version=0.0.4; charset=utf-8"
#define PLAIN "text/plain; charset=utf-8"

/* A core on its own loop, run by a thread. */
typedef struct fx {
  uv_loop_t loop;
  uv_async_t stop;
  pthread_t thread;
  netfw__http *h;
  uint16_t port;
  atomic_int renders;   /* render calls                                */
  atomic_int render_rc; /* what render returns                         */
  atomic_bool healthy;
} fx;

/* Appends BODY (the loop's thread). */
static int render(void *arg, int what, netfw__text *out) {
  fx *f = arg;

  atomic_fetch_add(&f->renders, 1);
  if (what != NETFW__HTTP_METRICS)
    return NETFW_EINVAL;
  netfw__text_puts(out, BODY);
  return atomic_load(&f->render_rc);
}

/* What /healthz reports. */
static bool healthy(void *arg) {
  return atomic_load(&((fx *)arg)->healthy);
}

/* Stops the core and lets the loop end (the loop's thread). */
static void on_stop(uv_async_t *a) {
  fx *f = a->data;

  netfw__http_stop(f->h);
  uv_close((uv_handle_t *)a, NULL);
}

/* The loop's thread. */
static void *loop_main(void *arg) {
  uv_run(&((fx *)arg)->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* Starts a core with max_connections and timeout_s (0: the defaults) on
 * 127.0.0.1:0. */
static fx *fx_start(unsigned max_connections, unsigned timeout_s) {
  fx *f = calloc(1, sizeof(*f));
  netfw__http_config cfg = {.host = "127.0.0.1",
                            .max_connections = max_connections,
                            .timeout_s = timeout_s,
                            .render = render,
                            .healthy = healthy};

  assert_non_null(f);
  atomic_store(&f->healthy, true);
  cfg.arg = f;
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(uv_async_init(&f->loop, &f->stop, on_stop), 0);
  f->stop.data = f;
  assert_int_equal(netfw__http_start(&f->loop, &cfg, &f->h), 0);
  f->port = netfw__http_port(f->h);
  assert_true(f->port > 0);
  assert_int_equal(pthread_create(&f->thread, NULL, loop_main, f), 0);
  return f;
}

/* Stops the core; every handle must be closed by then. */
static void fx_stop(fx *f) {
  uv_async_send(&f->stop);
  assert_int_equal(pthread_join(f->thread, NULL), 0);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  free(f);
}

static int setup(void **state) {
  *state = fx_start(0, 0);
  return 0;
}

static int teardown(void **state) {
  fx_stop(*state);
  return 0;
}

/* Asserts r's header names are exactly want (in any order, each once). */
static void headers_are(const http_resp *r, const char *const *want) {
  int n = 0;

  for (; want[n] != NULL; n++)
    if (http_header(r, want[n]) == NULL)
      fail_msg("no %s header", want[n]);
  assert_int_equal(r->nheaders, n);
}

/* Sends the string s within 5 s; false when the peer closed first. */
static bool send_str(int fd, const char *s) {
  return http_send(fd, s, strlen(s), 5000);
}

/* One request on its own connection (Connection: close), answered and
 * closed within 5 s. */
static void get(fx *f, const char *req, http_resp *r) {
  assert_int_equal(http_get(f->port, req, r), 0);
  assert_true(r->eof);
}

static const char *const plain_headers[] = {"Connection", "Content-Length",
                                            "Content-Type", "Date", NULL};

/* GET /metrics: 200, exactly these headers, the body render made. */
static void test_http_metrics_200(void **state) {
  fx *f = *state;
  http_resp r;
  char len[16];

  get(f, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
  assert_string_equal(r.status_line, "HTTP/1.1 200 OK");
  headers_are(&r, plain_headers);
  assert_string_equal(http_header(&r, "Content-Type"), EXPOSITION);
  snprintf(len, sizeof(len), "%zu", strlen(BODY));
  assert_string_equal(http_header(&r, "Content-Length"), len);
  assert_string_equal(http_header(&r, "Connection"), "close");
  assert_int_equal(strlen(http_header(&r, "Date")), 29); /* IMF-fixdate */
  assert_string_equal(r.body, BODY);
  assert_int_equal(atomic_load(&f->renders), 1);
  http_resp_free(&r);

  /* a query string is not part of the path; HTTP/1.0 is answered too
   * (with the server's version, RFC 9110 6.2) */
  get(f, "GET /metrics?x=1 HTTP/1.0\r\n\r\n", &r);
  assert_string_equal(r.status_line, "HTTP/1.1 200 OK");
  assert_string_equal(r.body, BODY);
  http_resp_free(&r);
  assert_int_equal(atomic_load(&f->renders), 2);
}

/* HEAD /metrics: GET's status and headers (Content-Length included), no
 * body bytes; HEAD /healthz likewise. */
static void test_http_head(void **state) {
  fx *f = *state;
  http_resp r;
  char len[16];
  int fd;

  fd = http_connect(f->port);
  assert_true(fd >= 0);
  assert_true(send_str(fd, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert_int_equal(http_read(fd, true, false, 5000, &r), 0);
  assert_string_equal(r.status_line, "HTTP/1.1 200 OK");
  assert_string_equal(http_header(&r, "Content-Type"), EXPOSITION);
  snprintf(len, sizeof(len), "%zu", strlen(BODY));
  assert_string_equal(http_header(&r, "Content-Length"), len);
  assert_int_equal(r.body_len, 0);
  http_resp_free(&r);
  /* the same connection: a GET follows, its body is the first bytes */
  assert_true(send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert_int_equal(http_read(fd, false, false, 5000, &r), 0);
  assert_string_equal(r.status_line, "HTTP/1.1 200 OK");
  assert_string_equal(r.body, "ok\n");
  http_resp_free(&r);
  close(fd);

  get(f, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
  assert_string_equal(r.status_line, "HTTP/1.1 200 OK");
  assert_string_equal(http_header(&r, "Content-Length"), "3");
  assert_int_equal(r.body_len, 0);
  http_resp_free(&r);
}

/* Two scrapes on one kept-alive connection, as Prometheus does. */
static void test_http_keep_alive(void **state) {
  fx *f = *state;
  const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  int fd = http_connect(f->port);

  assert_true(fd >= 0);
  for (int i = 0; i < 2; i++) {
    http_resp r;
    assert_true(http_send(fd, req, strlen(req), 5000));
    assert_int_equal(http_read(fd, false, false, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    print_message("kept alive: Connection: %s\n",
                  http_header(&r, "Connection") ? http_header(&r, "Connection")
                                                : "(none)");
    assert_false(r.eof);
    assert_string_equal(r.body, BODY);
    http_resp_free(&r);
  }
  close(fd);
  assert_int_equal(atomic_load(&f->renders), 2);
}

/* /healthz: 200 "ok\n" while healthy, 503 "unavailable\n" otherwise. */
static void test_http_healthz(void **state) {
  fx *f = *state;
  const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close"
                    "\r\n\r\n";
  http_resp r;

  get(f, req, &r);
  assert_string_equal(r.status_line, "HTTP/1.1 200 OK");
  headers_are(&r, plain_headers);
  assert_string_equal(http_header(&r, "Content-Type"), PLAIN);
  assert_string_equal(r.body, "ok\n");
  http_resp_free(&r);

  atomic_store(&f->healthy, false);
  get(f, req, &r);
  assert_string_equal(r.status_line, "HTTP/1.1 503 Service Unavailable");
  headers_are(&r, plain_headers);
  assert_string_equal(r.body, "unavailable\n");
  http_resp_free(&r);
  atomic_store(&f->healthy, true);
  get(f, req, &r);
  assert_int_equal(r.status, 200);
  http_resp_free(&r);
  assert_int_equal(atomic_load(&f->renders), 0);
}

/* Other paths: 404, whatever the method. */
static void test_http_404(void **state) {
  static const char *const reqs[] = {
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /metricsx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /metrics/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /Metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "DELETE /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  };
  fx *f = *state;

  for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
    http_resp r;
    get(f, reqs[i], &r);
    assert_string_equal(r.status_line, "HTTP/1.1 404 Not Found");
    headers_are(&r, plain_headers);
    assert_string_equal(r.body, "not found\n");
    http_resp_free(&r);
  }
  assert_int_equal(atomic_load(&f->renders), 0);
}

/* Other methods on /metrics and /healthz: 405 with Allow: GET, HEAD (a
 * body sent along is not waited for). */
static void test_http_405(void **state) {
  static const char *const reqs[] = {
      ("POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
       "Content-Length: 5\r\n\r\nhello"),
      "PUT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "OPTIONS /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n",
  };
  static const char *const want[] = {
      "Allow", "Connection", "Content-Length", "Content-Type", "Date", NULL};
  fx *f = *state;

  for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
    http_resp r;
    get(f, reqs[i], &r);
    assert_string_equal(r.status_line, "HTTP/1.1 405 Method Not Allowed");
    headers_are(&r, want);
    assert_string_equal(http_header(&r, "Allow"), "GET, HEAD");
    assert_string_equal(r.body, "method not allowed\n");
    http_resp_free(&r);
  }
  assert_int_equal(atomic_load(&f->renders), 0);
}

/* A render that fails: 500, and the next scrape works again. */
static void test_http_render_fails(void **state) {
  fx *f = *state;
  const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close"
                    "\r\n\r\n";
  http_resp r;

  atomic_store(&f->render_rc, NETFW_ENOMEM);
  get(f, req, &r);
  assert_string_equal(r.status_line, "HTTP/1.1 500 Internal Server Error");
  assert_string_equal(r.body, "internal error\n");
  http_resp_free(&r);
  atomic_store(&f->render_rc, 0);
  get(f, req, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, BODY);
  http_resp_free(&r);
}

/* A /proc/self/status value in KiB ("VmRSS", "VmHWM"). */
static long status_kib(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;

  assert_non_null(f);
  while (fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
      v = strtol(line + strlen(key) + 1, NULL, 10);
  fclose(f);
  assert_true(v >= 0);
  return v;
}

/* Sends a GET /metrics whose X-Big header holds `size` bytes (as much of it
 * as the server takes), and reads what comes back: a 431 then a close, or
 * a close (or reset) before any response; never a timeout, never a 200. */
static void huge_header(fx *f, size_t size) {
  static char chunk[65536];
  const char *head = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ";
  int fd = http_connect(f->port), rc;
  http_resp r;

  assert_true(fd >= 0);
  memset(chunk, 'a', sizeof(chunk));
  if (http_send(fd, head, strlen(head), 5000)) {
    size_t sent = 0;
    while (sent < size && http_send(fd, chunk, sizeof(chunk), 5000))
      sent += sizeof(chunk);
    if (sent >= size)
      send_str(fd, "\r\n\r\n");
  }
  rc = http_read(fd, false, true, 5000, &r);
  close(fd);
  if (rc == 0) {
    assert_string_equal(r.status_line,
                        "HTTP/1.1 431 Request Header Fields Too Large");
    assert_true(r.eof);
    http_resp_free(&r);
  } else {
    assert_int_equal(rc, -2); /* closed or reset first, not a timeout */
  }
}

/* A 1 MiB header: refused (431 or a close) within the bounds, with the
 * process's peak memory growing by less than 1 MiB (the connection's pool
 * is 32 KiB); the endpoint serves normally afterwards. */
static void test_http_huge_header(void **state) {
  fx *f = *state;
  http_resp r;
  long rss;
  FILE *clear;

  huge_header(f, 65536); /* warm up: the same path, smaller */
  rss = status_kib("VmRSS");
  clear = fopen("/proc/self/clear_refs", "w"); /* "5": reset VmHWM */
  assert_non_null(clear);
  assert_true(fputs("5", clear) >= 0);
  fclose(clear);
  huge_header(f, 1u << 20);
  print_message("VmRSS before %ld KiB, VmHWM after the 1 MiB header %ld KiB\n",
                rss, status_kib("VmHWM"));
  assert_true(status_kib("VmHWM") - rss < 1024);
  assert_int_equal(atomic_load(&f->renders), 0);
  get(f, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
  assert_int_equal(r.status, 200);
  http_resp_free(&r);
}

/* A client trickling its request a byte at a time does not delay another
 * client's scrape (< 500 ms on loopback, the loop never waits on it); it
 * is answered too once its request is complete. */
static void test_http_slow_client(void **state) {
  fx *f = *state;
  const char *slow = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close"
                     "\r\n\r\n";
  int fd = http_connect(f->port);
  size_t i = 0;
  http_resp r;
  int64_t t0;

  assert_true(fd >= 0);
  for (; i < 8; i++) {
    assert_true(http_send(fd, slow + i, 1, 1000));
    usleep(50 * 1000);
  }
  t0 = http_now_ms();
  get(f, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
  print_message("scrape beside a slow client: %lld ms\n",
                (long long)(http_now_ms() - t0));
  assert_true(http_now_ms() - t0 < 500);
  assert_int_equal(r.status, 200);
  http_resp_free(&r);
  for (; slow[i] != '\0'; i++) {
    assert_true(http_send(fd, slow + i, 1, 1000));
    usleep(5 * 1000);
  }
  assert_int_equal(http_read(fd, false, true, 5000, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, BODY);
  http_resp_free(&r);
  close(fd);
}

/* With 4 connections held open (max_connections 4), a fifth gets no
 * answer (it waits in the kernel's backlog, or is closed); once one of the
 * four ends, the endpoint answers again within 2 s. */
static void test_http_connection_limit(void **state) {
  fx *f = fx_start(4, 0);
  const char *part = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  int held[4], fd, rc;
  http_resp r;

  (void)state;
  for (int i = 0; i < 4; i++) {
    held[i] = http_connect(f->port);
    assert_true(held[i] >= 0);
    assert_true(http_send(held[i], part, strlen(part), 1000));
  }
  usleep(200 * 1000);
  fd = http_connect(f->port);
  assert_true(fd >= 0); /* the kernel's backlog */
  assert_true(send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  rc = http_read(fd, false, false, 500, &r);
  print_message("fifth connection at the limit: %s\n", rc == -1   ? "waits"
                                                       : rc == -2 ? "closed"
                                                                  : "answered");
  assert_int_not_equal(rc, 0);
  /* one of the four completes its request and is answered */
  assert_true(send_str(held[0], "Connection: close\r\n\r\n"));
  assert_int_equal(http_read(held[0], false, true, 2000, &r), 0);
  assert_int_equal(r.status, 200);
  http_resp_free(&r);
  if (rc == -1) { /* the fifth was waiting: it is served now */
    assert_int_equal(http_read(fd, false, false, 2000, &r), 0);
    assert_string_equal(r.body, "ok\n");
    http_resp_free(&r);
  }
  close(fd);
  for (int i = 1; i < 4; i++)
    close(held[i]);
  fd = http_connect(f->port);
  assert_true(send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert_int_equal(http_read(fd, false, false, 2000, &r), 0);
  assert_int_equal(r.status, 200);
  http_resp_free(&r);
  close(fd);
  fx_stop(f);
}

/* A connection idle mid-request is closed at the idle timeout (1 s here),
 * also one whose FIN came with its last bytes (libmicrohttpd 0.9.75 does
 * not see that EOF before the timeout: the bound is what matters). */
static void test_http_idle_timeout(void **state) {
  fx *f = fx_start(0, 1);
  int idle = http_connect(f->port), eof = http_connect(f->port);
  int64_t t0 = http_now_ms();
  http_resp r;

  (void)state;
  assert_true(idle >= 0 && eof >= 0);
  assert_true(send_str(idle, "GET /metrics HTTP/1.1\r\nHost: x"));
  assert_true(send_str(eof, "GET /metrics HTTP/1.1\r\nHost: x"));
  assert_int_equal(shutdown(eof, SHUT_WR), 0);
  assert_int_equal(http_read(idle, false, false, 3000, &r), -2);
  assert_int_equal(http_read(eof, false, false, 3000, &r), -2);
  print_message("idle connections closed after %lld ms\n",
                (long long)(http_now_ms() - t0));
  assert_true(http_now_ms() - t0 < 2500);
  assert_true(http_now_ms() - t0 >= 900);
  close(idle);
  close(eof);
  fx_stop(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_http_metrics_200, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_head, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_keep_alive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_healthz, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_404, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_405, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_render_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_huge_header, setup, teardown),
      cmocka_unit_test_setup_teardown(test_http_slow_client, setup, teardown),
      cmocka_unit_test(test_http_connection_limit),
      cmocka_unit_test(test_http_idle_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
