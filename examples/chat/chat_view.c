/* chat_view: a hash table (chaining, doubled when fuller than its bucket
 * count) of nickname -> {join number, leave number}, and a ring of the last
 * VIEW_DEPARTED leaves that decides which departed entries are forgotten. */
#include <stdlib.h>
#include <string.h>

#include "chat_view.h"

#define VIEW_DEPARTED 1024
#define VIEW_MAX (2 * 65536) /* present ones: a room holds at most 65535 */

typedef struct ventry {
  struct ventry *next;
  uint64_t since; /* join number */
  uint64_t left;  /* leave number (an upper bound from a snapshot), 0 = in */
  uint32_t stamp; /* the last snapshot that had it */
  uint32_t dep;   /* departures so far: the ring's slot for the latest */
  uint8_t len;
  char nick[CHAT_NICK_MAX + 1];
} ventry;

typedef struct departure {
  ventry *e;
  uint32_t dep; /* e->dep then: is this e's latest departure? */
} departure;

struct chat_view {
  ventry **buckets;
  uint32_t nbuckets, count, gen;
  departure ring[VIEW_DEPARTED];
  uint32_t ring_next;
};

static uint32_t hash(const char *s, uint32_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (uint32_t i = 0; i < len; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

static ventry **slot(const chat_view *v, const char *nick, uint32_t len) {
  ventry **p = &v->buckets[hash(nick, len) & (v->nbuckets - 1)];
  while (*p != NULL && ((*p)->len != len || memcmp((*p)->nick, nick, len) != 0))
    p = &(*p)->next;
  return p;
}

chat_view *chat_view_new(void) {
  chat_view *v = calloc(1, sizeof(*v));

  if (v == NULL)
    return NULL;
  v->nbuckets = 64;
  v->buckets = calloc(v->nbuckets, sizeof(*v->buckets));
  if (v->buckets == NULL) {
    free(v);
    return NULL;
  }
  return v;
}

void chat_view_free(chat_view *v) {
  if (v == NULL)
    return;
  for (uint32_t i = 0; i < v->nbuckets; i++)
    while (v->buckets[i] != NULL) {
      ventry *e = v->buckets[i];
      v->buckets[i] = e->next;
      free(e);
    }
  free(v->buckets);
  free(v);
}

/* Doubles the buckets (keeps the old ones when out of memory). */
static void grow(chat_view *v) {
  uint32_t n = v->nbuckets * 2;
  ventry **b = calloc(n, sizeof(*b));

  if (b == NULL)
    return;
  for (uint32_t i = 0; i < v->nbuckets; i++)
    while (v->buckets[i] != NULL) {
      ventry *e = v->buckets[i];
      v->buckets[i] = e->next;
      e->next = b[hash(e->nick, e->len) & (n - 1)];
      b[hash(e->nick, e->len) & (n - 1)] = e;
    }
  free(v->buckets);
  v->buckets = b;
  v->nbuckets = n;
}

/* Returns nick's entry, created (since 0, present) when missing; NULL when
 * out of memory. */
static ventry *get(chat_view *v, const char *nick, uint32_t len) {
  ventry **p = slot(v, nick, len), *e = *p;

  if (e != NULL || len == 0 || len > CHAT_NICK_MAX || v->count >= VIEW_MAX)
    return e; /* over VIEW_MAX (bus junk): unknown, see line_limit */
  if ((e = calloc(1, sizeof(*e))) == NULL)
    return NULL;
  e->len = (uint8_t)len;
  memcpy(e->nick, nick, len);
  *p = e;
  if (++v->count > v->nbuckets)
    grow(v);
  return e;
}

/* Records that e departed; forgets the entry of the oldest departure if it
 * is still that entry's latest and it did not come back. An entry is freed
 * only from its latest slot, after its older slots: none dangles. */
static void departed(chat_view *v, ventry *e) {
  departure *d = &v->ring[v->ring_next];
  uint32_t dep = ++e->dep; /* first: e's own older slot no longer frees it */

  if (d->e != NULL && d->e->dep == d->dep && d->e->left != 0) {
    ventry **p = slot(v, d->e->nick, d->e->len);
    *p = d->e->next;
    free(d->e);
    v->count--;
  }
  d->e = e;
  d->dep = dep;
  v->ring_next = (v->ring_next + 1) % VIEW_DEPARTED;
}

bool chat_view_entered(chat_view *v, const char *nick, uint32_t len,
                       uint64_t seq) {
  ventry *e = get(v, nick, len);

  if (e == NULL)
    return false;
  if (seq > e->since) { /* not an older member of that name */
    e->since = seq;
    e->left = 0;
  }
  return true;
}

void chat_view_left(chat_view *v, const char *nick, uint32_t len,
                    uint64_t seq) {
  ventry *e = *slot(v, nick, len);

  if (e == NULL || seq < e->since)
    return; /* unknown here, or an older member of that name */
  if (e->left == 0) {
    e->left = seq;
    departed(v, e);
  } else if (seq < e->left) {
    e->left = seq; /* the exact number, below a snapshot's bound */
  }
}

void chat_view_snapshot(chat_view *v, uint64_t seq,
                        const chat_store_member *all, uint32_t n) {
  ventry **gone;
  uint32_t ngone = 0;

  v->gen++;
  for (uint32_t i = 0; i < n; i++) {
    ventry *e = get(v, all[i].nick, all[i].len);
    if (e == NULL)
      continue;
    if (all[i].seq > e->since) {
      e->since = all[i].seq;
      e->left = 0;
    }
    e->stamp = v->gen;
  }
  /* gone by seq: left at seq or before; recorded after the walk (the
   * ring may free entries) */
  gone = malloc((v->count ? v->count : 1) * sizeof(*gone));
  for (uint32_t b = 0; gone != NULL && b < v->nbuckets; b++)
    for (ventry *e = v->buckets[b]; e != NULL; e = e->next)
      if (e->left == 0 && e->since <= seq && e->stamp != v->gen) {
        e->left = seq;
        gone[ngone++] = e;
      }
  for (uint32_t i = 0; i < ngone; i++)
    departed(v, gone[i]);
  free(gone);
}

uint64_t chat_view_line_limit(const chat_view *v, const char *nick,
                              uint32_t len, uint64_t since) {
  const ventry *e = *slot(v, nick, len);

  if (e == NULL || e->since != since)
    return since; /* only those who joined before it know it */
  if (e->left == 0)
    return UINT64_MAX;
  return e->left > since ? e->left : since;
}
