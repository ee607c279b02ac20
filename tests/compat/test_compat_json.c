/* --check-compat --format json: the exact document for a breaking change
 * with a note, a compatible change with a warning, no finding at all, and
 * schemas with errors; paths as given; an unreadable file (status 2, no
 * report). Each report is parsed back with jansson and its values checked
 * one by one, and the bytes of one are compared whole. Also the two
 * versions the cross-version wire tests exchange (tests/evolve): the
 * checker must find them compatible, and the way back breaking. */
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

#include "compat/compat.h"

#ifndef NETFW_COMPAT_CASES
#error "NETFW_COMPAT_CASES must be defined"
#endif

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must be defined"
#endif

#define CASE(name) NETFW_COMPAT_CASES "/" name
#define EVOLVE(name) NETFW_SOURCE_DIR "/tests/evolve/" name

/* The parsed JSON report of old -> new; *status gets the exit status. */
static json_t *run_json(const char *old_path, const char *new_path,
                        int *status) {
  gen_buf out = {0}, err = {0};
  json_error_t jerr;
  json_t *root;

  *status = gen_compat_run(old_path, new_path, GEN_COMPAT_JSON, &out, &err);
  assert_int_equal(err.len, 0);
  assert_non_null(out.data);
  root = json_loads(out.data, 0, &jerr);
  if (root == NULL)
    fail_msg("does not parse: %s: %s", jerr.text, out.data);
  gen_buf_free(&out);
  return root;
}

