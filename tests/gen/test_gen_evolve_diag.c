/* The schema compiler on schema evolution: the exact first diagnostic
 * (line:col and message) and the error count of every rule of the parser
 * and the checker about option version, reserved, [since N], default
 * values, present_version and extensible structs; what stays accepted; and
 * several errors in one run. docs/netproto.md section 5 lists the rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag_kit.h"
#include "file_kit.h"
#include "gen.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must be defined"
#endif

#define P "protocol p;\n"
#define V2 "option version = 2;\n"
#define V3 "option version = 3;\n"
/* Each schema has exactly one error. */
static const bad_case cases[] = {
    /* option version */
    {P "option version = 0;\nmessage M = 1 {}\n",
     "2:18: error: version must be 1..65535"},
    {P "option version = 65536;\nmessage M = 1 {}\n",
     "2:18: error: version must be 1..65535"},
    {P "option version = 99999999999999999999999;\nmessage M = 1 {}\n",
     "2:18: error: version must be 1..65535"},
    {P V2 "option version = 3;\nmessage M = 1 {}\n",
     "3:1: error: option 'version' is already set at 2:18"},
    {P "option version = two;\nmessage M = 1 {}\n",
     "2:18: error: expected a version number, found 'two'"},
    {P "option version 2;\nmessage M = 1 {}\n",
     "2:16: error: expected '=' after 'version', found '2'"},
    {P "option speed = fast;\nmessage M = 1 {}\n",
     "2:8: error: unknown option 'speed' (the options are 'endian' and "
     "'version')"},
    /* reserved */
    {P "reserved 65536;\nmessage M = 1 {}\n",
     "2:10: error: reserved id is out of range (0..65535)"},
    {P "reserved 99999999999999999999999;\nmessage M = 1 {}\n",
     "2:10: error: reserved id is out of range (0..65535)"},
    {P "reserved 4, 9, 4;\nmessage M = 1 {}\n",
     "2:16: error: message id 4 is reserved twice (also at 2:10)"},
    {P "reserved name A;\nreserved name B, A;\nmessage M = 1 {}\n",
     "3:18: error: message name 'A' is reserved twice (also at 2:15)"},
    {P "reserved 4;\nmessage M = 4 {}\n",
     "3:13: error: message id 4 of 'M' is reserved (at 2:10)"},
    {P "message M = 1 {}\nreserved name M;\n",
     "2:9: error: message name 'M' is reserved (at 3:15)"},
    {P "reserved ;\nmessage M = 1 {}\n",
     "2:10: error: expected a message id, found ';'"},
    {P "reserved 4 9;\nmessage M = 1 {}\n",
     "2:12: error: expected ';' after the reserved list, found '9'"},
    {P "reserved name 4;\nmessage M = 1 {}\n",
     "2:15: error: expected a message name, found '4'"},
    /* [since N]: its value and place */
    {P V2 "message M = 1 { u8 a [since 1]; }\n",
     "3:29: error: [since N] must be at least 2 (version 1 is the fields "
     "without [since])"},
    {P V2 "message M = 1 { u8 a [since 0]; }\n",
     "3:29: error: [since N] must be at least 2 (version 1 is the fields "
     "without [since])"},
    {P "message M = 1 { u8 a [since 2]; }\n",
     "2:29: error: [since 2] is above the protocol's version 1 (option "
     "version = 2;)"},
    {P V2 "message M = 1 { u8 a [since 99999999999999999999999]; }\n",
     "3:29: error: [since N] must be at least 2 (version 1 is the fields "
     "without [since])"},
    {P V2 "message M = 1 { u8 a [since 2]; u8 b; }\n",
     "3:36: error: field 'b' without [since] comes after 'a' [since 2]: "
     "fields added later go at the end"},
    {P V3 "message M = 1 { u8 a [since 3]; u8 b [since 2]; }\n",
     "3:45: error: field 'b' [since 2] comes after 'a' [since 3]: [since] "
     "must not decrease"},
    {P V2 "struct S { u8 a; u8 b [since 2]; }\nmessage M = 1 { S s; }\n",
     "3:30: error: struct 'S' is not extensible: only a message or an "
     "extensible struct can gain fields (struct S extensible { ... })"},
    {P V2 "struct S { u8 a; }\nmessage M = 1 { u8 x; S s [since 2]; }\n",
     "4:25: error: field 's' of struct type 'S' cannot be added later as a "
     "plain field: make it optional (absent by default)"},
    {P V2 "struct S extensible { u8 a; }\n"
          "message M = 1 { u8 x; S s [since 2]; }\n",
     "4:25: error: field 's' of struct type 'S' cannot be added later as a "
     "plain field: make it optional (absent by default)"},
    {P V2 "struct S { u8 a; }\nmessage M = 1 { u8 x; S s[2] [since 2]; }\n",
     "4:25: error: a fixed array of structs cannot be added later: make 's' "
     "repeated"},
    {P V2 "message M = 1 { u8 a [since x]; }\n",
     "3:29: error: expected a version after 'since', found 'x'"},
    {P V2 "message M = 1 { u8 a [since 2] [since 2]; }\n",
     "3:39: error: field 'a' already has [since] (at 3:29)"},
    {P V2 "message M = 1 { u8 a = 1 [size 2]; }\n",
     "3:27: error: expected 'since' (a field's [since N] comes last), found "
     "'size'"},
    {P V2 "message M = 1 { u8 a [since 2; }\n",
     "3:30: error: expected ']' after the version, found ';'"},
    /* default values: where they may go */
    {P "message M = 1 { u8 a = 3; }\n",
     "2:24: error: a default value is only used by a field added later: add "
     "[since N] to 'a'"},
    {P V2 "message M = 1 { optional u8 a = 3 [since 2]; }\n",
     "3:33: error: an optional field is absent by default: 'a' takes no "
     "default value"},
    {P V2 "message M = 1 { repeated u8 a = 3 [since 2]; }\n",
     "3:33: error: a repeated field is empty by default: 'a' takes no "
     "default value"},
    {P V2 "message M = 1 { u8 a[2] = 3 [since 2]; }\n",
     "3:27: error: a fixed array is all zeros by default: 'a' takes no "
     "default value"},
    {P V2 "struct S { u8 a; }\nmessage M = 1 { u8 x; S s = 1 [since 2]; }\n",
     "4:25: error: field 's' of struct type 'S' cannot be added later as a "
     "plain field: make it optional (absent by default)"},
    /* default values: what fits */
    {P V2 "message M = 1 { u8 a = 256 [since 2]; }\n",
     "3:24: error: default 256 does not fit u8 (0..255)"},
    {P V2 "message M = 1 { u8 a = -1 [since 2]; }\n",
     "3:24: error: default -1 does not fit u8 (0..255)"},
    {P V2 "message M = 1 { u64 a = 18446744073709551616 [since 2]; }\n",
     "3:25: error: default 18446744073709551616 does not fit u64 "
     "(0..18446744073709551615)"},
    {P V2 "message M = 1 { i8 a = -129 [since 2]; }\n",
     "3:24: error: default -129 does not fit i8 (-128..127)"},
    {P V2 "message M = 1 { i16 a = 32768 [since 2]; }\n",
     "3:25: error: default 32768 does not fit i16 (-32768..32767)"},
    {P V2 "message M = 1 { u8 a = \"x\" [since 2]; }\n",
     "3:24: error: default of 'a' must be an integer, found \"x\""},
    {P V2 "message M = 1 { u32 a = 1.5 [since 2]; }\n",
     "3:25: error: default of 'a' must be an integer, found 1.5"},
    {P V2 "message M = 1 { u8 a = true [since 2]; }\n",
     "3:24: error: default of 'a' must be an integer, found true"},
    {P V2 "message M = 1 { bool b = 1 [since 2]; }\n",
     "3:26: error: default of 'b' must be true or false, found 1"},
    {P V2 "message M = 1 { f32 r = true [since 2]; }\n",
     "3:25: error: default of 'r' must be a number, found true"},
    {P V2 "message M = 1 { f32 r = 1e39 [since 2]; }\n",
     "3:25: error: default 1e39 does not fit f32"},
    {P V2 "message M = 1 { string<u8> s = 3 [since 2]; }\n",
     "3:32: error: default of 's' must be a string, found 3"},
    {P V2 "message M = 1 { bytes b = READ [since 2]; }\n",
     "3:27: error: default of 'b' must be a string, found READ"},
    {P V2 "message M = 1 { string<u8> s = \"\\xff\" [since 2]; }\n",
     "3:32: error: default of 's' is not valid UTF-8"},
    {P V2 "message M = 1 { string<u8> s = \"\\xc0\\xaf\" [since 2]; }\n",
     "3:32: error: default of 's' is not valid UTF-8"},
    {P V2 "enum E : u8 { A = 0; }\nmessage M = 1 { u8 x; E e = B [since 2]; }\n",
     "4:29: error: default of 'e' must be a constant of enum 'E', found B"},
    {P V2 "enum E : u8 open { A = 0; }\n"
          "message M = 1 { u8 x; E e = 0 [since 2]; }\n",
     "4:29: error: default of 'e' must be a constant of enum 'E', found 0"},
    {P V2 "enum E : u8 { A = 1; }\nmessage M = 1 { u8 x; E e [since 2]; }\n",
     "4:25: error: field 'e' [since 2] needs a default: enum 'E' has no "
     "constant with value 0"},
    {P V2 "enum E : u8 { A = 1; }\nmessage M = 1 { u8 x; E e[2] [since 2]; }\n",
     "4:25: error: 'e' [since 2] would default to zeros, and enum 'E' has "
     "no constant with value 0"},
    /* default values: the literals themselves */
    {P V2 "message M = 1 { string<u8> s = \"a\\qb\" [since 2]; }\n",
     "3:34: error: unknown escape in a string (use \\\" \\\\ \\n \\t \\r "
     "\\0 or \\xHH)"},
    {P V2 "message M = 1 { string<u8> s = \"\\x4\" [since 2]; }\n",
     "3:33: error: unknown escape in a string (use \\\" \\\\ \\n \\t \\r "
     "\\0 or \\xHH)"},
    {P V2 "message M = 1 { i8 a = -x [since 2]; }\n",
     "3:25: error: expected a number after '-', found 'x'"},
    {P V2 "message M = 1 { u8 a = ; }\n",
     "3:24: error: expected a default value (a number, true, false, a string "
     "or an enum constant), found ';'"},
    /* the member present_version; the extensible prefix */
    {P V2 "message M = 1 { u8 present_version; u8 b [since 2]; }\n",
     "3:20: error: field 'present_version' collides with the member the C "
     "struct gets for its fields added with [since]"},
    {P "struct S extensible<u64> { u8 a; }\nmessage M = 1 { S s; }\n",
     "2:21: error: an extensible struct's length prefix must be u8, u16 or "
     "u32, found 'u64'"},
    {P "struct S extensible<> { u8 a; }\nmessage M = 1 { S s; }\n",
     "2:21: error: an extensible struct's length prefix must be u8, u16 or "
     "u32, found '>'"},
};

