/* The reflective codec's values, on a hand-written descriptor (one message
 * per kind, field "v"), little- and big-endian: every integer kind at its
 * bounds in both JSON forms, floats (shortest text, NaN and the
 * infinities, -0.0, the f32 range, random bit patterns back to the same
 * bits), bool, strings (escapes, \u0000, UTF-8, E2BIG), bytes as base64
 * (every padding case and every malformed form), enums open and closed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "desc_kit.h"

#define V(k) {.name = "v", .kind = NETFW_DESC_##k, .mode = NETFW_DESC_PLAIN}
#define P(k, p)                                                                \
  {.name = "v", .kind = NETFW_DESC_##k, .mode = NETFW_DESC_PLAIN, .prefix = p}
#define E(t) {.name = "v", .kind = NETFW_DESC_ENUM, .type = t}
#define F(n, k) {.name = n, .kind = NETFW_DESC_##k, .mode = NETFW_DESC_PLAIN}
#define MSG(i, n, f)                                                           \
  {.id = i,                                                                    \
   .dir = NETFW_DESC_BOTH,                                                     \
   .body = {.name = n, .fields = f, .nfields = 1}}

static const netfw_desc_field f_u8[] = {V(U8)}, f_u16[] = {V(U16)},
                              f_u32[] = {V(U32)}, f_u64[] = {V(U64)},
                              f_i8[] = {V(I8)}, f_i16[] = {V(I16)},
                              f_i32[] = {V(I32)}, f_i64[] = {V(I64)},
                              f_f32[] = {V(F32)}, f_f64[] = {V(F64)},
                              f_bool[] = {V(BOOL)}, f_s8[] = {P(STRING, 1)},
                              f_s16[] = {P(STRING, 2)},
                              f_b8[] = {P(BYTES, 1)}, f_b32[] = {P(BYTES, 4)},
                              f_rc[] = {E(0)}, f_op[] = {E(1)},
                              f_big[] = {E(2)};
static const netfw_desc_field f_all[] = {
    F("a", U8),  F("b", U16), F("c", U32), F("d", U64),
    F("e", I8),  F("f", I16), F("g", I32), F("h", I64),
    F("i", F32), F("j", F64), F("k", BOOL),
    {.name = "s", .kind = NETFW_DESC_STRING, .prefix = 2},
    {.name = "o", .kind = NETFW_DESC_ENUM, .type = 1}};

static const netfw_desc_const k_rc[] = {{"OK", 0, NULL}, {"BAD", 7, NULL}};
static const netfw_desc_const k_op[] = {{"GET", 1, NULL}, {"PUT", 2, NULL}};
static const netfw_desc_const k_big[] = {{"ZERO", 0, NULL},
                                         {"TOP", 2147483647, NULL}};
static const netfw_desc_enum enums[] = {
    {.name = "Rc", .size = 1, .consts = k_rc, .nconsts = 2},
    {.name = "Op", .size = 2, .open = true, .consts = k_op, .nconsts = 2},
    {.name = "Big", .size = 4, .consts = k_big, .nconsts = 2}};

static const netfw_desc_message msgs[] = {
    MSG(1, "U8", f_u8),     MSG(2, "U16", f_u16),   MSG(3, "U32", f_u32),
    MSG(4, "U64", f_u64),   MSG(5, "I8", f_i8),     MSG(6, "I16", f_i16),
    MSG(7, "I32", f_i32),   MSG(8, "I64", f_i64),   MSG(9, "F32", f_f32),
    MSG(10, "F64", f_f64),  MSG(11, "Bool", f_bool), MSG(12, "S8", f_s8),
    MSG(13, "S16", f_s16),  MSG(14, "B8", f_b8),    MSG(15, "B32", f_b32),
    MSG(16, "Rc", f_rc),    MSG(17, "Op", f_op),    MSG(18, "Big", f_big),
    {.id = 300,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "All", .fields = f_all, .nfields = 13}}};

#define DESC(big)                                                              \
  {.abi = NETFW_DESC_ABI, .proto = "sc", .big_endian = big, .version = 1,      \
   .enums = enums, .nenums = 3, .messages = msgs, .nmessages = 19}
static const netfw_desc le = DESC(false), be = DESC(true);

/* ---- every kind at once, both byte orders -------------------------------- */

