/* netfw_config_check and netfw_server_new's refusals (issue 22, item 3):
 * every bad config gets NETFW_EINVAL and a one-line reason naming the field
 * and its value, and netfw_server_new logs that same reason at ERROR before
 * it returns NULL. Also what a server bound with ip = NULL says it bound
 * (item 10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netdb.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netfw/netfw.h"

static void on_message(void *app, netfw_owned_msg *m) {
  (void)app;
  (void)m;
}

static const netfw_app app = {.on_message = on_message};
static const netfw_app app_no_message = {.on_message = NULL};

/* The last line logged, and its level. */
static char last_line[2048];
static int last_level = -1;
static int lines;

static char started_line[512]; /* the last "server started" line */

static void sink(netfw_log_level level, const char *line, void *arg) {
  (void)arg;
  if (strstr(line, "server started:") != NULL)
    snprintf(started_line, sizeof(started_line), "%s", line);
  snprintf(last_line, sizeof(last_line), "%s", line);
  last_level = (int)level;
  lines++;
}

static int setup(void **state) {
  (void)state;
  last_line[0] = '\0';
  last_level = -1;
  lines = 0;
  netfw_log_set_format(NETFW_LOG_TEXT);
  netfw_log_set_sink(sink, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  netfw_log_set_sink(NULL, NULL);
  return 0;
}

/* Asserts that cfg is refused with exactly `want`, by netfw_config_check
 * (code and text) and by netfw_server_new (NULL, one ERROR line ending in
 * "netfw_server_new: <want>"). */
static void expect_refused(const netfw_config *cfg, const char *want) {
  char why[512], tail[600];
  size_t n;

  memset(why, 'x', sizeof(why));
  assert_int_equal(netfw_config_check(cfg, why, sizeof(why)), NETFW_EINVAL);
  assert_string_equal(why, want);
  assert_int_equal(netfw_config_check(cfg, NULL, 0), NETFW_EINVAL);

  lines = 0;
  assert_null(netfw_server_new(cfg));
  assert_int_equal(lines, 1);
  assert_int_equal(last_level, NETFW_LOG_ERROR);
  snprintf(tail, sizeof(tail), "ERROR: netfw_server_new: %s", want);
  n = strlen(last_line);
  assert_true(n >= strlen(tail));
  assert_string_equal(last_line + n - strlen(tail), tail);
}

static void test_server_config_check_default_ok(void **state) {
  netfw_config cfg;
  char why[64] = "junk";
  netfw_server *s;

  (void)state;
  netfw_config_init(&cfg, &app);
  assert_int_equal(netfw_config_check(&cfg, why, sizeof(why)), 0);
  assert_string_equal(why, "");
  assert_int_equal(netfw_config_check(&cfg, NULL, 0), 0);
  cfg.worker_num = 0; /* one per CPU */
  cfg.listen_fd = -1;
  cfg.bus_url = "local";
  cfg.proxy_from = "127.0.0.1/32,::1/128";
  cfg.metrics_addr = "127.0.0.1:0";
  assert_int_equal(netfw_config_check(&cfg, why, sizeof(why)), 0);
  lines = 0;
  s = netfw_server_new(&cfg);
  assert_non_null(s);
  assert_int_equal(lines, 0);
  netfw_server_free(s);
}

static void test_server_config_check_null(void **state) {
  char why[64];

  (void)state;
  assert_int_equal(netfw_config_check(NULL, why, sizeof(why)), NETFW_EINVAL);
  assert_string_equal(why, "the config is NULL");
  lines = 0;
  assert_null(netfw_server_new(NULL));
  assert_int_equal(lines, 1);
  assert_int_equal(last_level, NETFW_LOG_ERROR);
  assert_non_null(strstr(last_line, "netfw_server_new: the config is NULL"));
}

/* One field set to a bad value, and the reason expected for it. */
typedef struct bad_case {
  void (*set)(netfw_config *cfg);
  const char *why;
} bad_case;

static void no_app(netfw_config *c) { c->app = NULL; }
static void no_on_message(netfw_config *c) { c->app = &app_no_message; }
static void workers(netfw_config *c) { c->worker_num = -1; }
static void idle(netfw_config *c) { c->idle_timeout_ms = -5; }
static void max_conns(netfw_config *c) { c->max_connections = -1; }
static void drain(netfw_config *c) { c->drain_timeout_ms = -2; }
static void frame(netfw_config *c) { c->frame_timeout_ms = -30000; }
static void output0(netfw_config *c) { c->max_output = 0; }
static void output_big(netfw_config *c) {
  c->max_output = (size_t)INT32_MAX + 1;
}
static void bus_queue0(netfw_config *c) { c->bus_queue = 0; }
static void listen_neg(netfw_config *c) { c->listen_fd = -2; }
static void listen_reuse(netfw_config *c) {
  c->listen_fd = 7;
  c->reuseport = true;
}
static void bus_url(netfw_config *c) { c->bus_url = "http://x:1"; }
static void proxy_from(netfw_config *c) { c->proxy_from = "10.0.0.0/99"; }
static void metrics(netfw_config *c) { c->metrics_addr = "nowhere"; }

static const bad_case bad[] = {
    {no_app, "app is NULL: netfw_config_init(&cfg, &app) with the "
             "application's callbacks"},
    {no_on_message, "app->on_message is NULL: the one required callback"},
    {workers, "worker_num is -1: must be >= 0 (0 = one per CPU, or a count)"},
    {idle, "idle_timeout_ms is -5: must be >= 0 (0 = off, or milliseconds)"},
    {max_conns,
     "max_connections is -1: must be >= 0 (0 = no limit, or a count)"},
    {drain, "drain_timeout_ms is -2: must be >= 0 (0 or milliseconds)"},
    {frame,
     "frame_timeout_ms is -30000: must be >= 0 (0 = off, or milliseconds)"},
    {output0, "max_output is 0: must be 1 to 2147483647 bytes"},
    {output_big, "max_output is 2147483648: must be 1 to 2147483647 bytes"},
    {bus_queue0, "bus_queue is 0: must be > 0 bytes"},
    {listen_neg,
     "listen_fd is -2: must be -1 (bind ip:port) or a listening socket"},
    {listen_reuse, "listen_fd is 7 with reuseport on: they exclude each other "
                   "(the workers share the one socket given)"},
    {bus_url, "bus_url is \"http://x:1\": neither \"local\" nor "
              "redis://HOST:PORT"},
    {proxy_from, "proxy_from: \"10.0.0.0/99\" is not an address or network "
                 "(ADDR or ADDR/BITS)"},
    {metrics, "metrics_addr is \"nowhere\": not HOST:PORT (e.g. "
              "\"127.0.0.1:9464\", \"[::1]:9464\")"},
};

static void test_server_config_check_each_field(void **state) {
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    netfw_config cfg;
    netfw_config_init(&cfg, &app);
    bad[i].set(&cfg);
    print_message("case %zu: %s\n", i, bad[i].why);
    expect_refused(&cfg, bad[i].why);
  }
}

