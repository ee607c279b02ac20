/* UTF-8 validation for decoded strings (RFC 3629). */
#include <string.h>

#include "netfw/codec.h"

#define HIGH_BITS 0x8080808080808080ull

/* Cost: O(len), 8 ASCII bytes per step. Checks one sequence at most 4 bytes long by its lead byte's class; the
 * second byte's range is narrowed for E0/ED/F0/F4 to refuse overlong forms,
 * surrogates and code points above U+10FFFF. */
int netfw_utf8_valid(const void *s, size_t len) {
  const uint8_t *p = s;
  const uint8_t *end;

  if (len == 0)
    return 1;
  end = p + len;

  while (p < end) {
    uint8_t c = *p;
    uint8_t lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80) {
      /* ASCII is the common case: skip it a word at a time. */
      uint64_t w;
      p++;
      while (end - p >= 8) {
        memcpy(&w, p, 8);
        if (w & HIGH_BITS)
          break;
        p += 8;
      }
      while (p < end && *p < 0x80)
        p++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    } else {
      return 0;
    }
    if ((size_t)(end - p) <= n)
      return 0;
    if (p[1] < lo || p[1] > hi)
      return 0;
    for (size_t i = 2; i <= n; i++)
      if ((p[i] & 0xc0) != 0x80)
        return 0;
    p += n + 1;
  }
  return 1;
}