static const char all_json[] =
    "{\"a\":200,\"b\":258,\"c\":16909060,\"d\":1,\"e\":-1,\"f\":-2,"
    "\"g\":-2147483648,\"h\":-4,\"i\":1.0,\"j\":-2.0,\"k\":true,\"s\":\"a\","
    "\"o\":\"PUT\"}";

static void test_desc_all_kinds_le(void **state) {
  (void)state;
  dk_round(&le, "All", all_json,
           "c8 0201 04030201 0100000000000000 ff feff 00000080"
           " fcffffffffffffff 0000803f 00000000000000c0 01 0100 61 0200",
           NULL);
}

static void test_desc_all_kinds_be(void **state) {
  (void)state;
  dk_round(&be, "All", all_json,
           "c8 0102 01020304 0000000000000001 ff fffe 80000000"
           " fffffffffffffffc 3f800000 c000000000000000 01 0001 61 0002",
           NULL);
  dk_round(&be, "Op", "{\"v\":999}", "03e7", NULL);
}

/* ---- integers ------------------------------------------------------------ */

static void test_desc_u64_bounds(void **state) {
  (void)state;
  dk_round(&le, "U64", "{\"v\":0}", "0000000000000000", NULL);
  dk_round(&le, "U64", "{\"v\":9007199254740992}", "0000000000002000", NULL);
  dk_round(&le, "U64", "{\"v\":\"9007199254740993\"}", "0100000000002000",
           NULL);
  dk_round(&le, "U64", "{\"v\":9007199254740993}", "0100000000002000",
           "{\"v\":\"9007199254740993\"}");
  dk_round(&le, "U64", "{\"v\":\"9007199254740992\"}", "0000000000002000",
           "{\"v\":9007199254740992}");
  dk_round(&le, "U64", "{\"v\":\"18446744073709551615\"}", "ffffffffffffffff",
           NULL);
  dk_round(&be, "U64", "{\"v\":\"18446744073709551615\"}", "ffffffffffffffff",
           NULL);
  dk_round(&le, "U64", "{\"v\":\"-0\"}", "0000000000000000", "{\"v\":0}");
  dk_enc_err(&le, "U64", "{\"v\":\"18446744073709551616\"}", NETFW_EINVAL,
             "fields.v: expected an unsigned integer up to "
             "18446744073709551615");
  dk_enc_err(&le, "U64", "{\"v\":-1}", NETFW_EINVAL,
             "fields.v: expected an unsigned integer up to "
             "18446744073709551615");
}

static void test_desc_i64_bounds(void **state) {
  (void)state;
  dk_round(&le, "I64", "{\"v\":\"-9223372036854775808\"}", "0000000000000080",
           NULL);
  dk_round(&le, "I64", "{\"v\":-9223372036854775808}", "0000000000000080",
           "{\"v\":\"-9223372036854775808\"}");
  dk_round(&le, "I64", "{\"v\":\"9223372036854775807\"}", "ffffffffffffff7f",
           NULL);
  dk_round(&le, "I64", "{\"v\":-9007199254740992}", "000000000000e0ff", NULL);
  dk_round(&le, "I64", "{\"v\":\"-9007199254740993\"}", "ffffffffffffdfff",
           NULL);
  dk_round(&be, "I64", "{\"v\":-4}", "fffffffffffffffc", NULL);
  dk_enc_err(&le, "I64", "{\"v\":\"9223372036854775808\"}", NETFW_EINVAL,
             "fields.v: expected an integer from -9223372036854775808 to "
             "9223372036854775807");
  dk_enc_err(&le, "I64", "{\"v\":\"-9223372036854775809\"}", NETFW_EINVAL,
             "fields.v: expected an integer from -9223372036854775808 to "
             "9223372036854775807");
}

