/* Bump allocator for decoded arrays: one malloc per chunk, nothing per item. */
#include <assert.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>

#include "netfw/codec.h"

#include "message_internal.h"

/* codec.h's inline netfw__msg_append_space() tests this bit. */
static_assert(NETFW__MSG_BORROWED == NETFW__MSG_BORROWED_BIT,
              "codec.h's copy of the borrowed flag");

/* The header is in codec.h (the inline bump of netfw_arena_alloc_array()
 * reads it); a chunk's memory starts NETFW_ARENA_HDR bytes after it. */
static_assert(NETFW_ARENA_ALIGN % alignof(max_align_t) == 0,
              "arena allocations must be aligned for any scalar type");
static_assert(NETFW_ARENA_HDR % NETFW_ARENA_ALIGN == 0, "chunk header");

static unsigned char *chunk_mem(netfw_arena_chunk *c) {
  return (unsigned char *)c + NETFW_ARENA_HDR;
}

enum { FIRST_CHUNK = 4096 };

void netfw_arena_init(netfw_arena *a) {
  a->head = NULL;
  a->used = 0;
}

/* Keeps only the largest chunk: after a few messages the arena settles on a
 * size that fits the common message and stops calling malloc. */
void netfw_arena_reset(netfw_arena *a) {
  netfw_arena_chunk *keep = NULL;
  netfw_arena_chunk *c = a->head;
  while (c != NULL) {
    netfw_arena_chunk *next = c->next;
    if (keep == NULL || c->size > keep->size) {
      free(keep);
      keep = c;
    } else {
      free(c);
    }
    c = next;
  }
  if (keep != NULL)
    keep->next = NULL;
  a->head = keep;
  a->used = 0;
}

void netfw_arena_free(netfw_arena *a) {
  while (a->head != NULL) {
    netfw_arena_chunk *next = a->head->next;
    free(a->head);
    a->head = next;
  }
  a->used = 0;
}

void *netfw_arena_alloc(netfw_arena *a, size_t size) {
  const size_t align = NETFW_ARENA_ALIGN;
  size_t need;
  size_t chunk;
  netfw_arena_chunk *c;

  if (size > SIZE_MAX - align)
    return NULL;
  need = (size + align - 1) & ~(align - 1);
  if (a->head != NULL && a->head->size - a->used >= need) {
    void *p = chunk_mem(a->head) + a->used;
    a->used += need;
    return p;
  }
  chunk = a->head != NULL ? a->head->size * 2 : FIRST_CHUNK;
  if (chunk < need)
    chunk = need;
  if (chunk > SIZE_MAX - NETFW_ARENA_HDR)
    return NULL;
  c = malloc(NETFW_ARENA_HDR + chunk);
  if (c == NULL)
    return NULL;
  c->size = chunk;
  c->next = a->head;
  a->head = c;
  a->used = need;
  return chunk_mem(c);
}
