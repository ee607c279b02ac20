/* Arena: alignment, growth, reset keeps memory, free gives it back. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netfw/netfw.h"

static void test_arena_alloc_aligned_and_distinct(void **state) {
  netfw_arena a;
  uint8_t *p[100];
  netfw_arena_init(&a);
  for (int i = 0; i < 100; i++) {
    p[i] = netfw_arena_alloc(&a, (size_t)i * 7 + 1);
    assert_non_null(p[i]);
    assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
    memset(p[i], i, (size_t)i * 7 + 1);
  }
  for (int i = 0; i < 100; i++)
    for (size_t j = 0; j < (size_t)i * 7 + 1; j++)
      assert_int_equal(p[i][j], i);
  netfw_arena_free(&a);
}

static void test_arena_zero_and_large(void **state) {
  netfw_arena a;
  void *z, *big;
  netfw_arena_init(&a);
  z = netfw_arena_alloc(&a, 0);
  assert_non_null(z);
  big = netfw_arena_alloc(&a, 1u << 20);
  assert_non_null(big);
  memset(big, 1, 1u << 20);
  assert_null(netfw_arena_alloc(&a, SIZE_MAX));
  netfw_arena_free(&a);
}

static void test_arena_reset_reuses_memory(void **state) {
  netfw_arena a;
  void *first, *again;
  netfw_arena_chunk *kept;
  netfw_arena_init(&a);
  first = netfw_arena_alloc(&a, 100);
  (void)netfw_arena_alloc(&a, 10000); /* forces a second chunk */
  netfw_arena_reset(&a);
  /* the largest chunk is kept: after reset, no new chunk for small sizes */
  kept = a.head;
  assert_non_null(kept);
  assert_int_equal(a.used, 0);
  again = netfw_arena_alloc(&a, 100);
  assert_non_null(again);
  assert_non_null(first);
  assert_ptr_equal(a.head, kept);
  netfw_arena_free(&a);
  assert_null(a.head);
  /* usable after free */
  assert_non_null(netfw_arena_alloc(&a, 8));
  netfw_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arena_alloc_aligned_and_distinct),
      cmocka_unit_test(test_arena_zero_and_large),
      cmocka_unit_test(test_arena_reset_reuses_memory),
  };
  return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
