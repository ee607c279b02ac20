/* Where the metrics endpoint listens: netfw__metrics_addr_parse on good
 * and bad "HOST:PORT" strings, and the HTTP core's start on a port in use
 * (NETFW_EADDRINUSE, logged with the address and strerror), on a name, and
 * without a listening socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "http.h"
#include "metrics.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "text.h"

/* Never called: nothing connects. */
static int render(void *arg, int what, netfw__text *out) {
  (void)arg, (void)what, (void)out;
  return 0;
}

/* Never called: nothing connects. */
static bool healthy(void *arg) {
  (void)arg;
  return true;
}

/* Log lines at ERROR, kept for the assertions below. */
static char logged[1024];
static void log_sink(netfw_log_level level, const char *line, void *arg) {
  (void)arg;
  if (level == NETFW_LOG_ERROR)
    snprintf(logged, sizeof(logged), "%s", line);
}

/* Starts a core on host:port on loop (not run); returns the result. */
static int try_start(uv_loop_t *loop, const char *host, uint16_t port,
                     netfw__http **h) {
  netfw__http_config cfg = {
      .host = host, .port = port, .render = render, .healthy = healthy};

  return netfw__http_start(loop, &cfg, h);
}

/* A port already taken by another core: NETFW_EADDRINUSE, logged with the
 * address and strerror (IPv4, and IPv6 where the loopback has it); a
 * name; no listening socket at all. */
static void test_http_addr_in_use(void **state) {
  uv_loop_t loop;
  netfw__http *a, *b;
  char want[64];
  uint16_t port;

  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  netfw_log_set_sink(log_sink, NULL);
  assert_int_equal(try_start(&loop, "127.0.0.1", 0, &a), 0);
  port = netfw__http_port(a);
  logged[0] = '\0';
  assert_int_equal(try_start(&loop, "127.0.0.1", port, &b), NETFW_EADDRINUSE);
  assert_null(b);
  snprintf(want, sizeof(want), "127.0.0.1:%u: Address already in use",
           (unsigned)port);
  assert_non_null(strstr(logged, want));
  assert_non_null(strstr(logged, "metrics"));
  netfw__http_stop(a);
  assert_int_equal(try_start(&loop, "localhost", 0, &a), 0);
  assert_true(netfw__http_port(a) > 0);
  netfw__http_stop(a);
  /* IPv6, where the loopback has it: the log brackets the address */
  if (try_start(&loop, "::1", 0, &a) == 0) {
    port = netfw__http_port(a);
    assert_int_equal(try_start(&loop, "::1", port, &b), NETFW_EADDRINUSE);
    snprintf(want, sizeof(want), "[::1]:%u: Address already in use",
             (unsigned)port);
    assert_non_null(strstr(logged, want));
    netfw__http_stop(a);
  } else {
    print_message("no IPv6 loopback: the [::1] case is skipped\n");
  }
  assert_int_equal(try_start(&loop, NULL, 0, &a), 0); /* no socket */
  assert_int_equal(netfw__http_port(a), 0);
  netfw__http_stop(a);
  netfw__http_stop(NULL);
  netfw_log_set_sink(NULL, NULL);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
}

/* netfw__metrics_addr_parse: good and bad "HOST:PORT" strings. */
static void test_http_addr_parse(void **state) {
  static const struct {
    const char *addr, *host;
    int port;
  } good[] = {{"127.0.0.1:9464", "127.0.0.1", 9464},
              {"[::1]:0", "::1", 0},
              {"[::]:65535", "::", 65535},
              {"0.0.0.0:1", "0.0.0.0", 1},
              {"localhost:80", "localhost", 80},
              {"my-host.example_1:00080", "my-host.example_1", 80},
              {"[fe80::1%eth0]:9", "fe80::1%eth0", 9}};
  static const char *const bad[] = {"host:",          ":9",
                                    "1.2.3.4:70000",  "1.2.3.4:65536",
                                    "1.2.3.4",        "",
                                    "::1:80",         "[::1]",
                                    "[::1]80",        "[::1:80",
                                    "[]:80",          "1.2.3.4:+80",
                                    "1.2.3.4:-1",     "1.2.3.4: 80",
                                    "1.2.3.4:80 ",    " 1.2.3.4:80",
                                    "1.2.3.4:080080", "1.2.3.4:0x50",
                                    "a b:80",         "h/x:80",
                                    "[::1]:",         "1.2.3.4:80:80"};
  char host[64];
  uint16_t port;

  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    memset(host, 'x', sizeof(host));
    port = 1234;
    if (netfw__metrics_addr_parse(good[i].addr, host, sizeof(host), &port))
      fail_msg("\"%s\" refused", good[i].addr);
    assert_string_equal(host, good[i].host);
    assert_int_equal(port, good[i].port);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (netfw__metrics_addr_parse(bad[i], host, sizeof(host), &port) !=
        NETFW_EINVAL)
      fail_msg("\"%s\" accepted", bad[i]);
  assert_int_equal(netfw__metrics_addr_parse(NULL, host, sizeof(host), &port),
                   NETFW_EINVAL);
  /* the host must fit with its NUL */
  assert_int_equal(netfw__metrics_addr_parse("abcd:1", host, 4, &port),
                   NETFW_EINVAL);
  assert_int_equal(netfw__metrics_addr_parse("abc:1", host, 4, &port), 0);
  assert_string_equal(host, "abc");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_addr_in_use),
      cmocka_unit_test(test_http_addr_parse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
