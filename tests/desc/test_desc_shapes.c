/* The reflective codec's shapes, on a hand-written descriptor: optional,
 * repeated and fixed arrays, nested structs and their error paths, counts
 * checked against the bytes left, an extensible struct's window (skipped
 * bytes, a length too long, E2BIG), [since] groups taking their defaults
 * at a boundary and refused inside, the recursion depth limit, missing and
 * unknown keys, malformed JSON, NULL arguments, the lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "desc_kit.h"

#define F(n, k) {.name = n, .kind = NETFW_DESC_##k}
#define OPT(n, k, t)                                                           \
  {.name = n, .kind = NETFW_DESC_##k, .mode = NETFW_DESC_OPTIONAL, .type = t}
#define REP(n, k, cp, t, p)                                                    \
  {.name = n, .kind = NETFW_DESC_##k, .mode = NETFW_DESC_REPEATED,            \
   .count_prefix = cp, .type = t, .prefix = p}
#define ARR(n, k, len, t, p)                                                   \
  {.name = n, .kind = NETFW_DESC_##k, .mode = NETFW_DESC_ARRAY,               \
   .array_len = len, .type = t, .prefix = p}
#define STRUCT(n, t) {.name = n, .kind = NETFW_DESC_STRUCT, .type = t}
#define N(a) (uint32_t)(sizeof(a) / sizeof(a[0]))

/* struct Point { i32 x; i32 y; } */
static const netfw_desc_field s_point[] = {F("x", I32), F("y", I32)};
/* struct Node { u8 v; repeated<u8> Node kids; } */
static const netfw_desc_field s_node[] = {F("v", U8),
                                          REP("kids", STRUCT, 1, 1, 0)};
/* struct Ext extensible<u8> { u8 a; u16 b = 258 [since 2];
 *   string<u8> c = "hi" [since 2]; optional u8 d [since 3]; } */
static const netfw_desc_field s_ext[] = {
    F("a", U8),
    {.name = "b", .kind = NETFW_DESC_U16, .since = 2,
     .def = (const uint8_t *)"\x02\x01", .def_len = 2},
    {.name = "c", .kind = NETFW_DESC_STRING, .prefix = 1, .since = 2,
     .def = (const uint8_t *)"\x02hi", .def_len = 3},
    {.name = "d", .kind = NETFW_DESC_U8, .mode = NETFW_DESC_OPTIONAL,
     .since = 3, .def = (const uint8_t *)"", .def_len = 1}};
static const netfw_desc_struct structs[] = {
    {.name = "Point", .fields = s_point, .nfields = 2},
    {.name = "Node", .fields = s_node, .nfields = 2},
    {.name = "Ext", .fields = s_ext, .nfields = 4, .ext_prefix = 1}};

static const netfw_desc_field m_opt[] = {OPT("a", U8, 0),
                                         OPT("p", STRUCT, 0), F("z", U8)};
static const netfw_desc_field m_rep[] = {REP("xs", U16, 1, 0, 0),
                                         REP("pts", STRUCT, 2, 0, 0),
                                         REP("names", STRING, 4, 0, 1)};
static const netfw_desc_field m_arr[] = {ARR("raw", U8, 3, 0, 0),
                                         ARR("pts", STRUCT, 2, 0, 0),
                                         ARR("names", STRING, 2, 0, 1)};
static const netfw_desc_field m_nest[] = {STRUCT("p", 0), STRUCT("tree", 1)};
static const netfw_desc_field m_win[] = {STRUCT("e", 2), F("after", U8)};
/* message Vers { u8 a; u32 b = 7 [since 2]; bool c = true [since 2];
 *   repeated<u8> u8 d [since 3]; } */
static const netfw_desc_field m_vers[] = {
    F("a", U8),
    {.name = "b", .kind = NETFW_DESC_U32, .since = 2,
     .def = (const uint8_t *)"\x07\0\0\0", .def_len = 4},
    {.name = "c", .kind = NETFW_DESC_BOOL, .since = 2,
     .def = (const uint8_t *)"\x01", .def_len = 1},
    {.name = "d", .kind = NETFW_DESC_U8, .mode = NETFW_DESC_REPEATED,
     .count_prefix = 1, .since = 3, .def = (const uint8_t *)"", .def_len = 1}};
