/* Small helpers shared by the benchmark programs (header-only, no netfw
 * dependency so the load generator and the baseline stay independent of the
 * code they measure). */
#ifndef NETFW_BENCH_COMMON_H
#define NETFW_BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* The wire header: u16 id, u32 payload size, little-endian. */
#define BENCH_HDR_SIZE 6

static inline void bench_hdr_pack(uint8_t *out, uint16_t id, uint32_t size) {
  out[0] = (uint8_t)(id & 0xff);
  out[1] = (uint8_t)(id >> 8);
  out[2] = (uint8_t)(size & 0xff);
  out[3] = (uint8_t)((size >> 8) & 0xff);
  out[4] = (uint8_t)((size >> 16) & 0xff);
  out[5] = (uint8_t)(size >> 24);
}

static inline uint16_t bench_hdr_id(const uint8_t *in) {
  return (uint16_t)(in[0] | (in[1] << 8));
}

static inline uint32_t bench_hdr_size(const uint8_t *in) {
  return (uint32_t)in[2] | ((uint32_t)in[3] << 8) | ((uint32_t)in[4] << 16) |
         ((uint32_t)in[5] << 24);
}

/* Monotonic clock in nanoseconds. */
static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Parses a whole decimal number into [lo, hi]. Returns 0 or -1. */
static inline int bench_parse_ulong(const char *s, unsigned long lo,
                                    unsigned long hi, unsigned long *out) {
  char *end;
  unsigned long v;

  if (s == NULL || *s == '\0' || *s == '-')
    return -1;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

/* Parses a non-negative number of seconds (may have a fraction) up to hi. */
static inline int bench_parse_seconds(const char *s, double hi, double *out) {
  char *end;
  double v;

  if (s == NULL || *s == '\0')
    return -1;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || *end != '\0' || !(v >= 0.0) || v > hi)
    return -1;
  *out = v;
  return 0;
}

#endif /* NETFW_BENCH_COMMON_H */
