/* Generated codecs: round trips of every field type of all_types.netproto,
 * little endian (scalars, bools, texts, enums, arrays, repeated fields,
 * optionals, recursion and its depth limit, struct codecs) and big endian
 * (all_types_be.netproto), with their malformed inputs. Moved out of
 * test_gen_codec.c (file_storage fixtures, random payloads); the helpers
 * are in gen_codec_kit.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "all_types.netfw.h"
#include "all_types_be.netfw.h"
#include "file_storage.netfw.h"
#include "gen_codec_kit.h"
#include "message_internal.h"
#include "netfw/netfw.h"

/* ---- every type, little endian ---------------------------------------- */

static void test_at_scalars_bytes_and_bounds(void **state) {
  static const uint8_t max_le[] = {
      0xff,                                           /* u8 */
      0xff, 0xff,                                     /* u16 */
      0xff, 0xff, 0xff, 0xff,                         /* u32 */
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* u64 */
      0x80,                                           /* i8 min */
      0x00, 0x80,                                     /* i16 min */
      0x00, 0x00, 0x00, 0x80,                         /* i32 min */
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, /* i64 min */
      0x01, 0x00, 0xc0, 0x7f,                         /* f32 NaN 0x7fc00001 */
      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f, /* f64 sNaN */
      0x01};                                          /* true */
  at_Scalars s = {UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX,
                  INT8_MIN,  INT16_MIN,  INT32_MIN,  INT64_MIN,
                  0,         0,          true};
  uint32_t f32 = 0x7fc00001u;
  uint64_t f64 = 0x7ff0000000000001ull;
  at_Scalars back;
  netfw_msg m;

  memcpy(&s.i, &f32, 4);
  memcpy(&s.j, &f64, 8);
  netfw_msg_init(&m, 0);
  assert_int_equal(at_Scalars_encode(&s, &m), 0);
  assert_payload(&m, max_le, sizeof(max_le));
  assert_int_equal(at_Scalars_decode(&m, &back, NULL), 0);
  assert_int_equal(back.a, UINT8_MAX);
  assert_int_equal(back.b, UINT16_MAX);
  assert_true(back.c == UINT32_MAX);
  assert_true(back.d == UINT64_MAX);
  assert_int_equal(back.e, INT8_MIN);
  assert_int_equal(back.f, INT16_MIN);
  assert_true(back.g == INT32_MIN);
  assert_true(back.h == INT64_MIN);
  assert_memory_equal(&back.i, &f32, 4); /* NaN payload bits kept */
  assert_memory_equal(&back.j, &f64, 8);
  assert_true(back.k);

  /* the other ends: zero, max of signed, -0.0 and infinity */
  memset(&s, 0, sizeof(s));
  s.e = INT8_MAX;
  s.f = INT16_MAX;
  s.g = INT32_MAX;
  s.h = INT64_MAX;
  s.i = -0.0f;
  s.j = -INFINITY;
  netfw_msg_clear(&m);
  assert_int_equal(at_Scalars_encode(&s, &m), 0);
  assert_int_equal(netfw_msg_size(&m), 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 4 + 8 + 1);
  assert_int_equal(at_Scalars_decode(&m, &back, NULL), 0);
  assert_int_equal(back.a, 0);
  assert_true(back.d == 0);
  assert_int_equal(back.e, INT8_MAX);
  assert_int_equal(back.f, INT16_MAX);
  assert_true(back.g == INT32_MAX);
  assert_true(back.h == INT64_MAX);
  assert_true(signbit(back.i) && back.i == 0.0f);
  assert_true(isinf(back.j) && back.j < 0);
  assert_false(back.k);
  netfw_msg_release(&m);
}

