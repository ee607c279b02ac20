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

#endif /* NETFW_CODEC_H */
