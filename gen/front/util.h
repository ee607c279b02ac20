/* netfw-gen's memory pool, growable buffers and string map (util.c). */
#ifndef NETFW_GEN_UTIL_H
#define NETFW_GEN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define GEN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GEN_PRINTF(f, a)
#endif

typedef struct gen_pool_block gen_pool_block;
typedef struct gen_pool {
  gen_pool_block *head;
} gen_pool;

void *gen_pool_alloc(gen_pool *p, size_t size); /* zeroed; aborts on OOM */
/* A NUL-terminated copy of s[0..len) in the pool. */
char *gen_pool_strndup(gen_pool *p, const char *s, size_t len);
/* Frees everything allocated from p at once. */
void gen_pool_free(gen_pool *p);

/* A growable byte buffer (always NUL-terminated when len > 0). */
typedef struct gen_buf {
  char *data;
  size_t len;
  size_t cap;
} gen_buf;

/* Appends len bytes of s to b (s may be NULL when len is 0). */
void gen_buf_append(gen_buf *b, const char *s, size_t len);
/* Appends the string s to b. */
void gen_buf_puts(gen_buf *b, const char *s);
/* Appends printf-formatted text to b. */
void gen_buf_printf(gen_buf *b, const char *fmt, ...) GEN_PRINTF(2, 3);
/* gen_buf_printf with a va_list. */
void gen_buf_vprintf(gen_buf *b, const char *fmt, va_list ap) GEN_PRINTF(2, 0);
/* Frees b's memory and empties it. */
void gen_buf_free(gen_buf *b);
/* Appends doc as line comments: each line after indent and marker ("# ",
 * "-- "; the marker's trailing space dropped on an empty line), control
 * characters as spaces. For back ends whose comments run to the line's
 * end. */
void gen_buf_comment(gen_buf *b, const char *doc, const char *indent,
                     const char *marker);

/* A string -> pointer hash map (keys are not copied). */
typedef struct gen_map {
  const char **keys;
  void **vals;
  size_t cap; /* power of two */
  size_t len;
} gen_map;

/* The value stored under key, or NULL. */
void *gen_map_get(const gen_map *m, const char *key);
/* Inserts key unless present; returns the existing value or NULL. */
void *gen_map_put(gen_map *m, const char *key, void *val);
/* Frees the map's tables (not the keys or values). */
void gen_map_free(gen_map *m);

/* The name among names[0..n) (NULLs skipped) closest to word by edit
 * distance, if close enough to be a likely typo ("did you mean"); NULL if
 * none is. */
const char *gen_closest(const char *word, const char *const *names, size_t n);

#endif /* NETFW_GEN_UTIL_H */
