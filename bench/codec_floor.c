/* The hand-written codec floor for file_storage's ListResp and Add: the
 * fastest straightforward code a person would write for this fixed layout
 * (issue 22). One pass each way, every length checked against the room or
 * the bytes left before it is used, zero-copy views on decode, no
 * allocation. Nothing exotic: no SIMD, no lookup tables, no unchecked
 * reads. */
#include "codec_floor.h"

#include <stdbool.h>
#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

static inline void put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static inline uint16_t get_u16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

/* The multi-byte part: one sequence at a time by its lead byte, the second
 * byte's range narrowed for E0/ED/F0/F4 (overlongs, surrogates, above
 * U+10FFFF). */
static int utf8_slow(const uint8_t *s, size_t len) {
  size_t i = 0;

  while (i < len) {
    uint8_t c = s[i];
    uint8_t lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return 0;
    }
    if (len - i - 1 < n)
      return 0;
    if (s[i + 1] < lo || s[i + 1] > hi)
      return 0;
    for (size_t k = 2; k <= n; k++)
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
    i += n + 1;
  }
  return 1;
}

/* ASCII is checked a word at a time, the last (partial) word by a load that
 * overlaps the previous one, so a 15-byte name costs two loads; only text
 * with a byte >= 0x80 goes through the byte-wise check. */
int cf_utf8_valid(const uint8_t *s, size_t len) {
  uint64_t acc = 0;
  size_t i = 0;

  if (len >= 8) {
    for (; i + 8 <= len; i += 8)
      acc |= load64(s + i);
    if (i < len)
      acc |= load64(s + len - 8);
  } else {
    for (; i < len; i++)
      acc |= s[i];
  }
  return (acc & HIGH_BITS) == 0 ? 1 : utf8_slow(s, len);
}

size_t cf_list_resp_size(const cf_file_entry *files, size_t count) {
  size_t n = 2;

  for (size_t i = 0; i < count; i++)
    n += 1 + (size_t)files[i].name_len + 4;
  return n;
}

int cf_list_resp_encode(const cf_file_entry *files, size_t count, uint8_t *out,
                        size_t cap, size_t *written) {
  uint8_t *w = out, *end = out + cap;

  if (count > UINT16_MAX)
    return CF_E2BIG;
  if (cap < 2)
    return CF_ENOSPC;
  put_u16(w, (uint16_t)count);
  w += 2;
  for (size_t i = 0; i < count; i++) {
    uint32_t nl = files[i].name_len;
    if ((size_t)(end - w) < 5 + (size_t)nl)
      return CF_ENOSPC;
    *w++ = (uint8_t)nl;
    if (nl > 0)
      memcpy(w, files[i].name, nl);
    /* Checked after the (bounds-checked) copy: out is unspecified on
     * error anyway, and checked before it, the bound lets gcc expand the
     * memcpy into `rep movsq`, which costs more than libc's memcpy for
     * names this short. */
    if (nl > UINT8_MAX)
      return CF_E2BIG;
    w += nl;
    put_u32(w, files[i].size);
    w += 4;
  }
  *written = (size_t)(w - out);
  return CF_OK;
}

/* One decoder for both variants; `utf8` is a constant at each call site, so
 * the compiler makes two functions of it. */
static inline int list_resp_decode(const uint8_t *in, size_t len,
                                   cf_file_entry *files, size_t cap,
                                   size_t *count, bool utf8) {
  const uint8_t *p, *end;
  size_t n;

  if (len < 2)
    return CF_EPROTO;
  n = get_u16(in);
  /* Each entry takes at least 5 bytes: refuse an impossible count before
   * touching the entries. */
  if (n > (len - 2) / 5)
    return CF_EPROTO;
  if (n > cap)
    return CF_ENOSPC;
  p = in + 2;
  end = in + len;
  for (size_t i = 0; i < n; i++) {
    size_t left = (size_t)(end - p), nl;
    if (left < 5)
      return CF_EPROTO;
    nl = p[0];
    if (left - 5 < nl)
      return CF_EPROTO;
    if (utf8 && !cf_utf8_valid(p + 1, nl))
      return CF_EPROTO;
    files[i].name = (const char *)(p + 1);
    files[i].name_len = (uint32_t)nl;
    files[i].size = get_u32(p + 1 + nl);
    p += 5 + nl;
  }
  if (p != end)
    return CF_EPROTO;
  *count = n;
  return CF_OK;
}

int cf_list_resp_decode(const uint8_t *in, size_t len, cf_file_entry *files,
                        size_t cap, size_t *count) {
  return list_resp_decode(in, len, files, cap, count, true);
}

int cf_list_resp_decode_bytes(const uint8_t *in, size_t len,
                              cf_file_entry *files, size_t cap,
                              size_t *count) {
  return list_resp_decode(in, len, files, cap, count, false);
}

size_t cf_add_size(const cf_add *m) {
  return 1 + (size_t)m->filename_len + 4 + (size_t)m->file_len;
}

int cf_add_encode(const cf_add *m, uint8_t *out, size_t cap, size_t *written) {
  size_t need;
  uint8_t *w = out;

  need = cf_add_size(m);
  if (cap < need)
    return CF_ENOSPC;
  *w++ = (uint8_t)m->filename_len;
  if (m->filename_len > 0)
    memcpy(w, m->filename, m->filename_len);
  if (m->filename_len > UINT8_MAX) /* after the copy: see above */
    return CF_E2BIG;
  w += m->filename_len;
  put_u32(w, m->file_len);
  w += 4;
  if (m->file_len > 0)
    memcpy(w, m->file, m->file_len);
  *written = need;
  return CF_OK;
}

static inline int add_decode(const uint8_t *in, size_t len, cf_add *m,
                             bool utf8) {
  size_t nl, pos;
  uint32_t file_len;

  if (len < 5)
    return CF_EPROTO;
  nl = in[0];
  if (len - 5 < nl)
    return CF_EPROTO;
  if (utf8 && !cf_utf8_valid(in + 1, nl))
    return CF_EPROTO;
  pos = 1 + nl;
  file_len = get_u32(in + pos);
  pos += 4;
  if (len - pos != file_len) /* short or trailing bytes */
    return CF_EPROTO;
  m->filename = (const char *)(in + 1);
  m->filename_len = (uint32_t)nl;
  m->file = in + pos;
  m->file_len = file_len;
  return CF_OK;
}

int cf_add_decode(const uint8_t *in, size_t len, cf_add *m) {
  return add_decode(in, len, m, true);
}

int cf_add_decode_bytes(const uint8_t *in, size_t len, cf_add *m) {
  return add_decode(in, len, m, false);
}
