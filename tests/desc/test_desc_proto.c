/* The reflective codec on the compiled <proto>_descriptor of real schemas
 * (file_storage, chat, tests/fuzz/all_types: fz, tests/gen/all_types_be:
 * atb, big-endian, tests/gen/evolution: ev) against their generated
 * codecs: a sample of every message encoded from JSON gives the bytes the
 * generated encoder writes for what the generated decoder reads from them;
 * then every truncation of it, every byte of it changed to a few values,
 * and it with bytes after it, are accepted or refused alike, and when
 * accepted read as the same values (the JSON of the payload is the JSON
 * of the generated codec's re-encoding of it). The path of errors on
 * file_storage; the depth limit and a huge count against fz's decoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "all_types.netfw.h"
#include "all_types_be.netfw.h"
#include "chat.netfw.h"
#include "desc_kit.h"
#include "evolution.netfw.h"
#include "file_storage.netfw.h"

/* The generated decoder of one message over in; with re, the generated
 * encoder's bytes for what it read appended there. */
typedef int (*gen_fn)(netfw_msg *in, netfw_arena *a, netfw_msg *re);

#define GEN(T)                                                                 \
  static int gen_##T(netfw_msg *in, netfw_arena *a, netfw_msg *re) {           \
    T x;                                                                       \
    int rc = T##_decode(in, &x, a);                                            \
    if (rc == 0 && re != NULL)                                                 \
      rc = T##_encode(&x, re);                                                 \
    return rc;                                                                 \
  }

GEN(file_storage_Add)
GEN(file_storage_ListResp)
GEN(file_storage_Ack)
GEN(file_storage_List)
GEN(chat_Join)
GEN(chat_Joined)
GEN(chat_Refused)
GEN(chat_Line)
GEN(chat_Leave)
GEN(fz_Ints)
GEN(fz_Floats)
GEN(fz_Strings)
GEN(fz_Blobs)
GEN(fz_Enums)
GEN(fz_Arrays)
GEN(fz_Repeats)
GEN(fz_Optionals)
GEN(fz_Nested)
GEN(fz_Empty)
GEN(fz_Grows)
GEN(atb_Scalars)
GEN(atb_Texts)
GEN(atb_Enums)
GEN(atb_Arrays)
GEN(atb_Repeats)
GEN(atb_Optionals)
GEN(atb_Nested)
GEN(ev_Put)
GEN(ev_List)
GEN(ev_Ack)
GEN(ev_Hello)

typedef struct sample {
  const netfw_desc *d;
  const char *msg;
  gen_fn gen;
  const char *json; /* canonical: what decoding gives back */
  const char *hex;  /* the exact bytes, or NULL */
} sample;

#define FS &file_storage_descriptor
#define CH &chat_descriptor
#define FZ &fz_descriptor
#define AB &atb_descriptor
#define EV &ev_descriptor