static const netfw_desc_field m_count[] = {REP("xs", U32, 4, 0, 0)};
static const netfw_desc_field m_names[] = {
    F("size", U32), {.name = "name", .kind = NETFW_DESC_STRING, .prefix = 1},
    F("flag", BOOL)};
/* [since] fields without def bytes (a hand-made table): zeros */
static const netfw_desc_field m_nodef[] = {
    F("a", U8), {.name = "s", .kind = NETFW_DESC_STRING, .prefix = 2,
                 .since = 2},
    {.name = "n", .kind = NETFW_DESC_I16, .mode = NETFW_DESC_ARRAY,
     .array_len = 2, .since = 2}};

#define MSG(i, n, f)                                                           \
  {.id = i, .dir = NETFW_DESC_BOTH,                                            \
   .body = {.name = n, .fields = f, .nfields = N(f)}}
static const netfw_desc_message msgs[] = {
    MSG(1, "Opt", m_opt),
    MSG(2, "Rep", m_rep),
    MSG(3, "Arr", m_arr),
    MSG(4, "Nest", m_nest),
    MSG(5, "Win", m_win),
    MSG(6, "Vers", m_vers),
    MSG(7, "Count", m_count),
    {.id = 8, .dir = NETFW_DESC_TO_CLIENT, .body = {.name = "Empty"}},
    MSG(9, "Names", m_names),
    MSG(10, "NoDef", m_nodef)};

static const netfw_desc sd = {.abi = NETFW_DESC_ABI,
                              .proto = "sh",
                              .version = 3,
                              .structs = structs,
                              .nstructs = N(structs),
                              .messages = msgs,
                              .nmessages = N(msgs)};

/* ---- optional, repeated, arrays, nesting --------------------------------- */

static void test_desc_optional(void **state) {
  (void)state;
  dk_round(&sd, "Opt", "{\"a\":null,\"p\":{\"x\":1,\"y\":-1},\"z\":3}",
           "00 01 01000000 ffffffff 03", NULL);
  dk_round(&sd, "Opt", "{\"a\":5,\"p\":null,\"z\":3}", "01 05 00 03", NULL);
  dk_round(&sd, "Opt", "{\"z\":3}", "00 00 03",
           "{\"a\":null,\"p\":null,\"z\":3}");
  dk_dec_err(&sd, "Opt", "02", NETFW_EPROTO,
             "fields.a: presence byte 0x02 is neither 00 nor 01");
  dk_dec_err(&sd, "Opt", "01", NETFW_EPROTO,
             "fields.a: payload ends inside the field");
  dk_dec_err(&sd, "Opt", "00 01 01000000 ffff", NETFW_EPROTO,
             "fields.p.y: payload ends inside the field");
  dk_enc_err(&sd, "Opt", "{\"a\":null,\"p\":5,\"z\":3}", NETFW_EINVAL,
             "fields.p: expected an object");
  dk_enc_err(&sd, "Opt", "{\"a\":null,\"p\":null,\"z\":null}", NETFW_EINVAL,
             "fields.z: expected an unsigned integer up to 255");
}

