/* Deterministic pseudo-random numbers for tests (xorshift64*): the same seed
 * gives the same sequence on every machine, so a failure reproduces. */
#ifndef NETFW_TEST_RNG_H
#define NETFW_TEST_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct test_rng {
  uint64_t state;
} test_rng;

/* Seeds the generator (any seed, 0 included). */
void test_rng_seed(test_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t test_rng_next(test_rng *r);

/* Uniform integer in [lo, hi]. */
uint64_t test_rng_range(test_rng *r, uint64_t lo, uint64_t hi);

/* Fills buf with len random bytes. */
void test_rng_fill(test_rng *r, void *buf, size_t len);

#endif /* NETFW_TEST_RNG_H */
