/* Base64 (RFC 4648 section 4: the standard alphabet, '=' padding) for the
 * JSON form of bytes fields; the encoder is runtime/core's. The reader is
 * strict so that one payload has
 * exactly one text: padding required, no whitespace or line breaks, and the
 * bits after the last byte zero. */
#include "base64.h"
#include "desc_internal.h"

/* The 6-bit value of c, or -1 for a character outside the alphabet. */
static int sextet(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

void netfw__desc_b64_put(netfw__desc_buf *b, const uint8_t *s, size_t n) {
  uint8_t *w = netfw__desc_grow(b, NETFW__BASE64_LEN(n));
  if (w != NULL)
    netfw__base64_encode((char *)w, s, n);
}

/* Cost: O(n), one pass. */
long long netfw__desc_b64_check(const char *s, size_t n, const char **why) {
  size_t pad = 0;
  int last;
  if (n % 4 != 0) {
    *why = "its length is not a multiple of 4 (padding is required)";
    return -1;
  }
  if (n == 0)
    return 0;
  while (pad < 2 && s[n - 1 - pad] == '=')
    pad++;
  for (size_t i = 0; i < n - pad; i++)
    if (sextet((unsigned char)s[i]) < 0) {
      *why = s[i] == '=' ? "'=' before the end"
                         : "a character outside the base64 alphabet";
      return -1;
    }
  /* the bits of the last character that no byte uses must be zero */
  last = sextet((unsigned char)s[n - 1 - pad]);
  if ((pad == 1 && (last & 3) != 0) || (pad == 2 && (last & 15) != 0)) {
    *why = "non-zero bits after the last byte";
    return -1;
  }
  return (long long)(n / 4 * 3 - pad);
}

void netfw__desc_b64_decode(const char *s, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    int k = 0;
    for (int j = 0; j < 4; j++) {
      int x = sextet((unsigned char)s[i + j]);
      if (x >= 0)
        k++;
      v = (v << 6) | (uint32_t)(x < 0 ? 0 : x);
    }
    *out++ = (uint8_t)(v >> 16);
    if (k > 2)
      *out++ = (uint8_t)(v >> 8);
    if (k > 3)
      *out++ = (uint8_t)v;
  }
}