static void test_desc_repeated(void **state) {
  char json[2048];
  size_t n;
  (void)state;
  dk_round(&sd, "Rep",
           "{\"xs\":[1,2],\"pts\":[{\"x\":1,\"y\":2}],\"names\":[\"a\",\"\"]}",
           "02 0100 0200  0100 01000000 02000000  02000000 0161 00", NULL);
  dk_round(&sd, "Rep", "{\"xs\":[],\"pts\":[],\"names\":[]}",
           "00 0000 00000000", NULL);
  dk_enc_err(&sd, "Rep", "{\"xs\":1,\"pts\":[],\"names\":[]}", NETFW_EINVAL,
             "fields.xs: expected an array");
  dk_enc_err(&sd, "Rep",
             "{\"xs\":[],\"pts\":[{\"x\":1,\"y\":2},{\"x\":1.5,\"y\":2}],"
             "\"names\":[]}",
             NETFW_EINVAL,
             "fields.pts[1].x: expected an integer from -2147483648 to "
             "2147483647");
  /* 255 elements fit a u8 count, 256 do not */
  n = (size_t)snprintf(json, sizeof(json), "{\"xs\":[0");
  for (int i = 1; i < 256; i++)
    n += (size_t)snprintf(json + n, sizeof(json) - n, ",%d", i);
  snprintf(json + n, sizeof(json) - n, "],\"pts\":[],\"names\":[]}");
  dk_enc_err(&sd, "Rep", json, NETFW_E2BIG,
             "fields.xs: 256 elements are more than its 1-byte count can say "
             "(255)");
  dk_dec_err(&sd, "Rep", "02 0100", NETFW_EPROTO,
             "fields.xs: count 2 is more than the 2 bytes left can hold (2 or "
             "more bytes each)");
  dk_dec_err(&sd, "Rep", "01 0100 0100 01000000", NETFW_EPROTO,
             "fields.pts: count 1 is more than the 4 bytes left can hold (8 or "
             "more bytes each)");
  dk_dec_err(&sd, "Rep", "00 0000 03000000 00 00", NETFW_EPROTO,
             "fields.names: count 3 is more than the 2 bytes left can hold (1 "
             "or more bytes each)");
  dk_dec_err(&sd, "Rep", "00 0000 02000000 00 05", NETFW_EPROTO,
             "fields.names[1]: payload ends inside the field");
}

/* A count no payload could hold is refused from the count alone. */
static void test_desc_count_before_allocating(void **state) {
  (void)state;
  dk_dec_err(&sd, "Count", "ffffffff 01020304", NETFW_EPROTO,
             "fields.xs: count 4294967295 is more than the 4 bytes left can "
             "hold (4 or more bytes each)");
  dk_dec_err(&sd, "Count", "02000000 01020304", NETFW_EPROTO,
             "fields.xs: count 2 is more than the 4 bytes left can hold (4 or "
             "more bytes each)");
  dk_dec(&sd, "Count", "01000000 01020304 ff", "{\"xs\":[67305985]}");
}

static void test_desc_arrays(void **state) {
  (void)state;
  dk_round(&sd, "Arr",
           "{\"raw\":[1,2,3],\"pts\":[{\"x\":0,\"y\":0},{\"x\":1,\"y\":1}],"
           "\"names\":[\"a\",\"b\"]}",
           "010203 00000000 00000000 01000000 01000000 0161 0162", NULL);
  dk_enc_err(&sd, "Arr",
             "{\"raw\":[1,2],\"pts\":[{\"x\":0,\"y\":0},{\"x\":1,\"y\":1}],"
             "\"names\":[\"a\",\"b\"]}",
             NETFW_EINVAL,
             "fields.raw: expected an array of 3 elements, got 2");
  dk_enc_err(&sd, "Arr", "{\"raw\":{},\"pts\":[],\"names\":[]}", NETFW_EINVAL,
             "fields.raw: expected an array of 3 elements");
  dk_enc_err(&sd, "Arr",
             "{\"raw\":[1,2,3],\"pts\":[{\"x\":0,\"y\":0},{\"x\":1}],"
             "\"names\":[\"a\",\"b\"]}",
             NETFW_EINVAL, "fields.pts[1].y: missing");
  dk_dec_err(&sd, "Arr", "010203 00000000 00000000 01000000 01000000 0161",
             NETFW_EPROTO, "fields.names[1]: payload ends inside the field");
}

