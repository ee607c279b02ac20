/* netfw — building blocks of the code netfw-gen generates.
 *
 * netfw_str and netfw_bytes are views into a message payload (zero-copy):
 * they stay valid as long as the message they were decoded from. Variable-
 * length arrays decoded from a message live in a netfw_arena, a bump
 * allocator that is reset (not freed) between messages. */
#ifndef NETFW_CODEC_H
#define NETFW_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netfw/export.h"

typedef struct netfw_str {
  const char *ptr; /* not NUL-terminated */
  uint32_t len;
} netfw_str;

typedef struct netfw_bytes {
  const uint8_t *ptr;
  uint32_t len;
} netfw_bytes;

typedef struct netfw_arena_chunk netfw_arena_chunk;

typedef struct netfw_arena {
  netfw_arena_chunk *head; /* newest chunk first */
  size_t used;             /* bytes used in head */
} netfw_arena;

/* Makes an empty arena; it allocates on first use. */
NETFW_EXTERN void netfw_arena_init(netfw_arena *a);

/* Forgets every allocation but keeps the largest chunk for reuse. */
NETFW_EXTERN void netfw_arena_reset(netfw_arena *a);

/* Gives all memory back; the arena is empty and reusable afterwards. */
NETFW_EXTERN void netfw_arena_free(netfw_arena *a);

/* Returns size bytes aligned for any scalar type, or NULL when out of
 * memory. size 0 returns a valid non-NULL pointer. Valid until reset/free. */
NETFW_EXTERN void *netfw_arena_alloc(netfw_arena *a, size_t size);

/* ---- byte order and bounds-checked reading for generated code ---------
 * Generated encoders size the payload first, reserve it with
 * netfw_msg_append_space() and store into it with netfw_put_*; generated
 * decoders read through a netfw_reader, which checks every read against the
 * bytes left and never reads past the payload. Changing anything here
 * changes the contract with generated code: bump NETFW_GEN_ABI. */

/* Deepest struct nesting a generated decoder accepts (recursive types). */
#define NETFW_MAX_DECODE_DEPTH 128

static inline void netfw_put_u16le(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void netfw_put_u32le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static inline void netfw_put_u64le(uint8_t *p, uint64_t v) {
  netfw_put_u32le(p, (uint32_t)v);
  netfw_put_u32le(p + 4, (uint32_t)(v >> 32));
}
static inline void netfw_put_u16be(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void netfw_put_u32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static inline void netfw_put_u64be(uint8_t *p, uint64_t v) {
  netfw_put_u32be(p, (uint32_t)(v >> 32));
  netfw_put_u32be(p + 4, (uint32_t)v);
}
static inline uint16_t netfw_get_u16le(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t netfw_get_u32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t netfw_get_u64le(const uint8_t *p) {
  return (uint64_t)netfw_get_u32le(p) | ((uint64_t)netfw_get_u32le(p + 4) << 32);
}
static inline uint16_t netfw_get_u16be(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t netfw_get_u32be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t netfw_get_u64be(const uint8_t *p) {
  return ((uint64_t)netfw_get_u32be(p) << 32) | (uint64_t)netfw_get_u32be(p + 4);
}

/* A cursor over payload bytes: p is the next unread byte (never NULL), left
 * how many remain. */
typedef struct netfw_reader {
  const uint8_t *p;
  size_t left;
} netfw_reader;

/* Returns the next n bytes and advances, or NULL (no advance) when fewer
 * than n remain. */
static inline const uint8_t *netfw_reader_take(netfw_reader *r, size_t n) {
  const uint8_t *at = r->p;
  if (r->left < n)
    return NULL;
  r->p += n;
  r->left -= n;
  return at;
}

/* netfw_arena_alloc() for n items of size bytes; NULL when n * size
 * overflows or memory runs out. */
static inline void *netfw_arena_alloc_array(netfw_arena *a, size_t n,
                                            size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  return netfw_arena_alloc(a, n * size);
}

/* Returns 1 when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. len 0 is valid. */
NETFW_EXTERN int netfw_utf8_valid(const void *s, size_t len);

/* netfw_utf8_valid() with its common case inline: an ASCII string is checked
 * here 8 bytes at a time and only text with other bytes pays for the call.
 * Generated encoders and decoders use this one. */
static inline int netfw_utf8_check(const void *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  size_t i = 0;

  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull)
      return netfw_utf8_valid(p + i, len - i);
  }
  for (; i < len; i++)
    if (p[i] & 0x80)
      return netfw_utf8_valid(p + i, len - i);
  return 1;
}

#endif /* NETFW_CODEC_H */
