/* Generated decoders do not zero their output before decoding (issue 22):
 * they set every member themselves. These tests decode into outputs full
 * of garbage and check what a zeroed output used to guarantee: an absent
 * optional's value is zero, an empty array's pointer is NULL, an empty
 * struct's member is 0, and on any error the whole output is zeroed.
 * Generated encoders write in one pass into the room a message already
 * has, and fall back to sizing first when it runs out: the bytes must be
 * the same wherever the room ends, and a refused value must leave the
 * message as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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

/* Encodes v with enc into a message holding `prefix` bytes with exactly
 * room bytes of capacity left, and checks the payload is the prefix then
 * want[0, n), and the id. */
typedef int (*enc_fn)(const void *v, netfw_msg *m);

static void check_room(enc_fn enc, const void *v, uint16_t id,
                       const uint8_t *want, size_t n, size_t room) {
  enum { CAP = 4096 };
  static uint8_t fill[CAP];
  netfw_msg m;
  size_t prefix = CAP - room;

  netfw_msg_init(&m, 0);
  assert_int_equal(netfw_msg_reserve(&m, CAP), 0);
  memset(fill, 0x5a, sizeof(fill));
  if (prefix > 0)
    assert_int_equal(netfw_msg_append(&m, fill, prefix), 0);
  assert_int_equal(enc(v, &m), 0);
  assert_int_equal(netfw_msg_size(&m), prefix + n);
  assert_int_equal(netfw_msg_id(&m), id);
  if (prefix > 0)
    assert_memory_equal(netfw_msg_payload(&m), fill, prefix);
  if (n > 0)
    assert_memory_equal(netfw_msg_payload(&m) + prefix, want, n);
  netfw_msg_release(&m);
}

static int enc_texts(const void *v, netfw_msg *m) {
  return at_Texts_encode(v, m);
}
static int enc_opts(const void *v, netfw_msg *m) {
  return at_Optionals_encode(v, m);
}
static int enc_repeats(const void *v, netfw_msg *m) {
  return at_Repeats_encode(v, m);
}

static void check_every_room(enc_fn enc, const void *v, uint16_t id) {
  netfw_msg ref;
  uint8_t *want;
  size_t n;

  netfw_msg_init(&ref, 0);
  assert_int_equal(enc(v, &ref), 0);
  n = netfw_msg_size(&ref);
  want = malloc(n + 1);
  assert_non_null(want);
  memcpy(want, netfw_msg_payload(&ref), n);
  for (size_t room = 0; room <= n + 3; room++)
    check_room(enc, v, id, want, n, room);
  free(want);
  netfw_msg_release(&ref);
}

static void test_encode_room_anywhere(void **state) {
  static char s300[300], b1000[1000];
  static const uint32_t nums[] = {1, 2, 3};
  static netfw_str words[3];
  at_Point pts[2] = {{1, 2}, {3, 4}};
  at_Color colors[2] = {AT_COLOR_RED, AT_COLOR_BLUE};
  at_Texts t;
  at_Optionals o = {.has_maybe = true, .maybe = 7, .has_note = true,
                    .note = {"n\xc3\xa9", 3}, .has_where = true,
                    .where = {5, 6}, .has_inner = true,
                    .inner = {.has_p = true, .p = {8, 9}, .c = AT_COLOR_GREEN}};
  at_Repeats r = {.nums = (uint32_t *)nums, .nums_count = 3,
                  .words = words, .words_count = 3,
                  .points = pts, .points_count = 2,
                  .colors = colors, .colors_count = 2};

  (void)state;
  memset(s300, 's', sizeof(s300));
  memset(b1000, 0xb1, sizeof(b1000));
  words[0] = (netfw_str){"one", 3};
  words[1] = (netfw_str){"", 0};
  words[2] = (netfw_str){s300, 255};
  t = (at_Texts){.s8 = {"eight", 5}, .s16 = {s300, 300}, .s32 = {s300, 1},
                 .b8 = {(const uint8_t *)b1000, 200},
                 .b16 = {(const uint8_t *)b1000, 1000},
                 .b32 = {(const uint8_t *)b1000, 0}};
  check_every_room(enc_texts, &t, AT_TEXTS_ID);
  check_every_room(enc_opts, &o, AT_OPTIONALS_ID);
  check_every_room(enc_repeats, &r, AT_REPEATS_ID);
}

/* A refused value, whatever the room: the error, and the message as it
 * was (size, bytes, id). */
static void check_refused(enc_fn enc, const void *v, int want_rc) {
  for (size_t room = 0; room < 1500; room += 7) {
    enum { CAP = 4096 };
    static uint8_t fill[CAP];
    size_t prefix = CAP - room;
    netfw_msg m;

    netfw_msg_init(&m, 99);
    assert_int_equal(netfw_msg_reserve(&m, CAP), 0);
    memset(fill, 0x5a, sizeof(fill));
    assert_int_equal(netfw_msg_append(&m, fill, prefix), 0);
    assert_int_equal(enc(v, &m), want_rc);
    assert_int_equal(netfw_msg_size(&m), prefix);
    assert_int_equal(netfw_msg_id(&m), 99);
    assert_memory_equal(netfw_msg_payload(&m), fill, prefix);
    netfw_msg_release(&m);
  }
}

static void test_encode_refusals_leave_message(void **state) {
  static char s300[300];
  at_Texts t;
  at_Optionals o = {.has_inner = true, .inner = {.c = (at_Color)7}};
  at_Repeats r = {.nums = NULL, .nums_count = 2};

  (void)state;
  memset(s300, 's', sizeof(s300));
  /* a string<u8> of 256 bytes after fields that fit */
  t = (at_Texts){.s8 = {s300, 256}};
  check_refused(enc_texts, &t, NETFW_E2BIG);
  /* a bytes<u8> of 256, late in the message */
  t = (at_Texts){.s16 = {s300, 300}, .b8 = {(const uint8_t *)s300, 256}};
  check_refused(enc_texts, &t, NETFW_E2BIG);
  /* invalid UTF-8, and a NULL pointer with a length */
  t = (at_Texts){.s8 = {"ok", 2}, .s32 = {"\xc0\x80", 2}};
  check_refused(enc_texts, &t, NETFW_EINVAL);
  t = (at_Texts){.b16 = {NULL, 3}};
  check_refused(enc_texts, &t, NETFW_EINVAL);
  /* an enum value the schema does not list, nested */
  check_refused(enc_opts, &o, NETFW_EINVAL);
  /* a NULL array with a count */
  check_refused(enc_repeats, &r, NETFW_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_fill_absent_optionals),
      cmocka_unit_test(test_decode_fill_empty_arrays),
      cmocka_unit_test(test_decode_fill_empty_struct),
      cmocka_unit_test(test_decode_fill_zeroed_on_error),
      cmocka_unit_test(test_encode_room_anywhere),
      cmocka_unit_test(test_encode_refusals_leave_message),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