static void test_desc_nested_paths(void **state) {
  (void)state;
  dk_round(&sd, "Nest",
           "{\"p\":{\"x\":1,\"y\":2},\"tree\":{\"v\":1,\"kids\":[{\"v\":2,"
           "\"kids\":[]},{\"v\":3,\"kids\":[{\"v\":4,\"kids\":[]}]}]}}",
           "01000000 02000000 01 02 02 00 03 01 04 00", NULL);
  dk_enc_err(&sd, "Nest",
             "{\"p\":{\"x\":1,\"y\":2},\"tree\":{\"v\":1,\"kids\":[{\"v\":2,"
             "\"kids\":[]},{\"v\":3,\"kids\":[{\"v\":-4,\"kids\":[]}]}]}}",
             NETFW_EINVAL,
             "fields.tree.kids[1].kids[0].v: expected an unsigned integer up "
             "to 255");
  dk_enc_err(&sd, "Nest", "{\"p\":{\"x\":1,\"y\":2,\"z\":3},\"tree\":{}}",
             NETFW_EINVAL, "fields.p.z: unknown field (did you mean 'x'?)");
  dk_dec_err(&sd, "Nest", "01000000 02000000 01 02 02 00 03 01", NETFW_EPROTO,
             "fields.tree.kids[1].kids: count 1 is more than the 0 bytes left "
             "can hold (2 or more bytes each)");
}

/* Nest's JSON with a tree of `levels` Nodes, each the only kid of the one
 * above (malloc'd). */
static char *nest_json(size_t levels) {
  size_t cap = 64 + levels * 24, n = 0;
  char *j = malloc(cap);
  assert_non_null(j);
  n += (size_t)snprintf(j + n, cap - n, "{\"p\":{\"x\":1,\"y\":2},\"tree\":");
  for (size_t i = 0; i < levels; i++)
    n += (size_t)snprintf(j + n, cap - n, "{\"v\":%zu,\"kids\":[", i % 256);
  for (size_t i = 0; i < levels; i++)
    n += (size_t)snprintf(j + n, cap - n, "]}");
  snprintf(j + n, cap - n, "}");
  return j;
}

/* Node nests once per level: 128 levels under the message decode, 129 do
 * not (the generated decoders' NETFW_MAX_DECODE_DEPTH, checked in
 * test_desc_proto against them). */
static void test_desc_depth_limit(void **state) {
  static uint8_t p[8 + 2 * 200];
  static char err[4096];
  const char *tail = ": structs nest deeper than 128 (NETFW_MAX_DECODE_DEPTH)";
  const char *enc_tail = "): no decoder would accept the message";
  netfw_msg out;
  char *json;
  (void)state;
  for (size_t levels = 127; levels <= 130; levels++) {
    size_t n = 8;
    memset(p, 0, sizeof(p));
    for (size_t i = 0; i < levels; i++) {
      p[n++] = (uint8_t)i;
      p[n++] = i + 1 < levels ? 1 : 0;
    }
    int rc = netfw_desc_decode_json(&sd, dk_msg(&sd, "Nest"), p, n, &json, err,
                                    sizeof(err));
    if (levels <= 128) {
      assert_int_equal(rc, 0);
      free(json);
      json = nest_json(levels); /* and the encoder writes it */
      netfw_msg_init(&out, 0);
      assert_int_equal(netfw_desc_encode_json(&sd, dk_msg(&sd, "Nest"), json,
                                              strlen(json), &out, err,
                                              sizeof(err)),
                       0);
      assert_int_equal(netfw_msg_size(&out), 8 + 2 * levels);
      netfw_msg_release(&out);
      free(json);
      continue;
    }
    assert_int_equal(rc, NETFW_EPROTO);
    assert_memory_equal(err, "fields.tree.kids[0].kids[0].", 28);
    assert_string_equal(err + strlen(err) - strlen(tail), tail);
    assert_int_equal(strlen(err), strlen("fields.tree") + 128 * 8 +
                                      strlen(tail));
    /* the encoder refuses what no decoder would accept */
    json = nest_json(levels);
    netfw_msg_init(&out, 0);
    assert_int_equal(netfw_desc_encode_json(&sd, dk_msg(&sd, "Nest"), json,
                                            strlen(json), &out, err,
                                            sizeof(err)),
                     NETFW_EINVAL);
    assert_int_equal(netfw_msg_size(&out), 0);
    netfw_msg_release(&out);
    free(json);
    assert_string_equal(err + strlen(err) - strlen(enc_tail), enc_tail);
  }
}

/* ---- extensible windows and [since] groups ------------------------------- */