static void test_evolve_diag_bad_schemas(void **state) {
  (void)state;
  assert_int_equal(failed_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* An unterminated string eats the rest of its line: the field and the
 * message are then cut short too. */
static void test_evolve_diag_unterminated_string(void **state) {
  gen_result r;
  static const char src[] =
      P V2 "message M = 1 { string<u8> s = \"abc [since 2]; }\n";

  (void)state;
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 1);
  assert_int_equal(r.diag.errors, 3);
  assert_string_equal(
      r.diag.out.data,
      "t.netproto:3:32: error: unterminated string literal\n"
      "message M = 1 { string<u8> s = \"abc [since 2]; }\n"
      "                               ^\n"
      "t.netproto:4:1: error: expected a default value (a number, true, "
      "false, a string or an enum constant), found end of file\n\n^\n"
      "t.netproto:4:1: error: expected '}' to close 'M' (opened at 3:15)\n"
      "\n^\n");
  gen_result_free(&r);
}

/* A string default one byte longer than its u8 prefix counts, and one that
 * fits exactly. */
static void test_evolve_diag_string_default_length(void **state) {
  char src[1024];
  int errors, warnings;
  int n;

  (void)state;
  n = snprintf(src, sizeof(src), P V2 "message M = 1 { string<u8> s = \"%0256d\" "
               "[since 2]; }\n", 0);
  assert_true(n > 0 && (size_t)n < sizeof(src));
  assert_string_equal(first_line(src, &errors, &warnings),
                      "t.netproto:3:32: error: default of 's' is 256 bytes, "
                      "more than its u8 length prefix allows (255)");
  assert_int_equal(errors, 1);
  snprintf(src, sizeof(src), P V2 "message M = 1 { string<u8> s = \"%0255d\" "
           "[since 2]; bytes<u8> b = \"\\x00%0254d\" [since 2]; }\n", 0, 0);
  assert_string_equal(first_line(src, &errors, &warnings), "");
  assert_int_equal(errors, 0);
}

/* Schemas that use the new forms correctly: no error, no warning. */
static void test_evolve_diag_accepted(void **state) {
  static const char *const ok[] = {
      /* the new words are names everywhere else */
      P V2 "message M = 1 { u8 open; u8 since; u8 extensible; u8 version; "
           "u8 reserved; u8 name; u8 x [since 2]; }\n",
      P "const since = 2;\nmessage M = 1 { u8 x[since]; }\n",
      P "struct extensible { u8 a; }\nmessage M = 1 { extensible e; }\n",
      /* an open enum needs no 0; an explicit default needs none either */
      P V2 "enum E : u8 open { A = 1; }\n"
           "message M = 1 { E e; E f [since 2]; E g[2] [since 2]; }\n",
      P V2 "enum E : u8 { A = 1; }\nmessage M = 1 { E e; E f = A [since 2]; }\n",
      /* an extensible struct everywhere a struct may go */
      P V2 "struct S extensible<u16> { u8 a; u8 b [since 2]; }\n"
           "message M = 1 { S p; repeated S r; optional S o; S arr[2]; "
           "optional S later [since 2]; repeated S more [since 2]; }\n",
      /* present_version is a name like another where nothing has [since] */
      P "message M = 1 { u8 present_version; }\n",
      /* the ends of every range */
      P "option version = 65535;\nreserved 0, 65535;\nreserved name Gone, Old;\n"
        "message M = 1 { u8 a [since 65535]; }\n",
      P V3 "message M = 1 { i8 a = -128 [since 2]; i8 b = 127 [since 2]; "
           "i64 c = -9223372036854775808 [since 2]; u64 d = "
           "18446744073709551615 [since 3]; u64 e = 0xffffffffffffffff "
           "[since 3]; u16 f = 0 [since 3]; }\n",
      P V2 "message M = 1 { f32 a = 3 [since 2]; f64 b = -2e3 [since 2]; "
           "f64 c = 1.5e-3 [since 2]; f32 d = -0.0 [since 2]; "
           "bool e = false [since 2]; }\n",
      P V2 "message M = 1 { bytes b = \"\\x00\\xff\\n\\t\\r\\0\\\\\\\"\" "
           "[since 2]; string s = \"caf\\xc3\\xa9 \\\"q\\\"\" [since 2]; "
           "string<u16> e = \"\" [since 2]; }\n",
      /* [since] groups may repeat a version and skip one */
      "protocol p;\noption version = 5;\n"
      "message M = 1 { u8 a; u8 b [since 2]; u8 c [since 2]; u8 d [since 5]; "
      "}\n",
  };
  (void)state;
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int errors = -1, warnings = -1;
    const char *got = first_line(ok[i], &errors, &warnings);
    if (errors != 0 || warnings != 0)
      fail_msg("schema %zu: %d errors, %d warnings: %s", i, errors, warnings,
               got);
  }
}

