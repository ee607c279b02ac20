/* Generated codecs: byte-exact fixtures of file_storage, round trips of every
 * field type in both byte orders, and malformed input (truncation, huge
 * counts, bad UTF-8, bad presence/bool/enum bytes, recursion bombs). */
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
#include "message_internal.h"
#include "netfw/netfw.h"

/* ---- helpers ---------------------------------------------------------- */

static void assert_payload(const netfw_msg *m, const void *exp, size_t n) {
  assert_int_equal(netfw_msg_size(m), n);
  if (n > 0)
    assert_memory_equal(netfw_msg_payload(m), exp, n);
}

/* A message borrowing an exact-size heap copy of bytes, so that ASan flags
 * any read past the payload. Free with borrowed_free(). */
static netfw_msg *borrowed(uint16_t id, const void *bytes, size_t n) {
  netfw_msg *m = netfw_msg_new(id);
  uint8_t *copy = malloc(n > 0 ? n : 1);
  assert_non_null(m);
  assert_non_null(copy);
  if (n > 0)
    memcpy(copy, bytes, n);
  netfw__msg_borrow(m, id, n > 0 ? copy : NULL, (uint32_t)n);
  if (n == 0)
    free(copy);
  return m;
}

static void borrowed_free(netfw_msg *m) {
  free((void *)netfw_msg_payload(m));
  netfw_msg_free(m);
}

static netfw_str str(const char *s) {
  netfw_str r = {s, (uint32_t)strlen(s)};
  return r;
}

