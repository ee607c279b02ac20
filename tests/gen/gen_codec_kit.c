/* Helpers of the generated-codec tests (test_gen_codec.c,
 * test_gen_codec_types.c, test_gen_evolve_bytes.c) and of the cross-version
 * tests (tests/evolve, through evolve_kit.h): exact payload checks, messages
 * borrowing an exact-size heap copy (ASan catches over-reads), netfw_str
 * helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gen_codec_kit.h"
#include "message_internal.h"
#include "netfw/netfw.h"

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

/* A message borrowing an exact-size heap copy of bytes, so that ASan flags
 * any read past the payload. Free with borrowed_free(). */
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
  return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}
