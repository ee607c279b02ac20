/* The broker's set of subscribed channels (byte strings, not
 * NUL-terminated): a sorted array of owned copies. Lookup is O(log n) (one
 * per message from Redis), add and remove O(n) (memmove of pointers; a few
 * thousand channels at most). */
#ifndef NETFW_RUNTIME_BUS_CHANSET_H
#define NETFW_RUNTIME_BUS_CHANSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct netfw__chan {
  size_t len;
  uint8_t bytes[];
} netfw__chan;

typedef struct netfw__chanset {
  netfw__chan **items; /* sorted by (bytes, then length) */
  size_t n, cap;
} netfw__chanset;

/* Makes an empty set (no allocation until the first add). */
void netfw__chanset_init(netfw__chanset *s);

/* Frees every entry and the array; the set is empty afterwards. */
void netfw__chanset_free(netfw__chanset *s);

/* Returns true when p[0..len) is in the set. */
bool netfw__chanset_has(const netfw__chanset *s, const uint8_t *p, size_t len);

/* Adds a copy of p[0..len). Returns 1 (added), 0 (already there) or
 * NETFW_ENOMEM (set unchanged). */
int netfw__chanset_add(netfw__chanset *s, const uint8_t *p, size_t len);

/* Removes p[0..len). Returns true when it was there. */
bool netfw__chanset_remove(netfw__chanset *s, const uint8_t *p, size_t len);

#endif /* NETFW_RUNTIME_BUS_CHANSET_H */