/* The struct-size refusals (a config not filled by netfw_config_init, or
 * one from newer headers) say so, with the sizes and the version. */
static void test_server_config_check_sizes(void **state) {
  netfw_config cfg;
  char want[512];

  (void)state;
  netfw_config_init(&cfg, &app);
  cfg.size = 8;
  snprintf(want, sizeof(want),
           "netfw_config of 8 bytes cannot be used by this libnetfw (%zu "
           "bytes, %s): fill it with netfw_config_init",
           sizeof(netfw_config), NETFW_VERSION_STRING);
  expect_refused(&cfg, want);

  netfw_config_init(&cfg, &app);
  cfg.size = (uint32_t)sizeof(netfw_config) + 8;
  snprintf(want, sizeof(want),
           "netfw_config of %zu bytes cannot be used by this libnetfw (%zu "
           "bytes, %s): the program was built against newer headers; "
           "upgrade libnetfw",
           sizeof(netfw_config) + 8, sizeof(netfw_config),
           NETFW_VERSION_STRING);
  expect_refused(&cfg, want);

  netfw_config_init(&cfg, &app);
  cfg.app_size = 4;
  snprintf(want, sizeof(want),
           "netfw_app of 4 bytes is too small (at least %zu): fill the "
           "config with netfw_config_init",
           offsetof(netfw_app, on_message) + sizeof(void (*)(void)));
  expect_refused(&cfg, want);
}

/* A short buffer gets the reason cut, NUL-terminated. */
static void test_server_config_check_short_buffer(void **state) {
  netfw_config cfg;
  char why[11];

  (void)state;
  netfw_config_init(&cfg, &app);
  cfg.worker_num = -1;
  assert_int_equal(netfw_config_check(&cfg, why, sizeof(why)), NETFW_EINVAL);
  assert_string_equal(why, "worker_num");
  assert_int_equal(netfw_config_check(&cfg, why, 1), NETFW_EINVAL);
  assert_string_equal(why, "");
}

/* ip = NULL binds this host's address by its name (netframe's rule): the
 * start line names that address, not a placeholder. */
static void test_server_config_ip_null_logs_bound_address(void **state) {
  netfw_config cfg;
  netfw_server *s;
  struct addrinfo hints, *res;
  char name[256], addr[64], want[160];

  (void)state;
  assert_int_equal(gethostname(name, sizeof(name) - 1), 0);
  name[sizeof(name) - 1] = '\0';
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(name, NULL, &hints, &res) != 0) {
    print_message("skipped: this host's name %s does not resolve\n", name);
    skip();
  }
  assert_int_equal(getnameinfo(res->ai_addr, res->ai_addrlen, addr,
                               sizeof(addr), NULL, 0, NI_NUMERICHOST),
                   0);
  freeaddrinfo(res);
  netfw_config_init(&cfg, &app);
  cfg.ip = NULL;
  cfg.port = 0;
  s = netfw_server_new(&cfg);
  assert_non_null(s);
  lines = 0;
  assert_int_equal(netfw_server_start(s), 0);
  snprintf(want, sizeof(want), "INFO: server started: %s port %u, 1 worker",
           addr, (unsigned)netfw_server_port(s));
  assert_int_equal(netfw_server_stop(s, 5000), 0);
  netfw_server_free(s);
  /* the parent logs the start line itself, before any worker line lands
   * in this sink (the workers' go to their own copy of it) */
  assert_non_null(strstr(started_line, want));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_server_config_check_default_ok),
      T(test_server_config_check_null),
      T(test_server_config_check_each_field),
      T(test_server_config_check_sizes),
      T(test_server_config_check_short_buffer),
      T(test_server_config_ip_null_logs_bound_address),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
