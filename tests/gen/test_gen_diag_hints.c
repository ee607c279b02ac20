/* Schema errors that point at the cause: "did you mean" for misspelt
 * types, consts and statement words, maps and name<...> typos named, a
 * protocol without its ';' reported once, and every message of a run in
 * line and column order with the warnings after the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gen.h"

/* The "t.netproto:L:C: severity: message" lines of compiling src, '\n'
 * joined (source lines and carets left out), and the error count. */
static const char *headlines(const char *src, int *errors) {
  static char out[2048];
  gen_result r;
  const char *p;
  size_t n = 0;

  (void)gen_compile(&r, "t.netproto", src, strlen(src));
  for (p = r.diag.out.data ? r.diag.out.data : ""; *p != '\0';) {
    size_t len = strcspn(p, "\n");
    if (strncmp(p, "t.netproto:", 11) == 0 && n + len + 2 < sizeof(out)) {
      memcpy(out + n, p, len);
      n += len;
      out[n++] = '\n';
    }
    p += len + (p[len] == '\n');
  }
  out[n] = '\0';
  *errors = r.diag.errors;
  gen_result_free(&r);
  return out;
}

static void expect(const char *src, const char *want, int want_errors) {
  int errors;
  const char *got = headlines(src, &errors);
  assert_string_equal(got, want);
  assert_int_equal(errors, want_errors);
}

static void test_did_you_mean(void **state) {
  (void)state;
  expect("protocol p;\nstruct Entry { u8 a; }\n"
         "message A = 1 { Entyr e; }\n",
         "t.netproto:3:17: error: unknown type 'Entyr' (did you mean "
         "'Entry'?)\n"
         "t.netproto:2:8: warning: struct 'Entry' is never used\n",
         1);
  expect("protocol p;\nmessage A = 1 { u3 e; strng s; }\n",
         "t.netproto:2:17: error: unknown type 'u3' (did you mean 'u8'?)\n"
         "t.netproto:2:23: error: unknown type 'strng' (did you mean "
         "'string'?)\n",
         2);
  expect("protocol p;\nconst SIZE = 4;\nmessage A = 1 { u8 x[SIZ]; }\n",
         "t.netproto:3:22: error: 'SIZ' is not a const (did you mean "
         "'SIZE'?)\n"
         "t.netproto:2:7: warning: const 'SIZE' is never used\n",
         1);
  expect("protocol p;\nmesage A = 1 {}\nmessage B = 2 {}\n",
         "t.netproto:2:1: error: unknown statement 'mesage' (did you mean "
         "'message'?)\n",
         1);
  expect("protocol p;\nmessage A = 1 { Zebra z; }\n",
         "t.netproto:2:17: error: unknown type 'Zebra'\n", 1);
}

static void test_generic_typos_and_maps(void **state) {
  (void)state;
  expect("protocol p;\nmessage A = 1 { strin<u16> prefix; }\n",
         "t.netproto:2:17: error: unknown type 'strin' (did you mean "
         "'string'?)\n",
         1);
  expect("protocol p;\nmessage A = 1 { map<string, bytes> m; }\n",
         "t.netproto:2:17: error: maps are not supported: use a repeated "
         "struct with a key and a value field\n",
         1);
  expect("protocol p;\nmessage A = 1 { list<u8> m; }\n",
         "t.netproto:2:17: error: unknown type 'list': only string, bytes and "
         "repeated take '<...>'\n",
         1);
}

static void test_protocol_without_semicolon_is_one_error(void **state) {
  (void)state;
  expect("protocol p\nmessage A = 1 { u8 x; }\nmessage B = 2 { u8 y; }\n",
         "t.netproto:1:11: error: expected ';' after the protocol name, "
         "found 'message'\n",
         1);
}

static void test_messages_in_line_order(void **state) {
  (void)state;
  /* the parser reports line 4, the checker lines 2 and 3 afterwards */
  expect("protocol p;\nmessage A = 1 { Nope n; }\nstruct U { u8 x; }\n"
         "message B = 1 { u8 ; }\n",
         "t.netproto:2:17: error: unknown type 'Nope'\n"
         "t.netproto:4:13: error: duplicate message id 1 (also used by 'A' at "
         "2:9)\n"
         "t.netproto:4:20: error: expected a field name, found ';'\n"
         "t.netproto:3:8: warning: struct 'U' is never used\n",
         3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_did_you_mean),
      cmocka_unit_test(test_generic_typos_and_maps),
      cmocka_unit_test(test_protocol_without_semicolon_is_one_error),
      cmocka_unit_test(test_messages_in_line_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
