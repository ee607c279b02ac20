/* Generated codecs: byte-exact fixtures of file_storage and its malformed
 * input (truncation, huge counts, bad UTF-8, bad values), and random and
 * mutated payloads through every decoder. The round trips of every field
 * type in both byte orders are in test_gen_codec_types.c, the helpers in
 * gen_codec_kit.c. */
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
      cmocka_unit_test(test_codec_random_and_mutated_payloads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
