/* Generated decoders do not zero their output before decoding (issue 22):
 * they set every member themselves. These tests decode into outputs full
 * of garbage and check what a zeroed output used to guarantee: an absent
 * optional's value is zero, an empty array's pointer is NULL, an empty
 * struct's member is 0, and on any error the whole output is zeroed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "all_types.netfw.h"
#include "netfw/netfw.h"

#define GARBAGE 0xa5

static bool all_zero(const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0)
      return false;
  return true;
}

static void test_decode_fill_absent_optionals(void **state) {
  at_Optionals in, out;
  netfw_msg m;
  netfw_arena arena;

  (void)state;
  memset(&in, 0, sizeof(in));
  netfw_msg_init(&m, 0);
  netfw_arena_init(&arena);
  assert_int_equal(at_Optionals_encode(&in, &m), 0);
  memset(&out, GARBAGE, sizeof(out));
  assert_int_equal(at_Optionals_decode(&m, &out, &arena), 0);
  assert_false(out.has_maybe);
  assert_int_equal(out.maybe, 0);
  assert_false(out.has_note);
  assert_null(out.note.ptr);
  assert_int_equal(out.note.len, 0);
  assert_false(out.has_where);
  assert_int_equal(out.where.x, 0);
  assert_int_equal(out.where.y, 0);
  assert_false(out.has_inner);
  assert_false(out.inner.has_p);
  assert_int_equal(out.inner.p.x, 0);
  assert_int_equal(out.inner.p.y, 0);
  assert_int_equal(out.inner.c, 0);

  /* present inner, absent inner.p */
  in.has_inner = true;
  in.inner.c = AT_COLOR_BLUE;
  netfw_msg_clear(&m);
  assert_int_equal(at_Optionals_encode(&in, &m), 0);
  memset(&out, GARBAGE, sizeof(out));
  assert_int_equal(at_Optionals_decode(&m, &out, &arena), 0);
  assert_true(out.has_inner);
  assert_false(out.inner.has_p);
  assert_int_equal(out.inner.p.x, 0);
  assert_int_equal(out.inner.p.y, 0);
  assert_int_equal(out.inner.c, AT_COLOR_BLUE);
  assert_int_equal(out.maybe, 0);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_decode_fill_empty_arrays(void **state) {
  at_Repeats in, out;
  at_Nested nin, nout;
  netfw_msg m;
  netfw_arena arena;

  (void)state;
  memset(&in, 0, sizeof(in));
  netfw_msg_init(&m, 0);
  netfw_arena_init(&arena);
  assert_int_equal(at_Repeats_encode(&in, &m), 0);
  memset(&out, GARBAGE, sizeof(out));
  assert_int_equal(at_Repeats_decode(&m, &out, &arena), 0);
  assert_null(out.nums);
  assert_int_equal(out.nums_count, 0);
  assert_null(out.words);
  assert_int_equal(out.words_count, 0);
  assert_null(out.points);
  assert_int_equal(out.points_count, 0);
  assert_null(out.colors);
  assert_int_equal(out.colors_count, 0);

  /* a tree without kids, inside a message */
  memset(&nin, 0, sizeof(nin));
  netfw_msg_clear(&m);
  assert_int_equal(at_Nested_encode(&nin, &m), 0);
  memset(&nout, GARBAGE, sizeof(nout));
  assert_int_equal(at_Nested_decode(&m, &nout, &arena), 0);
  assert_null(nout.tree.kids);
  assert_int_equal(nout.tree.kids_count, 0);
  assert_int_equal(nout.tree.label.len, 0);
  assert_false(nout.inner.has_p);
  assert_int_equal(nout.inner.p.x, 0);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_decode_fill_empty_struct(void **state) {
  at_Empty in = {0}, out;
  netfw_msg m;

  (void)state;
  netfw_msg_init(&m, 0);
  assert_int_equal(at_Empty_encode(&in, &m), 0);
  memset(&out, GARBAGE, sizeof(out));
  assert_int_equal(at_Empty_decode(&m, &out, NULL), 0);
  assert_int_equal(out.empty_, 0);
  netfw_msg_release(&m);
}

/* Every truncation of a full Optionals and Repeats: an error, and the
 * output all zero bytes whatever it held. */
static void test_decode_fill_zeroed_on_error(void **state) {
  static const uint32_t nums[] = {1, 2, 3};
  at_Point pts[2] = {{1, 2}, {3, 4}};
  at_Optionals o = {.has_maybe = true, .maybe = 7, .has_note = true,
                    .note = {"note", 4}, .has_where = true,
                    .where = {5, 6}, .has_inner = true,
                    .inner = {.has_p = true, .p = {8, 9}, .c = AT_COLOR_GREEN}};
  at_Repeats r = {.nums = (uint32_t *)nums, .nums_count = 3,
                  .points = pts, .points_count = 2};
  netfw_msg m, cut;
  netfw_arena arena;

  (void)state;
  netfw_msg_init(&m, 0);
  netfw_arena_init(&arena);
  assert_int_equal(at_Optionals_encode(&o, &m), 0);
  for (uint32_t len = 0; len < netfw_msg_size(&m); len++) {
    at_Optionals out;
    netfw_msg_init(&cut, 0);
    if (len > 0)
      assert_int_equal(netfw_msg_append(&cut, netfw_msg_payload(&m), len), 0);
    memset(&out, GARBAGE, sizeof(out));
    assert_int_equal(at_Optionals_decode(&cut, &out, &arena), NETFW_EPROTO);
    assert_true(all_zero(&out, sizeof(out)));
    netfw_msg_release(&cut);
  }
  netfw_msg_clear(&m);
  assert_int_equal(at_Repeats_encode(&r, &m), 0);
  for (uint32_t len = 0; len < netfw_msg_size(&m); len++) {
    at_Repeats out;
    netfw_msg_init(&cut, 0);
    if (len > 0)
      assert_int_equal(netfw_msg_append(&cut, netfw_msg_payload(&m), len), 0);
    memset(&out, GARBAGE, sizeof(out));
    assert_int_equal(at_Repeats_decode(&cut, &out, &arena), NETFW_EPROTO);
    assert_true(all_zero(&out, sizeof(out)));
    netfw_msg_release(&cut);
  }
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_fill_absent_optionals),
      cmocka_unit_test(test_decode_fill_empty_arrays),
      cmocka_unit_test(test_decode_fill_empty_struct),
      cmocka_unit_test(test_decode_fill_zeroed_on_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
