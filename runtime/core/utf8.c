/* UTF-8 validation for decoded strings (RFC 3629): a shift-based DFA, with
 * ASCII skipped 16 bytes at a time. */
#include <string.h>

#include "netfw/codec.h"

#define HIGH_BITS 0x8080808080808080ull

/* The DFA. A state is a bit offset (a multiple of 6) into a 64-bit row;
 * the row of byte c holds, at the offset of each state, the state that
 * byte leads to: next = row[c] >> state (the bits above the low 6 are
 * noise and ignored). States: */
enum {
  S_ACC = 0, /* between sequences: accept */
  S_ERR = 6, /* refused; every byte leads back here */
  S_C1 = 12, /* one continuation byte (80..BF) to go */
  S_C2 = 18, /* two */
  S_C3 = 24, /* three */
  S_E0 = 30, /* after E0: A0..BF (shorter forms are overlong) */
  S_ED = 36, /* after ED: 80..9F (A0..BF would be a surrogate) */
  S_F0 = 42, /* after F0: 90..BF (overlong below) */
  S_F4 = 48  /* after F4: 80..8F (above U+10FFFF past it) */
};

/* The rows of the 12 byte classes, generated from the transitions above
 * (tests/unit/test_utf8.c checks the validator against a plain code-point
 * decoder, exhaustively up to 3 bytes and on random input). */
#define ASC 0x0006186186186180ull /* 00..7F */
#define X8 0x001218c192300186ull /* 80..8F */
#define X9 0x000648c192300186ull /* 90..9F */
#define XA 0x0006486312300186ull /* A0..BF */
#define BAD 0x0006186186186186ull /* C0, C1, F5..FF */
#define L2 0x000618618618618cull /* C2..DF */
#define LE0 0x000618618618619eull /* E0 */
#define L3 0x0006186186186192ull /* E1..EC, EE, EF */
#define LED 0x00061861861861a4ull /* ED */
#define LF0 0x00061861861861aaull /* F0 */
#define L4 0x0006186186186198ull /* F1..F3 */
#define LF4 0x00061861861861b0ull /* F4 */

static const uint64_t utf8_dfa[256] = {
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    ASC, ASC, ASC, ASC, ASC, ASC, ASC, ASC,
    X8 , X8 , X8 , X8 , X8 , X8 , X8 , X8 ,
    X8 , X8 , X8 , X8 , X8 , X8 , X8 , X8 ,
    X9 , X9 , X9 , X9 , X9 , X9 , X9 , X9 ,
    X9 , X9 , X9 , X9 , X9 , X9 , X9 , X9 ,
    XA , XA , XA , XA , XA , XA , XA , XA ,
    XA , XA , XA , XA , XA , XA , XA , XA ,
    XA , XA , XA , XA , XA , XA , XA , XA ,
    XA , XA , XA , XA , XA , XA , XA , XA ,
    BAD, BAD, L2 , L2 , L2 , L2 , L2 , L2 ,
    L2 , L2 , L2 , L2 , L2 , L2 , L2 , L2 ,
    L2 , L2 , L2 , L2 , L2 , L2 , L2 , L2 ,
    L2 , L2 , L2 , L2 , L2 , L2 , L2 , L2 ,
    LE0, L3 , L3 , L3 , L3 , L3 , L3 , L3 ,
    L3 , L3 , L3 , L3 , L3 , LED, L3 , L3 ,
    LF0, L4 , L4 , L4 , LF4, BAD, BAD, BAD,
    BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
};

#undef ASC
#undef X8
#undef X9
#undef XA
#undef BAD
#undef L2
#undef LE0
#undef L3
#undef LED
#undef LF0
#undef L4
#undef LF4

/* Cost: O(len). A 16-byte block of ASCII between sequences costs two loads
 * and a test; every other byte one table load and one shift. The DFA refuses
 * overlong forms, surrogates, code points above U+10FFFF, bytes that never
 * occur (C0, C1, F5..FF), stray continuation bytes and truncated
 * sequences. */
int netfw_utf8_valid(const void *s, size_t len) {
  const uint8_t *p = s;
  uint64_t st = S_ACC;

  while (len >= 16) {
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    if ((st & 63) != S_ACC || ((a | b) & HIGH_BITS) != 0) {
      for (int i = 0; i < 16; i++)
        st = utf8_dfa[p[i]] >> (st & 63);
      if ((st & 63) == S_ERR)
        return 0;
    }
    p += 16;
    len -= 16;
  }
  if ((st & 63) == S_ACC && p - (const uint8_t *)s >= 16 - (ptrdiff_t)len) {
    /* the last 16 bytes in two loads (they overlap what was checked) */
    uint64_t a, b;
    memcpy(&a, p + len - 16, 8);
    memcpy(&b, p + len - 8, 8);
    if (((a | b) & HIGH_BITS) == 0)
      return 1;
  }
  for (size_t i = 0; i < len; i++)
    st = utf8_dfa[p[i]] >> (st & 63);
  return (st & 63) == S_ACC;
}
