/* Unit tests of the hand-written codec floor: exact bytes, zero-copy views,
 * and refusal of every malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec_floor.h"

static const uint8_t list2[] = {
    0x02, 0x00,                                     /* count 2 */
    0x03, 'a',  'b',  'c',  0x04, 0x03, 0x02, 0x01, /* "abc", 0x01020304 */
    0x00, 0xff, 0xff, 0xff, 0xff,                   /* "", 0xffffffff */
};

static const cf_file_entry list2_entries[] = {
    {"abc", 3, 0x01020304u},
    {"", 0, 0xffffffffu},
};

static void test_codec_floor_list_encode_bytes(void **state) {
  uint8_t out[64];
  size_t n = 0;

  (void)state;
  assert_int_equal(cf_list_resp_encode(list2_entries, 2, out, sizeof(out), &n),
                   CF_OK);
  assert_int_equal(n, sizeof(list2));
  assert_memory_equal(out, list2, sizeof(list2));
  assert_int_equal(cf_list_resp_size(list2_entries, 2), sizeof(list2));
}

static void test_codec_floor_list_encode_empty(void **state) {
  uint8_t out[2] = {0xaa, 0xaa};
  size_t n = 0;

  (void)state;
  assert_int_equal(cf_list_resp_encode(NULL, 0, out, sizeof(out), &n), CF_OK);
  assert_int_equal(n, 2);
  assert_int_equal(out[0], 0);
  assert_int_equal(out[1], 0);
}

static void test_codec_floor_list_encode_no_room(void **state) {
  uint8_t out[64];
  size_t n = 12345;

  (void)state;
  for (size_t cap = 0; cap < sizeof(list2); cap++) {
    assert_int_equal(cf_list_resp_encode(list2_entries, 2, out, cap, &n),
                     CF_ENOSPC);
    assert_int_equal(n, 12345);
  }
}

static void test_codec_floor_list_encode_too_big(void **state) {
  static char name[256];
  cf_file_entry e = {name, 256, 1};
  uint8_t out[512];
  size_t n;

  (void)state;
  memset(name, 'x', sizeof(name));
  assert_int_equal(cf_list_resp_encode(&e, 1, out, sizeof(out), &n), CF_E2BIG);
  assert_int_equal(cf_list_resp_encode(&e, 65536, out, sizeof(out), &n),
                   CF_E2BIG);
  e.name_len = 255;
  assert_int_equal(cf_list_resp_encode(&e, 1, out, sizeof(out), &n), CF_OK);
  assert_int_equal(n, 2 + 1 + 255 + 4);
}

static void test_codec_floor_list_decode_views(void **state) {
  cf_file_entry out[4];
  size_t count = 0;

  (void)state;
  assert_int_equal(cf_list_resp_decode(list2, sizeof(list2), out, 4, &count),
                   CF_OK);
  assert_int_equal(count, 2);
  assert_ptr_equal(out[0].name, (const char *)list2 + 3); /* zero-copy */
  assert_int_equal(out[0].name_len, 3);
  assert_int_equal(out[0].size, 0x01020304u);
  assert_int_equal(out[1].name_len, 0);
  assert_int_equal(out[1].size, 0xffffffffu);
}

static void test_codec_floor_list_decode_truncated(void **state) {
  cf_file_entry out[4];
  size_t count = 99;

  (void)state;
  for (size_t len = 0; len < sizeof(list2); len++)
    assert_int_equal(cf_list_resp_decode(list2, len, out, 4, &count),
                     CF_EPROTO);
  assert_int_equal(count, 99);
}

static void test_codec_floor_list_decode_trailing(void **state) {
  uint8_t in[sizeof(list2) + 1];
  cf_file_entry out[4];
  size_t count;

  (void)state;
  memcpy(in, list2, sizeof(list2));
  in[sizeof(list2)] = 0;
  assert_int_equal(cf_list_resp_decode(in, sizeof(in), out, 4, &count),
                   CF_EPROTO);
}