static void test_at_bool_must_be_0_or_1(void **state) {
  uint8_t bytes[43] = {0};
  netfw_msg *m;
  at_Scalars s;
  bytes[42] = 2;
  m = borrowed(AT_SCALARS_ID, bytes, sizeof(bytes));
  assert_int_equal(at_Scalars_decode(m, &s, NULL), NETFW_EPROTO);
  borrowed_free(m);
  bytes[42] = 1;
  m = borrowed(AT_SCALARS_ID, bytes, sizeof(bytes));
  assert_int_equal(at_Scalars_decode(m, &s, NULL), 0);
  borrowed_free(m);
}

static void test_at_texts_empty_and_maximal(void **state) {
  char *big = malloc(70000);
  at_Texts t, back;
  netfw_msg m;
  netfw_arena arena;

  assert_non_null(big);
  memset(big, 'x', 70000);
  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  memset(&t, 0, sizeof(t));
  assert_int_equal(at_Texts_encode(&t, &m), 0);
  {
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0};
    assert_payload(&m, empty, sizeof(empty));
  }
  assert_int_equal(at_Texts_decode(&m, &back, &arena), 0);
  assert_int_equal(back.s8.len + back.s16.len + back.s32.len, 0);

  t.s8.ptr = big;
  t.s8.len = 255;
  t.s16.ptr = big;
  t.s16.len = 65535;
  t.s32.ptr = big;
  t.s32.len = 70000;
  t.b8.ptr = (const uint8_t *)big;
  t.b8.len = 255;
  t.b16.ptr = (const uint8_t *)big;
  t.b16.len = 65535;
  t.b32.ptr = (const uint8_t *)big;
  t.b32.len = 70000;
  netfw_msg_clear(&m);
  assert_int_equal(at_Texts_encode(&t, &m), 0);
  assert_int_equal(netfw_msg_size(&m), 2 * (1 + 255 + 2 + 65535 + 4 + 70000));
  assert_int_equal(at_Texts_encoded_size(&t), netfw_msg_size(&m));
  assert_int_equal(netfw_msg_payload(&m)[0], 0xff);
  assert_int_equal(at_Texts_decode(&m, &back, &arena), 0);
  assert_int_equal(back.s8.len, 255);
  assert_int_equal(back.s16.len, 65535);
  assert_int_equal(back.s32.len, 70000);
  assert_int_equal(back.b8.len, 255);
  assert_int_equal(back.b16.len, 65535);
  assert_int_equal(back.b32.len, 70000);
  assert_memory_equal(back.b32.ptr, big, 70000);

  t.s16.len = 65536;
  netfw_msg_clear(&m);
  assert_int_equal(at_Texts_encode(&t, &m), NETFW_E2BIG);
  t.s16.len = 0;
  t.b8.len = 256;
  assert_int_equal(at_Texts_encode(&t, &m), NETFW_E2BIG);
  assert_int_equal(netfw_msg_size(&m), 0);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
  free(big);
}

