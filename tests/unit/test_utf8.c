/* netfw_utf8_valid() and the inline netfw_utf8_check() against a plain
 * reference that decodes code points (a different formulation from the
 * DFA): every string of 1 or 2 bytes, every 3- and 4-byte string over the
 * boundary values, and random strings of every length
 * around the 8- and 16-byte steps, mostly valid text with errors put in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "netfw/codec.h"

/* RFC 3629 by code point: decode each sequence, then refuse overlong
 * forms, surrogates and anything above U+10FFFF. */
static int ref_valid(const uint8_t *s, size_t len) {
  size_t i = 0;

  while (i < len) {
    uint32_t c = s[i], cp, min;
    size_t n;

    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return 0; /* a continuation byte or F8..FF */
    }
    if (len - i - 1 < n)
      return 0; /* truncated */
    for (size_t k = 1; k <= n; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += n + 1;
  }
  return 1;
}

static void expect_same(const uint8_t *s, size_t len) {
  int want = ref_valid(s, len);
  int got = netfw_utf8_valid(s, len);
  int got_inline = netfw_utf8_check(s, len);

  if (got != want || got_inline != want) {
    char hex[3 * 64 + 1] = "";
    for (size_t i = 0; i < len && i < 64; i++)
      snprintf(hex + 3 * i, 4, "%02x ", s[i]);
    fail_msg("len %zu [%s]: reference %d, netfw_utf8_valid %d, "
             "netfw_utf8_check %d",
             len, hex, want, got, got_inline);
  }
}

static const uint8_t vals[] = {
    0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
    0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3,
    0xf4, 0xf5, 0xf7, 0xf8, 0xfb, 0xfc, 0xfe, 0xff};

/* Every 1- and 2-byte string; every 3-byte string whose last byte is one of
 * the boundary values (the first two bytes decide every range the DFA
 * narrows); each also after 13 ASCII bytes, so that it straddles the
 * 16-byte step. */
static void test_utf8_exhaustive(void **state) {
  uint8_t buf[16 + 3];

  (void)state;
  memset(buf, 'a', sizeof(buf));
  for (uint32_t v = 0; v < (1u << 16); v++) {
    uint8_t b[3] = {(uint8_t)v, (uint8_t)(v >> 8), 0};
    if (v < (1u << 8))
      expect_same(b, 1);
    expect_same(b, 2);
    for (size_t k = 0; k < sizeof(vals); k++) {
      b[2] = vals[k];
      expect_same(b, 3);
      memcpy(buf + 13, b, 3);
      expect_same(buf, 16);
      buf[16] = vals[(k + 7) % sizeof(vals)];
      expect_same(buf, 17);
    }
  }
}

/* 4-byte strings over the boundary values of each byte position. */
static void test_utf8_four_bytes(void **state) {
  const size_t nv = sizeof(vals);
  uint8_t b[4];

  (void)state;
  for (size_t a = 0; a < nv; a++)
    for (size_t c = 0; c < nv; c++)
      for (size_t d = 0; d < nv; d++)
        for (size_t e = 0; e < nv; e++) {
          b[0] = vals[a], b[1] = vals[c], b[2] = vals[d], b[3] = vals[e];
          expect_same(b, 4);
        }
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

/* Appends the UTF-8 of a random code point (any plane, surrogates left
 * out) to p; returns its length. */
static size_t put_char(uint8_t *p) {
  uint32_t r = next_rand(), cp;

  switch (r % 4) {
  case 0:
    cp = r >> 8 & 0x7f;
    break;
  case 1:
    cp = 0x80 + (r >> 8) % (0x800 - 0x80);
    break;
  case 2:
    cp = 0x800 + (r >> 8) % (0x10000 - 0x800);
    if (cp >= 0xd800 && cp <= 0xdfff)
      cp = 0xe000;
    break;
  default:
    cp = 0x10000 + (r >> 8) % (0x110000 - 0x10000);
    break;
  }
  if (cp < 0x80) {
    p[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    p[0] = (uint8_t)(0xc0 | cp >> 6), p[1] = (uint8_t)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    p[0] = (uint8_t)(0xe0 | cp >> 12);
    p[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    p[2] = (uint8_t)(0x80 | (cp & 0x3f));
    return 3;
  }
  p[0] = (uint8_t)(0xf0 | cp >> 18);
  p[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
  p[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
  p[3] = (uint8_t)(0x80 | (cp & 0x3f));
  return 4;
}

/* Random text: mostly ASCII runs (to take the 16-byte steps), valid
 * characters of every length, then 0 to 2 random bytes changed or the
 * end cut; checked at every length up to the whole and at a few offsets. */
static void test_utf8_random(void **state) {
  uint8_t buf[200];

  (void)state;
  for (int iter = 0; iter < 100000; iter++) {
    size_t len = 0, target = next_rand() % 120;
    int edits = (int)(next_rand() % 3);

    while (len < target) {
      if (next_rand() % 3 == 0) {
        size_t run = next_rand() % 40;
        while (run-- > 0 && len < sizeof(buf) - 4)
          buf[len++] = (uint8_t)(0x20 + next_rand() % 0x5f);
      } else {
        len += put_char(buf + len);
      }
      if (len >= sizeof(buf) - 4)
        break;
    }
    for (int k = 0; k < edits && len > 0; k++)
      buf[next_rand() % len] = (uint8_t)next_rand();
    expect_same(buf, len);
    if (iter % 16 == 0)
      for (size_t cut = 0; cut < len; cut++)
        expect_same(buf, cut);
    if (len > 3) {
      size_t off = next_rand() % 4;
      expect_same(buf + off, len - off);
    }
  }
}

/* A bad byte at every position of a long ASCII string, and a valid
 * multi-byte character at every position (the ASCII steps must hand over
 * to the DFA and back at any offset). */
static void test_utf8_positions(void **state) {
  static const uint8_t chars[][4] = {{0xc3, 0xa9}, {0xe2, 0x82, 0xac},
                                     {0xf0, 0x9f, 0x98, 0x80}};
  static const uint8_t bad[] = {0x80, 0xbf, 0xc0, 0xc1, 0xf5, 0xff, 0xed};
  uint8_t buf[80];

  (void)state;
  for (size_t len = 0; len <= 70; len++)
    for (size_t pos = 0; pos < len; pos++) {
      for (size_t k = 0; k < sizeof(bad); k++) {
        memset(buf, 'x', len);
        buf[pos] = bad[k];
        expect_same(buf, len);
      }
      for (size_t k = 0; k < 3; k++) {
        size_t n = (size_t)k + 2;
        memset(buf, 'x', len);
        if (pos + n <= len) {
          memcpy(buf + pos, chars[k], n);
          expect_same(buf, len);
          expect_same(buf, pos + n - 1); /* cut inside the character */
        }
      }
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_exhaustive),
      cmocka_unit_test(test_utf8_four_bytes),
      cmocka_unit_test(test_utf8_random),
      cmocka_unit_test(test_utf8_positions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