/* The schemas of the fixtures and of the fuzz target: clean. */
static void test_evolve_diag_repository_schemas(void **state) {
  static const char *const schemas[] = {
      NETFW_SOURCE_DIR "/tests/gen/evolution.netproto",
      NETFW_SOURCE_DIR "/tests/fuzz/all_types.netproto"};
  (void)state;
  for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
    size_t len;
    char *src = test_read_file(schemas[i], &len);
    gen_result r;
    int rc;
    assert_true(len > 0);
    rc = gen_compile(&r, schemas[i], src, len);
    if (rc != 0 || r.diag.errors + r.diag.warnings != 0)
      fail_msg("%s: %s", schemas[i], r.diag.out.data);
    gen_result_free(&r);
    free(src);
  }
}

/* The generated C that docs/evolution.md section 4 shows, as it shows it. */
static void test_evolve_diag_generated_c_of_the_page(void **state) {
  static const char src[] =
      "protocol fs;\noption version = 2;\n"
      "enum Rc : u8 open { OK = 0; DENIED = 1; }\n"
      "message Put = 1 { Rc rc; u32 mode = 420 [since 2]; }\n";
  gen_result r;

  (void)state;
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 0);
  assert_non_null(strstr(
      r.header.data,
      "/* encoded as u8; open: a peer may send a value not listed here (from "
      "a newer\n * schema), so a switch on one needs a default branch */\n"
      "enum fs_Rc_value {\n  FS_RC_OK = 0,\n  FS_RC_DENIED = 1\n};\n"
      "typedef uint8_t fs_Rc;\n"));
  assert_non_null(strstr(r.header.data, "  /* since version 2; default 420 */\n"
                                        "  uint32_t mode;\n"));
  assert_non_null(strstr(r.header.data, "  uint16_t present_version;\n};\n"));
  gen_result_free(&r);
}