static void test_at_enums_bounds(void **state) {
  static const uint8_t exp[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
  static const uint8_t bad_wide[] = {0x00, 0x01, 0x00, 0, 0, 0, 0};
  static const uint8_t bad_big[] = {0x00, 0x00, 0x00, 0, 0, 0, 0x80};
  at_Enums e = {AT_COLOR_BLUE, AT_WIDE_HIGH, AT_BIG_TOP};
  at_Enums back;
  netfw_msg m, *b;

  netfw_msg_init(&m, 0);
  assert_int_equal(at_Enums_encode(&e, &m), 0);
  assert_payload(&m, exp, sizeof(exp));
  assert_int_equal(at_Enums_decode(&m, &back, NULL), 0);
  assert_int_equal(back.color, AT_COLOR_BLUE);
  assert_int_equal(back.wide, AT_WIDE_HIGH);
  assert_int_equal(back.big, AT_BIG_TOP);
  netfw_msg_release(&m);
  b = borrowed(AT_ENUMS_ID, bad_wide, sizeof(bad_wide));
  assert_int_equal(at_Enums_decode(b, &back, NULL), NETFW_EPROTO);
  borrowed_free(b);
  b = borrowed(AT_ENUMS_ID, bad_big, sizeof(bad_big));
  assert_int_equal(at_Enums_decode(b, &back, NULL), NETFW_EPROTO);
  borrowed_free(b);
}

static void test_at_arrays(void **state) {
  static const uint8_t exp[] = {1, 0, 2, 0, 0xff, 0xff,         /* fixed */
                                1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, /* pts[0] */
                                0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0x7f,
                                1, 'a', 0};                      /* names */
  at_Arrays a = {{1, 2, 0xffff}, {{1, -2}, {INT32_MIN, INT32_MAX}},
                 {{"a", 1}, {NULL, 0}}};
  at_Arrays back;
  netfw_msg m;

  assert_int_equal(AT_N, 3);
  netfw_msg_init(&m, 0);
  assert_int_equal(at_Arrays_encode(&a, &m), 0);
  assert_payload(&m, exp, sizeof(exp));
  assert_int_equal(at_Arrays_decode(&m, &back, NULL), 0);
  assert_int_equal(back.fixed[2], 0xffff);
  assert_int_equal(back.pts[0].y, -2);
  assert_true(back.pts[1].x == INT32_MIN);
  assert_true(str_eq(back.names[0], "a"));
  assert_int_equal(back.names[1].len, 0);
  netfw_msg_release(&m);
}

static void test_at_repeated_empty_full_and_limits(void **state) {
  uint32_t nums[256];
  netfw_str words[3] = {{"x", 1}, {"", 0}, {"yz", 2}};
  at_Point points[2] = {{1, 2}, {3, 4}};
  at_Color colors[2] = {AT_COLOR_GREEN, AT_COLOR_BLUE};
  at_Repeats r = {0};
  at_Repeats back;
  netfw_msg m;
  netfw_arena arena;

  for (int i = 0; i < 256; i++)
    nums[i] = (uint32_t)i * 16777619u;
  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  assert_int_equal(at_Repeats_encode(&r, &m), 0);
  {
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0, 0, 0};
    assert_payload(&m, empty, sizeof(empty));
  }
  assert_int_equal(at_Repeats_decode(&m, &back, NULL), 0);
  assert_int_equal(back.nums_count, 0);
  assert_null(back.nums);

  r.nums = nums;
  r.nums_count = 255;
  r.words = words;
  r.words_count = 3;
  r.points = points;
  r.points_count = 2;
  r.colors = colors;
  r.colors_count = 2;
  netfw_msg_clear(&m);
  assert_int_equal(at_Repeats_encode(&r, &m), 0);
  assert_int_equal(netfw_msg_size(&m),
                   1 + 255 * 4 + 2 + (2 + 1 + 3) + 4 + 16 + 1 + 2);
  assert_int_equal(at_Repeats_decode(&m, &back, &arena), 0);
  assert_int_equal(back.nums_count, 255);
  assert_memory_equal(back.nums, nums, 255 * 4);
  assert_int_equal(back.words_count, 3);
  assert_true(str_eq(back.words[2], "yz"));
  assert_int_equal(back.points_count, 2);
  assert_int_equal(back.points[1].y, 4);
  assert_int_equal(back.colors[1], AT_COLOR_BLUE);

  r.nums_count = 256; /* over the u8 count prefix */
  netfw_msg_clear(&m);
  assert_int_equal(at_Repeats_encode(&r, &m), NETFW_E2BIG);
  assert_int_equal(netfw_msg_size(&m), 0);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_at_optionals(void **state) {
  at_Optionals o = {0};
  at_Optionals back;
  netfw_msg m, *b;
  static const uint8_t absent[] = {0, 0, 0, 0};
  static const uint8_t bad_presence[] = {2, 0, 0, 0};

  netfw_msg_init(&m, 0);
  assert_int_equal(at_Optionals_encode(&o, &m), 0);
  assert_payload(&m, absent, sizeof(absent));
  assert_int_equal(at_Optionals_decode(&m, &back, NULL), 0);
  assert_false(back.has_maybe || back.has_note || back.has_where ||
               back.has_inner);

  o.has_maybe = true;
  o.maybe = 0xdeadbeef;
  o.has_note = true;
  o.note = str("hi");
  o.has_where = true;
  o.where.x = -1;
  o.has_inner = true;
  o.inner.has_p = true;
  o.inner.p.y = 7;
  o.inner.c = AT_COLOR_GREEN;
  netfw_msg_clear(&m);
  assert_int_equal(at_Optionals_encode(&o, &m), 0);
  {
    static const uint8_t exp[] = {1, 0xef, 0xbe, 0xad, 0xde, 1, 2, 'h', 'i',
                                  1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
                                  1, 1, 0, 0, 0, 0, 7, 0, 0, 0, 1};
    assert_payload(&m, exp, sizeof(exp));
  }
  assert_int_equal(at_Optionals_decode(&m, &back, NULL), 0);
  assert_true(back.has_maybe && back.maybe == 0xdeadbeef);
  assert_true(back.has_note && str_eq(back.note, "hi"));
  assert_true(back.has_where && back.where.x == -1);
  assert_true(back.has_inner && back.inner.has_p && back.inner.p.y == 7);
  assert_int_equal(back.inner.c, AT_COLOR_GREEN);
  netfw_msg_release(&m);

  b = borrowed(AT_OPTIONALS_ID, bad_presence, sizeof(bad_presence));
  assert_int_equal(at_Optionals_decode(b, &back, NULL), NETFW_EPROTO);
  borrowed_free(b);
}

/* Tree payload: `levels` nested single kids, then a leaf; then Inner. */
static netfw_msg *tree_bomb(int levels) {
  size_t n = (size_t)levels * 2 + 2 + 2;
  uint8_t *bytes = calloc(1, n);
  netfw_msg *m;
  for (int i = 0; i < levels; i++)
    bytes[i * 2 + 1] = 1; /* label "" and one kid */
  m = borrowed(AT_NESTED_ID, bytes, n);
  free(bytes);
  return m;
}

static void test_at_recursion_and_depth_limit(void **state) {
  at_Tree leaves[2] = {{{"l1", 2}, NULL, 0}, {{"l2", 2}, NULL, 0}};
  at_Tree mid = {{"mid", 3}, leaves, 2};
  at_Nested n = {{{"root", 4}, &mid, 1}, {false, {0, 0}, AT_COLOR_RED}};
  at_Nested back;
  netfw_msg m, *b;
  netfw_arena arena;

  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  assert_int_equal(at_Nested_encode(&n, &m), 0);
  assert_int_equal(at_Nested_decode(&m, &back, &arena), 0);
  assert_true(str_eq(back.tree.label, "root"));
  assert_int_equal(back.tree.kids_count, 1);
  assert_int_equal(back.tree.kids[0].kids_count, 2);
  assert_true(str_eq(back.tree.kids[0].kids[1].label, "l2"));
  netfw_msg_release(&m);

  b = tree_bomb(100);
  assert_int_equal(at_Nested_decode(b, &back, &arena), 0);
  borrowed_free(b);
  b = tree_bomb(100000);
  assert_int_equal(at_Nested_decode(b, &back, &arena), NETFW_EPROTO);
  borrowed_free(b);
  netfw_arena_free(&arena);
}

static void test_at_struct_codec_appends_and_advances(void **state) {
  at_Point p = {5, -6}, q = {7, 8}, back;
  netfw_msg m;

  netfw_msg_init(&m, 99);
  assert_int_equal(at_Point_encode(&p, &m), 0);
  assert_int_equal(at_Point_encode(&q, &m), 0);
  assert_int_equal(netfw_msg_id(&m), 99); /* a struct does not set the id */
  assert_int_equal(netfw_msg_size(&m), 16);
  assert_int_equal(at_Point_decode(&m, &back, NULL), 0);
  assert_int_equal(back.y, -6);
  assert_int_equal(netfw_msg_remaining(&m), 8);
  assert_int_equal(at_Point_decode(&m, &back, NULL), 0);
  assert_int_equal(back.x, 7);
  assert_int_equal(at_Point_decode(&m, &back, NULL), NETFW_EPROTO);
  netfw_msg_release(&m);
}

/* ---- big endian --------------------------------------------------------- */

static void test_atb_big_endian_bytes(void **state) {
  static const uint8_t exp[] = {
      0x01, 0x01, 0x02, 0x01, 0x02, 0x03, 0x04,
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
      0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfd,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
      0x3f, 0x80, 0x00, 0x00,                         /* 1.0f */
      0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* -2.0 */
      0x01};
  atb_Scalars s = {1, 0x0102, 0x01020304, 0x0102030405060708ull,
                   -1, -2, -3, -4, 1.0f, -2.0, true};
  atb_Scalars back;
  atb_Repeats r = {0}, rback;
  atb_Texts t = {0};
  atb_Enums e = {ATB_COLOR_GREEN, ATB_WIDE_HIGH, ATB_BIG_TOP};
  uint32_t nums[2] = {1, 0x01020304};
  netfw_msg m;
  netfw_arena arena;

  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  assert_int_equal(atb_Scalars_encode(&s, &m), 0);
  assert_payload(&m, exp, sizeof(exp));
  assert_int_equal(atb_Scalars_decode(&m, &back, NULL), 0);
  assert_true(back.a == s.a && back.b == s.b && back.c == s.c &&
              back.d == s.d && back.e == s.e && back.f == s.f &&
              back.g == s.g && back.h == s.h && back.i == s.i &&
              back.j == s.j && back.k == s.k);

  t.s16 = str("ab");
  t.b32.ptr = (const uint8_t *)"c";
  t.b32.len = 1;
  netfw_msg_clear(&m);
  assert_int_equal(atb_Texts_encode(&t, &m), 0);
  {
    static const uint8_t texp[] = {0, 0, 2, 'a', 'b', 0, 0, 0, 0,
                                   0, 0, 0, 0, 0, 0, 1, 'c'};
    assert_payload(&m, texp, sizeof(texp));
  }
  r.nums = nums;
  r.nums_count = 2;
  netfw_msg_clear(&m);
  assert_int_equal(atb_Repeats_encode(&r, &m), 0);
  {
    static const uint8_t rexp[] = {2, 0, 0, 0, 1, 1, 2, 3, 4,
                                   0, 0, 0, 0, 0, 0, 0};
    assert_payload(&m, rexp, sizeof(rexp));
  }
  assert_int_equal(atb_Repeats_decode(&m, &rback, &arena), 0);
  assert_int_equal(rback.nums_count, 2);
  assert_int_equal(rback.nums[1], 0x01020304);
  netfw_msg_clear(&m);
  assert_int_equal(atb_Enums_encode(&e, &m), 0);
  {
    static const uint8_t eexp[] = {1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff};
    assert_payload(&m, eexp, sizeof(eexp));
  }
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_at_scalars_bytes_and_bounds),
      cmocka_unit_test(test_at_bool_must_be_0_or_1),
      cmocka_unit_test(test_at_texts_empty_and_maximal),
      cmocka_unit_test(test_at_enums_bounds),
      cmocka_unit_test(test_at_arrays),
      cmocka_unit_test(test_at_repeated_empty_full_and_limits),
      cmocka_unit_test(test_at_optionals),
      cmocka_unit_test(test_at_recursion_and_depth_limit),
      cmocka_unit_test(test_at_struct_codec_appends_and_advances),
      cmocka_unit_test(test_atb_big_endian_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