static void test_codec_floor_list_decode_counts(void **state) {
  /* 65535 entries announced in 7 bytes: refused before any entry. */
  static const uint8_t huge[] = {0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x00};
  cf_file_entry out[1];
  size_t count;

  (void)state;
  assert_int_equal(cf_list_resp_decode(huge, sizeof(huge), out, 1, &count),
                   CF_EPROTO);
  /* Two real entries but room for one. */
  assert_int_equal(cf_list_resp_decode(list2, sizeof(list2), out, 1, &count),
                   CF_ENOSPC);
}

static void test_codec_floor_list_decode_bad_utf8(void **state) {
  static const uint8_t in[] = {0x01, 0x00, 0x02, 0xc0, 0x80, 0, 0, 0, 0};
  cf_file_entry out[1];
  size_t count;

  (void)state;
  assert_int_equal(cf_list_resp_decode(in, sizeof(in), out, 1, &count),
                   CF_EPROTO);
  /* the bytes variant takes any name, and refuses what the other does */
  assert_int_equal(cf_list_resp_decode_bytes(in, sizeof(in), out, 1, &count),
                   CF_OK);
  assert_int_equal(count, 1);
  assert_ptr_equal(out[0].name, (const char *)in + 3);
  assert_int_equal(out[0].name_len, 2);
  for (size_t len = 0; len < sizeof(in); len++)
    assert_int_equal(cf_list_resp_decode_bytes(in, len, out, 1, &count),
                     CF_EPROTO);
  assert_int_equal(cf_list_resp_decode_bytes(list2, sizeof(list2), out, 1,
                                             &count),
                   CF_ENOSPC);
}

static const uint8_t add1[] = {
    0x02, 'f',  '1',        /* filename "f1" */
    0x03, 0x00, 0x00, 0x00, /* file_len 3 */
    0x00, 0x7f, 0xff,       /* file */
};

static void test_codec_floor_add_bytes_and_views(void **state) {
  static const uint8_t file[] = {0x00, 0x7f, 0xff};
  cf_add m = {"f1", 2, file, 3}, d;
  uint8_t out[32];
  size_t n = 0;

  (void)state;
  assert_int_equal(cf_add_encode(&m, out, sizeof(out), &n), CF_OK);
  assert_int_equal(n, sizeof(add1));
  assert_memory_equal(out, add1, sizeof(add1));
  assert_int_equal(cf_add_size(&m), sizeof(add1));
  assert_int_equal(cf_add_decode(add1, sizeof(add1), &d), CF_OK);
  assert_ptr_equal(d.filename, (const char *)add1 + 1);
  assert_int_equal(d.filename_len, 2);
  assert_ptr_equal(d.file, add1 + 7);
  assert_int_equal(d.file_len, 3);
  for (size_t cap = 0; cap < sizeof(add1); cap++)
    assert_int_equal(cf_add_encode(&m, out, cap, &n), CF_ENOSPC);
  {
    static char long_name[256];
    static uint8_t big[512];
    memset(long_name, 'x', sizeof(long_name));
    m.filename = long_name;
    m.filename_len = 256;
    assert_int_equal(cf_add_encode(&m, big, sizeof(big), &n), CF_E2BIG);
    /* without the room for it, no room is what is found first */
    assert_int_equal(cf_add_encode(&m, out, sizeof(out), &n), CF_ENOSPC);
    m.filename_len = 255;
    assert_int_equal(cf_add_encode(&m, big, sizeof(big), &n), CF_OK);
    assert_int_equal(n, 1 + 255 + 4 + 3);
  }
}

