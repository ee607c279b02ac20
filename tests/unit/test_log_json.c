/* Logging, the JSON format and the peer, through a capturing sink: exact
 * fields and bytes, hostile messages still one valid JSON line, the cuts,
 * the out-of-memory fallback to text. test_log_env.c runs the stderr sink
 * and the environment variables in child processes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "log_check.h"
#include "log_internal.h"
#include "netfw/netfw.h"

#define MAX_LINES 16

typedef struct captured {
  int count;
  netfw_log_level levels[MAX_LINES];
  char lines[MAX_LINES][8192];
} captured;

static captured cap; /* 128 KB: too big for the stack */

/* The test sink: keeps the first MAX_LINES lines. */
static void capture(netfw_log_level level, const char *line, void *arg) {
  captured *c = arg;
  if (c->count < MAX_LINES) {
    c->levels[c->count] = level;
    snprintf(c->lines[c->count], sizeof(c->lines[0]), "%s", line);
  }
  c->count++;
}

/* JSON lines into cap, everything logged. */
static int setup_json(void **state) {
  (void)state;
  memset(&cap, 0, sizeof(cap));
  netfw_log_set_sink(capture, &cap);
  netfw_log_set_level(NETFW_LOG_DEBUG);
  netfw_log_set_format(NETFW_LOG_JSON);
  return 0;
}

/* Text lines into cap. */
static int setup_text(void **state) {
  setup_json(state);
  netfw_log_set_format(NETFW_LOG_TEXT);
  return 0;
}

/* Back to the defaults. */
static int teardown(void **state) {
  (void)state;
  json_set_alloc_funcs(malloc, free);
  netfw_log_set_sink(NULL, NULL);
  netfw_log_set_level(NETFW_LOG_INFO);
  netfw_log_set_format(NETFW_LOG_TEXT);
  return 0;
}

/* ---- through a sink ---- */

static void test_log_json_fields_without_peer(void **state) {
  (void)state;
  netfw_log(NETFW_LOG_INFO, "worker %d started", 3);
  assert_int_equal(cap.count, 1);
  assert_int_equal(cap.levels[0], NETFW_LOG_INFO);
  json_decref(
      assert_record(cap.lines[0], getpid(), "info", "worker 3 started", NULL));
}

/* The whole line, byte for byte (the time taken from the line itself). */
static void test_log_json_peer_exact_bytes(void **state) {
  char want[512];
  json_t *o;
  (void)state;
  netfw_log_peer(NETFW_LOG_WARN, "1.2.3.4:5678", "bad frame %u", 7u);
  assert_int_equal(cap.count, 1);
  o = assert_record(cap.lines[0], getpid(), "warn", "bad frame 7",
                    "1.2.3.4:5678");
  snprintf(want, sizeof(want),
           "{\"time\":\"%s\",\"pid\":%ld,\"level\":\"warn\",\"msg\":"
           "\"bad frame 7\",\"peer\":\"1.2.3.4:5678\"}",
           json_string_value(json_object_get(o, "time")), (long)getpid());
  assert_string_equal(cap.lines[0], want);
  json_decref(o);
}

static void test_log_json_levels_lowercase(void **state) {
  static const char *const want[] = {"error", "warn", "info", "debug"};
  (void)state;
  for (int l = NETFW_LOG_ERROR; l <= NETFW_LOG_DEBUG; l++)
    netfw_log((netfw_log_level)l, "at %d", l);
  assert_int_equal(cap.count, 4);
  for (int l = 0; l < 4; l++) {
    char msg[16];
    snprintf(msg, sizeof(msg), "at %d", l);
    assert_int_equal(cap.levels[l], l);
    json_decref(assert_record(cap.lines[l], getpid(), want[l], msg, NULL));
  }
}

