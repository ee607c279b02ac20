/* Logging: threshold filtering, the sink, the line format, the env var. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfw/netfw.h"

typedef struct captured {
  int count;
  netfw_log_level levels[8];
  char lines[8][256];
} captured;

static void capture(netfw_log_level level, const char *line, void *arg) {
  captured *c = arg;
  if (c->count < 8) {
    c->levels[c->count] = level;
    snprintf(c->lines[c->count], sizeof(c->lines[0]), "%s", line);
  }
  c->count++;
}

static int teardown(void **state) {
  netfw_log_set_sink(NULL, NULL);
  netfw_log_set_level(NETFW_LOG_INFO);
  return 0;
}

static void test_log_sink_gets_formatted_line(void **state) {
  captured c = {0};
  char want[128];
  netfw_log_set_sink(capture, &c);
  netfw_log_set_level(NETFW_LOG_DEBUG);
  netfw_log(NETFW_LOG_INFO, "worker %d started", 3);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.levels[0], NETFW_LOG_INFO);
  snprintf(want, sizeof(want), "[%ld] INFO: worker 3 started", (long)getpid());
  assert_string_equal(c.lines[0], want);
}

static void test_log_level_filtering(void **state) {
  captured c = {0};
  netfw_log_set_sink(capture, &c);
  netfw_log_set_level(NETFW_LOG_WARN);
  netfw_log(NETFW_LOG_DEBUG, "d");
  netfw_log(NETFW_LOG_INFO, "i");
  netfw_log(NETFW_LOG_WARN, "w");
  netfw_log(NETFW_LOG_ERROR, "e");
  assert_int_equal(c.count, 2);
  assert_int_equal(c.levels[0], NETFW_LOG_WARN);
  assert_int_equal(c.levels[1], NETFW_LOG_ERROR);
  assert_non_null(strstr(c.lines[0], "] WARN: w"));
  assert_non_null(strstr(c.lines[1], "] ERROR: e"));
  netfw_log_set_level(NETFW_LOG_ERROR);
  assert_int_equal(netfw_log_get_level(), NETFW_LOG_ERROR);
  netfw_log(NETFW_LOG_WARN, "w2");
  assert_int_equal(c.count, 2);
}

static void test_log_long_message_is_truncated_not_overflowed(void **state) {
  captured c = {0};
  char big[4000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  netfw_log_set_sink(capture, &c);
  netfw_log(NETFW_LOG_ERROR, "%s", big);
  assert_int_equal(c.count, 1);
  assert_non_null(strstr(c.lines[0], "ERROR: xxx"));
}

static void test_log_level_names(void **state) {
  assert_string_equal(netfw_log_level_name(NETFW_LOG_ERROR), "ERROR");
  assert_string_equal(netfw_log_level_name(NETFW_LOG_WARN), "WARN");
  assert_string_equal(netfw_log_level_name(NETFW_LOG_INFO), "INFO");
  assert_string_equal(netfw_log_level_name(NETFW_LOG_DEBUG), "DEBUG");
}

static const char *self_path; /* argv[0]: /proc/self/exe is valgrind under it */

/* The env var is read once, on first use: check it in a fresh process. */
static void test_log_level_from_env(void **state) {
  static const struct {
    const char *value;
    const char *expect;
  } cases[] = {{"debug", "3"}, {"error", "0"}, {"WARN", "1"}, {"2", "2"},
               {"bogus", "2"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char cmd[512];
    char out[16] = {0};
    FILE *p;
    snprintf(cmd, sizeof(cmd), "NETFW_LOG_LEVEL=%s '%s' --print-level",
             cases[i].value, self_path);
    p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(out, sizeof(out), p));
    assert_int_equal(pclose(p), 0);
    out[strcspn(out, "\n")] = '\0';
    assert_string_equal(out, cases[i].expect);
  }
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_log_sink_gets_formatted_line, teardown),
      cmocka_unit_test_teardown(test_log_level_filtering, teardown),
      cmocka_unit_test_teardown(test_log_long_message_is_truncated_not_overflowed,
                                teardown),
      cmocka_unit_test(test_log_level_names),
      cmocka_unit_test(test_log_level_from_env),
  };
  self_path = argv[0];
  if (argc == 2 && strcmp(argv[1], "--print-level") == 0) {
    printf("%d\n", (int)netfw_log_get_level());
    return 0;
  }
  return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