static void test_desc_ext_window(void **state) {
  (void)state;
  dk_round(&sd, "Win",
           "{\"e\":{\"a\":1,\"b\":258,\"c\":\"hi\",\"d\":null},\"after\":9}",
           "07 01 0201 026869 00 09", NULL);
  dk_round(&sd, "Win", "{\"e\":{\"a\":1,\"d\":4},\"after\":9}",
           "08 01 0201 026869 0104 09",
           "{\"e\":{\"a\":1,\"b\":258,\"c\":\"hi\",\"d\":4},\"after\":9}");
  /* a newer sender's bytes after the known fields are skipped */
  dk_dec(&sd, "Win", "08 01 0500 00 00 aabbcc 09",
         "{\"e\":{\"a\":1,\"b\":5,\"c\":\"\",\"d\":null},\"after\":9}");
  /* an older sender's window: the missing groups take their defaults */
  dk_dec(&sd, "Win", "01 01 09",
         "{\"e\":{\"a\":1,\"b\":258,\"c\":\"hi\",\"d\":null},\"after\":9}");
  dk_dec(&sd, "Win", "04 01 0300 00 09",
         "{\"e\":{\"a\":1,\"b\":3,\"c\":\"\",\"d\":null},\"after\":9}");
  dk_dec_err(&sd, "Win", "02 01 05 09", NETFW_EPROTO,
             "fields.e.b: extensible struct's length ends inside the field");
  dk_dec_err(&sd, "Win", "03 01 0500 09", NETFW_EPROTO,
             "fields.e.c: extensible struct's length ends before the field");
  dk_dec_err(&sd, "Win", "00 09", NETFW_EPROTO,
             "fields.e.a: extensible struct's length ends before the field");
  dk_dec_err(&sd, "Win", "0a 01 0201 026869 00 09", NETFW_EPROTO,
             "fields.e: the extensible struct's length 10 is larger than the "
             "8 bytes left");
  dk_dec_err(&sd, "Win", "01 01", NETFW_EPROTO,
             "fields.after: payload ends before the field");
}

static void test_desc_ext_window_e2big(void **state) {
  char json[400];
  (void)state;
  /* 1 + 2 + (1 + 251) + 1 = 256 bytes of fields: one over a u8 length */
  snprintf(json, sizeof(json), "{\"e\":{\"a\":1,\"c\":\"%0251d\"},\"after\":9}",
           0);
  dk_enc_err(&sd, "Win", json, NETFW_E2BIG,
             "fields.e: the extensible struct's fields take 256 bytes, more "
             "than its 1-byte length can say");
  snprintf(json, sizeof(json), "{\"e\":{\"a\":1,\"c\":\"%0250d\"},\"after\":9}",
           0);
  {
    netfw_msg m;
    netfw_msg_init(&m, 0);
    dk_enc(&sd, "Win", json, &m);
    assert_int_equal(netfw_msg_size(&m), 1 + 255 + 1);
    assert_int_equal(netfw_msg_payload(&m)[0], 255);
    netfw_msg_release(&m);
  }
}

static void test_desc_since_groups(void **state) {
  (void)state;
  /* the payload stops before a group: it and the later ones default */
  dk_dec(&sd, "Vers", "05", "{\"a\":5,\"b\":7,\"c\":true,\"d\":[]}");
  dk_dec(&sd, "Vers", "05 08000000 00",
         "{\"a\":5,\"b\":8,\"c\":false,\"d\":[]}");
  dk_round(&sd, "Vers", "{\"a\":5,\"b\":8,\"c\":false,\"d\":[1,2]}",
           "05 08000000 00 020102", NULL);
  dk_dec(&sd, "Vers", "05 08000000 00 020102 ffff",
         "{\"a\":5,\"b\":8,\"c\":false,\"d\":[1,2]}");
  /* ... but not inside one */
  dk_dec_err(&sd, "Vers", "05 08", NETFW_EPROTO,
             "fields.b: payload ends inside the field");
  dk_dec_err(&sd, "Vers", "05 08000000", NETFW_EPROTO,
             "fields.c: payload ends before the field");
  dk_dec_err(&sd, "Vers", "", NETFW_EPROTO,
             "fields.a: payload ends before the field");
  /* missing [since] keys are written as their defaults */
  dk_round(&sd, "Vers", "{\"a\":5}", "05 07000000 01 00",
           "{\"a\":5,\"b\":7,\"c\":true,\"d\":[]}");
  dk_round(&sd, "Vers", "{\"a\":5,\"d\":[9]}", "05 07000000 01 0109",
           "{\"a\":5,\"b\":7,\"c\":true,\"d\":[9]}");
  dk_enc_err(&sd, "Vers", "{\"b\":5}", NETFW_EINVAL, "fields.a: missing");
  /* a table without def bytes: zeros */
  dk_dec(&sd, "NoDef", "01", "{\"a\":1,\"s\":\"\",\"n\":[0,0]}");
  dk_round(&sd, "NoDef", "{\"a\":1}", "01 0000 00000000",
           "{\"a\":1,\"s\":\"\",\"n\":[0,0]}");
}

