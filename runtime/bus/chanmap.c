/* The channel table: byte-string keys (channel names) to pointers, open
 * addressing with linear probing; a removal shifts the entries after it
 * back so that no tombstone is left. Kept at most half full. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "netfw/error.h"

struct netfw__chan_slot {
  uint8_t *key; /* NULL: empty */
  size_t len;
  uint64_t hash;
  void *value;
};

/* FNV-1a over the key. */
static uint64_t hash_of(const uint8_t *key, size_t len) {
  uint64_t h = 14695981039346656037ull;
  size_t i;

  for (i = 0; i < len; i++) {
    h ^= key[i];
    h *= 1099511628211ull;
  }
  return h;
}

void netfw__chanmap_init(netfw__chanmap *m) {
  m->slots = NULL;
  m->cap = 0;
  m->count = 0;
}

void netfw__chanmap_free(netfw__chanmap *m) {
  size_t i;

  for (i = 0; i < m->cap; i++)
    free(m->slots[i].key);
  free(m->slots);
  netfw__chanmap_init(m);
}

/* The slot holding key, or the empty slot where it would go. */
static netfw__chan_slot *find(const netfw__chanmap *m, const uint8_t *key,
                              size_t len, uint64_t h) {
  size_t i = (size_t)h & (m->cap - 1);

  for (;;) {
    netfw__chan_slot *s = &m->slots[i];
    if (s->key == NULL ||
        (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
      return s;
    i = (i + 1) & (m->cap - 1);
  }
}

void *netfw__chanmap_get(const netfw__chanmap *m, const uint8_t *key,
                         size_t len) {
  netfw__chan_slot *s;

  if (m->count == 0)
    return NULL;
  s = find(m, key, len, hash_of(key, len));
  return s->key != NULL ? s->value : NULL;
}

/* Doubles the table (16 slots at first). Returns 0 or NETFW_ENOMEM. */
static int grow(netfw__chanmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 16, i;
  netfw__chanmap bigger = {calloc(cap, sizeof(netfw__chan_slot)), cap, 0};

  if (bigger.slots == NULL)
    return NETFW_ENOMEM;
  for (i = 0; i < m->cap; i++) {
    netfw__chan_slot *s = &m->slots[i];
    if (s->key != NULL)
      *find(&bigger, s->key, s->len, s->hash) = *s;
  }
  bigger.count = m->count;
  free(m->slots);
  *m = bigger;
  return 0;
}

int netfw__chanmap_put(netfw__chanmap *m, const uint8_t *key, size_t len,
                       void *value) {
  uint64_t h = hash_of(key, len);
  netfw__chan_slot *s;

  if ((m->count + 1) * 2 > m->cap && grow(m) != 0)
    return NETFW_ENOMEM;
  s = find(m, key, len, h);
  if (s->key == NULL) {
    s->key = malloc(len ? len : 1);
    if (s->key == NULL)
      return NETFW_ENOMEM;
    memcpy(s->key, key, len);
    s->len = len;
    s->hash = h;
    m->count++;
  }
  s->value = value;
  return 0;
}

/* Moves the entries after the emptied slot i back where probing finds
 * them. */
static void shift_back(netfw__chanmap *m, size_t i) {
  size_t mask = m->cap - 1, j = i;

  for (;;) {
    size_t home;
    j = (j + 1) & mask;
    if (m->slots[j].key == NULL)
      return;
    home = (size_t)m->slots[j].hash & mask;
    /* j's entry may fill the hole at i unless its home lies in (i, j] */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->slots[i] = m->slots[j];
      m->slots[j].key = NULL;
      i = j;
    }
  }
}

void *netfw__chanmap_del(netfw__chanmap *m, const uint8_t *key, size_t len) {
  netfw__chan_slot *s;
  void *value;

  if (m->count == 0)
    return NULL;
  s = find(m, key, len, hash_of(key, len));
  if (s->key == NULL)
    return NULL;
  value = s->value;
  free(s->key);
  s->key = NULL;
  m->count--;
  shift_back(m, (size_t)(s - m->slots));
  return value;
}

void netfw__chanmap_each(const netfw__chanmap *m,
                         void (*fn)(void *arg, const uint8_t *key, size_t len,
                                    void *value),
                         void *arg) {
  size_t i;

  for (i = 0; i < m->cap; i++)
    if (m->slots[i].key != NULL)
      fn(arg, m->slots[i].key, m->slots[i].len, m->slots[i].value);
}