/* One run reports every evolution error, not only the first. */
static void test_evolve_diag_several_errors(void **state) {
  static const char src[] = P "option version = 2;\n"
                              "reserved 7, 7;\n"
                              "message M = 7 { u8 a [since 2]; u8 b; }\n"
                              "message N = 8 { u8 c = 1; u8 d = 300 [since 2]; "
                              "u8 e [since 3]; }\n";
  gen_result r;

  (void)state;
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 1);
  assert_non_null(strstr(r.diag.out.data, "t.netproto:3:13: error: message id 7 "
                                          "is reserved twice (also at 3:10)"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:4:13: error: message id 7 "
                                          "of 'M' is reserved (at 3:10)"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:4:36: error: field 'b' "
                                          "without [since] comes after 'a'"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:5:24: error: a default "
                                          "value is only used by a field"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:5:34: error: default 300 "
                                          "does not fit u8 (0..255)"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:5:61: error: [since 3] is "
                                          "above the protocol's version 2"));
  assert_int_equal(r.diag.errors, 6);
  gen_result_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_evolve_diag_bad_schemas),
      cmocka_unit_test(test_evolve_diag_unterminated_string),
      cmocka_unit_test(test_evolve_diag_string_default_length),
      cmocka_unit_test(test_evolve_diag_accepted),
      cmocka_unit_test(test_evolve_diag_repository_schemas),
      cmocka_unit_test(test_evolve_diag_several_errors),
      cmocka_unit_test(test_evolve_diag_generated_c_of_the_page),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
