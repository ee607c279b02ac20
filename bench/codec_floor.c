/* The hand-written codec floor for file_storage's ListResp and Add. */
#include "codec_floor.h"

#include <string.h>

static void put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint16_t get_u16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

/* Cost: 8 bytes per step while the text is ASCII, a byte-wise state check
 * for the rest. */
int cf_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;

  while (i < len) {
    uint8_t c = s[i];
    uint8_t lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0x80) {
      uint64_t w;
      while (i + 8 <= len) {
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
          break;
        i += 8;
      }
      while (i < len && s[i] < 0x80)
        i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0; /* overlong */
      else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0)
        lo = 0x90; /* overlong */
      else if (c == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
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

size_t cf_list_resp_size(const cf_file_entry *files, size_t count) {
  size_t n = 2;

  for (size_t i = 0; i < count; i++)
    n += 1 + (size_t)files[i].name_len + 4;
  return n;
}

int cf_list_resp_encode(const cf_file_entry *files, size_t count, uint8_t *out,
                        size_t cap, size_t *written) {
  size_t pos = 2;

  if (count > UINT16_MAX)
    return CF_E2BIG;
  if (cap < 2)
    return CF_ENOSPC;
  put_u16(out, (uint16_t)count);
  for (size_t i = 0; i < count; i++) {
    const cf_file_entry *e = &files[i];
    if (e->name_len > UINT8_MAX)
      return CF_E2BIG;
    if (cap - pos < 1 + (size_t)e->name_len + 4)
      return CF_ENOSPC;
    out[pos] = (uint8_t)e->name_len;
    if (e->name_len > 0)
      memcpy(out + pos + 1, e->name, e->name_len);
    pos += 1 + e->name_len;
    put_u32(out + pos, e->size);
    pos += 4;
  }
  *written = pos;
  return CF_OK;
}

int cf_list_resp_decode(const uint8_t *in, size_t len, cf_file_entry *files,
                        size_t cap, size_t *count) {
  size_t pos = 2, n;

  if (len < 2)
    return CF_EPROTO;
  n = get_u16(in);
  /* Each entry takes at least 5 bytes: refuse an impossible count before
   * touching the entries. */
  if (n > (len - 2) / 5)
    return CF_EPROTO;
  if (n > cap)
    return CF_ENOSPC;
  for (size_t i = 0; i < n; i++) {
    size_t name_len;
    if (len - pos < 5)
      return CF_EPROTO;
    name_len = in[pos];
    if (len - pos - 5 < name_len)
      return CF_EPROTO;
    if (!cf_utf8_valid(in + pos + 1, name_len))
      return CF_EPROTO;
    files[i].name = (const char *)(in + pos + 1);
    files[i].name_len = (uint32_t)name_len;
    pos += 1 + name_len;
    files[i].size = get_u32(in + pos);
    pos += 4;
  }
  if (pos != len)
    return CF_EPROTO;
  *count = n;
  return CF_OK;
}

size_t cf_add_size(const cf_add *m) {
  return 1 + (size_t)m->filename_len + 4 + (size_t)m->file_len;
}

int cf_add_encode(const cf_add *m, uint8_t *out, size_t cap, size_t *written) {
  size_t need;

  if (m->filename_len > UINT8_MAX)
    return CF_E2BIG;
  need = cf_add_size(m);
  if (cap < need)
    return CF_ENOSPC;
  out[0] = (uint8_t)m->filename_len;
  if (m->filename_len > 0)
    memcpy(out + 1, m->filename, m->filename_len);
  put_u32(out + 1 + m->filename_len, m->file_len);
  if (m->file_len > 0)
    memcpy(out + 5 + m->filename_len, m->file, m->file_len);
  *written = need;
  return CF_OK;
}

int cf_add_decode(const uint8_t *in, size_t len, cf_add *m) {
  size_t name_len, pos;
  uint32_t file_len;

  if (len < 1)
    return CF_EPROTO;
  name_len = in[0];
  if (len - 1 < name_len + 4)
    return CF_EPROTO;
  if (!cf_utf8_valid(in + 1, name_len))
    return CF_EPROTO;
  pos = 1 + name_len;
  file_len = get_u32(in + pos);
  pos += 4;
  if (len - pos != file_len) /* short or trailing bytes */
    return CF_EPROTO;
  m->filename = (const char *)(in + 1);
  m->filename_len = (uint32_t)name_len;
  m->file = in + pos;
  m->file_len = file_len;
  return CF_OK;
}
