#include "rng.h"

void test_rng_seed(test_rng *r, uint64_t seed) {
  r->state = seed ^ 0x9e3779b97f4a7c15ull;
  if (r->state == 0)
    r->state = 1;
}

uint64_t test_rng_next(test_rng *r) {
  uint64_t x = r->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->state = x;
  return x * 0x2545f4914f6cdd1dull;
}

uint64_t test_rng_range(test_rng *r, uint64_t lo, uint64_t hi) {
  uint64_t span = hi - lo + 1;
  if (span == 0)
    return test_rng_next(r);
  return lo + test_rng_next(r) % span;
}

void test_rng_fill(test_rng *r, void *buf, size_t len) {
  unsigned char *p = buf;
  while (len > 0) {
    uint64_t v = test_rng_next(r);
    for (int i = 0; i < 8 && len > 0; i++, len--)
      *p++ = (unsigned char)(v >> (8 * i));
  }
}
