/* Message API: append/pop semantics, cursor rules, limits and ownership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message_internal.h"
#include "netfw/netfw.h"

static void test_message_new_is_empty(void **state) {
  netfw_msg *m = netfw_msg_new(0xff);
  assert_non_null(m);
  assert_int_equal(netfw_msg_id(m), 0xff);
  assert_int_equal(netfw_msg_size(m), 0);
  assert_int_equal(netfw_msg_remaining(m), 0);
  netfw_msg_free(m);
  netfw_msg_free(NULL);
}

static void test_message_append_pop_sequence(void **state) {
  netfw_msg *m = netfw_msg_new(1);
  uint8_t a[3], b[2];
  assert_int_equal(netfw_msg_append(m, "abc", 3), 0);
  assert_int_equal(netfw_msg_size(m), 3);
  assert_int_equal(netfw_msg_append(m, "de", 2), 0);
  assert_int_equal(netfw_msg_size(m), 5);
  assert_memory_equal(netfw_msg_payload(m), "abcde", 5);

  assert_int_equal(netfw_msg_pop(m, a, 3), 0);
  assert_memory_equal(a, "abc", 3);
  assert_int_equal(netfw_msg_remaining(m), 2);
  /* pop never changes the size or the payload */
  assert_int_equal(netfw_msg_size(m), 5);
  assert_memory_equal(netfw_msg_payload(m), "abcde", 5);
  /* exactly the remaining bytes */
  assert_int_equal(netfw_msg_pop(m, b, 2), 0);
  assert_memory_equal(b, "de", 2);
  assert_int_equal(netfw_msg_remaining(m), 0);
  netfw_msg_free(m);
}

static void test_message_pop_past_end_keeps_cursor(void **state) {
  netfw_msg *m = netfw_msg_new(1);
  uint8_t out[8] = {0};
  assert_int_equal(netfw_msg_append(m, "12345", 5), 0);
  assert_int_equal(netfw_msg_pop(m, out, 2), 0);
  assert_int_equal(netfw_msg_pop(m, out, 4), NETFW_ERANGE);
  assert_int_equal(netfw_msg_remaining(m), 3);
  assert_null(netfw_msg_pop_view(m, 4));
  assert_int_equal(netfw_msg_remaining(m), 3);
  assert_int_equal(netfw_msg_pop(m, out, 3), 0);
  assert_memory_equal(out, "345", 3);
  assert_int_equal(netfw_msg_pop(m, out, 1), NETFW_ERANGE);
  netfw_msg_free(m);
}

static void test_message_zero_length_payload(void **state) {
  netfw_msg m;
  netfw_msg_init(&m, 7);
  assert_int_equal(netfw_msg_append(&m, NULL, 0), 0);
  assert_int_equal(netfw_msg_size(&m), 0);
  assert_int_equal(netfw_msg_pop(&m, NULL, 0), 0);
  assert_non_null(netfw_msg_pop_view(&m, 0));
  assert_int_equal(netfw_msg_pop(&m, NULL, 1), NETFW_ERANGE);
  assert_int_equal(netfw_msg_append(&m, NULL, 1), NETFW_EINVAL);
  assert_int_equal(netfw_msg_size(&m), 0);
  netfw_msg_release(&m);
}

static void test_message_16mib_payload(void **state) {
  const size_t n = 16u * 1024 * 1024;
  uint8_t *src = malloc(n);
  uint8_t *dst = malloc(n);
  netfw_msg *m = netfw_msg_new(2);
  assert_non_null(src);
  assert_non_null(dst);
  for (size_t i = 0; i < n; i++)
    src[i] = (uint8_t)(i * 31 + (i >> 13));
  /* in two uneven pieces to exercise growth */
  assert_int_equal(netfw_msg_append(m, src, 12345), 0);
  assert_int_equal(netfw_msg_append(m, src + 12345, n - 12345), 0);
  assert_int_equal(netfw_msg_size(m), n);
  assert_int_equal(netfw_msg_pop(m, dst, n), 0);
  assert_memory_equal(dst, src, n);
  assert_int_equal(netfw_msg_remaining(m), 0);
  netfw_msg_free(m);
  free(src);
  free(dst);
}

static void test_message_rewind(void **state) {
  netfw_msg *m = netfw_msg_new(3);
  uint8_t out[4];
  assert_int_equal(netfw_msg_append(m, "wxyz", 4), 0);
  assert_int_equal(netfw_msg_pop(m, out, 4), 0);
  netfw_msg_rewind(m);
  assert_int_equal(netfw_msg_remaining(m), 4);
  assert_int_equal(netfw_msg_pop(m, out, 2), 0);
  assert_memory_equal(out, "wx", 2);
  netfw_msg_free(m);
}

static void test_message_id_round_trip(void **state) {
  netfw_msg m;
  const uint16_t ids[] = {0, 1, 0xff, 0x100, 0x1234, 0xffff};
  netfw_msg_init(&m, 0);
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    netfw_msg_set_id(&m, ids[i]);
    assert_int_equal(netfw_msg_id(&m), ids[i]);
  }
  netfw_msg_release(&m);
}