static void test_codec_floor_add_decode_malformed(void **state) {
  uint8_t in[sizeof(add1) + 1];
  cf_add d;

  (void)state;
  for (size_t len = 0; len < sizeof(add1); len++)
    assert_int_equal(cf_add_decode(add1, len, &d), CF_EPROTO);
  memcpy(in, add1, sizeof(add1));
  in[sizeof(add1)] = 0;
  assert_int_equal(cf_add_decode(in, sizeof(in), &d), CF_EPROTO);
  assert_int_equal(cf_add_decode_bytes(in, sizeof(in), &d), CF_EPROTO);
  in[3] = 0xff; /* file_len far beyond the input */
  in[6] = 0xff;
  assert_int_equal(cf_add_decode(in, sizeof(add1), &d), CF_EPROTO);
  assert_int_equal(cf_add_decode_bytes(in, sizeof(add1), &d), CF_EPROTO);
  for (size_t len = 0; len < sizeof(add1); len++)
    assert_int_equal(cf_add_decode_bytes(add1, len, &d), CF_EPROTO);
  /* a filename that is not UTF-8: refused, or taken as bytes */
  memcpy(in, add1, sizeof(add1));
  in[1] = 0xc0;
  in[2] = 0x80;
  assert_int_equal(cf_add_decode(in, sizeof(add1), &d), CF_EPROTO);
  assert_int_equal(cf_add_decode_bytes(in, sizeof(add1), &d), CF_OK);
  assert_int_equal(d.file_len, 3);
}

static void test_codec_floor_utf8(void **state) {
  static const struct {
    const char *s;
    size_t len;
    int ok;
  } cases[] = {
      {"", 0, 1},
      {"plain ascii, longer than eight bytes", 36, 1},
      {"\xc3\xa9", 2, 1},             /* U+00E9 */
      {"\xe2\x82\xac", 3, 1},         /* U+20AC */
      {"\xf0\x9f\x98\x80", 4, 1},     /* U+1F600 */
      {"\xf4\x8f\xbf\xbf", 4, 1},     /* U+10FFFF */
      {"abcdefgh\xc3\xa9xyz", 13, 1}, /* non-ASCII after a full word */
      {"\x80", 1, 0},                 /* lone continuation */
      {"\xc0\x80", 2, 0},             /* overlong NUL */
      {"\xc1\xbf", 2, 0},             /* overlong */
      {"\xe0\x80\x80", 3, 0},         /* overlong */
      {"\xed\xa0\x80", 3, 0},         /* surrogate U+D800 */
      {"\xf0\x80\x80\x80", 4, 0},     /* overlong */
      {"\xf4\x90\x80\x80", 4, 0},     /* above U+10FFFF */
      {"\xf5\x80\x80\x80", 4, 0},     /* invalid lead */
      {"\xe2\x82", 2, 0},             /* truncated */
      {"\xe2\x28\xac", 3, 0},         /* bad continuation */
      {"abcdefghijklmno\xc3", 16, 0}, /* truncated at the end */
      {"abcdefgh\xc3", 9, 0},         /* in the overlapping last word */
      {"abcdefghijklmn\xc3\xa9", 16, 1},
      {"abc\xff", 4, 0},
      {"\xed\x9f\xbf", 3, 1},         /* U+D7FF, below the surrogates */
      {"\xef\xbf\xbf", 3, 1},         /* U+FFFF */
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int got = cf_utf8_valid((const uint8_t *)cases[i].s, cases[i].len);
    if (got != cases[i].ok)
      fail_msg("case %zu: cf_utf8_valid = %d, want %d", i, got, cases[i].ok);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_codec_floor_list_encode_bytes),
      cmocka_unit_test(test_codec_floor_list_encode_empty),
      cmocka_unit_test(test_codec_floor_list_encode_no_room),
      cmocka_unit_test(test_codec_floor_list_encode_too_big),
      cmocka_unit_test(test_codec_floor_list_decode_views),
      cmocka_unit_test(test_codec_floor_list_decode_truncated),
      cmocka_unit_test(test_codec_floor_list_decode_trailing),
      cmocka_unit_test(test_codec_floor_list_decode_counts),
      cmocka_unit_test(test_codec_floor_list_decode_bad_utf8),
      cmocka_unit_test(test_codec_floor_add_bytes_and_views),
      cmocka_unit_test(test_codec_floor_add_decode_malformed),
      cmocka_unit_test(test_codec_floor_utf8),
  };
  return cmocka_run_group_tests_name("codec_floor", tests, NULL, NULL);
}