static bool str_eq(netfw_str a, const char *s) {
  return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

/* ---- file_storage fixtures -------------------------------------------- */

static const uint8_t add_bytes[] = {0x05, 0x61, 0x2e, 0x74, 0x78, 0x74, 0x03,
                                    0x00, 0x00, 0x00, 0x01, 0x02, 0x03};
static const uint8_t list_resp_bytes[] = {
    0x02, 0x00,                                     /* count 2 */
    0x05, 'a',  '.',  't',  'x',  't',              /* "a.txt" */
    0x03, 0x00, 0x00, 0x00,                         /* size 3 */
    0x02, 'b',  'b',                                /* "bb" */
    0x02, 0x01, 0x00, 0x00};                        /* size 258 */
static const uint8_t ack_bytes[] = {0x01};
static const uint8_t get_resp_bytes[] = {0x01, 'x', 0x02, 0x00, 0x00,
                                         0x00, 0xaa, 0xbb};
static const uint8_t del_bytes[] = {0x03, 'a', 'b', 'c'};

static void test_fs_add_fixture(void **state) {
  static const uint8_t file[] = {1, 2, 3};
  file_storage_Add add = {.filename = str("a.txt"), .file = {file, 3}};
  file_storage_Add back;
  netfw_msg m;
  netfw_arena arena;

  netfw_msg_init(&m, 0);
  netfw_arena_init(&arena);
  assert_int_equal(file_storage_Add_encode(&add, &m), 0);
  assert_int_equal(netfw_msg_id(&m), 1);
  assert_int_equal(netfw_msg_id(&m), FILE_STORAGE_ADD_ID);
  assert_payload(&m, add_bytes, sizeof(add_bytes));
  assert_int_equal(file_storage_Add_encoded_size(&add), sizeof(add_bytes));
  assert_int_equal(file_storage_Add_decode(&m, &back, &arena), 0);
  assert_true(str_eq(back.filename, "a.txt"));
  assert_int_equal(back.file.len, 3);
  assert_memory_equal(back.file.ptr, file, 3);
  /* zero-copy: the views point into the payload */
  assert_ptr_equal(back.filename.ptr, netfw_msg_payload(&m) + 1);
  assert_int_equal(netfw_msg_remaining(&m), 0);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_fs_list_resp_fixture(void **state) {
  file_storage_FileEntry entries[2] = {{str("a.txt"), 3}, {str("bb"), 258}};
  file_storage_ListResp lr = {.files = entries, .files_count = 2};
  file_storage_ListResp back;
  netfw_msg m;
  netfw_arena arena;

  netfw_msg_init(&m, 0);
  netfw_arena_init(&arena);
  assert_int_equal(file_storage_ListResp_encode(&lr, &m), 0);
  assert_int_equal(netfw_msg_id(&m), 6);
  assert_payload(&m, list_resp_bytes, sizeof(list_resp_bytes));
  assert_int_equal(file_storage_ListResp_decode(&m, &back, &arena), 0);
  assert_int_equal(back.files_count, 2);
  assert_true(str_eq(back.files[0].name, "a.txt"));
  assert_int_equal(back.files[0].size, 3);
  assert_true(str_eq(back.files[1].name, "bb"));
  assert_int_equal(back.files[1].size, 258);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_fs_ack_and_empty_fixtures(void **state) {
  file_storage_Ack ack = {.rc = FILE_STORAGE_RC_OK};
  file_storage_Ack back;
  file_storage_List list = {0};
  file_storage_List lback;
  netfw_msg m;

  netfw_msg_init(&m, 0);
  assert_int_equal(file_storage_Ack_encode(&ack, &m), 0);
  assert_int_equal(netfw_msg_id(&m), 7);
  assert_payload(&m, ack_bytes, 1);
  assert_int_equal(file_storage_Ack_decode(&m, &back, NULL), 0);
  assert_int_equal(back.rc, FILE_STORAGE_RC_OK);
  netfw_msg_clear(&m);
  assert_int_equal(file_storage_List_encode(&list, &m), 0);
  assert_int_equal(netfw_msg_id(&m), 5);
  assert_int_equal(netfw_msg_size(&m), 0);
  assert_int_equal(file_storage_List_decode(&m, &lback, NULL), 0);
  netfw_msg_release(&m);
  assert_string_equal(file_storage_msg_name(6), "ListResp");
  assert_string_equal(file_storage_msg_name(1), "Add");
  assert_null(file_storage_msg_name(8));
  assert_null(file_storage_msg_name(0));
}

/* Decodes the first n bytes of a fixture with the decoder of its id. */
static int decode_fs(uint16_t id, const uint8_t *bytes, size_t n,
                     netfw_arena *arena) {
  netfw_msg *m = borrowed(id, bytes, n);
  int rc = -100;
  union {
    file_storage_Add add;
    file_storage_Del del;
    file_storage_GetResp get_resp;
    file_storage_ListResp list_resp;
    file_storage_Ack ack;
  } u;
  switch (id) {
  case FILE_STORAGE_ADD_ID: rc = file_storage_Add_decode(m, &u.add, arena); break;
  case FILE_STORAGE_DEL_ID: rc = file_storage_Del_decode(m, &u.del, arena); break;
  case FILE_STORAGE_GET_RESP_ID:
    rc = file_storage_GetResp_decode(m, &u.get_resp, arena);
    break;
  case FILE_STORAGE_LIST_RESP_ID:
    rc = file_storage_ListResp_decode(m, &u.list_resp, arena);
    break;
  case FILE_STORAGE_ACK_ID: rc = file_storage_Ack_decode(m, &u.ack, arena); break;
  }
  borrowed_free(m);
  return rc;
}

static void test_fs_every_truncation_is_eproto(void **state) {
  static const struct {
    uint16_t id;
    const uint8_t *bytes;
    size_t n;
  } fx[] = {{FILE_STORAGE_ADD_ID, add_bytes, sizeof(add_bytes)},
            {FILE_STORAGE_LIST_RESP_ID, list_resp_bytes, sizeof(list_resp_bytes)},
            {FILE_STORAGE_ACK_ID, ack_bytes, sizeof(ack_bytes)},
            {FILE_STORAGE_GET_RESP_ID, get_resp_bytes, sizeof(get_resp_bytes)},
            {FILE_STORAGE_DEL_ID, del_bytes, sizeof(del_bytes)}};
  netfw_arena arena;
  int checked = 0;

  netfw_arena_init(&arena);
  for (size_t f = 0; f < sizeof(fx) / sizeof(fx[0]); f++) {
    assert_int_equal(decode_fs(fx[f].id, fx[f].bytes, fx[f].n, &arena), 0);
    for (size_t n = 0; n < fx[f].n; n++) {
      assert_int_equal(decode_fs(fx[f].id, fx[f].bytes, n, &arena), NETFW_EPROTO);
      checked++;
    }
  }
  assert_int_equal(checked, 13 + 19 + 1 + 8 + 4);
  netfw_arena_free(&arena);
}

static void test_fs_huge_count_no_allocation(void **state) {
  static const uint8_t lie[] = {0xff, 0xff, 0x01, 'a', 0, 0, 0, 0};
  static const uint8_t lie32[] = {0x00, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
  netfw_arena arena;
  netfw_msg *m;
  at_Repeats r;

  netfw_arena_init(&arena);
  assert_int_equal(decode_fs(FILE_STORAGE_LIST_RESP_ID, lie, sizeof(lie), &arena),
                   NETFW_EPROTO);
  assert_null(arena.head); /* nothing was allocated */
  /* nums: 0 elements; words: u16 count 0xffff with 5 bytes left */
  m = borrowed(AT_REPEATS_ID, lie32, sizeof(lie32));
  assert_int_equal(at_Repeats_decode(m, &r, &arena), NETFW_EPROTO);
  assert_null(arena.head);
  borrowed_free(m);
  netfw_arena_free(&arena);
}

static void test_fs_invalid_utf8_is_eproto(void **state) {
  static const uint8_t bad[][6] = {
      {0x02, 0xc3, 0x28},             /* bad continuation */
      {0x02, 0xc0, 0xaf},             /* overlong '/' */
      {0x03, 0xed, 0xa0, 0x80},       /* surrogate U+D800 */
      {0x04, 0xf4, 0x90, 0x80, 0x80}, /* above U+10FFFF */
      {0x01, 0xff},                   /* never valid */
      {0x02, 0xe2, 0x82},             /* cut sequence */
  };
  static const uint8_t good[] = {0x0b, 'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac,
                                 0xf0, 0x9f, 0x98, 0x80, 'z'};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t n = (size_t)bad[i][0] + 1;
    assert_int_equal(decode_fs(FILE_STORAGE_DEL_ID, bad[i], n, NULL), NETFW_EPROTO);
  }
  assert_int_equal(decode_fs(FILE_STORAGE_DEL_ID, good, sizeof(good), NULL), 0);
}

static void test_fs_string_u8_over_255_is_e2big(void **state) {
  char name[256];
  file_storage_Del del;
  netfw_msg m;

  memset(name, 'n', sizeof(name));
  netfw_msg_init(&m, 42);
  del.filename.ptr = name;
  del.filename.len = 256;
  assert_int_equal(file_storage_Del_encode(&del, &m), NETFW_E2BIG);
  assert_int_equal(netfw_msg_size(&m), 0); /* nothing appended, never truncated */
  assert_int_equal(netfw_msg_id(&m), 42);
  del.filename.len = 255;
  assert_int_equal(file_storage_Del_encode(&del, &m), 0);
  assert_int_equal(netfw_msg_size(&m), 256);
  assert_int_equal(netfw_msg_payload(&m)[0], 255);
  netfw_msg_release(&m);
}

static void test_fs_bad_values_on_encode(void **state) {
  file_storage_Ack ack = {.rc = (file_storage_Rc)4};
  file_storage_Del del = {.filename = {NULL, 3}};
  file_storage_Del bad = {.filename = {"\xc3\x28", 2}};
  file_storage_ListResp lr = {.files = NULL, .files_count = 1};
  netfw_msg m;

  netfw_msg_init(&m, 0);
  assert_int_equal(file_storage_Ack_encode(&ack, &m), NETFW_EINVAL);
  assert_int_equal(file_storage_Del_encode(&del, &m), NETFW_EINVAL);
  assert_int_equal(file_storage_Del_encode(&bad, &m), NETFW_EINVAL);
  assert_int_equal(file_storage_ListResp_encode(&lr, &m), NETFW_EINVAL);
  assert_int_equal(file_storage_Ack_encode(NULL, &m), NETFW_EINVAL);
  assert_int_equal(file_storage_Ack_encode(&ack, NULL), NETFW_EINVAL);
  assert_int_equal(netfw_msg_size(&m), 0);
  netfw_msg_release(&m);
}

static void test_fs_unknown_enum_value_is_eproto(void **state) {
  static const uint8_t four[] = {0x04};
  static const uint8_t three[] = {0x03};
  assert_int_equal(decode_fs(FILE_STORAGE_ACK_ID, four, 1, NULL), NETFW_EPROTO);
  assert_int_equal(decode_fs(FILE_STORAGE_ACK_ID, three, 1, NULL), 0);
}

static void test_fs_trailing_bytes_accepted(void **state) {
  static const uint8_t newer[] = {0x02, 0xde, 0xad};
  netfw_msg *m = borrowed(FILE_STORAGE_ACK_ID, newer, sizeof(newer));
  file_storage_Ack ack;
  assert_int_equal(file_storage_Ack_decode(m, &ack, NULL), 0);
  assert_int_equal(ack.rc, FILE_STORAGE_RC_FILE_EXISTS);
  assert_int_equal(netfw_msg_remaining(m), 2); /* cursor after the fields */
  /* decoding again starts from the payload's start */
  assert_int_equal(file_storage_Ack_decode(m, &ack, NULL), 0);
  assert_int_equal(ack.rc, FILE_STORAGE_RC_FILE_EXISTS);
  borrowed_free(m);
}

static void test_fs_repeated_needs_arena(void **state) {
  static const uint8_t none[] = {0x00, 0x00};
  assert_int_equal(decode_fs(FILE_STORAGE_LIST_RESP_ID, list_resp_bytes,
                             sizeof(list_resp_bytes), NULL),
                   NETFW_EINVAL);
  assert_int_equal(decode_fs(FILE_STORAGE_LIST_RESP_ID, none, 2, NULL), 0);
}

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

/* ---- random and mutated payloads ------------------------------------- */

/* Decodes in; on success re-encodes the value into out. */
typedef int (*roundtrip_fn)(netfw_msg *in, netfw_arena *a, netfw_msg *out);

#define ROUNDTRIP(T)                                                           \
  static int rt_##T(netfw_msg *in, netfw_arena *a, netfw_msg *out) {           \
    T v;                                                                       \
    int rc = T##_decode(in, &v, a);                                            \
    if (rc != 0)                                                               \
      return rc;                                                               \
    return T##_encode(&v, out);                                                \
  }
ROUNDTRIP(at_Scalars)
ROUNDTRIP(at_Texts)
ROUNDTRIP(at_Enums)
ROUNDTRIP(at_Arrays)
ROUNDTRIP(at_Repeats)
ROUNDTRIP(at_Optionals)
ROUNDTRIP(at_Nested)
ROUNDTRIP(at_Empty)
ROUNDTRIP(atb_Scalars)
ROUNDTRIP(atb_Texts)
ROUNDTRIP(atb_Repeats)
ROUNDTRIP(atb_Optionals)
ROUNDTRIP(atb_Nested)
ROUNDTRIP(file_storage_Add)
ROUNDTRIP(file_storage_GetResp)
ROUNDTRIP(file_storage_ListResp)
ROUNDTRIP(file_storage_Ack)

static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* Every decoder either refuses a payload with NETFW_EPROTO or accepts it;
 * an accepted payload re-encodes to exactly the bytes the decoder consumed
 * (the encoding is canonical), and nothing reads out of bounds (ASan). */
static void test_codec_random_and_mutated_payloads(void **state) {
  static const struct {
    roundtrip_fn fn;
    uint16_t id;
  } rts[] = {{rt_at_Scalars, AT_SCALARS_ID},       {rt_at_Texts, AT_TEXTS_ID},
             {rt_at_Enums, AT_ENUMS_ID},           {rt_at_Arrays, AT_ARRAYS_ID},
             {rt_at_Repeats, AT_REPEATS_ID},       {rt_at_Optionals, AT_OPTIONALS_ID},
             {rt_at_Nested, AT_NESTED_ID},         {rt_at_Empty, AT_EMPTY_ID},
             {rt_atb_Scalars, ATB_SCALARS_ID},     {rt_atb_Texts, ATB_TEXTS_ID},
             {rt_atb_Repeats, ATB_REPEATS_ID},     {rt_atb_Optionals, ATB_OPTIONALS_ID},
             {rt_atb_Nested, ATB_NESTED_ID},
             {rt_file_storage_Add, FILE_STORAGE_ADD_ID},
             {rt_file_storage_GetResp, FILE_STORAGE_GET_RESP_ID},
             {rt_file_storage_ListResp, FILE_STORAGE_LIST_RESP_ID},
             {rt_file_storage_Ack, FILE_STORAGE_ACK_ID}};
  static const uint8_t seeds[][24] = {
      {0x02, 0x00, 0x05, 'a', '.', 't', 'x', 't', 3, 0, 0, 0, 0x02, 'b', 'b',
       2, 1, 0, 0},
      {0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00},
      {0x01, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
      {0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
      {0x02, 'h', 'i', 0x01, 0x02, 0x00, 0x00, 0x00, 'x', 'y'},
  };
  netfw_arena arena;
  netfw_msg out;
  uint8_t buf[64];
  int accepted = 0, refused = 0;

  netfw_arena_init(&arena);
  netfw_msg_init(&out, 0);
  for (int iter = 0; iter < 20000; iter++) {
    size_t n;
    if (iter % 2 == 0) { /* pure noise, short and biased to small values */
      n = rnd() % 24;
      for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() % 3);
    } else { /* a seed with a few bytes changed, cut or extended */
      const uint8_t *seed = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
      n = 24;
      memcpy(buf, seed, n);
      for (int k = (int)(rnd() % 3); k >= 0; k--)
        buf[rnd() % n] = (uint8_t)rnd();
      n = rnd() % (n + 1);
    }
    for (size_t f = 0; f < sizeof(rts) / sizeof(rts[0]); f++) {
      netfw_msg *in = borrowed(rts[f].id, buf, n);
      int rc;
      netfw_msg_clear(&out);
      netfw_arena_reset(&arena);
      rc = rts[f].fn(in, &arena, &out);
      if (rc == 0) {
        size_t used = n - netfw_msg_remaining(in);
        accepted++;
        assert_int_equal(netfw_msg_size(&out), used);
        if (used > 0)
          assert_memory_equal(netfw_msg_payload(&out), buf, used);
      } else {
        refused++;
        assert_int_equal(rc, NETFW_EPROTO);
      }
      borrowed_free(in);
    }
  }
  print_message("accepted %d, refused %d\n", accepted, refused);
  assert_true(accepted > 1000);
  assert_true(refused > 1000);
  netfw_msg_release(&out);
  netfw_arena_free(&arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fs_add_fixture),
      cmocka_unit_test(test_fs_list_resp_fixture),
      cmocka_unit_test(test_fs_ack_and_empty_fixtures),
      cmocka_unit_test(test_fs_every_truncation_is_eproto),
      cmocka_unit_test(test_fs_huge_count_no_allocation),
      cmocka_unit_test(test_fs_invalid_utf8_is_eproto),
      cmocka_unit_test(test_fs_string_u8_over_255_is_e2big),
      cmocka_unit_test(test_fs_bad_values_on_encode),
      cmocka_unit_test(test_fs_unknown_enum_value_is_eproto),
      cmocka_unit_test(test_fs_trailing_bytes_accepted),
      cmocka_unit_test(test_fs_repeated_needs_arena),
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
      cmocka_unit_test(test_codec_random_and_mutated_payloads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