static void test_message_init_release_on_stack(void **state) {
  netfw_msg m;
  uint32_t v = 0, w = 0xdeadbeef;
  netfw_msg_init(&m, 9);
  assert_int_equal(netfw_msg_append(&m, &w, sizeof(w)), 0);
  assert_int_equal(netfw_msg_pop(&m, &v, sizeof(v)), 0);
  assert_int_equal(v, 0xdeadbeef);
  netfw_msg_release(&m);
  assert_int_equal(netfw_msg_size(&m), 0);
  assert_int_equal(netfw_msg_id(&m), 9);
  /* reusable after release */
  assert_int_equal(netfw_msg_append(&m, "q", 1), 0);
  assert_int_equal(netfw_msg_size(&m), 1);
  netfw_msg_release(&m);
}

static void test_message_clear_keeps_id_and_capacity(void **state) {
  netfw_msg m;
  const uint8_t *before;
  netfw_msg_init(&m, 42);
  assert_int_equal(netfw_msg_append(&m, "hello", 5), 0);
  before = netfw_msg_payload(&m);
  netfw_msg_clear(&m);
  assert_int_equal(netfw_msg_size(&m), 0);
  assert_int_equal(netfw_msg_remaining(&m), 0);
  assert_int_equal(netfw_msg_id(&m), 42);
  assert_int_equal(netfw_msg_append(&m, "hi", 2), 0);
  assert_ptr_equal(netfw_msg_payload(&m), before); /* no reallocation */
  netfw_msg_release(&m);
}

static void test_message_pop_view_is_zero_copy(void **state) {
  netfw_msg m;
  const uint8_t *v;
  netfw_msg_init(&m, 1);
  assert_int_equal(netfw_msg_append(&m, "abcdef", 6), 0);
  v = netfw_msg_pop_view(&m, 2);
  assert_ptr_equal(v, netfw_msg_payload(&m));
  v = netfw_msg_pop_view(&m, 4);
  assert_ptr_equal(v, netfw_msg_payload(&m) + 2);
  assert_memory_equal(v, "cdef", 4);
  assert_null(netfw_msg_pop_view(&m, 1));
  netfw_msg_release(&m);
}

static void test_message_append_space_and_reserve(void **state) {
  netfw_msg m;
  uint8_t *p;
  netfw_msg_init(&m, 1);
  assert_int_equal(netfw_msg_reserve(&m, 100), 0);
  p = netfw_msg_append_space(&m, 3);
  assert_non_null(p);
  memcpy(p, "xyz", 3);
  assert_int_equal(netfw_msg_size(&m), 3);
  assert_non_null(netfw_msg_append_space(&m, 0));
  assert_int_equal(netfw_msg_size(&m), 3);
  assert_memory_equal(netfw_msg_payload(&m), "xyz", 3);
  assert_int_equal(netfw_msg_reserve(&m, (size_t)UINT32_MAX + 1), NETFW_E2BIG);
  netfw_msg_release(&m);
}

static void test_message_append_over_u32_is_e2big(void **state) {
  netfw_msg m;
  static const uint8_t byte = 1;
  netfw_msg_init(&m, 1);
  assert_int_equal(netfw_msg_append(&m, &byte, 1), 0);
  /* the length alone is checked before reading data */
  assert_int_equal(netfw_msg_append(&m, &byte, (size_t)UINT32_MAX), NETFW_E2BIG);
  assert_int_equal(netfw_msg_size(&m), 1);
  assert_null(netfw_msg_append_space(&m, (size_t)UINT32_MAX));
  assert_int_equal(netfw_msg_size(&m), 1);
  netfw_msg_release(&m);
}

static void test_message_borrowed_copies_on_append(void **state) {
  uint8_t buf[4] = {1, 2, 3, 4};
  netfw_msg m;
  netfw_msg *copy;
  netfw_msg_init(&m, 0);
  netfw__msg_borrow(&m, 77, buf, 4);
  assert_int_equal(netfw_msg_id(&m), 77);
  assert_ptr_equal(netfw_msg_payload(&m), buf);
  copy = netfw_msg_dup(&m);
  assert_non_null(copy);
  assert_int_equal(netfw_msg_id(copy), 77);
  assert_memory_equal(netfw_msg_payload(copy), buf, 4);
  assert_int_equal(netfw_msg_append(&m, "\x05", 1), 0);
  assert_ptr_not_equal(netfw_msg_payload(&m), buf);
  assert_memory_equal(netfw_msg_payload(&m), "\x01\x02\x03\x04\x05", 5);
  assert_memory_equal(buf, "\x01\x02\x03\x04", 4); /* source untouched */
  netfw_msg_release(&m);
  netfw_msg_free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_message_new_is_empty),
      cmocka_unit_test(test_message_append_pop_sequence),
      cmocka_unit_test(test_message_pop_past_end_keeps_cursor),
      cmocka_unit_test(test_message_zero_length_payload),
      cmocka_unit_test(test_message_16mib_payload),
      cmocka_unit_test(test_message_rewind),
      cmocka_unit_test(test_message_id_round_trip),
      cmocka_unit_test(test_message_init_release_on_stack),
      cmocka_unit_test(test_message_clear_keeps_id_and_capacity),
      cmocka_unit_test(test_message_pop_view_is_zero_copy),
      cmocka_unit_test(test_message_append_space_and_reserve),
      cmocka_unit_test(test_message_append_over_u32_is_e2big),
      cmocka_unit_test(test_message_borrowed_copies_on_append),
  };
  return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