static void test_desc_small_int_bounds(void **state) {
  (void)state;
  dk_round(&le, "U8", "{\"v\":255}", "ff", NULL);
  dk_round(&le, "U8", "{\"v\":\"7\"}", "07", "{\"v\":7}");
  dk_enc_err(&le, "U8", "{\"v\":256}", NETFW_EINVAL,
             "fields.v: expected an unsigned integer up to 255");
  dk_round(&le, "U16", "{\"v\":65535}", "ffff", NULL);
  dk_enc_err(&le, "U16", "{\"v\":65536}", NETFW_EINVAL,
             "fields.v: expected an unsigned integer up to 65535");
  dk_round(&le, "U32", "{\"v\":4294967295}", "ffffffff", NULL);
  dk_enc_err(&le, "U32", "{\"v\":4294967296}", NETFW_EINVAL,
             "fields.v: expected an unsigned integer up to 4294967295");
  dk_round(&le, "I8", "{\"v\":-128}", "80", NULL);
  dk_round(&le, "I8", "{\"v\":127}", "7f", NULL);
  dk_enc_err(&le, "I8", "{\"v\":128}", NETFW_EINVAL,
             "fields.v: expected an integer from -128 to 127");
  dk_enc_err(&le, "I8", "{\"v\":-129}", NETFW_EINVAL,
             "fields.v: expected an integer from -128 to 127");
  dk_round(&le, "I16", "{\"v\":-32768}", "0080", NULL);
  dk_enc_err(&le, "I16", "{\"v\":32768}", NETFW_EINVAL,
             "fields.v: expected an integer from -32768 to 32767");
  dk_round(&le, "I32", "{\"v\":2147483647}", "ffffff7f", NULL);
  dk_enc_err(&le, "I32", "{\"v\":\"-2147483649\"}", NETFW_EINVAL,
             "fields.v: expected an integer from -2147483648 to 2147483647");
}

/* Only a JSON integer or a plain decimal string is an integer. */
static void test_desc_int_wrong_kinds(void **state) {
  static const char *const bad[] = {
      "1.0",  "1e3",    "true", "null",   "[1]",  "{}",   "\"+1\"",
      "\"01\"", "\" 1\"", "\"1 \"", "\"\"", "\"-\"", "\"1.0\"", "\"0x1\"",
      "\"1\\u00002\""};
  char json[64];
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(json, sizeof(json), "{\"v\":%s}", bad[i]);
    dk_enc_err(&le, "U32", json, NETFW_EINVAL,
               "fields.v: expected an unsigned integer up to 4294967295");
  }
}

/* Beyond the long long that jansson reads, a bare number is not JSON it
 * can parse: the message says where. */
static void test_desc_int_too_big_for_json(void **state) {
  char err[256];
  netfw_msg m;
  (void)state;
  netfw_msg_init(&m, 0);
  assert_int_equal(netfw_desc_encode_json(&le, dk_msg(&le, "U64"),
                                          "{\"v\":18446744073709551615}", 26,
                                          &m, err, sizeof(err)),
                   NETFW_EINVAL);
  assert_memory_equal(err, "invalid JSON at line 1, column ", 31);
  assert_int_equal(netfw_msg_size(&m), 0);
  netfw_msg_release(&m);
}

/* ---- floats -------------------------------------------------------------- */