/* ---- keys and text ------------------------------------------------------- */

static void test_desc_missing_and_unknown(void **state) {
  (void)state;
  dk_round(&sd, "Names", "{\"flag\":true,\"name\":\"x\",\"size\":1}",
           "01000000 0178 01", "{\"size\":1,\"name\":\"x\",\"flag\":true}");
  dk_enc_err(&sd, "Names", "{\"size\":1,\"nmae\":\"x\",\"flag\":true}",
             NETFW_EINVAL, "fields.nmae: unknown field (did you mean 'name'?)");
  dk_enc_err(&sd, "Names", "{\"size\":1,\"name\":\"x\",\"Flag\":true}",
             NETFW_EINVAL, "fields.Flag: unknown field (did you mean 'flag'?)");
  dk_enc_err(&sd, "Names", "{\"size\":1,\"name\":\"x\",\"colour\":1}",
             NETFW_EINVAL, "fields.colour: unknown field");
  dk_enc_err(&sd, "Names", "{\"size\":1,\"name\":\"x\"}", NETFW_EINVAL,
             "fields.flag: missing");
  dk_enc_err(&sd, "Names", "[1]", NETFW_EINVAL, "fields: expected an object");
  dk_round(&sd, "Empty", "{}", "", NULL);
  dk_enc_err(&sd, "Empty", "{\"a\":1}", NETFW_EINVAL,
             "fields.a: unknown field");
}

/* What is not JSON: the message gives jansson's position and reason. */
static void test_desc_bad_json(void **state) {
  static const char *const bad[] = {
      "", "{", "5", "\"x\"", "null", "{\"size\":1,\"size\":2}", "{} {}",
      "{\"size\":1,}", "{'size':1}", "{\"a\\u0000\":1}"};
  char err[256];
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    netfw_msg m;
    netfw_msg_init(&m, 0);
    assert_int_equal(netfw_desc_encode_json(&sd, dk_msg(&sd, "Names"), bad[i],
                                            strlen(bad[i]), &m, err,
                                            sizeof(err)),
                     NETFW_EINVAL);
    if (strncmp(err, "invalid JSON at line 1, column ", 31) != 0)
      fail_msg("%s: %s", bad[i], err);
    assert_int_equal(netfw_msg_size(&m), 0);
    netfw_msg_release(&m);
  }
}

/* The text is len bytes, not NUL-terminated. */
static void test_desc_json_length(void **state) {
  netfw_msg m;
  char err[128];
  const char *text = "{\"a\":5}garbage";
  (void)state;
  netfw_msg_init(&m, 0);
  assert_int_equal(netfw_desc_encode_json(&sd, dk_msg(&sd, "Vers"), text, 7,
                                          &m, err, sizeof(err)),
                   0);
  assert_int_equal(netfw_msg_size(&m), 7);
  netfw_msg_release(&m);
}

/* Appending: the payload goes after what the message holds, and its id
 * becomes the message's. */
static void test_desc_appends(void **state) {
  netfw_msg m;
  (void)state;
  netfw_msg_init(&m, 77);
  assert_int_equal(netfw_msg_append(&m, "\xee", 1), 0);
  dk_enc(&sd, "Vers", "{\"a\":5}", &m);
  assert_int_equal(netfw_msg_size(&m), 8);
  assert_int_equal(netfw_msg_payload(&m)[0], 0xee);
  assert_int_equal(netfw_msg_payload(&m)[1], 5);
  assert_int_equal(netfw_msg_id(&m), 6);
  netfw_msg_release(&m);
}