static const sample samples[] = {
    /* docs/netproto.md section 4's whole messages */
    {FS, "Add", gen_file_storage_Add,
     "{\"filename\":\"a.txt\",\"file\":\"AQID\"}",
     "05 612e747874 03000000 010203"},
    {FS, "ListResp", gen_file_storage_ListResp,
     "{\"files\":[{\"name\":\"a.txt\",\"size\":3},"
     "{\"name\":\"bb\",\"size\":258}]}",
     "0200 05612e747874 03000000 026262 02010000"},
    {FS, "Ack", gen_file_storage_Ack, "{\"rc\":\"OK\"}", "01"},
    {FS, "List", gen_file_storage_List, "{}", ""},
    {CH, "Join", gen_chat_Join, "{\"nick\":\"bob\"}", "03 626f62"},
    {CH, "Joined", gen_chat_Joined, "{\"members\":[\"a\",\"bc\"]}",
     "0200 0161 026263"},
    {CH, "Refused", gen_chat_Refused, "{\"reason\":\"NICK_TAKEN\"}", "01"},
    {CH, "Line", gen_chat_Line, "{\"from\":\"a\",\"text\":\"hi\"}",
     "0161 0200 6869"},
    {CH, "Leave", gen_chat_Leave, "{}", ""},
    {FZ, "Ints", gen_fz_Ints,
     "{\"a\":200,\"b\":65535,\"c\":4294967295,\"d\":\"18446744073709551615\","
     "\"e\":-128,\"f\":-32768,\"g\":-2147483648,\"h\":\"-9223372036854775808\","
     "\"k\":513,\"l\":-7,\"m\":0.25,\"n\":true,\"o\":[1,2]}",
     "c8 ffff ffffffff ffffffffffffffff 80 0080 00000080 0000000000000080"
     " 0102 f9ffffff 000000000000d03f 01 0102"},
    {FZ, "Floats", gen_fz_Floats, "{\"x\":0.1,\"y\":-2.5,\"z\":true}",
     "cdcccc3d 00000000000004c0 01"},
    {FZ, "Floats", gen_fz_Floats,
     "{\"x\":\"NaN\",\"y\":\"-Infinity\",\"z\":false}",
     "0000c07f 000000000000f0ff 00"},
    {FZ, "Strings", gen_fz_Strings,
     "{\"s8\":\"a\",\"s16\":\"\xc3\xa9\",\"s32\":\"x\\u0000y\",\"note\":\"n\","
     "\"tag\":\"AAE=\",\"maybe\":7,\"more\":[\"a\",\"bc\"]}",
     "0161 0200c3a9 03000000780079 016e 02000001 0107000000 02 0161 026263"},
    {FZ, "Blobs", gen_fz_Blobs,
     "{\"b8\":\"\",\"b16\":\"AQ==\",\"b32\":\"AQID\"}",
     "00 010001 03000000010203"},
    {FZ, "Enums", gen_fz_Enums,
     "{\"e8\":\"C\",\"e16\":\"HI\",\"e32\":\"BIG\",\"rc\":1234,\"hi\":\"LO\","
     "\"bad\":\"BAD\"}",
     "ff ffff ffffff7f d204 0000 0700"},
    {FZ, "Arrays", gen_fz_Arrays,
     "{\"raw\":[1,2,3,4],\"names\":[\"a\",\"\"],\"pts\":[{\"x\":1,\"y\":2},"
     "{\"x\":3,\"y\":4},{\"x\":5,\"y\":-6}],\"codes\":[\"LO\",\"HI\"]}",
     NULL},
    {FZ, "Repeats", gen_fz_Repeats,
     "{\"bytes8\":[1,2],\"words\":[\"w\"],\"points\":[{\"x\":-1,\"y\":1}],"
     "\"codes\":[\"NIL\",\"BIG\"],\"blobs\":[\"AQ==\",\"\"]}",
     NULL},
    {FZ, "Optionals", gen_fz_Optionals,
     "{\"n\":\"9007199254740993\",\"s\":\"s\",\"b\":\"AP8=\",\"e\":\"B\","
     "\"p\":{\"x\":1,\"y\":2},\"i\":{\"p\":null,\"e\":\"A\",\"flag\":true}}",
     NULL},
    {FZ, "Optionals", gen_fz_Optionals,
     "{\"n\":null,\"s\":null,\"b\":null,\"e\":null,\"p\":null,\"i\":null}",
     "00 00 00 00 00 00"},
    {FZ, "Nested", gen_fz_Nested,
     "{\"tree\":{\"label\":\"r\",\"kids\":[{\"label\":\"k\",\"kids\":[]}]},"
     "\"deep\":{\"inner\":{\"p\":{\"x\":1,\"y\":1},\"e\":\"C\",\"flag\":false},"
     "\"maybe\":null,\"corners\":[{\"x\":0,\"y\":0},{\"x\":9,\"y\":9}]},"
     "\"many\":[{\"inner\":{\"p\":null,\"e\":\"A\",\"flag\":true},\"maybe\":{"
     "\"p\":null,\"e\":\"B\",\"flag\":false},\"corners\":[{\"x\":1,\"y\":2},"
     "{\"x\":3,\"y\":4}]}]}",
     NULL},
    {FZ, "Empty", gen_fz_Empty, "{}", ""},
    {FZ, "Grows", gen_fz_Grows,
     "{\"plain\":{\"a\":1,\"s\":\"s\",\"more\":2,\"at\":{\"x\":1,\"y\":2},"
     "\"rc\":\"BAD\"},\"many\":[{\"a\":2,\"s\":\"\",\"more\":9,\"at\":null,"
     "\"rc\":\"OK\"}],\"maybe\":null,\"two\":[{\"a\":3,\"s\":\"t\",\"more\":1,"
     "\"at\":null,\"rc\":5},{\"a\":4,\"s\":\"u\",\"more\":1,\"at\":null,\"rc\":"
     "\"OK\"}],\"win\":{\"x\":7},\"wins\":[{\"x\":8}],\"tree\":{\"v\":1,"
     "\"kids\":[{\"v\":2,\"kids\":[],\"w\":3}],\"w\":4},\"rc\":\"OK\","
     "\"ports\":[80,443],"
     "\"later\":{\"a\":5,\"s\":\"v\",\"more\":9,\"at\":null,\"rc\":\"OK\"},"
     "\"flag\":false}",
     NULL},
    {AB, "Scalars", gen_atb_Scalars,
     "{\"a\":1,\"b\":258,\"c\":16909060,\"d\":\"18446744073709551615\","
     "\"e\":-1,\"f\":-2,\"g\":-3,\"h\":-4,\"i\":1.5,\"j\":-0.25,\"k\":true}",
     "01 0102 01020304 ffffffffffffffff ff fffe fffffffd fffffffffffffffc"
     " 3fc00000 bfd0000000000000 01"},
    {AB, "Texts", gen_atb_Texts,
     "{\"s8\":\"a\",\"s16\":\"bc\",\"s32\":\"\",\"b8\":\"AQ==\",\"b16\":\"\","
     "\"b32\":\"AQID\"}",
     "0161 00026263 00000000 0101 0000 00000003010203"},
    {AB, "Enums", gen_atb_Enums,
     "{\"color\":\"BLUE\",\"wide\":\"HIGH\",\"big\":\"TOP\"}",
     "ff ffff 7fffffff"},
    {AB, "Arrays", gen_atb_Arrays,
     "{\"fixed\":[1,2,3],\"pts\":[{\"x\":1,\"y\":-1},{\"x\":2,\"y\":-2}],"
     "\"names\":[\"x\",\"y\"]}",
     "0001 0002 0003 00000001 ffffffff 00000002 fffffffe 0178 0179"},
    {AB, "Repeats", gen_atb_Repeats,
     "{\"nums\":[1,4294967295],\"words\":[\"a\"],\"points\":[{\"x\":0,"
     "\"y\":0}],\"colors\":[\"RED\",\"GREEN\"]}",
     "02 00000001 ffffffff 0001 0161 00000001 00000000 00000000 02 00 01"},
    {AB, "Optionals", gen_atb_Optionals,
     "{\"maybe\":5,\"note\":null,\"where\":{\"x\":1,\"y\":2},\"inner\":{"
     "\"p\":null,\"c\":\"GREEN\"}}",
     "01 00000005 00 01 00000001 00000002 01 00 01"},
    {AB, "Nested", gen_atb_Nested,
     "{\"tree\":{\"label\":\"t\",\"kids\":[{\"label\":\"u\",\"kids\":[]}]},"
     "\"inner\":{\"p\":{\"x\":1,\"y\":1},\"c\":\"RED\"}}",
     NULL},
    {EV, "Put", gen_ev_Put,
     "{\"path\":\"p\",\"mode\":420,\"access\":\"WRITE\",\"note\":\"none\","
     "\"mtime\":\"9007199254740993\"}",
     "0170 a4010000 01 046e6f6e65 01 0100000000002000"},
    {EV, "List", gen_ev_List,
     "{\"files\":[{\"name\":\"a\",\"size\":1,\"mode\":420}]}",
     "01 0a 0161 01000000 a4010000"},
    {EV, "Ack", gen_ev_Ack, "{\"rc\":9}", "09"},
    {EV, "Hello", gen_ev_Hello,
     "{\"delta\":-2,\"ratio\":1.5,\"fast\":true,\"tag\":\"AP8=\",\"who\":"
     "\"caf\xc3\xa9\",\"rc\":\"DENIED\",\"ports\":[1],\"pad\":[0,0]}",
     NULL},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static netfw_arena arena;

static int setup(void **state) {
  (void)state;
  netfw_arena_init(&arena);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  netfw_arena_free(&arena);
  return 0;
}

/* The sample's payload, encoded from its JSON by the reflective codec. */
static void sample_payload(const sample *s, netfw_msg *out) {
  netfw_msg_init(out, 0);
  dk_enc(s->d, s->msg, s->json, out);
}

/* The generated decoder over p[0..n): its code; with re, the generated
 * re-encoding of what it read. */
static int gen_decode(const sample *s, const uint8_t *p, size_t n,
                      netfw_msg *re) {
  netfw_msg in;
  int rc;
  netfw_msg_init(&in, 0);
  assert_int_equal(netfw_msg_append(&in, p, n), 0);
  rc = s->gen(&in, &arena, re);
  netfw_msg_release(&in);
  netfw_arena_reset(&arena);
  return rc;
}

/* Every sample: the JSON gives the bytes (hex when given), which the
 * generated decoder reads and its encoder writes back identically, and
 * which read back as the same JSON. */
static void test_desc_proto_samples(void **state) {
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++) {
    const sample *s = &samples[i];
    netfw_msg p, re;
    sample_payload(s, &p);
    if (s->hex != NULL)
      dk_round(s->d, s->msg, s->json, s->hex, NULL);
    netfw_msg_init(&re, 0);
    if (gen_decode(s, netfw_msg_payload(&p), netfw_msg_size(&p), &re) != 0)
      fail_msg("sample %zu (%s): the generated decoder refuses it", i, s->msg);
    assert_int_equal(netfw_msg_size(&re), netfw_msg_size(&p));
    assert_memory_equal(netfw_msg_payload(&re), netfw_msg_payload(&p),
                        netfw_msg_size(&p));
    {
      char *json, err[256];
      assert_int_equal(netfw_desc_decode_json(s->d, dk_msg(s->d, s->msg),
                                              netfw_msg_payload(&p),
                                              netfw_msg_size(&p), &json, err,
                                              sizeof(err)),
                       0);
      assert_string_equal(json, s->json);
      free(json);
    }
    netfw_msg_release(&re);
    netfw_msg_release(&p);
  }
}

