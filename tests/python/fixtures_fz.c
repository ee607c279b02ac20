/* The sample values of tests/fuzz/all_types.netproto (protocol fz),
 * encoded by the C encoders: test_fixtures.py builds the same values, in the
 * same order, with the generated Python module (samples.py) and compares
 * the bytes. For every type the first sample is its default (Python:
 * `Cls()`): zeros, and the schema's defaults of the [since] fields, which
 * C does not fill in by itself (*_default() below). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "all_types.netfw.h"
#include "py_helper.h"

/* Python: bytes(i % 256 for i in range(n)) */
static uint8_t ramp[70000];
/* Python: "x" * n */
static char xs[70001];

/* Ints with its version-1 fields given, the later ones at their defaults. */
static fz_Ints ints(uint8_t a, uint16_t b, uint32_t c, uint64_t d, int8_t e,
                   int16_t f, int32_t g, int64_t h) {
  fz_Ints v = {.a = a, .b = b, .c = c, .d = d, .e = e, .f = f, .g = g,
               .h = h, .k = 513, .l = -7, .m = 0.25, .n = true};
  return v;
}

/* Strings likewise. */
static fz_Strings strings(netfw_str s8, netfw_str s16, netfw_str s32) {
  fz_Strings v = {.s8 = s8, .s16 = s16, .s32 = s32,
                  .note = s("n\xc3\xa9 \"q\""), .tag = b("\x00\x01", 2)};
  return v;
}

/* Enums likewise. */
static fz_Enums enums(fz_E8 e8, fz_E16 e16, fz_E32 e32) {
  fz_Enums v = {.e8 = e8, .e16 = e16, .e32 = e32, .rc = 0, .hi = FZ_E16_HI,
                .bad = FZ_RC_BAD};
  return v;
}

static void scalars(void) {
  fz_Ints i0 = ints(0, 0, 0, 0, 0, 0, 0, 0);
  fz_Ints i1 = ints(255, 65535, 4294967295u, UINT64_MAX, -128, -32768,
                    INT32_MIN, INT64_MIN);
  fz_Ints i2 = ints(1, 0x0102, 258, 1, -1, -2, INT32_MAX, -4);
  fz_Floats f0 = {0};
  fz_Floats f1 = {1.0f, -2.0, true};
  fz_Floats f2 = {-0.0f, 1e300, false};
  fz_Floats f3 = {INFINITY, -INFINITY, true};
  fz_Floats f4 = {3.4028234663852886e38f, 5e-324, false};
  fz_Enums e0 = enums(FZ_E8_A, FZ_E16_LO, FZ_E32_NIL);
  fz_Enums e1 = enums(FZ_E8_C, FZ_E16_HI, FZ_E32_BIG);
  fz_Enums e2 = enums(FZ_E8_B, FZ_E16_LO, FZ_E32_NIL);

  i2.k = 65535;
  i2.l = INT32_MIN;
  i2.m = -1.5;
  i2.n = false;
  i2.o[0] = 1;
  i2.o[1] = 255;
  e1.rc = 999; /* open: not listed */
  e1.hi = FZ_E16_LO;
  e1.bad = FZ_RC_OK;
  PY_EMIT(fz, Ints, &i0);
  PY_EMIT(fz, Ints, &i1);
  PY_EMIT(fz, Ints, &i2);
  PY_EMIT(fz, Floats, &f0);
  PY_EMIT(fz, Floats, &f1);
  PY_EMIT(fz, Floats, &f2);
  PY_EMIT(fz, Floats, &f3);
  PY_EMIT(fz, Floats, &f4);
  PY_EMIT(fz, Enums, &e0);
  PY_EMIT(fz, Enums, &e1);
  PY_EMIT(fz, Enums, &e2);
}

static void texts(void) {
  netfw_str more[] = {s("x"), s("yz")};
  fz_Strings s0 = strings(s(""), s(""), s(""));
  fz_Strings s1 = strings(s("a.txt"),
                          s("\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "d"
                            "\xc3\xa9" " \xe2\x9c\x93"),
                          s("\xf0\x9d\x84\x9e emoji \xf0\x9f\x98\x80"));
  fz_Strings s2 = strings((netfw_str){xs, 255}, (netfw_str){xs, 300}, s(""));
  fz_Strings s3 = strings(s("\x7f"), (netfw_str){xs, 65535},
                          (netfw_str){xs, 70000});
  fz_Strings s4 = strings(s("a"), s(""), s(""));
  fz_Blobs b0 = {0};
  fz_Blobs b1 = {b("\x01\x02\x03", 3), b(ramp, 255), b("\0", 1)};
  fz_Blobs b2 = {b(ramp, 255), b(ramp, 1000), b(ramp, 70000)};
  fz_Blobs b3 = {b("", 0), b(ramp, 65535), b("", 0)};

  PY_EMIT(fz, Strings, &s0);
  PY_EMIT(fz, Strings, &s1);
  PY_EMIT(fz, Strings, &s2);
  PY_EMIT(fz, Strings, &s3);
  s4.note = s("");
  s4.tag = b("", 0);
  s4.has_maybe = true;
  s4.maybe = 7;
  s4.more = more;
  s4.more_count = 2;
  PY_EMIT(fz, Strings, &s4);
  PY_EMIT(fz, Blobs, &b0);
  PY_EMIT(fz, Blobs, &b1);
  PY_EMIT(fz, Blobs, &b2);
  PY_EMIT(fz, Blobs, &b3);
}

