/* The chat room's membership store: which nicknames are in the room, seen
 * the same by every worker of every server. Two implementations, one file
 * each: chat_store_local.c (a table in shared memory, the workers of one
 * server) and chat_store_redis.c (a Redis hash, every server on that Redis).
 *
 * Every change (a join, a leave, a ghost removed) gets a sequence number
 * from the store, increasing across the whole room. A join returns the
 * members with the number S of its own change: the snapshot reflects every
 * change numbered <= S and none after. The room (chat_server.c) announces
 * changes with their number, so a member ignores announcements its snapshot
 * already reflects.
 *
 * Every member is stored with its owner (the worker process that holds its
 * connection). Members of an owner that died are ghosts: the store removes
 * them itself (a sweep on a worker timer) and reports each through
 * events.gone, so that the room announces MemberLeft for them.
 *
 * All calls and callbacks happen on the worker's loop thread. */
#ifndef CHAT_STORE_H
#define CHAT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#define CHAT_NICK_MAX 32

/* A join's outcome. */
typedef enum chat_store_status {
  CHAT_STORE_OK = 0,
  CHAT_STORE_TAKEN, /* the nickname is in the room already          */
  CHAT_STORE_FULL,  /* the room holds its maximum number of members */
  CHAT_STORE_DOWN   /* the store cannot be reached (or is closing)  */
} chat_store_status;

/* One member of a snapshot: nick (len bytes, NUL-terminated) and the number
 * of its join. */
typedef struct chat_store_member {
  const char *nick;
  uint32_t len;
  uint64_t seq;
} chat_store_member;

/* A join's answer. On CHAT_STORE_OK, seq is the join's number and members
 * (n of them, in joining order, the joiner included) the room at seq; both
 * are valid during the call only. */
typedef void (*chat_store_join_cb)(void *arg, chat_store_status status,
                                   uint64_t seq,
                                   const chat_store_member *members,
                                   uint32_t n);

/* A leave's answer: seq is the removal's number, 0 when nothing was removed
 * (the member was swept as a ghost already, or the store is down). */
typedef void (*chat_store_leave_cb)(void *arg, const char *nick, uint64_t seq);

/* What the store tells the room on its own. */
typedef struct chat_store_events {
  /* A ghost (a member of a dead owner) was removed with number seq. */
  void (*gone)(void *ctx, const char *nick, uint64_t seq);
  /* The store no longer holds this worker's members (Redis lost, or our
   * liveness key expired): the room must close their connections. */
  void (*lost)(void *ctx);
} chat_store_events;

typedef struct chat_store chat_store;

/* The operations every implementation provides (see the wrappers below). */
typedef struct chat_store_ops {
  int (*join)(chat_store *s, const char *nick, chat_store_join_cb cb,
              void *arg);
  int (*leave)(chat_store *s, const char *nick, uint64_t seq,
               chat_store_leave_cb cb, void *arg);
  void (*close)(chat_store *s);
} chat_store_ops;

struct chat_store {
  const chat_store_ops *ops;
};

/* Adds nick (valid, at most CHAT_NICK_MAX bytes) to the room. Returns 0 when
 * cb will be called exactly once (maybe before this returns), or a
 * chat_store_status (DOWN, FULL) when it was refused at once and cb will not
 * be called. */
static inline int chat_store_join(chat_store *s, const char *nick,
                                  chat_store_join_cb cb, void *arg) {
  return s->ops->join(s, nick, cb, arg);
}

/* Removes nick if it is still the member whose join had number seq (not a
 * later member of the same name). cb (may be NULL) is called exactly once,
 * maybe before this returns; returns 0. */
static inline int chat_store_leave(chat_store *s, const char *nick,
                                   uint64_t seq, chat_store_leave_cb cb,
                                   void *arg) {
  return s->ops->leave(s, nick, seq, cb, arg);
}

/* Closes the store (the worker is ending): every callback still owed is
 * called (joins with CHAT_STORE_DOWN, leaves with 0), then s is freed. May
 * run the worker's loop for a bounded time (it no longer serves then). */
static inline void chat_store_close(chat_store *s) {
  s->ops->close(s);
}

/* ---- chat_store_local.c: one server, shared memory ---- */

typedef struct chat_store_table chat_store_table;

/* Creates the shared table for at most capacity members (MAP_SHARED, under
 * a process-shared robust mutex): call in main(), before the workers fork.
 * Returns NULL (errno set) on failure. */
chat_store_table *chat_store_table_new(uint32_t capacity);

/* Unmaps the table (main(), after the server stopped). */
void chat_store_table_free(chat_store_table *t);

/* Opens the table in this worker: registers the worker as an owner and
 * sweeps the members of dead owners now and every second on loop. Returns
 * NULL when out of memory or when every owner slot is taken by a live
 * process. */
chat_store *chat_store_local_open(chat_store_table *t, uv_loop_t *loop,
                                  const chat_store_events *ev, void *ctx);

/* ---- chat_store_redis.c: every server on one Redis ---- */

/* Opens the Redis store at ip (numeric) and port on loop; server_id names
 * this server (unique per start). Connects in the background and retries;
 * joins are refused with CHAT_STORE_DOWN until it is connected. Returns
 * NULL when out of memory. */
chat_store *chat_store_redis_open(const char *ip, uint16_t port,
                                  const char *server_id, uint32_t max_members,
                                  uv_loop_t *loop, const chat_store_events *ev,
                                  void *ctx);

#endif /* CHAT_STORE_H */
