/* Helpers of the cross-version tests: see evolve_kit.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "evolve_kit.h"

/* Records in t that cond failed (expression text, file and line). */
void ev_check(ev_tally *t, bool cond, const char *expr, const char *file,
              int line) {
  if (cond)
    return;
  if (t->bad++ == 0)
    snprintf(t->why, sizeof(t->why), "%s:%d: %s", file, line, expr);
}

/* Fails the cmocka test (printing the first failure) unless t has none. */
void assert_tally_clean(const ev_tally *t) {
  if (t->bad != 0)
    print_error("%d failed check(s), first: %s\n", t->bad, t->why);
  assert_int_equal(t->bad, 0);
}

/* Whether a holds exactly the n bytes p (NUL bytes included). */
bool mem_eq(const void *a_ptr, uint32_t a_len, const void *p, size_t n) {
  return a_len == n && (n == 0 || memcmp(a_ptr, p, n) == 0);
}