/* Both decoders on p[0..n): the same verdict; when they accept, the
 * reflective JSON of p equals that of the generated re-encoding, and
 * encoding that JSON gives the re-encoding's bytes (a NaN aside: the
 * generated codec keeps its bits). Returns whether they accepted. */
static bool agree(const sample *s, const uint8_t *p, size_t n) {
  const netfw_desc_message *m = dk_msg(s->d, s->msg);
  char *json = NULL, *json2 = NULL, err[256];
  netfw_msg re, back;
  int rg, rd;
  netfw_msg_init(&re, 0);
  rg = gen_decode(s, p, n, &re);
  rd = netfw_desc_decode_json(s->d, m, p, n, &json, err, sizeof(err));
  if (rg != rd) {
    fprintf(stderr, "payload (%zu):", n);
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, " %02x", p[i]);
    fail_msg("\n%s: generated %s, reflective %s (%s)", s->msg,
             netfw_err_name(rg), netfw_err_name(rd), rd ? err : json);
  }
  if (rg == 0) {
    assert_int_equal(netfw_desc_decode_json(s->d, m, netfw_msg_payload(&re),
                                            netfw_msg_size(&re), &json2, err,
                                            sizeof(err)),
                     0);
    assert_string_equal(json, json2);
    netfw_msg_init(&back, 0);
    dk_enc(s->d, s->msg, json, &back);
    if (strstr(json, "\"NaN\"") == NULL) {
      assert_int_equal(netfw_msg_size(&back), netfw_msg_size(&re));
      assert_memory_equal(netfw_msg_payload(&back), netfw_msg_payload(&re),
                          netfw_msg_size(&re));
    }
    netfw_msg_release(&back);
  }
  free(json);
  free(json2);
  netfw_msg_release(&re);
  return rg == 0;
}