static const char *str(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  assert_true(json_is_string(v));
  return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

/* One finding's members, note included (NULL note_file: none). */
static void expect_finding(json_t *f, const char *severity, const char *rule,
                           const char *file, int line, int col,
                           const char *message, const char *note_file,
                           int note_line, int note_col, const char *note) {
  json_t *n = json_object_get(f, "note");

  assert_string_equal(str(f, "severity"), severity);
  assert_string_equal(str(f, "rule"), rule);
  assert_string_equal(str(f, "file"), file);
  assert_int_equal(num(f, "line"), line);
  assert_int_equal(num(f, "col"), col);
  assert_string_equal(str(f, "message"), message);
  if (note_file == NULL) {
    assert_null(n);
    assert_int_equal(json_object_size(f), 6);
    return;
  }
  assert_int_equal(json_object_size(f), 7);
  assert_true(json_is_object(n));
  assert_int_equal(json_object_size(n), 4);
  assert_string_equal(str(n, "file"), note_file);
  assert_int_equal(num(n, "line"), note_line);
  assert_int_equal(num(n, "col"), note_col);
  assert_string_equal(str(n, "message"), note);
}

static void test_compat_json_breaking(void **state) {
  const char *o = CASE("09-message-id-changed/old.netproto");
  const char *n = CASE("09-message-id-changed/new.netproto");
  int status;
  json_t *r = run_json(o, n, &status);
  json_t *f = json_object_get(r, "findings");

  (void)state;
  assert_int_equal(status, GEN_COMPAT_BREAKING);
  assert_int_equal(json_object_size(r), 6);
  assert_true(json_is_false(json_object_get(r, "compatible")));
  assert_string_equal(str(r, "old"), o); /* paths as given */
  assert_string_equal(str(r, "new"), n);
  assert_int_equal(num(r, "errors"), 1);
  assert_int_equal(num(r, "warnings"), 0);
  assert_int_equal(json_array_size(f), 1);
  expect_finding(json_array_get(f, 0), "error", "message-id-changed", n, 3, 16,
                 "message 'Ping' changed its id from 1 to 7", o, 3, 16,
                 "was id 1");
  json_decref(r);
}

/* The bytes of a whole report: one line, members in this order. */
static void test_compat_json_bytes(void **state) {
  static const char want[] =
      "{\"compatible\":false,\"old\":\"old.netproto\",\"new\":"
      "\"new.netproto\",\"errors\":1,\"warnings\":1,\"findings\":["
      "{\"severity\":\"error\",\"rule\":\"enum-closed\",\"file\":"
      "\"new.netproto\",\"line\":3,\"col\":6,\"message\":\"enum 'Mode' is no "
      "longer open: new peers refuse values old peers may send\",\"note\":{"
      "\"file\":\"old.netproto\",\"line\":3,\"col\":16,\"message\":\"was "
      "open\"}},"
      "{\"severity\":\"warning\",\"rule\":\"enum-opened\",\"file\":"
      "\"new.netproto\",\"line\":7,\"col\":16,\"message\":\"enum 'Kind' is "
      "now open (its C type becomes its underlying integer)\",\"note\":{"
      "\"file\":\"old.netproto\",\"line\":7,\"col\":6,\"message\":\"was "
      "closed\"}}]}\n";
  gen_buf out = {0}, err = {0};
  int status;

  (void)state;
  assert_int_equal(chdir(CASE("23-enum-open-closed")), 0);
  status = gen_compat_run("old.netproto", "new.netproto", GEN_COMPAT_JSON, &out,
                          &err);
  assert_int_equal(status, GEN_COMPAT_BREAKING);
  assert_string_equal(out.data, want);
  assert_int_equal(err.len, 0);
  gen_buf_free(&out);
}

static void test_compat_json_warning_only(void **state) {
  const char *o = CASE("31-open-enum-constant-removed/old.netproto");
  const char *n = CASE("31-open-enum-constant-removed/new.netproto");
  int status;
  json_t *r = run_json(o, n, &status);
  json_t *f = json_object_get(r, "findings");

  (void)state;
  assert_int_equal(status, GEN_COMPAT_OK);
  assert_true(json_is_true(json_object_get(r, "compatible")));
  assert_int_equal(num(r, "errors"), 0);
  assert_int_equal(num(r, "warnings"), 1);
  assert_int_equal(json_array_size(f), 1);
  expect_finding(json_array_get(f, 0), "warning", "enum-constant-removed", n, 3,
                 6, "constant 'FAIL' (1) removed from open enum 'Rc'", o, 5, 5,
                 "was 'FAIL = 1'");
  json_decref(r);
}

static void test_compat_json_nothing(void **state) {
  int status;
  json_t *r = run_json(CASE("01-doc-comments/old.netproto"),
                       CASE("01-doc-comments/new.netproto"), &status);

  (void)state;
  assert_int_equal(status, GEN_COMPAT_OK);
  assert_true(json_is_true(json_object_get(r, "compatible")));
  assert_int_equal(num(r, "errors"), 0);
  assert_int_equal(num(r, "warnings"), 0);
  assert_true(json_is_array(json_object_get(r, "findings")));
  assert_int_equal(json_array_size(json_object_get(r, "findings")), 0);
  json_decref(r);
}

/* A schema's own errors are findings "schema-error", without a note. */
static void test_compat_json_schema_errors(void **state) {
  const char *o = CASE("30-schema-errors/old.netproto");
  const char *n = CASE("30-schema-errors/new.netproto");
  int status;
  json_t *r = run_json(o, n, &status);
  json_t *f = json_object_get(r, "findings");

  (void)state;
  assert_int_equal(status, GEN_COMPAT_BREAKING);
  assert_true(json_is_false(json_object_get(r, "compatible")));
  assert_int_equal(num(r, "errors"), 2);
  assert_int_equal(num(r, "warnings"), 0);
  assert_int_equal(json_array_size(f), 2);
  expect_finding(json_array_get(f, 0), "error", "schema-error", n, 5, 5,
                 "unknown type 'Nope'", NULL, 0, 0, NULL);
  expect_finding(json_array_get(f, 1), "error", "schema-error", n, 8, 16,
                 "duplicate message id 1 (also used by 'Ping' at 3:9)", NULL, 0,
                 0, NULL);
  json_decref(r);
}

/* A missing file: status 2, the reason on err, no report at all. */
static void test_compat_json_missing_file(void **state) {
  gen_buf out = {0}, err = {0};
  int status;

  (void)state;
  status = gen_compat_run("/nonexistent/old.netproto",
                          CASE("01-doc-comments/new.netproto"), GEN_COMPAT_JSON,
                          &out, &err);
  assert_int_equal(status, GEN_COMPAT_IO);
  assert_int_equal(out.len, 0);
  assert_string_equal(err.data, "netfw-gen: cannot open "
                                "/nonexistent/old.netproto: No such file or "
                                "directory\n");
  gen_buf_free(&err);
}

/* v1 -> v2 of tests/evolve: compatible, the only finding the protocol
 * prefix the tests give each version; v2 -> v1 is a downgrade. */
static void test_compat_json_evolve_pair(void **state) {
  const char *v1 = EVOLVE("evolve_v1.netproto");
  const char *v2 = EVOLVE("evolve_v2.netproto");
  int status;
  json_t *r = run_json(v1, v2, &status);
  json_t *f = json_object_get(r, "findings");

  (void)state;
  assert_int_equal(status, GEN_COMPAT_OK);
  assert_int_equal(num(r, "errors"), 0);
  assert_int_equal(num(r, "warnings"), 1);
  assert_string_equal(str(json_array_get(f, 0), "rule"), "protocol-renamed");
  json_decref(r);
  r = run_json(v2, v1, &status);
  assert_int_equal(status, GEN_COMPAT_BREAKING);
  assert_true(num(r, "errors") > 0);
  assert_string_equal(
      str(json_array_get(json_object_get(r, "findings"), 1), "rule"),
      "message-removed"); /* Extra, only in v2 */
  json_decref(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compat_json_breaking),
      cmocka_unit_test(test_compat_json_bytes),
      cmocka_unit_test(test_compat_json_warning_only),
      cmocka_unit_test(test_compat_json_nothing),
      cmocka_unit_test(test_compat_json_schema_errors),
      cmocka_unit_test(test_compat_json_missing_file),
      cmocka_unit_test(test_compat_json_evolve_pair),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
