/* chat_store_local: the room's members in one MAP_SHARED table that every
 * worker of this server maps (created in main() before the fork).
 *
 * Layout: the header, then the members packed in entries[0..count) (a join
 * appends, a leave moves the last entry into the hole), then an
 * open-addressing index idx[] (linear probing, backward-shift deletion, at
 * least twice as many slots as entries) from a nickname to its entry. Every
 * operation takes the process-shared robust mutex for a few microseconds: a
 * lookup, an append or a removal, and for a join a memcpy of the entries
 * (480 KB at 10000 members); sorting and sending happen outside it.
 *
 * Crashes: a worker that dies holding the mutex leaves EOWNERDEAD to the
 * next one, which rebuilds the index from the entries (dropping duplicates
 * and damaged entries: an interrupted append or removal) before going on.
 * Ghosts: each entry records its owner's pid; every worker registers itself
 * in owners[] and, every second, removes the members of registered owners
 * that no longer exist (kill(pid, 0) == ESRCH). Not handled: a dead owner's
 * pid reused by a new process within that second keeps its ghosts. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "chat_store.h"

#define OWNERS_MAX 1024
#define SWEEP_MS 1000

typedef struct entry {
  uint64_t seq; /* the join's number */
  pid_t owner;
  uint8_t len;
  char nick[CHAT_NICK_MAX + 1];
} entry;

struct chat_store_table {
  pthread_mutex_t lock;
  uint64_t seq; /* the last change's number */
  uint32_t capacity, count, mask;
  size_t bytes;
  pid_t owners[OWNERS_MAX]; /* 0 = free */
  /* then entry entries[capacity], int32_t idx[mask + 1] (-1 = empty) */
};

typedef struct local_store {
  chat_store base;
  chat_store_table *t;
  pid_t self;
  uv_timer_t sweep;
  chat_store_events ev;
  void *ctx;
  entry *copy;             /* capacity entries: snapshots, removed ghosts */
  chat_store_member *snap; /* capacity */
} local_store;

static entry *entries(chat_store_table *t) {
  return (entry *)(t + 1);
}

static int32_t *idx(chat_store_table *t) {
  return (int32_t *)(entries(t) + t->capacity);
}

static uint32_t hash(const char *s, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* Returns the index slot holding nick, or the empty slot where it goes. */
static uint32_t probe(chat_store_table *t, const char *nick, size_t len) {
  uint32_t i = hash(nick, len) & t->mask;
  for (;;) {
    int32_t e = idx(t)[i];
    if (e < 0 || (entries(t)[e].len == len &&
                  memcmp(entries(t)[e].nick, nick, len) == 0))
      return i;
    i = (i + 1) & t->mask;
  }
}

/* Empties index slot i, moving back the entries probed past it. */
static void idx_delete(chat_store_table *t, uint32_t i) {
  int32_t *ix = idx(t);
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & t->mask;
    if (ix[j] < 0)
      break;
    entry *x = &entries(t)[ix[j]];
    uint32_t home = hash(x->nick, x->len) & t->mask;
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      ix[i] = ix[j];
      i = j;
    }
  }
  ix[i] = -1;
}

/* Removes the entry at index slot `slot` (the last entry fills its place). */
static void remove_at(chat_store_table *t, uint32_t slot) {
  int32_t e = idx(t)[slot];
  uint32_t last = t->count - 1;

  idx_delete(t, slot);
  if ((uint32_t)e != last) {
    entries(t)[e] = entries(t)[last];
    idx(t)[probe(t, entries(t)[e].nick, entries(t)[e].len)] = e;
  }
  t->count--;
}

/* After a crash inside the lock: rebuilds the index from the entries. */
static void repair(chat_store_table *t) {
  if (t->count > t->capacity)
    t->count = t->capacity;
  memset(idx(t), 0xff, ((size_t)t->mask + 1) * sizeof(int32_t));
  for (uint32_t e = 0; e < t->count;) {
    entry *x = &entries(t)[e];
    uint32_t slot;
    if (x->len == 0 || x->len > CHAT_NICK_MAX ||
        idx(t)[slot = probe(t, x->nick, x->len)] >= 0) {
      *x = entries(t)[--t->count]; /* damaged or duplicate: drop */
      continue;
    }
    x->nick[x->len] = '\0';
    idx(t)[slot] = (int32_t)e++;
  }
}

static void lock(chat_store_table *t) {
  if (pthread_mutex_lock(&t->lock) == EOWNERDEAD) {
    repair(t);
    pthread_mutex_consistent(&t->lock);
  }
}

static void unlock(chat_store_table *t) {
  pthread_mutex_unlock(&t->lock);
}

chat_store_table *chat_store_table_new(uint32_t capacity) {
  uint32_t slots = 16;
  pthread_mutexattr_t a;
  chat_store_table *t;
  size_t bytes;

  while (slots < 2 * (uint64_t)capacity)
    slots *= 2;
  bytes = sizeof(*t) + (size_t)capacity * sizeof(entry) +
          (size_t)slots * sizeof(int32_t);
  t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
           0);
  if (t == MAP_FAILED)
    return NULL;
  t->capacity = capacity;
  t->mask = slots - 1;
  t->bytes = bytes;
  memset(idx(t), 0xff, (size_t)slots * sizeof(int32_t));
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  errno = pthread_mutex_init(&t->lock, &a);
  pthread_mutexattr_destroy(&a);
  if (errno != 0) {
    munmap(t, bytes);
    return NULL;
  }
  return t;
}