static void test_desc_f64(void **state) {
  (void)state;
  dk_round(&le, "F64", "{\"v\":0.1}", "9a9999999999b93f", NULL);
  dk_round(&le, "F64", "{\"v\":1}", "000000000000f03f", "{\"v\":1.0}");
  dk_round(&le, "F64", "{\"v\":-0.0}", "0000000000000080", NULL);
  dk_round(&le, "F64", "{\"v\":1e+300}", "9c7500883ce4377e", NULL);
  dk_round(&le, "F64", "{\"v\":1.7976931348623157e+308}", "ffffffffffffef7f",
           NULL);
  dk_round(&le, "F64", "{\"v\":\"NaN\"}", "000000000000f87f", NULL);
  dk_round(&le, "F64", "{\"v\":\"Infinity\"}", "000000000000f07f", NULL);
  dk_round(&le, "F64", "{\"v\":\"-Infinity\"}", "000000000000f0ff", NULL);
  dk_round(&be, "F64", "{\"v\":\"NaN\"}", "7ff8000000000000", NULL);
  dk_dec(&le, "F64", "ffffffffffffffff", "{\"v\":\"NaN\"}"); /* any NaN */
  dk_enc_err(&le, "F64", "{\"v\":\"nan\"}", NETFW_EINVAL,
             "fields.v: expected a number, \"NaN\", \"Infinity\" or "
             "\"-Infinity\"");
  dk_enc_err(&le, "F64", "{\"v\":\"1.5\"}", NETFW_EINVAL,
             "fields.v: expected a number, \"NaN\", \"Infinity\" or "
             "\"-Infinity\"");
  dk_enc_err(&le, "F64", "{\"v\":true}", NETFW_EINVAL,
             "fields.v: expected a number, \"NaN\", \"Infinity\" or "
             "\"-Infinity\"");
}

static void test_desc_f32(void **state) {
  (void)state;
  dk_round(&le, "F32", "{\"v\":0.1}", "cdcccc3d", NULL);
  dk_round(&be, "F32", "{\"v\":0.1}", "3dcccccd", NULL);
  dk_round(&le, "F32", "{\"v\":16777217}", "0000804b", "{\"v\":16777216.0}");
  dk_round(&le, "F32", "{\"v\":3.4028235e+38}", "ffff7f7f", NULL);
  dk_round(&le, "F32", "{\"v\":-3.4028235e+38}", "ffff7fff", NULL);
  dk_round(&le, "F32", "{\"v\":1e-45}", "01000000", "{\"v\":1.4013e-45}");
  dk_round(&le, "F32", "{\"v\":-0.0}", "00000080", NULL);
  dk_round(&le, "F32", "{\"v\":\"NaN\"}", "0000c07f", NULL);
  dk_round(&le, "F32", "{\"v\":\"-Infinity\"}", "000080ff", NULL);
  dk_dec(&le, "F32", "0100807f", "{\"v\":\"NaN\"}");
  /* 3.40282356e38 and above round to infinity as a float */
  dk_enc_err(&le, "F32", "{\"v\":3.4028236e+38}", NETFW_EINVAL,
             "fields.v: 3.4028236e+38 is beyond the f32 range "
             "(-3.4028235e+38 to 3.4028235e+38)");
  dk_enc_err(&le, "F32", "{\"v\":-1e39}", NETFW_EINVAL,
             "fields.v: -1e+39 is beyond the f32 range "
             "(-3.4028235e+38 to 3.4028235e+38)");
}

