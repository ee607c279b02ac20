/* Helpers of the cross-version tests (tests/evolve): those of
 * tests/gen/gen_codec_kit.h (exact payload checks, messages over exact-size
 * heap copies, netfw_str helpers; linked from there), mem_eq, and a tally of
 * failed checks that works where cmocka cannot (inside a forked server
 * worker, inside client callbacks). */
#ifndef NETFW_TEST_EVOLVE_KIT_H
#define NETFW_TEST_EVOLVE_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../gen/gen_codec_kit.h" /* assert_payload, borrowed, str, str_eq */
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

/* Whether a holds exactly the n bytes p (NUL bytes included). */
bool mem_eq(const void *a_ptr, uint32_t a_len, const void *p, size_t n);

#endif
