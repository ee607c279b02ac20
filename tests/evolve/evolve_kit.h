/* Helpers of the cross-version tests (tests/evolve): exact payload checks,
 * messages over exact-size heap copies (ASan flags over-reads), netfw_str
 * helpers, and a tally of failed checks that works where cmocka cannot
 * (inside a forked server worker, inside client callbacks). */
#ifndef NETFW_TEST_EVOLVE_KIT_H
#define NETFW_TEST_EVOLVE_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/netfw.h"

/* Failed checks: their count and the first one's text. */
typedef struct ev_tally {
  int bad;
  char why[256];
} ev_tally;

/* Records in t that cond failed (expression text, file and line). */
void ev_check(ev_tally *t, bool cond, const char *expr, const char *file,
              int line);
#define EV_CHECK(t, cond) ev_check((t), (cond), #cond, __FILE__, __LINE__)

/* Fails the cmocka test (printing the first failure) unless t has none. */
void assert_tally_clean(const ev_tally *t);

/* Fails unless m's payload is exactly the n bytes exp (prints both). */
void assert_payload(const netfw_msg *m, const void *exp, size_t n);

/* A message (id `id`) reading an exact-size heap copy of bytes; free with
 * borrowed_free(). */
netfw_msg *borrowed(uint16_t id, const void *bytes, size_t n);

/* Frees a borrowed() message and its copy. */
void borrowed_free(netfw_msg *m);

/* A netfw_str over the C string s. */
netfw_str str(const char *s);

/* Whether a holds exactly the C string s. */
bool str_eq(netfw_str a, const char *s);

/* Whether a holds exactly the n bytes p (NUL bytes included). */
bool mem_eq(const void *a_ptr, uint32_t a_len, const void *p, size_t n);

#endif
