/* The schema compiler on calls (`-> server returns A | B`): the exact first
 * diagnostic of every rule of docs/netproto.md "Calls", what stays
 * accepted, and several errors in one schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "diag_kit.h"

#define P "protocol p;\n"
#define R "message R = 9 -> client {}\n"
/* Each schema has exactly one error. */
static const bad_case cases[] = {
    {P R "message Q = 1 -> server returns Rr {}\n",
     "3:33: error: unknown message 'Rr' (did you mean 'R'?)"},
    {P R "message Q = 1 -> server returns Zebra {}\n",
     "3:33: error: unknown message 'Zebra'"},
    {P R "struct S { u8 x; }\nmessage Q = 1 -> server returns S { S s; }\n",
     "4:33: error: 'S' is a struct: a request returns messages"},
    {P R "message Q = 1 -> server returns R | Q {}\n",
     "3:37: error: 'Q' cannot answer 'Q': the client never receives it (it "
     "is sent '-> server')"},
    {P R "message Q = 1 -> server returns R | R {}\n",
     "3:37: error: 'R' is named twice in the replies of 'Q'"},
    {P R "message Q = 1 returns R {}\n",
     "3:15: error: 'returns' needs a request sent to the server: write "
     "'message Q = 1 -> server returns ...'"},
    {P R "message Q = 1 -> client returns R {}\n",
     "3:25: error: 'returns' needs a request sent to the server: write "
     "'message Q = 1 -> server returns ...'"},
    {P R "message Q = 1 -> server returns {}\n",
     "3:33: error: expected the name of a reply message, found '{'"},
    {P R "message Q = 1 -> server returns R | {}\n",
     "3:37: error: expected the name of a reply message, found '{'"},
    {P R "message Q = 1 -> server returns R |\n",
     "4:1: error: expected the name of a reply message, found end of file"},
    {P "message R0 = 10 -> client {}\nmessage R1 = 11 -> client {}\n"
       "message R2 = 12 -> client {}\nmessage R3 = 13 -> client {}\n"
       "message R4 = 14 -> client {}\nmessage R5 = 15 -> client {}\n"
       "message R6 = 16 -> client {}\nmessage R7 = 17 -> client {}\n"
       "message R8 = 18 -> client {}\nmessage R9 = 19 -> client {}\n"
       "message RA = 20 -> client {}\nmessage RB = 21 -> client {}\n"
       "message RC = 22 -> client {}\nmessage RD = 23 -> client {}\n"
       "message RE = 24 -> client {}\nmessage RF = 25 -> client {}\n"
       "message RG = 26 -> client {}\n"
       "message Q = 1 -> server returns R0|R1|R2|R3|R4|R5|R6|R7|R8|R9|RA|RB|"
       "RC|RD|RE|RF|RG {}\n",
     "19:81: error: 'Q' names 17 replies; at most 16"},
};

static void returns_bad_schemas(void **state) {
  (void)state;
  assert_int_equal(failed_cases(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* Replies received by both sides, shared by requests, `returns` as a
 * field or message name elsewhere: all accepted, no warning. */
static void returns_accepted(void **state) {
  int errors = -1, warnings = -1;
  const char *got = first_line(
      P "message A = 1 -> server returns B | C { u8 returns; }\n"
        "message D = 2 -> server returns C {}\n"
        "message B = 3 -> client {}\nmessage C = 4 {}\n"
        "message returns = 5 -> server returns C {}\n",
      &errors, &warnings);
  (void)state;
  assert_string_equal(got, "");
  assert_int_equal(errors, 0);
  assert_int_equal(warnings, 0);
}

/* Every bad reply of a list is reported, and the rest of the schema is
 * still checked. */
static void returns_several_errors(void **state) {
  int errors = 0;
  const char *got = first_line(
      P R "message Q = 1 -> server returns Rx | R | R | Q { u9 x; }\n",
      &errors, NULL);
  (void)state;
  assert_string_equal(got, "t.netproto:3:33: error: unknown message 'Rx' "
                           "(did you mean 'R'?)");
  assert_int_equal(errors, 4);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(returns_bad_schemas),
      cmocka_unit_test(returns_accepted),
      cmocka_unit_test(returns_several_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