static void arrays(void) {
  fz_Arrays a0 = {0};
  fz_Arrays a1 = {{1, 2, 3, 255},
                  {s("ab"), s("")},
                  {{1, -1}, {INT32_MIN, INT32_MAX}, {0, 7}},
                  {FZ_E16_HI, FZ_E16_LO}};
  static uint8_t many_u8[255];
  netfw_str words[] = {s("a"), s("bb"), s("ccc")};
  fz_Point points[] = {{1, 2}, {-3, -4}};
  fz_E32 codes[] = {FZ_E32_BIG, FZ_E32_NIL};
  netfw_bytes blobs[] = {b("", 0), b("\x00\xff", 2)};
  uint8_t two[] = {7, 8};
  fz_Repeats r0 = {0};
  fz_Repeats r1 = {two, 2, words, 3, points, 2, codes, 2, blobs, 2};
  fz_Repeats r2 = {0};

  for (int i = 0; i < 255; i++)
    many_u8[i] = (uint8_t)(255 - i);
  r2.bytes8 = many_u8;
  r2.bytes8_count = 255;
  PY_EMIT(fz, Arrays, &a0);
  PY_EMIT(fz, Arrays, &a1);
  PY_EMIT(fz, Repeats, &r0);
  PY_EMIT(fz, Repeats, &r1);
  PY_EMIT(fz, Repeats, &r2);
}

static void optionals(void) {
  fz_Optionals o0 = {0};
  fz_Optionals o1 = {true, UINT64_MAX, true, s("s"), true, b("\x01\x02", 2),
                     true, FZ_E8_C, true, {5, -5},
                     true, {false, {0, 0}, FZ_E8_B, true}};
  fz_Optionals o2 = {true, 0, true, s(""), true, b("", 0), true, FZ_E8_A,
                     true, {0, 0}, true, {true, {1, 2}, FZ_E8_A, false}};

  PY_EMIT(fz, Optionals, &o0);
  PY_EMIT(fz, Optionals, &o1);
  PY_EMIT(fz, Optionals, &o2);
}

static void structs(void) {
  fz_Point p0 = {0}, p1 = {-1, 1};
  fz_Inner n0 = {0}, n1 = {true, {3, 4}, FZ_E8_C, true};
  fz_Tree leaf_u = {s("u"), NULL, 0};
  fz_Tree t0 = {0}, t1 = {s("t"), &leaf_u, 1};
  fz_Deep d0 = {0};
  fz_Deep d1 = {{false, {0, 0}, FZ_E8_A, false},
                true,
                {true, {9, 9}, FZ_E8_B, true},
                {{0, 1}, {2, 3}}};

  PY_EMIT(fz, Point, &p0);
  PY_EMIT(fz, Point, &p1);
  PY_EMIT(fz, Inner, &n0);
  PY_EMIT(fz, Inner, &n1);
  PY_EMIT(fz, Tree, &t0);
  PY_EMIT(fz, Tree, &t1);
  PY_EMIT(fz, Deep, &d0);
  PY_EMIT(fz, Deep, &d1);
}

static void nested(void) {
  fz_Tree c = {s("c"), NULL, 0};
  fz_Tree kids[] = {{s("a"), NULL, 0}, {s("b"), &c, 1}};
  fz_Deep many[] = {{{0}, false, {0}, {{0, 0}, {0, 0}}},
                    {{0}, true, {false, {0, 0}, FZ_E8_B, false},
                     {{-1, -2}, {-3, -4}}}};
  fz_Nested n0 = {0};
  fz_Nested n1 = {{s("root"), kids, 2},
                  {{true, {1, 2}, FZ_E8_C, true}, false, {0}, {{1, 1}, {2, 2}}},
                  many,
                  2};
  fz_Empty e0 = {0};

  PY_EMIT(fz, Nested, &n0);
  PY_EMIT(fz, Nested, &n1);
  PY_EMIT(fz, Empty, &e0);
}

/* Ext as `Ext()` in Python. */
static fz_Ext ext_default(void) {
  fz_Ext v = {.more = 9};
  return v;
}

/* The structs and the message of the schema's evolution part. */
static void evolving(void) {
  fz_Ext x0 = ext_default();
  fz_Ext x1 = {.a = 1, .s = s("e"), .more = 1, .has_at = true,
               .at = {1, 2}, .rc = FZ_RC_BAD};
  fz_Window w0 = {0}, w1 = {5}, wins[] = {{1}, {2}};
  fz_ETree leaf = {.v = 2, .w = 3};
  fz_ETree t0 = {0}, t1 = {.v = 1, .kids = &leaf, .kids_count = 1, .w = 4};
  fz_Ext many[] = {x1, ext_default()};
  uint16_t ports[] = {80, 443};
  fz_Grows g0 = {.plain = ext_default(), .two = {ext_default(), ext_default()},
                 .flag = true};
  fz_Grows g1 = {.plain = x1, .many = many, .many_count = 2, .has_maybe = true,
                 .maybe = x1, .two = {ext_default(), x1}, .win = {9},
                 .wins = wins, .wins_count = 2, .tree = t1, .rc = 300,
                 .ports = ports, .ports_count = 2, .has_later = true,
                 .later = x1, .flag = false};

  PY_EMIT(fz, Ext, &x0);
  PY_EMIT(fz, Ext, &x1);
  PY_EMIT(fz, Window, &w0);
  PY_EMIT(fz, Window, &w1);
  PY_EMIT(fz, ETree, &t0);
  PY_EMIT(fz, ETree, &t1);
  PY_EMIT(fz, Grows, &g0);
  PY_EMIT(fz, Grows, &g1);
}

void py_fixtures_fz(void) {
  for (size_t i = 0; i < sizeof(ramp); i++)
    ramp[i] = (uint8_t)(i % 256);
  memset(xs, 'x', sizeof(xs) - 1);
  scalars();
  texts();
  arrays();
  optionals();
  structs();
  nested();
  evolving();
}