static void test_desc_null_arguments(void **state) {
  const netfw_desc_message *m = dk_msg(&sd, "Empty");
  netfw_desc bad = sd;
  netfw_msg out;
  char *json = (char *)"x", err[128], want[128];
  (void)state;
  netfw_msg_init(&out, 0);
  assert_int_equal(netfw_desc_encode_json(NULL, m, "{}", 2, &out, err, 128),
                   NETFW_EINVAL);
  assert_string_equal(err, "NULL argument");
  assert_int_equal(netfw_desc_encode_json(&sd, NULL, "{}", 2, &out, NULL, 0),
                   NETFW_EINVAL);
  assert_int_equal(netfw_desc_encode_json(&sd, m, NULL, 2, &out, NULL, 0),
                   NETFW_EINVAL);
  assert_int_equal(netfw_desc_encode_json(&sd, m, "{}", 2, NULL, NULL, 0),
                   NETFW_EINVAL);
  assert_int_equal(netfw_desc_decode_json(&sd, m, NULL, 1, &json, NULL, 0),
                   NETFW_EINVAL);
  assert_null(json);
  assert_int_equal(netfw_desc_decode_json(&sd, m, NULL, 0, NULL, NULL, 0),
                   NETFW_EINVAL);
  assert_int_equal(netfw_desc_decode_json(NULL, m, NULL, 0, &json, NULL, 0),
                   NETFW_EINVAL);
  /* an empty payload may be NULL; err may be NULL */
  assert_int_equal(netfw_desc_decode_json(&sd, m, NULL, 0, &json, NULL, 0), 0);
  assert_string_equal(json, "{}");
  free(json);
  assert_int_equal(netfw_desc_encode_json(&sd, m, "{}", 2, &out, NULL, 0), 0);
  assert_int_equal(netfw_msg_id(&out), 8);
  /* a table of another layout */
  bad.abi = NETFW_DESC_ABI + 1;
  assert_int_equal(netfw_desc_decode_json(&bad, m, NULL, 0, &json, err, 128),
                   NETFW_EINVAL);
  snprintf(want, sizeof(want), "descriptor ABI %d, this library reads %d",
           NETFW_DESC_ABI + 1, NETFW_DESC_ABI);
  assert_string_equal(err, want);
  /* an err of 1 byte still ends with a NUL */
  err[0] = 'x';
  assert_int_equal(netfw_desc_encode_json(&sd, m, "[", 1, &out, err, 1),
                   NETFW_EINVAL);
  assert_int_equal(err[0], '\0');
  netfw_msg_release(&out);
}

static void test_desc_lookups(void **state) {
  (void)state;
  assert_ptr_equal(netfw_desc_message_by_id(&sd, 5), &msgs[4]);
  assert_ptr_equal(netfw_desc_message_by_name(&sd, "Win"), &msgs[4]);
  assert_null(netfw_desc_message_by_id(&sd, 11));
  assert_null(netfw_desc_message_by_name(&sd, "win"));
  assert_null(netfw_desc_message_by_name(&sd, NULL));
  assert_null(netfw_desc_message_by_name(NULL, "Win"));
  assert_null(netfw_desc_message_by_id(NULL, 5));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_desc_optional),
      cmocka_unit_test(test_desc_repeated),
      cmocka_unit_test(test_desc_count_before_allocating),
      cmocka_unit_test(test_desc_arrays),
      cmocka_unit_test(test_desc_nested_paths),
      cmocka_unit_test(test_desc_depth_limit),
      cmocka_unit_test(test_desc_ext_window),
      cmocka_unit_test(test_desc_ext_window_e2big),
      cmocka_unit_test(test_desc_since_groups),
      cmocka_unit_test(test_desc_missing_and_unknown),
      cmocka_unit_test(test_desc_bad_json),
      cmocka_unit_test(test_desc_json_length),
      cmocka_unit_test(test_desc_appends),
      cmocka_unit_test(test_desc_null_arguments),
      cmocka_unit_test(test_desc_lookups),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
