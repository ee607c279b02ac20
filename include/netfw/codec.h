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
#include "netfw/message.h"

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

/* A chunk's header; its memory follows at NETFW_ARENA_HDR bytes from the
 * start. Public only so that the bump in netfw_arena_alloc_array() can be
 * inline: use the functions. */
struct netfw_arena_chunk {
  netfw_arena_chunk *next;
  size_t size; /* usable bytes after the header */
};

/* Every allocation takes a multiple of NETFW_ARENA_ALIGN bytes, so each is
 * aligned like malloc's, for any scalar type (arena.c checks). */
#define NETFW_ARENA_ALIGN 16u
#define NETFW_ARENA_HDR                                                        \
  ((sizeof(netfw_arena_chunk) + NETFW_ARENA_ALIGN - 1) &                       \
   ~(size_t)(NETFW_ARENA_ALIGN - 1))

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
 * Generated encoders write with netfw_put_* in one checked pass into the
 * room a message already has (netfw__msg_spare()); without enough room they
 * size the payload first, reserve it (netfw__msg_append_space()) and write
 * again. Generated decoders read through a netfw_reader, which checks every read against the
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
 * overflows or memory runs out. The common case, room left in the newest
 * chunk, is a bump here; the rest is netfw_arena_alloc()'s. */
static inline void *netfw_arena_alloc_array(netfw_arena *a, size_t n,
                                            size_t size) {
  netfw_arena_chunk *c = a->head;
  size_t bytes;

  if (size != 0 && n > (SIZE_MAX - NETFW_ARENA_ALIGN) / size)
    return NULL;
  bytes = (n * size + NETFW_ARENA_ALIGN - 1) & ~(size_t)(NETFW_ARENA_ALIGN - 1);
  if (c != NULL && c->size - a->used >= bytes) {
    void *p = (unsigned char *)c + NETFW_ARENA_HDR + a->used;
    a->used += bytes;
    return p;
  }
  return netfw_arena_alloc(a, n * size);
}

/* Returns 1 when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. len 0 is valid. */
NETFW_EXTERN int netfw_utf8_valid(const void *s, size_t len);

/* netfw_utf8_valid() with its common case inline: an ASCII string of up to
 * 32 bytes (a name, a key) is checked here with two or four 8-byte loads
 * (the last ones may overlap the first), whatever its length, and no loop;
 * longer strings and text with other bytes go to the call. Generated
 * encoders and decoders use this one. */
static inline int netfw_utf8_check(const void *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;
  uint64_t x;

  if (len >= 8) {
    uint64_t y;
    if (len > 32)
      return netfw_utf8_valid(p, len);
    memcpy(&x, p, 8);
    memcpy(&y, p + len - 8, 8);
    x |= y;
    if (len > 16) {
      uint64_t z, t;
      memcpy(&z, p + 8, 8);
      memcpy(&t, p + len - 16, 8);
      x |= z | t;
    }
    x &= 0x8080808080808080ull;
  } else if (len >= 4) {
    uint32_t u, v;
    memcpy(&u, p, 4);
    memcpy(&v, p + len - 4, 4);
    x = (u | v) & 0x80808080u;
  } else if (len > 0) { /* 1 to 3 bytes: the first, the middle, the last */
    x = (uint64_t)((p[0] | p[len / 2] | p[len - 1]) & 0x80);
  } else {
    return 1;
  }
  return x == 0 ? 1 : netfw_utf8_valid(p, len);
}

/* ---- the generated wrappers' view of a netfw_msg ----------------------
 * Inline reads and writes of the fields that netfw_msg_payload(),
 * netfw_msg_size(), netfw_msg_set_id() and the read cursor's functions
 * reach through calls into the library: every encode and decode does a few
 * of them. For generated code only (applications use the functions). */
static inline const uint8_t *netfw__msg_data(const netfw_msg *m) {
  return m->data_;
}
static inline uint32_t netfw__msg_size(const netfw_msg *m) { return m->size_; }
static inline uint32_t netfw__msg_cursor(const netfw_msg *m) {
  return m->cursor_;
}
/* Moves the read cursor to pos (at most the size). */
static inline void netfw__msg_seek(netfw_msg *m, uint32_t pos) {
  m->cursor_ = pos;
}
static inline void netfw__msg_set_id(netfw_msg *m, uint16_t id) {
  m->id_ = id;
}
/* The flag of a payload that belongs to someone else (runtime/core's
 * NETFW__MSG_BORROWED, which arena.c checks is this bit). */
#define NETFW__MSG_BORROWED_BIT 0x1u
/* The room past the payload of a message of its own: its start, and *end
 * its end; NULL when there is none (no buffer yet, full, or borrowed). The
 * generated encoders write there in one pass, then netfw__msg_add_size(). */
static inline uint8_t *netfw__msg_spare(netfw_msg *m, const uint8_t **end) {
  if ((m->flags_ & NETFW__MSG_BORROWED_BIT) != 0 || m->capacity_ <= m->size_)
    return NULL;
  *end = m->data_ + m->capacity_;
  return m->data_ + m->size_;
}
/* Adds n bytes written in netfw__msg_spare()'s room to the payload. */
static inline void netfw__msg_add_size(netfw_msg *m, size_t n) {
  m->size_ += (uint32_t)n;
}
/* How a generated writer gives up: *rc = code (a refusal, or
 * NETFW__ENC_NOROOM when [w, end) is too small), NULL returned. */
#define NETFW__ENC_NOROOM 1
static inline uint8_t *netfw__enc_fail(int *rc, int code) {
  *rc = code;
  return NULL;
}
/* netfw_msg_append_space() with its common case inline: a message of its
 * own with room left (a reused message) grows in place; the rest (the
 * first append, a borrowed payload, growth) is the call's. */
static inline uint8_t *netfw__msg_append_space(netfw_msg *m, size_t len) {
  if (!(m->flags_ & NETFW__MSG_BORROWED_BIT) && m->capacity_ > m->size_ &&
      len <= (size_t)(m->capacity_ - m->size_)) {
    uint8_t *p = m->data_ + m->size_;
    m->size_ += (uint32_t)len;
    return p;
  }
  return netfw_msg_append_space(m, len);
}

#endif /* NETFW_CODEC_H */