/* A NULL or empty peer is no peer, in both formats. */
static void test_log_peer_null_or_empty_is_none(void **state) {
  char want[64];
  (void)state;
  netfw_log_peer(NETFW_LOG_ERROR, NULL, "a");
  netfw_log_peer(NETFW_LOG_ERROR, "", "b");
  json_decref(assert_record(cap.lines[0], getpid(), "error", "a", NULL));
  json_decref(assert_record(cap.lines[1], getpid(), "error", "b", NULL));
  netfw_log_set_format(NETFW_LOG_TEXT);
  netfw_log_peer(NETFW_LOG_ERROR, NULL, "c");
  netfw_log_peer(NETFW_LOG_ERROR, "", "d");
  assert_int_equal(cap.count, 4);
  snprintf(want, sizeof(want), "[%ld] ERROR: c", (long)getpid());
  assert_string_equal(cap.lines[2], want);
  snprintf(want, sizeof(want), "[%ld] ERROR: d", (long)getpid());
  assert_string_equal(cap.lines[3], want);
}

static void test_log_text_with_peer_exact(void **state) {
  char want[64];
  (void)state;
  netfw_log_peer(NETFW_LOG_WARN, "1.2.3.4:5", "msg");
  assert_int_equal(cap.count, 1);
  snprintf(want, sizeof(want), "[%ld] WARN: 1.2.3.4:5: msg", (long)getpid());
  assert_string_equal(cap.lines[0], want);
}

/* The runtime's own lines whose message names the peer: text unchanged,
 * JSON with the peer field too. */
static void test_log_about_keeps_text_adds_peer(void **state) {
  char want[96];
  (void)state;
  netfw__log_about(NETFW_LOG_WARN, "1.2.3.4:5",
                   "proxy: connection from %s refused: %s", "1.2.3.4:5",
                   "no header");
  json_decref(assert_record(cap.lines[0], getpid(), "warn",
                            "proxy: connection from 1.2.3.4:5 refused: "
                            "no header",
                            "1.2.3.4:5"));
  netfw_log_set_format(NETFW_LOG_TEXT);
  netfw__log_about(NETFW_LOG_WARN, "1.2.3.4:5", "tls: x with %s", "1.2.3.4:5");
  snprintf(want, sizeof(want), "[%ld] WARN: tls: x with 1.2.3.4:5",
           (long)getpid());
  assert_string_equal(cap.lines[1], want);
}

/* Quotes, backslashes, newlines, control bytes and invalid UTF-8 (each
 * byte that starts no valid sequence becomes U+FFFD) in the message and in
 * the peer: one line, valid JSON, the text decoded exactly. */
static void test_log_json_hostile_bytes(void **state) {
#define FFFD "\xef\xbf\xbd"
  static const char in[] = "q\"b\\n\nt\tc\x01\x1f\x7f|\xff|\xc3|\xc0\xaf|"
                           "\xed\xa0\x80|caf\xc3\xa9 \xf0\x9f\x98\x80|"
                           "\xf0\x9f\x98";
  static const char want[] =
      "q\"b\\n\nt\tc\x01\x1f\x7f|" FFFD "|" FFFD "|" FFFD FFFD
      "|" FFFD FFFD FFFD "|caf\xc3\xa9 \xf0\x9f\x98\x80|" FFFD FFFD FFFD;
  (void)state;
  netfw_log_peer(NETFW_LOG_WARN, "p\xfe\"\n", "%s", in);
  assert_int_equal(cap.count, 1);
  for (const char *p = cap.lines[0]; *p != '\0'; p++)
    assert_true((unsigned char)*p >= 0x20);
  json_decref(
      assert_record(cap.lines[0], getpid(), "warn", want, "p" FFFD "\"\n"));
#undef FFFD
}

/* Escaping makes this message six times longer: the line is cut to fit
 * PIPE_BUF with its newline, at the longest prefix that fits. */
