/* Memory pool, growable buffers and the string map of netfw-gen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "closest.h" /* runtime/core: plain C, compiled in (see README) */

struct gen_pool_block {
  gen_pool_block *next;
  size_t used;
  size_t size;
  _Alignas(16) unsigned char mem[];
};

enum { POOL_BLOCK = 64 * 1024 };

static void out_of_memory(void) {
  fputs("netfw-gen: out of memory\n", stderr);
  abort();
}

void *gen_pool_alloc(gen_pool *p, size_t size) {
  size_t need = (size + 15) & ~(size_t)15;
  gen_pool_block *b = p->head;
  void *r;

  if (size > SIZE_MAX / 2)
    out_of_memory();
  if (b == NULL || b->size - b->used < need) {
    size_t bs = need > POOL_BLOCK ? need : POOL_BLOCK;
    b = malloc(sizeof(*b) + bs);
    if (b == NULL)
      out_of_memory();
    b->next = p->head;
    b->used = 0;
    b->size = bs;
    p->head = b;
  }
  r = b->mem + b->used;
  b->used += need;
  memset(r, 0, size);
  return r;
}

char *gen_pool_strndup(gen_pool *p, const char *s, size_t len) {
  char *r = gen_pool_alloc(p, len + 1);
  memcpy(r, s, len);
  r[len] = '\0';
  return r;
}

void gen_pool_free(gen_pool *p) {
  while (p->head != NULL) {
    gen_pool_block *next = p->head->next;
    free(p->head);
    p->head = next;
  }
}

static void buf_reserve(gen_buf *b, size_t more) {
  size_t cap;
  char *d;

  if (b->cap - b->len > more)
    return;
  cap = b->cap ? b->cap : 256;
  while (cap - b->len <= more) {
    if (cap > SIZE_MAX / 2)
      out_of_memory();
    cap *= 2;
  }
  d = realloc(b->data, cap);
  if (d == NULL)
    out_of_memory();
  b->data = d;
  b->cap = cap;
}

void gen_buf_append(gen_buf *b, const char *s, size_t len) {
  buf_reserve(b, len);
  if (len > 0) /* s may be NULL then: another buffer's empty data */
    memcpy(b->data + b->len, s, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void gen_buf_puts(gen_buf *b, const char *s) { gen_buf_append(b, s, strlen(s)); }

void gen_buf_vprintf(gen_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  int n;

  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return;
  buf_reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void gen_buf_printf(gen_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gen_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void gen_buf_free(gen_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

static size_t hash(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

void *gen_map_get(const gen_map *m, const char *key) {
  if (m->cap == 0)
    return NULL;
  for (size_t i = hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == NULL)
      return NULL;
    if (strcmp(m->keys[i], key) == 0)
      return m->vals[i];
  }
}

static void map_grow(gen_map *m) {
  gen_map bigger;
  bigger.cap = m->cap ? m->cap * 2 : 64;
  bigger.len = 0;
  bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
  bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
  if (bigger.keys == NULL || bigger.vals == NULL)
    out_of_memory();
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i] != NULL)
      gen_map_put(&bigger, m->keys[i], m->vals[i]);
  gen_map_free(m);
  *m = bigger;
}

void *gen_map_put(gen_map *m, const char *key, void *val) {
  size_t i;
  if ((m->len + 1) * 2 > m->cap)
    map_grow(m);
  for (i = hash(key) & (m->cap - 1); m->keys[i] != NULL;
       i = (i + 1) & (m->cap - 1))
    if (strcmp(m->keys[i], key) == 0)
      return m->vals[i];
  m->keys[i] = key;
  m->vals[i] = val;
  m->len++;
  return NULL;
}

void gen_map_free(gen_map *m) {
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->len = 0;
}

const char *gen_closest(const char *word, const char *const *names, size_t n) {
  return netfw__closest(word, names, n, sizeof(*names));
}

void gen_buf_comment(gen_buf *b, const char *doc, const char *indent,
                     const char *marker) {
  size_t bare = strlen(marker);
  const char *p = doc;
  if (bare > 0 && marker[bare - 1] == ' ')
    bare--;
  while (p != NULL && *p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    gen_buf_puts(b, indent);
    gen_buf_append(b, marker, n > 0 ? strlen(marker) : bare);
    for (size_t i = 0; i < n; i++)
      gen_buf_append(b, (unsigned char)p[i] < 0x20 ? " " : p + i, 1);
    gen_buf_puts(b, "\n");
    p = nl ? nl + 1 : NULL;
  }
}
