/* Cross-version codecs: the code generated from evolve_v1.netproto (ev1,
 * version 1) and evolve_v2.netproto (ev2, version 3) of one protocol, in one
 * binary. Every message encoded by each and decoded by the other, byte for
 * byte; [since] groups cut at and inside their boundaries; extensible
 * structs (in repeated, optional, plainly, nested) with their lengths; open
 * enum values one side does not know; the canonical re-encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "evolve_samples.h"
#include "evolve_wire.h"

#define SEQ_HELLO 7
#define SEQ_WELCOME 9

/* Encodes *val with TYPE's encoder; asserts the id, exactly the bytes exp and
 * encoded_size. */
#define ASSERT_ENCODES(TYPE, ID, val, exp)                                     \
  do {                                                                         \
    netfw_msg m_;                                                              \
    netfw_msg_init(&m_, 0);                                                    \
    assert_int_equal(TYPE##_encode((val), &m_), 0);                            \
    assert_int_equal(netfw_msg_id(&m_), (ID));                                 \
    assert_int_equal(TYPE##_encoded_size(val), sizeof(exp));                   \
    assert_payload(&m_, (exp), sizeof(exp));                                   \
    netfw_msg_release(&m_);                                                    \
  } while (0)

/* Decodes the first n bytes of `bytes` with TYPE's decoder into *out:
 * asserts the result rc and, on success, that `left` bytes stay unread.
 * The message stays in *in (views point into it): borrowed_free it. */
#define DECODE(TYPE, in, bytes, n, out, arena, rc, left)                       \
  do {                                                                         \
    *(in) = borrowed(0, (bytes), (n));                                         \
    assert_int_equal(TYPE##_decode(*(in), (out), (arena)), (rc));              \
    if ((rc) == 0)                                                             \
      assert_int_equal(netfw_msg_remaining(*(in)), (left));                    \
  } while (0)

/* One message, version 1 -> version 2 -> version 2 again: the v1 sample
 * encodes to exactly b1; version 2 decodes b1 into its values, the
 * defaults and present_version 1 (check_from_v1); encoding that writes the
 * full version 2 form, exactly canon; decoding canon gives present_version
 * `top` (the message's highest [since]) and encodes to canon again. */
#define V1_TO_V2(M, ID1, ID2, sample_v1, check_from_v1, b1, canon, top)        \
  do {                                                                         \
    ev1_##M v1_;                                                               \
    ev2_##M v2_, again_;                                                       \
    ev_tally t_ = {0};                                                         \
    netfw_arena a_;                                                            \
    netfw_msg *in_, *in2_;                                                     \
    netfw_arena_init(&a_);                                                     \
    sample_v1;                                                                 \
    ASSERT_ENCODES(ev1_##M, ID1, &v1_, b1);                                    \
    DECODE(ev2_##M, &in_, b1, sizeof(b1), &v2_, &a_, 0, 0);                    \
    check_from_v1(&t_, &v2_);                                                  \
    assert_tally_clean(&t_);                                                   \
    ASSERT_ENCODES(ev2_##M, ID2, &v2_, canon);                                 \
    DECODE(ev2_##M, &in2_, canon, sizeof(canon), &again_, &a_, 0, 0);          \
    assert_int_equal(again_.present_version, (top));                           \
    ASSERT_ENCODES(ev2_##M, ID2, &again_, canon);                              \
    borrowed_free(in2_);                                                       \
    borrowed_free(in_);                                                        \
    netfw_arena_free(&a_);                                                     \
  } while (0)

/* One message, version 2 -> version 1: the v2 sample encodes to exactly b2
 * and decodes back (check_v2, round trip to b2); version 1 decodes b2 into
 * its fields (check_v1), leaving the [since] fields' bytes unread
 * (sizeof(b2) - v1_end), and re-encodes exactly b1. */
#define V2_TO_V1(M, ID1, ID2, sample_v2, check_v2, check_v1, b2, v1_end, b1)   \
  do {                                                                         \
    ev1_##M v1_;                                                               \
    ev2_##M v2_, back_;                                                        \
    ev_tally t_ = {0};                                                         \
    netfw_arena a_;                                                            \
    netfw_msg *in_, *in2_;                                                     \
    netfw_arena_init(&a_);                                                     \
    sample_v2;                                                                 \
    v2_.present_version = 1; /* encoders ignore it */                          \
    ASSERT_ENCODES(ev2_##M, ID2, &v2_, b2);                                    \
    DECODE(ev2_##M, &in2_, b2, sizeof(b2), &back_, &a_, 0, 0);                 \
    check_v2(&t_, &back_);                                                     \
    ASSERT_ENCODES(ev2_##M, ID2, &back_, b2);                                  \
    DECODE(ev1_##M, &in_, b2, sizeof(b2), &v1_, &a_, 0,                        \
           sizeof(b2) - (v1_end));                                             \
    check_v1(&t_, &v1_);                                                       \
    assert_tally_clean(&t_);                                                   \
    ASSERT_ENCODES(ev1_##M, ID1, &v1_, b1);                                    \
    borrowed_free(in_);                                                        \
    borrowed_free(in2_);                                                       \
    netfw_arena_free(&a_);                                                     \
  } while (0)

/* The checks with the samples' sequence numbers bound. */
static void v2_hello_from_v1(ev_tally *t, const ev2_Hello *m) {
  check_v2_hello_from_v1(t, m, SEQ_HELLO);
}
static void v2_hello(ev_tally *t, const ev2_Hello *m) {
  check_v2_hello(t, m, SEQ_HELLO);
}
static void v1_hello(ev_tally *t, const ev1_Hello *m) {
  check_v1_hello(t, m, SEQ_HELLO);
}
static void v2_welcome_from_v1(ev_tally *t, const ev2_Welcome *m) {
  check_v2_welcome_from_v1(t, m, SEQ_WELCOME);
}
static void v2_welcome(ev_tally *t, const ev2_Welcome *m) {
  check_v2_welcome(t, m, SEQ_WELCOME);
}
static void v1_welcome_later(ev_tally *t, const ev1_Welcome *m) {
  check_v1_welcome(t, m, SEQ_WELCOME, 300); /* LATER: unknown to v1 */
}

/* ---- every message, both ways ----------------------------------------- */

static void test_evolve_codec_hello_both_ways(void **state) {
  V1_TO_V2(Hello, EV1_HELLO_ID, EV2_HELLO_ID,
           sample_v1_hello(&v1_, SEQ_HELLO), v2_hello_from_v1, hello_v1,
           hello_canon, 3);
  V2_TO_V1(Hello, EV1_HELLO_ID, EV2_HELLO_ID,
           sample_v2_hello(&v2_, SEQ_HELLO), v2_hello, v1_hello, hello_v2,
           HELLO_SINCE2, hello_v1);
}

static void test_evolve_codec_welcome_both_ways(void **state) {
  V1_TO_V2(Welcome, EV1_WELCOME_ID, EV2_WELCOME_ID,
           sample_v1_welcome(&v1_, SEQ_WELCOME), v2_welcome_from_v1,
           welcome_v1, welcome_canon, 3);
  V2_TO_V1(Welcome, EV1_WELCOME_ID, EV2_WELCOME_ID,
           sample_v2_welcome(&v2_, SEQ_WELCOME), v2_welcome, v1_welcome_later,
           welcome_v2, WELCOME_SINCE2, welcome_v1_from_v2);
}

static void test_evolve_codec_ping_both_ways(void **state) {
  V1_TO_V2(Ping, EV1_PING_ID, EV2_PING_ID, sample_v1_ping(&v1_),
           check_v2_ping_from_v1, ping_v1, ping_canon, 3);
  V2_TO_V1(Ping, EV1_PING_ID, EV2_PING_ID, sample_v2_ping(&v2_),
           check_v2_ping, check_v1_ping, ping_v2, PING_SINCE2, ping_v1);
}

/* Items holds the extensible Item in repeated, optional and plainly: the
 * lengths in items_v1/_v2/_canon grow with the fields, and version 1
 * skips what version 2 added inside each Item. */
static void test_evolve_codec_items_both_ways(void **state) {
  V1_TO_V2(Items, EV1_ITEMS_ID, EV2_ITEMS_ID, sample_v1_items(&v1_),
           check_v2_items_from_v1, items_v1, items_canon, 2);
  V2_TO_V1(Items, EV1_ITEMS_ID, EV2_ITEMS_ID, sample_v2_items(&v2_),
           check_v2_items, check_v1_items, items_v2, ITEMS_SINCE2, items_v1);
}

static void test_evolve_codec_status_both_ways(void **state) {
  V1_TO_V2(Status, EV1_STATUS_ID, EV2_STATUS_ID, sample_v1_status(&v1_),
           check_v2_status_from_v1, status_v1, status_canon, 2);
  V2_TO_V1(Status, EV1_STATUS_ID, EV2_STATUS_ID, sample_v2_status(&v2_),
           check_v2_status, check_v1_status, status_v2, STATUS_SINCE2,
           status_v1);
}

/* Bye evolves in neither: the same single byte both ways. */
static void test_evolve_codec_bye_both_ways(void **state) {
  static const uint8_t bye[] = {0x03};
  ev1_Bye b1 = {3}, d1;
  ev2_Bye b2 = {3}, d2;
  netfw_msg *in;

  ASSERT_ENCODES(ev1_Bye, EV1_BYE_ID, &b1, bye);
  ASSERT_ENCODES(ev2_Bye, EV2_BYE_ID, &b2, bye);
  DECODE(ev2_Bye, &in, bye, sizeof(bye), &d2, NULL, 0, 0);
  assert_int_equal(d2.code, 3);
  borrowed_free(in);
  DECODE(ev1_Bye, &in, bye, sizeof(bye), &d1, NULL, 0, 0);
  assert_int_equal(d1.code, 3);
  borrowed_free(in);
}

/* Extra exists in version 2 only: version 1 has no name for its id. */
static void test_evolve_codec_extra_v2_only(void **state) {
  ev2_Extra x, back;
  ev_tally t = {0};
  netfw_arena a;
  netfw_msg *in;

  netfw_arena_init(&a);
  sample_v2_extra(&x);
  ASSERT_ENCODES(ev2_Extra, EV2_EXTRA_ID, &x, extra_v2);
  DECODE(ev2_Extra, &in, extra_v2, sizeof(extra_v2), &back, &a, 0, 0);
  check_v2_extra(&t, &back);
  assert_tally_clean(&t);
  borrowed_free(in);
  assert_string_equal(ev2_msg_name(EV2_EXTRA_ID), "Extra");
  assert_null(ev1_msg_name(EV2_EXTRA_ID));
  assert_string_equal(ev1_msg_name(EV1_STATUS_ID), "Status");
  netfw_arena_free(&a);
}

/* ---- [since] group boundaries ----------------------------------------- */

/* Every prefix of a version 2 payload: it decodes only where a [since]
 * group starts (or at the end); anywhere else NETFW_EPROTO with the output
 * left zeroed. */
#define EVERY_CUT(TYPE, bytes, b2, b3)                                         \
  do {                                                                         \
    TYPE out_, zero_;                                                          \
    netfw_arena a_;                                                            \
    netfw_arena_init(&a_);                                                     \
    memset(&zero_, 0, sizeof(zero_));                                          \
    for (size_t n_ = 0; n_ < sizeof(bytes); n_++) {                            \
      netfw_msg *in_;                                                          \
      bool ok_ = n_ == (b2) || n_ == (b3);                                     \
      memset(&out_, 0x5a, sizeof(out_));                                       \
      DECODE(TYPE, &in_, bytes, n_, &out_, &a_, ok_ ? 0 : NETFW_EPROTO, 0);    \
      if (!ok_)                                                                \
        assert_memory_equal(&out_, &zero_, sizeof(out_));                      \
      borrowed_free(in_);                                                      \
    }                                                                          \
    netfw_arena_free(&a_);                                                     \
  } while (0)

/* Every prefix of a version 2 payload read by version 1: it decodes once
 * the version 1 fields (v1_end bytes) are there, leaving the rest unread. */
#define EVERY_CUT_V1(TYPE, bytes, v1_end)                                      \
  do {                                                                         \
    TYPE out_;                                                                 \
    netfw_arena a_;                                                            \
    netfw_arena_init(&a_);                                                     \
    for (size_t n_ = 0; n_ <= sizeof(bytes); n_++) {                           \
      netfw_msg *in_;                                                          \
      bool ok_ = n_ >= (v1_end);                                               \
      DECODE(TYPE, &in_, bytes, n_, &out_, &a_, ok_ ? 0 : NETFW_EPROTO,        \
             n_ - (v1_end));                                                   \
      borrowed_free(in_);                                                      \
    }                                                                          \
    netfw_arena_free(&a_);                                                     \
  } while (0)

static void test_evolve_codec_cut_v2_read_by_v1(void **state) {
  EVERY_CUT_V1(ev1_Hello, hello_v2, HELLO_SINCE2);
  EVERY_CUT_V1(ev1_Welcome, welcome_v2, WELCOME_SINCE2);
  EVERY_CUT_V1(ev1_Ping, ping_v2, PING_SINCE2);
  EVERY_CUT_V1(ev1_Items, items_v2, ITEMS_SINCE2);
  EVERY_CUT_V1(ev1_Status, status_v2, STATUS_SINCE2);
}

static void test_evolve_codec_cut_inside_a_group_is_eproto(void **state) {
  EVERY_CUT(ev2_Hello, hello_v2, HELLO_SINCE2, HELLO_SINCE3);
  EVERY_CUT(ev2_Welcome, welcome_v2, WELCOME_SINCE2, WELCOME_SINCE3);
  EVERY_CUT(ev2_Ping, ping_v2, PING_SINCE2, PING_SINCE3);
  EVERY_CUT(ev2_Items, items_v2, ITEMS_SINCE2, ITEMS_SINCE2);
  EVERY_CUT(ev2_Status, status_v2, STATUS_SINCE2, STATUS_SINCE2);
  EVERY_CUT(ev2_Extra, extra_v2, sizeof(extra_v2), sizeof(extra_v2));
}

/* A version 2 payload cut where the [since 3] group starts: version 2
 * fields as sent, version 3 fields at their defaults, present_version 2. */
static void test_evolve_codec_cut_at_since3_is_version_2(void **state) {
  ev2_Hello h;
  ev2_Welcome w;
  ev2_Ping p;
  netfw_arena a;
  netfw_msg *in;

  netfw_arena_init(&a);
  DECODE(ev2_Hello, &in, hello_v2, HELLO_SINCE3, &h, &a, 0, 0);
  assert_int_equal(h.present_version, 2);
  assert_true(h.a == 1 && h.b == 2 && h.c == 3 && h.d == 4);
  assert_true(h.e == 5 && h.f == 6);
  assert_true(h.g == 4000000000u && h.h == 0x1122334455667788ull);
  assert_true(h.fl == 1.5f && h.db == -2000.0 && h.yes);
  borrowed_free(in);

  DECODE(ev2_Welcome, &in, welcome_v2, WELCOME_SINCE3, &w, &a, 0, 0);
  assert_int_equal(w.present_version, 2);
  assert_int_equal(w.rc, EV2_RC_LATER);
  assert_true(str_eq(w.motd, "m"));
  assert_int_equal(w.blob.len, 0);
  assert_int_equal(w.kind, EV2_KIND_TWO);
  assert_int_equal(w.mode, EV2_MODE_OFF);
  assert_int_equal(w.rc2, EV2_RC_LATER);
  borrowed_free(in);

  DECODE(ev2_Ping, &in, ping_v2, PING_SINCE3, &p, &a, 0, 0);
  assert_int_equal(p.present_version, 2);
  assert_true(p.has_hint && p.hint == 0x11223344u);
  assert_int_equal(p.extra_count, 2);
  assert_int_equal(p.extra[1], 6);
  assert_int_equal(p.pad[2], 9);
  assert_int_equal(p.zero, -1);
  assert_int_equal(p.s.len + p.b.len, 0);
  assert_false(p.flag);
  assert_true(p.real == 0.0);
  assert_false(p.has_item);
  assert_int_equal(p.more_count, 0);
  borrowed_free(in);
  netfw_arena_free(&a);
}

/* ---- extensible structs ----------------------------------------------- */

/* A length larger than the bytes left is refused by both versions. */
static void test_evolve_codec_struct_length_past_the_end(void **state) {
  uint8_t b[sizeof(items_v1)];
  ev1_Items i1;
  ev2_Items i2;
  netfw_arena a;
  netfw_msg *in;

  netfw_arena_init(&a);
  memcpy(b, items_v1, sizeof(b));
  b[26] = 0x07; /* first: 7 bytes announced, 6 left */
  DECODE(ev1_Items, &in, b, sizeof(b), &i1, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  DECODE(ev2_Items, &in, b, sizeof(b), &i2, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  b[26] = 0xff;
  b[27] = 0xff;
  DECODE(ev1_Items, &in, b, sizeof(b), &i1, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  DECODE(ev2_Items, &in, b, sizeof(b), &i2, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  netfw_arena_free(&a);
}

/* A field may not reach past its struct's length: Item's name here ends
 * one byte after the length (the 'a' that follows would make a decoder
 * that ignores the length succeed). */
static void test_evolve_codec_struct_length_bounds_its_fields(void **state) {
  static const uint8_t b[] = {0x01, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00,
                              0x01, 'a',  0x00, 0x06, 0x00, 0x04, 0x00,
                              0x00, 0x00, 0x01, 'd'};
  ev1_Items i1;
  ev2_Items i2;
  netfw_arena a;
  netfw_msg *in;

  netfw_arena_init(&a);
  DECODE(ev1_Items, &in, b, sizeof(b), &i1, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  DECODE(ev2_Items, &in, b, sizeof(b), &i2, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  netfw_arena_free(&a);
}

/* Item lengths ending at each place inside a version 2 Item, in a
 * repeated: at the [since 3] group (version 2), inside the [since 2]
 * group or inside the [since 3] group (refused by version 2; version 1
 * skips the bytes). Then a Tag (u8 length) shorter and longer than
 * version 2 knows. */
static const uint8_t item_at_since3[] = {
    0x01, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a', 0x02, 0x00,
    0x00, 0x06, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 'd', 0x0b, 0x0a};
static const uint8_t item_in_since2[] = {
    0x01, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a', 0x02,
    0x00, 0x06, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 'd'};
static const uint8_t item_in_since3[] = {
    0x01, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a', 0x02, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 'd'};
/* items[0].tag: length 1 (k only), first.tag: length 3 (one byte more) */
static const uint8_t tags[] = {
    0x01, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a', 0x02, 0x00,
    0x01, 'L',  0x01, 0x01, 0x03,                         /* Tag{k 3} */
    0x00, 0x0e, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 'd', 0x05, 0x00,
    0x00, 0x01, 0x03, 0x01, 0x02, 0xee,                   /* Tag{1,2}+ee */
    0x0b, 0x0a};
/* tags decoded and encoded again by version 2 */
static const uint8_t tags_canon[] = {
    0x01, 0x0e, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a', 0x02, 0x00,
    0x01, 'L',  0x01, 0x02, 0x03, 0x01,                   /* Tag{3, 1} */
    0x00, 0x0d, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 'd', 0x05, 0x00,
    0x00, 0x01, 0x02, 0x01, 0x02,                         /* Tag{1, 2} */
    0x0b, 0x0a};

static void test_evolve_codec_struct_length_at_each_place(void **state) {
  ev1_Items i1;
  ev2_Items i2;
  ev_tally t = {0};
  netfw_arena a;
  netfw_msg *in;

  netfw_arena_init(&a);
  DECODE(ev2_Items, &in, item_at_since3, sizeof(item_at_since3), &i2, &a, 0,
         0);
  assert_int_equal(i2.items_count, 1);
  assert_int_equal(i2.items[0].present_version, 2);
  assert_int_equal(i2.items[0].weight, 2);
  assert_true(str_eq(i2.items[0].label, "t\"1"));
  assert_false(i2.items[0].has_tag);
  assert_int_equal(i2.first.present_version, 1);
  assert_int_equal(i2.tail, 0x0a0b);
  assert_int_equal(i2.present_version, 2);
  borrowed_free(in);
  DECODE(ev1_Items, &in, item_at_since3, sizeof(item_at_since3), &i1, &a, 0,
         2);
  assert_int_equal(i1.items[0].id, 1);
  assert_true(str_eq(i1.first.name, "d"));
  borrowed_free(in);

  DECODE(ev2_Items, &in, item_in_since2, sizeof(item_in_since2), &i2, &a,
         NETFW_EPROTO, 0);
  borrowed_free(in);
  DECODE(ev1_Items, &in, item_in_since2, sizeof(item_in_since2), &i1, &a, 0,
         0);
  assert_true(str_eq(i1.items[0].name, "a"));
  borrowed_free(in);
  DECODE(ev2_Items, &in, item_in_since3, sizeof(item_in_since3), &i2, &a,
         NETFW_EPROTO, 0);
  borrowed_free(in);
  DECODE(ev1_Items, &in, item_in_since3, sizeof(item_in_since3), &i1, &a, 0,
         0);
  borrowed_free(in);

  DECODE(ev2_Items, &in, tags, sizeof(tags), &i2, &a, 0, 0);
  EV_CHECK(&t, i2.items[0].has_tag && i2.items[0].tag.k == 3);
  EV_CHECK(&t, i2.items[0].tag.v == 1 && i2.items[0].tag.present_version == 1);
  EV_CHECK(&t, i2.first.has_tag && i2.first.tag.k == 1);
  EV_CHECK(&t, i2.first.tag.v == 2 && i2.first.tag.present_version == 2);
  assert_tally_clean(&t);
  ASSERT_ENCODES(ev2_Items, EV2_ITEMS_ID, &i2, tags_canon);
  borrowed_free(in);
  netfw_arena_free(&a);
}

/* A struct's decoder reads from the cursor and moves it past the length:
 * a version 1 Item then a version 2 Item, back to back, read by version 2
 * and by version 1. */
static void test_evolve_codec_struct_decode_moves_the_cursor(void **state) {
  static const uint8_t two[] = {
      0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 'a',       /* v1 {1,"a"} */
      0x0a, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x09,      /* v2 {2,"",9, */
      0x00, 0x01, 'B',  0x00};                             /* "B",no tag} */
  ev2_Item i2;
  ev1_Item i1;
  netfw_msg *in = borrowed(0, two, sizeof(two));

  assert_int_equal(ev2_Item_decode(in, &i2, NULL), 0);
  assert_int_equal(netfw_msg_remaining(in), 12);
  assert_true(i2.id == 1 && str_eq(i2.name, "a") && i2.weight == 7);
  assert_int_equal(i2.present_version, 1);
  assert_int_equal(ev2_Item_decode(in, &i2, NULL), 0);
  assert_int_equal(netfw_msg_remaining(in), 0);
  assert_true(i2.id == 2 && i2.weight == 9 && str_eq(i2.label, "B"));
  assert_int_equal(i2.present_version, 3);
  assert_int_equal(ev2_Item_decode(in, &i2, NULL), NETFW_EPROTO);

  netfw_msg_rewind(in);
  assert_int_equal(ev1_Item_decode(in, &i1, NULL), 0);
  assert_int_equal(netfw_msg_remaining(in), 12);
  assert_int_equal(ev1_Item_decode(in, &i1, NULL), 0);
  assert_int_equal(netfw_msg_remaining(in), 0);
  assert_true(i1.id == 2 && i1.name.len == 0);
  borrowed_free(in);
}

/* ---- open enums -------------------------------------------------------- */

/* LATER (300) is a v2 constant: v1 keeps the number through a decode and
 * an encode, and v2 reads LATER back. Numbers neither names (0x7777 in rc,
 * 0x7778 in rc2) go both ways too. A closed enum still refuses a number it
 * does not list. */
static void test_evolve_codec_open_enum_survives_v1(void **state) {
  static const uint8_t odd[] = {0x09, 0x00, 0x00, 0x00, 0x77, 0x77};
  ev1_Welcome w1 = {0};
  ev2_Welcome w2;
  uint8_t bad[sizeof(welcome_canon)];
  netfw_arena a;
  netfw_msg *in, *in2;

  netfw_arena_init(&a);
  DECODE(ev1_Welcome, &in, welcome_v2, sizeof(welcome_v2), &w1, &a, 0, 7);
  assert_int_equal(w1.rc, 300);
  ASSERT_ENCODES(ev1_Welcome, EV1_WELCOME_ID, &w1, welcome_v1_from_v2);
  borrowed_free(in);
  DECODE(ev2_Welcome, &in, welcome_v1_from_v2, sizeof(welcome_v1_from_v2),
         &w2, &a, 0, 0);
  assert_int_equal(w2.rc, EV2_RC_LATER);
  assert_int_equal(w2.present_version, 1);
  borrowed_free(in);

  w1.seq = SEQ_WELCOME;
  w1.rc = 0x7777;
  ASSERT_ENCODES(ev1_Welcome, EV1_WELCOME_ID, &w1, odd);
  DECODE(ev2_Welcome, &in, odd, sizeof(odd), &w2, &a, 0, 0);
  assert_int_equal(w2.rc, 0x7777);
  w2.rc2 = 0x7778;
  memcpy(bad, welcome_canon, sizeof(bad));
  memcpy(bad + 4, "\x77\x77", 2);
  memcpy(bad + sizeof(bad) - 2, "\x78\x77", 2);
  ASSERT_ENCODES(ev2_Welcome, EV2_WELCOME_ID, &w2, bad);
  DECODE(ev1_Welcome, &in2, bad, sizeof(bad), &w1, &a, 0, sizeof(bad) - 6);
  assert_int_equal(w1.rc, 0x7777);
  borrowed_free(in2);
  borrowed_free(in);

  memcpy(bad, welcome_canon, sizeof(bad));
  bad[sizeof(bad) - 4] = 0x07; /* kind: Kind is closed */
  DECODE(ev2_Welcome, &in, bad, sizeof(bad), &w2, &a, NETFW_EPROTO, 0);
  borrowed_free(in);
  netfw_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_evolve_codec_hello_both_ways),
      cmocka_unit_test(test_evolve_codec_welcome_both_ways),
      cmocka_unit_test(test_evolve_codec_ping_both_ways),
      cmocka_unit_test(test_evolve_codec_items_both_ways),
      cmocka_unit_test(test_evolve_codec_status_both_ways),
      cmocka_unit_test(test_evolve_codec_bye_both_ways),
      cmocka_unit_test(test_evolve_codec_extra_v2_only),
      cmocka_unit_test(test_evolve_codec_cut_v2_read_by_v1),
      cmocka_unit_test(test_evolve_codec_cut_inside_a_group_is_eproto),
      cmocka_unit_test(test_evolve_codec_cut_at_since3_is_version_2),
      cmocka_unit_test(test_evolve_codec_struct_length_past_the_end),
      cmocka_unit_test(test_evolve_codec_struct_length_bounds_its_fields),
      cmocka_unit_test(test_evolve_codec_struct_length_at_each_place),
      cmocka_unit_test(test_evolve_codec_struct_decode_moves_the_cursor),
      cmocka_unit_test(test_evolve_codec_open_enum_survives_v1),
  };
  return cmocka_run_group_tests_name("evolve_codec", tests, NULL, NULL);
}
