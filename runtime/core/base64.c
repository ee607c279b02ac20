/* Base64's encoder: see base64.h. */
#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void netfw__base64_encode(char *out, const uint8_t *in, size_t n) {
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    size_t k = n - i < 3 ? n - i : 3;
    if (k > 1)
      v |= (uint32_t)in[i + 1] << 8;
    if (k > 2)
      v |= in[i + 2];
    *out++ = alphabet[v >> 18];
    *out++ = alphabet[(v >> 12) & 63];
    *out++ = k > 1 ? alphabet[(v >> 6) & 63] : '=';
    *out++ = k > 2 ? alphabet[v & 63] : '=';
  }
}
