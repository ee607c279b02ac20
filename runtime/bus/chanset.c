/* The broker's channel set: a sorted array (see chanset.h). */
#include <stdlib.h>
#include <string.h>

#include "chanset.h"
#include "netfw/error.h"

void netfw__chanset_init(netfw__chanset *s) {
  s->items = NULL;
  s->n = s->cap = 0;
}

void netfw__chanset_free(netfw__chanset *s) {
  size_t i;

  for (i = 0; i < s->n; i++)
    free(s->items[i]);
  free(s->items);
  netfw__chanset_init(s);
}

/* Orders c against p[0..len): bytes first, then the shorter one first. */
static int compare(const netfw__chan *c, const uint8_t *p, size_t len) {
  size_t n = c->len < len ? c->len : len;
  int r = n > 0 ? memcmp(c->bytes, p, n) : 0;

  if (r != 0)
    return r;
  return c->len < len ? -1 : c->len > len ? 1 : 0;
}

/* Binary search: returns true when found; *at is its index, or where it
 * would be inserted. */
static bool find(const netfw__chanset *s, const uint8_t *p, size_t len,
                 size_t *at) {
  size_t lo = 0, hi = s->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = compare(s->items[mid], p, len);
    if (r == 0) {
      *at = mid;
      return true;
    }
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *at = lo;
  return false;
}

bool netfw__chanset_has(const netfw__chanset *s, const uint8_t *p, size_t len) {
  size_t at;

  return find(s, p, len, &at);
}

/* Makes room for one more pointer. Returns 0 or NETFW_ENOMEM. */
static int grow(netfw__chanset *s) {
  size_t cap = s->cap ? s->cap * 2 : 16;
  netfw__chan **items;

  if (s->n < s->cap)
    return 0;
  items = realloc(s->items, cap * sizeof(*items));
  if (items == NULL)
    return NETFW_ENOMEM;
  s->items = items;
  s->cap = cap;
  return 0;
}

int netfw__chanset_add(netfw__chanset *s, const uint8_t *p, size_t len) {
  netfw__chan *c;
  size_t at;

  if (find(s, p, len, &at))
    return 0;
  if (grow(s) < 0 || (c = malloc(sizeof(*c) + len)) == NULL)
    return NETFW_ENOMEM;
  c->len = len;
  if (len > 0)
    memcpy(c->bytes, p, len);
  memmove(&s->items[at + 1], &s->items[at], (s->n - at) * sizeof(c));
  s->items[at] = c;
  s->n++;
  return 1;
}

bool netfw__chanset_remove(netfw__chanset *s, const uint8_t *p, size_t len) {
  size_t at;

  if (!find(s, p, len, &at))
    return false;
  free(s->items[at]);
  s->n--;
  memmove(&s->items[at], &s->items[at + 1], (s->n - at) * sizeof(*s->items));
  return true;
}
