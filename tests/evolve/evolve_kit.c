/* Helpers of the cross-version tests: see evolve_kit.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evolve_kit.h"
#include "message_internal.h"

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

/* Prints n bytes in hex, 16 a line, for a failed byte comparison. */
static void dump(const char *what, const uint8_t *p, size_t n) {
  print_error("%s (%zu bytes):", what, n);
  for (size_t i = 0; i < n; i++)
    print_error("%s%02x", i % 16 == 0 ? "\n  " : " ", p[i]);
  print_error("\n");
}

/* Fails unless m's payload is exactly the n bytes exp (prints both). */
void assert_payload(const netfw_msg *m, const void *exp, size_t n) {
  size_t got = netfw_msg_size(m);
  if (got != n || (n > 0 && memcmp(netfw_msg_payload(m), exp, n) != 0)) {
    dump("expected", exp, n);
    dump("encoded", netfw_msg_payload(m), got);
  }
  assert_int_equal(got, n);
  if (n > 0)
    assert_memory_equal(netfw_msg_payload(m), exp, n);
}

/* A message (id `id`) reading an exact-size heap copy of bytes; free with
 * borrowed_free(). */
netfw_msg *borrowed(uint16_t id, const void *bytes, size_t n) {
  netfw_msg *m = netfw_msg_new(id);
  uint8_t *copy = malloc(n > 0 ? n : 1);
  assert_non_null(m);
  assert_non_null(copy);
  if (n > 0)
    memcpy(copy, bytes, n);
  netfw__msg_borrow(m, id, n > 0 ? copy : NULL, (uint32_t)n);
  if (n == 0)
    free(copy);
  return m;
}

/* Frees a borrowed() message and its copy. */
void borrowed_free(netfw_msg *m) {
  free((void *)netfw_msg_payload(m));
  netfw_msg_free(m);
}

/* A netfw_str over the C string s. */
netfw_str str(const char *s) {
  netfw_str r = {s, (uint32_t)strlen(s)};
  return r;
}

/* Whether a holds exactly the C string s. */
bool str_eq(netfw_str a, const char *s) {
  return mem_eq(a.ptr, a.len, s, strlen(s));
}

/* Whether a holds exactly the n bytes p (NUL bytes included). */
bool mem_eq(const void *a_ptr, uint32_t a_len, const void *p, size_t n) {
  return a_len == n && (n == 0 || memcmp(a_ptr, p, n) == 0);
}
