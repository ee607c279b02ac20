/* Helper of the schema compiler's diagnostics tests (test_gen_diag.c,
 * test_gen_evolve_diag.c): compile a schema in memory, keep the first line
 * of what it says; the table rows of schemas and their expected line. */
#ifndef NETFW_TEST_GEN_DIAG_KIT_H
#define NETFW_TEST_GEN_DIAG_KIT_H

#include <stddef.h>

/* A schema and the first line of its diagnostics (first_line), after
 * "t.netproto:". */
typedef struct bad_case {
  const char *src;
  const char *diag;
} bad_case;

/* Compiles src (as "t.netproto") and returns the first line of the
 * diagnostics (static, overwritten by the next call); stores the number of
 * errors and of warnings where errors and warnings are not NULL. */
const char *first_line(const char *src, int *errors, int *warnings);

/* Compiles each of cases[0..n) and prints every case whose first line is
 * not its diag or whose error count is not exactly 1; returns how many. */
int failed_cases(const bad_case *cases, size_t n);

#endif
