/* Helpers of the generated-codec tests (gen_codec_kit.c), shared by
 * test_gen_codec.c, test_gen_codec_types.c, test_gen_evolve_bytes.c and the
 * cross-version tests (tests/evolve). cmocka assertions inside. */
#ifndef NETFW_TEST_GEN_CODEC_KIT_H
#define NETFW_TEST_GEN_CODEC_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/netfw.h"

/* Fails unless m's payload is exactly the n bytes exp (prints both). */
void assert_payload(const netfw_msg *m, const void *exp, size_t n);

/* A message borrowing an exact-size heap copy of bytes, so that ASan flags
 * any read past the payload. Free with borrowed_free(). */
netfw_msg *borrowed(uint16_t id, const void *bytes, size_t n);

/* Frees a borrowed() message and its copy. */
void borrowed_free(netfw_msg *m);

/* A netfw_str over the C string s. */
netfw_str str(const char *s);

/* Whether a holds exactly the C string s. */
bool str_eq(netfw_str a, const char *s);

#endif
