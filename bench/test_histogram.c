/* Unit tests of the load generator's log-linear histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "histogram.h"

static hist h; /* large: keep it off the stack */

static void test_histogram_small_values_exact(void **state) {
  (void)state;
  hist_init(&h);
  for (uint64_t v = 0; v < 64; v++)
    hist_record(&h, v);
  assert_int_equal(h.total, 64);
  assert_int_equal(h.max, 63);
  assert_int_equal(hist_quantile(&h, 0.5), 31); /* the 32nd value */
  assert_int_equal(hist_quantile(&h, 1.0), 63);
  assert_int_equal(hist_quantile(&h, 0.01), 0);
}

static void test_histogram_bounds_contain_value(void **state) {
  (void)state;
  /* Every value lands in a bucket whose bounds hold it, buckets are in
   * order, and a bucket is at most 1/32 of its value wide. */
  for (uint64_t v = 1; v < ((uint64_t)1 << 62); v = v * 3 / 2 + 1) {
    unsigned i = hist_index(v);
    uint64_t lo, hi;
    assert_true(i < HIST_BUCKETS);
    hist_bounds(i, &lo, &hi);
    assert_true(lo <= v && v <= hi);
    assert_true(hi - lo <= lo / 32);
    assert_true(hist_index(lo) == i && hist_index(hi) == i);
    if (i > 0) {
      uint64_t plo, phi;
      hist_bounds(i - 1, &plo, &phi);
      assert_int_equal(phi + 1, lo);
    }
  }
  assert_true(hist_index(UINT64_MAX) < HIST_BUCKETS);
}

static void test_histogram_quantiles(void **state) {
  (void)state;
  hist_init(&h);
  for (uint64_t v = 1; v <= 100000; v++)
    hist_record(&h, v * 1000); /* 1 us .. 100 ms */
  assert_int_equal(h.total, 100000);
  /* Within the 1/32 bucket width of the exact ranks. */
  assert_in_range(hist_quantile(&h, 0.50), 50000000 - 50000000 / 32,
                  50000000 + 50000000 / 32);
  assert_in_range(hist_quantile(&h, 0.99), 99000000 - 99000000 / 32,
                  99000000 + 99000000 / 32);
  assert_in_range(hist_quantile(&h, 0.999), 99900000 - 99900000 / 32, 99900000);
  assert_true(hist_quantile(&h, 1.0) <= h.max);
}

static void test_histogram_empty_and_one(void **state) {
  (void)state;
  hist_init(&h);
  assert_int_equal(hist_quantile(&h, 0.5), 0);
  hist_record(&h, 123456);
  /* One value: every quantile is its bucket, never above the value. */
  assert_in_range(hist_quantile(&h, 0.5), 123456 - 123456 / 32, 123456);
  assert_int_equal(hist_quantile(&h, 0.5), hist_quantile(&h, 0.999));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_histogram_small_values_exact),
      cmocka_unit_test(test_histogram_bounds_contain_value),
      cmocka_unit_test(test_histogram_quantiles),
      cmocka_unit_test(test_histogram_empty_and_one),
  };
  return cmocka_run_group_tests_name("histogram", tests, NULL, NULL);
}