void chat_store_table_free(chat_store_table *t) {
  if (t != NULL)
    munmap(t, t->bytes);
}

static int by_seq(const void *a, const void *b) {
  const chat_store_member *x = a, *y = b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int local_join(chat_store *s, const char *nick, chat_store_join_cb cb,
                      void *arg) {
  local_store *ls = (local_store *)s;
  chat_store_table *t = ls->t;
  size_t len = strlen(nick);
  chat_store_status status = CHAT_STORE_OK;
  uint32_t slot, n = 0;
  uint64_t seq = 0;

  lock(t);
  slot = probe(t, nick, len);
  if (idx(t)[slot] >= 0)
    status = CHAT_STORE_TAKEN;
  else if (t->count >= t->capacity)
    status = CHAT_STORE_FULL;
  else {
    entry *e = &entries(t)[t->count];
    e->seq = seq = ++t->seq;
    e->owner = ls->self;
    e->len = (uint8_t)len;
    memcpy(e->nick, nick, len + 1);
    idx(t)[slot] = (int32_t)t->count++;
    n = t->count;
    memcpy(ls->copy, entries(t), (size_t)n * sizeof(entry));
  }
  unlock(t);
  for (uint32_t i = 0; i < n; i++)
    ls->snap[i] =
        (chat_store_member){ls->copy[i].nick, ls->copy[i].len, ls->copy[i].seq};
  qsort(ls->snap, n, sizeof(*ls->snap), by_seq);
  cb(arg, status, seq, ls->snap, n);
  return 0;
}

static int local_leave(chat_store *s, const char *nick, uint64_t seq,
                       chat_store_leave_cb cb, void *arg) {
  chat_store_table *t = ((local_store *)s)->t;
  uint64_t done = 0;
  uint32_t slot;

  lock(t);
  slot = probe(t, nick, strlen(nick));
  if (idx(t)[slot] >= 0 && entries(t)[idx(t)[slot]].seq == seq) {
    remove_at(t, slot);
    done = ++t->seq;
  }
  unlock(t);
  if (cb != NULL)
    cb(arg, nick, done);
  return 0;
}

/* Removes the members of the dead owner `pid` and reports each as gone. */
static void remove_owner(local_store *ls, pid_t pid) {
  chat_store_table *t = ls->t;
  uint32_t n = 0;

  lock(t);
  for (uint32_t i = 0; i < OWNERS_MAX; i++)
    if (t->owners[i] == pid)
      t->owners[i] = 0;
  for (uint32_t e = t->count; e-- > 0;) { /* the last fills the hole: seen */
    entry *x = &entries(t)[e];
    if (x->owner != pid)
      continue;
    ls->copy[n] = *x;
    ls->copy[n++].seq = ++t->seq;
    remove_at(t, probe(t, x->nick, x->len));
  }
  unlock(t);
  for (uint32_t i = 0; i < n; i++)
    ls->ev.gone(ls->ctx, ls->copy[i].nick, ls->copy[i].seq);
}

/* Every second: finds registered owners that no longer exist. */
static void on_sweep(uv_timer_t *h) {
  local_store *ls = h->data;
  pid_t owners[OWNERS_MAX];

  lock(ls->t);
  memcpy(owners, ls->t->owners, sizeof(owners));
  unlock(ls->t);
  for (uint32_t i = 0; i < OWNERS_MAX; i++)
    if (owners[i] != 0 && owners[i] != ls->self && kill(owners[i], 0) != 0 &&
        errno == ESRCH)
      remove_owner(ls, owners[i]);
}

static void free_on_close(uv_handle_t *h) {
  local_store *ls = h->data;
  free(ls->copy);
  free(ls->snap);
  free(ls);
}

static void local_close(chat_store *s) {
  local_store *ls = (local_store *)s;
  uv_loop_t *loop = ls->sweep.loop;

  uv_close((uv_handle_t *)&ls->sweep, free_on_close);
  uv_run(loop, UV_RUN_NOWAIT); /* the close callback */
}

static const chat_store_ops local_ops = {local_join, local_leave, local_close};

/* Takes a free owner slot for this process; false when none is left. */
static bool register_owner(chat_store_table *t, pid_t self) {
  bool done = false;

  lock(t);
  for (uint32_t i = 0; i < OWNERS_MAX && !done; i++)
    if (t->owners[i] == 0) {
      t->owners[i] = self;
      done = true;
    }
  unlock(t);
  return done;
}

chat_store *chat_store_local_open(chat_store_table *t, uv_loop_t *loop,
                                  const chat_store_events *ev, void *ctx) {
  local_store *ls = calloc(1, sizeof(*ls));

  if (ls == NULL)
    return NULL;
  ls->base.ops = &local_ops;
  ls->t = t;
  ls->self = getpid();
  ls->ev = *ev;
  ls->ctx = ctx;
  ls->copy = malloc((t->capacity ? t->capacity : 1) * sizeof(entry));
  ls->snap = malloc((t->capacity ? t->capacity : 1) * sizeof(*ls->snap));
  if (ls->copy == NULL || ls->snap == NULL || !register_owner(t, ls->self)) {
    free(ls->copy);
    free(ls->snap);
    free(ls);
    return NULL;
  }
  uv_timer_init(loop, &ls->sweep);
  ls->sweep.data = ls;
  uv_timer_start(&ls->sweep, on_sweep, 0, SWEEP_MS);
  uv_unref((uv_handle_t *)&ls->sweep); /* never keeps the worker alive */
  return &ls->base;
}