/* Every truncation: refused alike, or accepted alike (a [since] boundary)
 * with the same values. */
static void test_desc_proto_truncations(void **state) {
  size_t accepted = 0, refused = 0;
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++) {
    netfw_msg p;
    sample_payload(&samples[i], &p);
    for (size_t n = 0; n < netfw_msg_size(&p); n++) {
      if (agree(&samples[i], netfw_msg_payload(&p), n))
        accepted++;
      else
        refused++;
    }
    netfw_msg_release(&p);
  }
  fprintf(stderr, "truncations: %zu accepted, %zu refused\n", accepted,
          refused);
  /* fz's and ev's [since] groups make some truncations valid */
  assert_true(accepted >= 10);
  assert_true(refused >= 600);
}

/* Every byte changed to each of a few values, and bytes after the end. */
static void test_desc_proto_mutations(void **state) {
  static const int deltas[] = {-1, 1};
  static const uint8_t values[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff};
  size_t accepted = 0, refused = 0;
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++) {
    netfw_msg p;
    uint8_t buf[1024];
    size_t n;
    sample_payload(&samples[i], &p);
    n = netfw_msg_size(&p);
    assert_true(n + 3 <= sizeof(buf));
    if (n > 0)
      memcpy(buf, netfw_msg_payload(&p), n);
    for (size_t k = 0; k < n; k++) {
      uint8_t keep = buf[k];
      for (size_t v = 0; v < sizeof(values) + 2; v++) {
        size_t d = v - sizeof(values);
        buf[k] = v < sizeof(values) ? values[v] : (uint8_t)(keep + deltas[d]);
        if (agree(&samples[i], buf, n))
          accepted++;
        else
          refused++;
      }
      buf[k] = keep;
    }
    memcpy(buf + n, "\x01\xff\x00", 3);
    assert_true(agree(&samples[i], buf, n + 3)); /* trailing bytes */
    netfw_msg_release(&p);
  }
  fprintf(stderr, "mutations: %zu accepted, %zu refused\n", accepted, refused);
  assert_true(accepted >= 4000);
  assert_true(refused >= 1500);
}