static void test_log_json_escaped_message_fits_pipe_buf(void **state) {
  char big[2000];
  size_t len, fixed;
  json_t *o;
  (void)state;
  memset(big, '\x01', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  netfw_log(NETFW_LOG_INFO, "%s", big);
  netfw_log(NETFW_LOG_INFO, "%s", "");
  assert_int_equal(cap.count, 2);
  len = strlen(cap.lines[0]);
  fixed = strlen(cap.lines[1]); /* the same line with an empty msg */
  o = json_loads(cap.lines[0], 0, NULL);
  assert_non_null(o);
  /* each \x01 is "\u0001": (4095 - fixed) / 6 of them fit */
  assert_int_equal(strlen(json_string_value(json_object_get(o, "msg"))),
                   (4095 - fixed) / 6);
  assert_true(len <= 4095 && len > 4095 - 6);
  json_decref(o);
}

/* A long plain message is cut at 1023 bytes, as in text. */
static void test_log_json_long_message_cut_at_1023(void **state) {
  char big[3000];
  json_t *o;
  (void)state;
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  netfw_log(NETFW_LOG_ERROR, "%s", big);
  o = json_loads(cap.lines[0], 0, NULL);
  assert_non_null(o);
  assert_int_equal(strlen(json_string_value(json_object_get(o, "msg"))), 1023);
  json_decref(o);
}

static int alloc_budget; /* allocations jansson may still make */

/* malloc for jansson that fails once the budget is spent. */
static void *budget_malloc(size_t n) {
  if (alloc_budget <= 0)
    return NULL;
  alloc_budget--;
  return malloc(n);
}

/* Out of memory at each of jansson's allocations in turn: every line is
 * the whole JSON record or, when jansson failed, the exact text line;
 * nothing leaks (ASan, valgrind). */
static void test_log_json_out_of_memory_falls_back_to_text(void **state) {
  char text[96];
  int budget, texts = 0;
  (void)state;
  snprintf(text, sizeof(text), "[%ld] WARN: 1.2.3.4:5: kept 1", (long)getpid());
  for (budget = 0; budget < 64; budget++) {
    memset(&cap, 0, sizeof(cap));
    alloc_budget = budget;
    json_set_alloc_funcs(budget_malloc, free);
    netfw_log_peer(NETFW_LOG_WARN, "1.2.3.4:5", "kept %d", 1);
    json_set_alloc_funcs(malloc, free);
    assert_int_equal(cap.count, 1);
    if (cap.lines[0][0] == '{') {
      json_decref(
          assert_record(cap.lines[0], getpid(), "warn", "kept 1", "1.2.3.4:5"));
      break;
    }
    assert_string_equal(cap.lines[0], text);
    texts++;
  }
  assert_true(texts >= 5); /* object, 5 values, their slots */
  assert_true(budget < 64);
}

/* errno is what it was before the call. */
static void test_log_keeps_errno(void **state) {
  (void)state;
  errno = EBADF;
  netfw_log(NETFW_LOG_ERROR, "x");
  assert_int_equal(errno, EBADF);
}

/* The format API ignores values outside the enum. */
static void test_log_set_format_ignores_bad_value(void **state) {
  (void)state;
  netfw_log_set_format((netfw_log_format)7);
  assert_int_equal(netfw_log_get_format(), NETFW_LOG_JSON);
  netfw_log_set_format(NETFW_LOG_TEXT);
  assert_int_equal(netfw_log_get_format(), NETFW_LOG_TEXT);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_log_json_fields_without_peer,
                                      setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_json_peer_exact_bytes,
                                      setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_json_levels_lowercase,
                                      setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_peer_null_or_empty_is_none,
                                      setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_text_with_peer_exact, setup_text,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_log_about_keeps_text_adds_peer,
                                      setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_json_hostile_bytes, setup_json,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_log_json_escaped_message_fits_pipe_buf, setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_json_long_message_cut_at_1023,
                                      setup_json, teardown),
      cmocka_unit_test_setup_teardown(
          test_log_json_out_of_memory_falls_back_to_text, setup_json, teardown),
      cmocka_unit_test_setup_teardown(test_log_keeps_errno, setup_json,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_log_set_format_ignores_bad_value,
                                      setup_json, teardown),
  };

  (void)argc;
  (void)argv;
  return cmocka_run_group_tests_name("log_json", tests, NULL, NULL);
}