/* xorshift64: the same sequence on every run. */
static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Payload -> JSON -> payload gives the same bits back for any float that
 * is not a NaN (f32 through the float's own text, f64 through the
 * double's). */
static void test_desc_floats_random_round_trip(void **state) {
  uint64_t seed = 0x9e3779b97f4a7c15ull;
  (void)state;
  for (int i = 0; i < 40000; i++) {
    const netfw_desc_message *m = dk_msg(&le, i % 2 ? "F32" : "F64");
    uint64_t bits = next_rand(&seed);
    uint8_t b[8];
    size_t n = i % 2 ? 4 : 8;
    char *json, err[128];
    netfw_msg out;
    for (size_t k = 0; k < n; k++)
      b[k] = (uint8_t)(bits >> (8 * k));
    if (n == 4 ? (((bits >> 23) & 0xff) == 0xff && (bits & 0x7fffff) != 0)
               : (((bits >> 52) & 0x7ff) == 0x7ff &&
                  (bits & 0xfffffffffffffull) != 0))
      continue; /* NaN: written back as the quiet NaN */
    assert_int_equal(netfw_desc_decode_json(&le, m, b, n, &json, err,
                                            sizeof(err)), 0);
    netfw_msg_init(&out, 0);
    assert_int_equal(netfw_desc_encode_json(&le, m, json, strlen(json), &out,
                                            err, sizeof(err)), 0);
    if (netfw_msg_size(&out) != n || memcmp(netfw_msg_payload(&out), b, n))
      fail_msg("%s does not read back to its bits", json);
    netfw_msg_release(&out);
    free(json);
  }
}

/* ---- bool and strings ---------------------------------------------------- */

static void test_desc_bool(void **state) {
  (void)state;
  dk_round(&le, "Bool", "{\"v\":true}", "01", NULL);
  dk_round(&le, "Bool", "{\"v\":false}", "00", NULL);
  dk_enc_err(&le, "Bool", "{\"v\":1}", NETFW_EINVAL,
             "fields.v: expected true or false");
  dk_dec_err(&le, "Bool", "02", NETFW_EPROTO,
             "fields.v: bool byte 0x02 is neither 00 nor 01");
  dk_dec_err(&le, "Bool", "", NETFW_EPROTO,
             "fields.v: payload ends before the field");
}

static void test_desc_strings(void **state) {
  char json[600];
  (void)state;
  dk_round(&le, "S8", "{\"v\":\"a.txt\"}", "05612e747874", NULL);
  dk_round(&le, "S8", "{\"v\":\"\"}", "00", NULL);
  dk_round(&le, "S8",
           "{\"v\":\"a\\u0000b\\\"\\\\\\n\\r\\t\\b\\f\\u001f\x7f/\"}",
           "0d 61 00 62 22 5c 0a 0d 09 08 0c 1f 7f 2f", NULL);
  dk_round(&le, "S8", "{\"v\":\"caf\\u00e9 \\ud83d\\ude00\"}",
           "0a 636166c3a9 20 f09f9880",
           "{\"v\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
  dk_round(&be, "S16", "{\"v\":\"ab\"}", "0002 6162", NULL);
  dk_round(&le, "S16", "{\"v\":\"ab\"}", "0200 6162", NULL);
  dk_dec_err(&le, "S8", "02 c328", NETFW_EPROTO,
             "fields.v: the string is not valid UTF-8");
  dk_dec_err(&le, "S8", "03 eda080", NETFW_EPROTO, /* a surrogate */
             "fields.v: the string is not valid UTF-8");
  dk_dec_err(&le, "S8", "02 c0af", NETFW_EPROTO, /* overlong */
             "fields.v: the string is not valid UTF-8");
  dk_dec_err(&le, "S8", "05 61", NETFW_EPROTO,
             "fields.v: payload ends inside the field");
  dk_dec_err(&le, "S16", "05", NETFW_EPROTO,
             "fields.v: payload ends inside the field");
  dk_enc_err(&le, "S8", "{\"v\":5}", NETFW_EINVAL,
             "fields.v: expected a string");
  /* 255 bytes fit a u8 length, 256 do not */
  memcpy(json, "{\"v\":\"", 6);
  memset(json + 6, 'x', 256);
  memcpy(json + 262, "\"}", 3);
  dk_enc_err(&le, "S8", json, NETFW_E2BIG,
             "fields.v: a string of 256 bytes is longer than its 1-byte "
             "length can count (255)");
  memcpy(json + 261, "\"}", 3);
  {
    netfw_msg m;
    netfw_msg_init(&m, 0);
    dk_enc(&le, "S8", json, &m);
    assert_int_equal(netfw_msg_size(&m), 256);
    assert_int_equal(netfw_msg_payload(&m)[0], 255);
    netfw_msg_release(&m);
  }
}

/* ---- bytes: base64 ------------------------------------------------------- */

static void test_desc_base64(void **state) {
  (void)state;
  dk_round(&le, "B8", "{\"v\":\"\"}", "00", NULL);
  dk_round(&le, "B8", "{\"v\":\"AQ==\"}", "01 01", NULL);
  dk_round(&le, "B8", "{\"v\":\"AQI=\"}", "02 0102", NULL);
  dk_round(&le, "B8", "{\"v\":\"AQID\"}", "03 010203", NULL);
  dk_round(&le, "B8", "{\"v\":\"+/+/\"}", "03 fbffbf", NULL);
  dk_round(&le, "B32", "{\"v\":\"AQIDBA==\"}", "04000000 01020304", NULL);
  dk_round(&be, "B32", "{\"v\":\"AP8=\"}", "00000002 00ff", NULL);
}

static void test_desc_base64_malformed(void **state) {
  static const struct {
    const char *text, *why;
  } bad[] = {
      {"AQ", "its length is not a multiple of 4 (padding is required)"},
      {"AQI", "its length is not a multiple of 4 (padding is required)"},
      {"AQ==\\n", "its length is not a multiple of 4 (padding is required)"},
      {"AQ=A", "'=' before the end"},
      {"A===", "'=' before the end"},
      {"====", "'=' before the end"},
      {"AQ!=", "a character outside the base64 alphabet"},
      {"AQ I", "a character outside the base64 alphabet"},
      {"-_8=", "a character outside the base64 alphabet"},
      {"AR==", "non-zero bits after the last byte"},
      {"AQJ=", "non-zero bits after the last byte"},
  };
  char json[64], err[160];
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    snprintf(json, sizeof(json), "{\"v\":\"%s\"}", bad[i].text);
    snprintf(err, sizeof(err), "fields.v: invalid base64: %s", bad[i].why);
    dk_enc_err(&le, "B8", json, NETFW_EINVAL, err);
  }
  dk_enc_err(&le, "B8", "{\"v\":[1]}", NETFW_EINVAL,
             "fields.v: expected a base64 string");
}

/* Every byte value, and 256 bytes over a u8 length. */
static void test_desc_base64_all_bytes(void **state) {
  static char json[512];
  uint8_t raw[256];
  netfw_msg m;
  char *back, err[128];
  (void)state;
  for (int i = 0; i < 256; i++)
    raw[i] = (uint8_t)i;
  assert_int_equal(netfw_desc_decode_json(&le, dk_msg(&le, "B8"),
                                          (const uint8_t *)"\xff", 1, &back,
                                          err, sizeof(err)),
                   NETFW_EPROTO);
  {
    uint8_t p[260] = {0, 1, 0, 0};
    memcpy(p + 4, raw, 256);
    assert_int_equal(netfw_desc_decode_json(&le, dk_msg(&le, "B32"), p, 260,
                                            &back, err, sizeof(err)),
                     0);
  }
  assert_int_equal(strlen(back), strlen("{\"v\":\"\"}") + 344);
  assert_memory_equal(back, "{\"v\":\"AAECAwQFBgcICQoLDA0ODxAREhMU", 34);
  assert_memory_equal(back + strlen(back) - 10, "/P3+/w==\"}", 10);
  netfw_msg_init(&m, 0);
  dk_enc(&le, "B32", back, &m);
  assert_int_equal(netfw_msg_size(&m), 260);
  assert_memory_equal(netfw_msg_payload(&m) + 4, raw, 256);
  netfw_msg_release(&m);
  snprintf(json, sizeof(json), "{\"v\":\"%.*s\"}", 344, back + 6);
  dk_enc_err(&le, "B8", json, NETFW_E2BIG,
             "fields.v: 256 bytes are more than its 1-byte length can count "
             "(255)");
  free(back);
}

/* ---- enums --------------------------------------------------------------- */

static void test_desc_enum_closed(void **state) {
  (void)state;
  dk_round(&le, "Rc", "{\"v\":\"OK\"}", "00", NULL);
  dk_round(&le, "Rc", "{\"v\":\"BAD\"}", "07", NULL);
  dk_round(&le, "Rc", "{\"v\":7}", "07", "{\"v\":\"BAD\"}");
  dk_round(&le, "Big", "{\"v\":\"TOP\"}", "ffffff7f", NULL);
  dk_round(&be, "Big", "{\"v\":2147483647}", "7fffffff", "{\"v\":\"TOP\"}");
  dk_enc_err(&le, "Rc", "{\"v\":5}", NETFW_EINVAL,
             "fields.v: value 5 is not a constant of enum Rc");
  dk_enc_err(&le, "Rc", "{\"v\":\"OKK\"}", NETFW_EINVAL,
             "fields.v: unknown constant 'OKK' of enum Rc (did you mean "
             "'OK'?)");
  dk_enc_err(&le, "Rc", "{\"v\":\"ok\"}", NETFW_EINVAL,
             "fields.v: unknown constant 'ok' of enum Rc (did you mean "
             "'OK'?)");
  dk_enc_err(&le, "Rc", "{\"v\":\"bAd\"}", NETFW_EINVAL,
             "fields.v: unknown constant 'bAd' of enum Rc (did you mean "
             "'BAD'?)");
  dk_enc_err(&le, "Rc", "{\"v\":\"7\"}", NETFW_EINVAL,
             "fields.v: unknown constant '7' of enum Rc (a number goes "
             "without quotes)");
  dk_enc_err(&le, "Rc", "{\"v\":\"OK\\u0000\"}", NETFW_EINVAL,
             "fields.v: unknown constant 'OK' of enum Rc");
  dk_enc_err(&le, "Rc", "{\"v\":256}", NETFW_EINVAL,
             "fields.v: expected a constant of enum Rc or a number up to 255");
  dk_enc_err(&le, "Rc", "{\"v\":-1}", NETFW_EINVAL,
             "fields.v: expected a constant of enum Rc or a number up to 255");
  dk_enc_err(&le, "Rc", "{\"v\":null}", NETFW_EINVAL,
             "fields.v: expected a constant of enum Rc or a number up to 255");
  dk_enc_err(&le, "Big", "{\"v\":4294967295}", NETFW_EINVAL,
             "fields.v: value 4294967295 is not a constant of enum Big");
  dk_dec_err(&le, "Rc", "05", NETFW_EPROTO,
             "fields.v: value 5 is not a constant of enum Rc");
  dk_dec_err(&be, "Big", "ffffffff", NETFW_EPROTO,
             "fields.v: value 4294967295 is not a constant of enum Big");
}

static void test_desc_enum_open(void **state) {
  (void)state;
  dk_round(&le, "Op", "{\"v\":\"GET\"}", "0100", NULL);
  dk_round(&le, "Op", "{\"v\":2}", "0200", "{\"v\":\"PUT\"}");
  dk_round(&le, "Op", "{\"v\":0}", "0000", NULL);
  dk_round(&le, "Op", "{\"v\":65535}", "ffff", NULL);
  dk_enc_err(&le, "Op", "{\"v\":65536}", NETFW_EINVAL,
             "fields.v: expected a constant of enum Op or a number up to "
             "65535");
  dk_enc_err(&le, "Op", "{\"v\":\"DEL\"}", NETFW_EINVAL,
             "fields.v: unknown constant 'DEL' of enum Op");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_desc_all_kinds_le),
      cmocka_unit_test(test_desc_all_kinds_be),
      cmocka_unit_test(test_desc_u64_bounds),
      cmocka_unit_test(test_desc_i64_bounds),
      cmocka_unit_test(test_desc_small_int_bounds),
      cmocka_unit_test(test_desc_int_wrong_kinds),
      cmocka_unit_test(test_desc_int_too_big_for_json),
      cmocka_unit_test(test_desc_f64),
      cmocka_unit_test(test_desc_f32),
      cmocka_unit_test(test_desc_floats_random_round_trip),
      cmocka_unit_test(test_desc_bool),
      cmocka_unit_test(test_desc_strings),
      cmocka_unit_test(test_desc_base64),
      cmocka_unit_test(test_desc_base64_malformed),
      cmocka_unit_test(test_desc_base64_all_bytes),
      cmocka_unit_test(test_desc_enum_closed),
      cmocka_unit_test(test_desc_enum_open),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