/* ---- file_storage's error paths ------------------------------------------ */

static void test_desc_proto_error_paths(void **state) {
  (void)state;
  dk_enc_err(FS, "ListResp",
             "{\"files\":[{\"name\":\"a\",\"size\":1},{\"name\":\"b\","
             "\"size\":2},{\"name\":\"c\",\"size\":3},{\"name\":\"d\","
             "\"size\":4294967296}]}",
             NETFW_EINVAL,
             "fields.files[3].size: expected an unsigned integer up to "
             "4294967295");
  dk_enc_err(FS, "ListResp", "{\"files\":[{\"name\":\"a\",\"sise\":1}]}",
             NETFW_EINVAL,
             "fields.files[0].sise: unknown field (did you mean 'size'?)");
  dk_enc_err(FS, "Ack", "{\"rc\":\"OKK\"}", NETFW_EINVAL,
             "fields.rc: unknown constant 'OKK' of enum Rc (did you mean "
             "'OK'?)");
  dk_enc_err(FS, "Add", "{\"filename\":\"a.txt\"}", NETFW_EINVAL,
             "fields.file: missing");
  dk_enc_err(FS, "Add", "{\"filename\":\"a.txt\",\"file\":\"AQI\"}",
             NETFW_EINVAL,
             "fields.file: invalid base64: its length is not a multiple of 4 "
             "(padding is required)");
  dk_dec_err(FS, "ListResp", "0200 0161 01000000 0162 0100", NETFW_EPROTO,
             "fields.files[1].size: payload ends inside the field");
  dk_dec_err(FS, "Ack", "04", NETFW_EPROTO,
             "fields.rc: value 4 is not a constant of enum Rc");
  assert_ptr_equal(netfw_desc_message_by_id(FS, 7),
                   netfw_desc_message_by_name(FS, "Ack"));
}

/* ---- limits against the generated decoders ------------------------------- */

/* fz's Tree nests once per level under Nested: both decoders take 128
 * levels and refuse 129. */
static void test_desc_proto_depth(void **state) {
  static uint8_t p[8192];
  const sample *s = NULL;
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++)
    if (samples[i].gen == gen_fz_Nested)
      s = &samples[i];
  assert_non_null(s);
  for (size_t levels = 126; levels <= 131; levels++) {
    size_t n = 0;
    for (size_t i = 0; i < levels; i++) {
      p[n++] = 0;                         /* label "" */
      p[n++] = i + 1 < levels ? 1 : 0;    /* one kid, or none */
    }
    /* deep: Inner{p absent, e A, flag false}, maybe absent, 2 Points */
    memset(p + n, 0, 3 + 1 + 16);
    n += 20;
    p[n++] = 0; /* many: none */
    assert_int_equal(agree(s, p, n), levels <= 128);
  }
}

/* A count no payload can hold: refused alike, before anything else. */
static void test_desc_proto_huge_count(void **state) {
  const sample *s = NULL;
  uint8_t p[] = {0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++)
    if (samples[i].gen == gen_fz_Repeats)
      s = &samples[i];
  assert_non_null(s);
  assert_false(agree(s, p, sizeof(p)));
  dk_dec_err(FZ, "Repeats", "00 0000 ffffffff 01020304", NETFW_EPROTO,
             "fields.points: count 4294967295 is more than the 4 bytes left "
             "can hold (8 or more bytes each)");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_desc_proto_samples),
      cmocka_unit_test(test_desc_proto_truncations),
      cmocka_unit_test(test_desc_proto_mutations),
      cmocka_unit_test(test_desc_proto_error_paths),
      cmocka_unit_test(test_desc_proto_depth),
      cmocka_unit_test(test_desc_proto_huge_count),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
