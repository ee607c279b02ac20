/* A log-linear histogram of non-negative integers (nanoseconds here).
 *
 * Values below 2^(SUB_BITS+1) get a bucket each; above that every power of two
 * is split into 2^SUB_BITS equal buckets, so a bucket is at most 1/32 (about
 * 3 %) of its value wide whatever the magnitude. Recording is a shift and an
 * add; percentiles are read by walking the counts. Header-only. */
#ifndef NETFW_BENCH_HISTOGRAM_H
#define NETFW_BENCH_HISTOGRAM_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

typedef struct hist {
  uint64_t count[HIST_BUCKETS];
  uint64_t total;
  uint64_t max;
} hist;

static inline void hist_init(hist *h) {
  memset(h, 0, sizeof(*h));
}

static inline unsigned hist_index(uint64_t v) {
  unsigned msb, shift;

  if (v < 2 * HIST_SUB)
    return (unsigned)v;
  msb = 63u - (unsigned)__builtin_clzll(v);
  shift = msb - HIST_SUB_BITS;
  return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

/* The smallest and largest value that land in bucket i. */
static inline void hist_bounds(unsigned i, uint64_t *lo, uint64_t *hi) {
  unsigned shift;
  uint64_t mant;

  if (i < 2 * HIST_SUB) {
    *lo = *hi = i;
    return;
  }
  shift = i / HIST_SUB - 1;
  mant = HIST_SUB + i % HIST_SUB;
  *lo = mant << shift;
  *hi = *lo + ((uint64_t)1 << shift) - 1;
}

static inline void hist_record(hist *h, uint64_t v) {
  h->count[hist_index(v)]++;
  h->total++;
  if (v > h->max)
    h->max = v;
}

/* The value at quantile q (0 < q <= 1): the midpoint of the bucket holding
 * the ceil(q * total)-th smallest value, never above the largest value seen.
 * 0 when empty. */
static inline uint64_t hist_quantile(const hist *h, double q) {
  uint64_t rank, seen = 0, lo, hi, mid;
  unsigned i;

  if (h->total == 0)
    return 0;
  rank = (uint64_t)(q * (double)h->total);
  if ((double)rank < q * (double)h->total)
    rank++;
  if (rank == 0)
    rank = 1;
  for (i = 0; i < HIST_BUCKETS; i++) {
    seen += h->count[i];
    if (seen >= rank)
      break;
  }
  if (i == HIST_BUCKETS)
    return h->max;
  hist_bounds(i, &lo, &hi);
  mid = lo + (hi - lo) / 2;
  return mid > h->max ? h->max : mid;
}

#endif /* NETFW_BENCH_HISTOGRAM_H */
