/* chat_store_redis: the room's members in Redis, shared by every worker of
 * every server on that Redis. hiredis's async API on the worker's loop: no
 * call here ever blocks the loop (the address is numeric, resolved by
 * main() before the fork).
 *
 * Keys: HASH chat:members nick -> "SEQ OWNER" (SEQ: the join's number);
 * chat:seq the change counter (INCR); SET chat:owners the owners with
 * members; SET chat:owner:OWNER an owner's nicks; chat:alive:OWNER the
 * owner's liveness (PX 5 s, refreshed every second). OWNER is
 * SERVER_ID:PID:GEN, one per worker and per connection to Redis.
 *
 * Race handling: each change is one Lua script, atomic in Redis. A join
 * (HEXISTS, HLEN, INCR, HSET, SADD, HGETALL) answers the snapshot with the
 * number of its own change; two servers joining the same nick at once: one
 * script runs first, the other sees the nick (NICK_TAKEN). A leave removes
 * the entry only if it is still the one of that join number (a swept ghost
 * whose name was taken again is left alone). The sweep (every 2 s, any
 * worker) removes the members of owners whose alive key is gone (a crashed
 * worker or server, or one that stopped: its members are not removed one by
 * one on a stop) and numbers each removal; only the script that removed an
 * entry reports it, so each ghost is announced once.
 *
 * Failures: joins are refused (CHAT_STORE_DOWN) while Redis is unreachable
 * or when 4096 commands are in flight; a command unanswered for 5 s drops
 * the connection (every pending callback then gets DOWN / 0). When the
 * connection is lost or our alive key expired, the members this worker
 * holds are no longer trustworthy in Redis: events.lost closes them, and
 * the next connection uses a new OWNER (the old one's entries are swept). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netfw/codec.h>
#include <netfw/log.h>

#include "chat_store.h"
#include "redis_uv.h" /* hiredis on a libuv loop: runtime/bus/redis_uv.c */

#define TICK_MS 1000
#define ALIVE_MS "5000"
#define STUCK_MS 5000
#define CONNECT_MS 2000
#define INFLIGHT_MAX 4096
#define CLOSE_MS 1000
#define K_MEMBERS "chat:members"
#define K_SEQ "chat:seq"
#define K_OWNERS "chat:owners"
#define K_OWNER "chat:owner:"
#define K_ALIVE "chat:alive:"

/* KEYS members seq owners owner-set; ARGV nick owner max -> {1} taken,
 * {2} full, {0, seq, {nick, "SEQ OWNER", ...}} joined. */
static const char join_lua[] =
    "if redis.call('HEXISTS',KEYS[1],ARGV[1])==1 then return {1} end\n"
    "if redis.call('HLEN',KEYS[1])>=tonumber(ARGV[3]) then return {2} end\n"
    "local s=redis.call('INCR',KEYS[2])\n"
    "redis.call('HSET',KEYS[1],ARGV[1],s..' '..ARGV[2])\n"
    "redis.call('SADD',KEYS[3],ARGV[2])\n"
    "redis.call('SADD',KEYS[4],ARGV[1])\n"
    "return {0,s,redis.call('HGETALL',KEYS[1])}\n";

/* KEYS members seq; ARGV nick join-seq owner-prefix -> removal seq or 0. */
static const char leave_lua[] =
    "local v=redis.call('HGET',KEYS[1],ARGV[1])\n"
    "local p=ARGV[2]..' '\n"
    "if not v or string.sub(v,1,#p)~=p then return 0 end\n"
    "redis.call('HDEL',KEYS[1],ARGV[1])\n"
    "redis.call('SREM',ARGV[3]..string.sub(v,#p+1),ARGV[1])\n"
    "return redis.call('INCR',KEYS[2])\n";

/* KEYS members seq owners; ARGV alive-prefix owner-prefix -> {nick, seq..}
 * removed because their owner's alive key is gone. */
static const char sweep_lua[] =
    "local out={}\n"
    "for _,o in ipairs(redis.call('SMEMBERS',KEYS[3])) do\n"
    " if redis.call('EXISTS',ARGV[1]..o)==0 then\n"
    "  for _,n in ipairs(redis.call('SMEMBERS',ARGV[2]..o)) do\n"
    "   local v=redis.call('HGET',KEYS[1],n)\n"
    "   if v and string.sub(v,-(#o+1))==' '..o then\n"
    "    redis.call('HDEL',KEYS[1],n)\n"
    "    out[#out+1]=n\n"
    "    out[#out+1]=redis.call('INCR',KEYS[2])\n"
    "   end\n"
    "  end\n"
    "  redis.call('DEL',ARGV[2]..o)\n"
    "  redis.call('SREM',KEYS[3],o)\n"
    " end\n"
    "end\n"
    "return out\n";

typedef struct redis_store {
  chat_store base;
  uv_loop_t *loop;
  char ip[64];
  int port;
  char server_id[40];
  char max[16];
  redisAsyncContext *ac; /* NULL while disconnected */
  bool connected;        /* the connection is up */
  bool ready;            /* and our alive key is set: joins allowed */
  bool closing;
  bool warned; /* "unreachable" logged since the last success */
  unsigned gen, ticks, inflight;
  uint64_t last_reply, connect_start;
  char owner[80];
  uv_timer_t tick;
  chat_store_events ev;
  void *ctx;
  chat_store_member *snap;
  uint32_t snap_cap;
} redis_store;

/* One command's callback and its argument. */
typedef struct op {
  redis_store *rs;
  chat_store_join_cb join;
  chat_store_leave_cb leave;
  void *arg;
  char nick[CHAT_NICK_MAX + 1];
} op;

/* ---- the store ---- */

static void set_owner(redis_store *rs) {
  snprintf(rs->owner, sizeof(rs->owner), "%s:%ld:%u", rs->server_id,
           (long)getpid(), rs->gen++);
}

/* Counts an answer (NULL replies too: the connection is going). */
static void answered(redis_store *rs) {
  rs->inflight--;
  rs->last_reply = uv_now(rs->loop);
}

/* The connection is gone (or being freed): nothing of ours is trusted. */
static void lose(redis_store *rs) {
  bool was_ready = rs->ready;

  rs->ac = NULL;
  rs->connected = rs->ready = false;
  set_owner(rs);
  if (was_ready && !rs->closing)
    rs->ev.lost(rs->ctx);
}

/* Frees the connection now: pending callbacks get NULL replies. */
static void drop(redis_store *rs, const char *why) {
  redisAsyncContext *ac = rs->ac;

  if (ac == NULL)
    return;
  if (why != NULL)
    netfw_log(NETFW_LOG_WARN, "chat: Redis at %s:%d: %s", rs->ip, rs->port,
              why);
  redisAsyncFree(ac); /* the disconnect callback may run (then lose) */
  if (rs->ac == ac)
    lose(rs);
}

static void send_alive(redis_store *rs);

/* Logs once per outage that Redis cannot be reached. */
static void unreachable(redis_store *rs, const char *why) {
  if (!rs->warned)
    netfw_log(NETFW_LOG_WARN,
              "chat: Redis at %s:%d unreachable (%s): joins "
              "are refused until it is back",
              rs->ip, rs->port, why);
  rs->warned = true;
}

static void on_alive(redisAsyncContext *ac, void *r, void *priv) {
  redis_store *rs = priv;
  redisReply *reply = r;

  (void)ac;
  answered(rs);
  if (reply == NULL || rs->closing)
    return;
  if (reply->type == REDIS_REPLY_STATUS) {
    rs->ready = true;
    return;
  }
  if (!rs->ready) { /* refused (NOAUTH, LOADING...): joins stay refused */
    unreachable(rs, reply->type == REDIS_REPLY_ERROR ? reply->str : "?");
    return;
  }
  netfw_log(NETFW_LOG_WARN, "chat: Redis lost our liveness key: closing "
                            "this worker's members");
  rs->ready = false;
  set_owner(rs); /* the old owner's entries are swept */
  rs->ev.lost(rs->ctx);
  send_alive(rs); /* the new owner's key: joins again */
}

static void send_alive(redis_store *rs) {
  /* XX once set: if it expired meanwhile, we must know (on_alive) */
  const char *fmt = rs->ready ? "SET %s%s 1 PX %s XX" : "SET %s%s 1 PX %s";

  rs->inflight++;
  if (redisAsyncCommand(rs->ac, on_alive, rs, fmt, K_ALIVE, rs->owner,
                        ALIVE_MS) != 0)
    rs->inflight--;
}

/* A nickname as Redis gives it back: 1 to CHAT_NICK_MAX bytes of UTF-8, no
 * NUL. Anything else in the hash was not written by a chat_server (a
 * client could not make it encode) and is skipped. */
static bool nick_reply(const redisReply *k) {
  return k->type == REDIS_REPLY_STRING && k->len > 0 &&
         k->len <= CHAT_NICK_MAX && memchr(k->str, '\0', k->len) == NULL &&
         netfw_utf8_valid(k->str, k->len);
}

static void on_sweep(redisAsyncContext *ac, void *r, void *priv) {
  redis_store *rs = priv;
  redisReply *reply = r;

  (void)ac;
  answered(rs);
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || rs->closing)
    return;
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    redisReply *n = reply->element[i], *s = reply->element[i + 1];
    if (nick_reply(n) && s->type == REDIS_REPLY_INTEGER)
      rs->ev.gone(rs->ctx, n->str, (uint64_t)s->integer);
  }
}

static void send_sweep(redis_store *rs) {
  rs->inflight++;
  if (redisAsyncCommand(rs->ac, on_sweep, rs, "EVAL %s 3 %s %s %s %s %s",
                        sweep_lua, K_MEMBERS, K_SEQ, K_OWNERS, K_ALIVE,
                        K_OWNER) != 0)
    rs->inflight--;
}

static void on_connect(const redisAsyncContext *ac, int status) {
  redis_store *rs = ac->data;

  if (status != REDIS_OK) {
    unreachable(rs, ac->errstr);
    rs->ac = NULL; /* hiredis frees it */
    return;
  }
  rs->warned = false;
  rs->connected = true;
  rs->last_reply = uv_now(rs->loop);
  send_alive(rs);
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  redis_store *rs = ac->data;

  if (status != REDIS_OK && !rs->closing)
    netfw_log(NETFW_LOG_WARN, "chat: Redis at %s:%d: connection lost (%s)",
              rs->ip, rs->port, ac->errstr);
  if (rs->ac == ac)
    lose(rs);
}

static void start_connect(redis_store *rs) {
  redisAsyncContext *ac = redisAsyncConnect(rs->ip, rs->port);

  if (ac == NULL)
    return;
  if (ac->err != 0 || netfw__redis_uv_attach(ac, rs->loop, false) != 0) {
    unreachable(rs, ac->err != 0 ? ac->errstr : "out of memory");
    redisAsyncFree(ac);
    return;
  }
  ac->data = rs;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  rs->ac = ac;
  rs->connect_start = uv_now(rs->loop);
}

/* Every second: connect, refresh our liveness, sweep, watch for a stuck
 * Redis. */
static void on_tick(uv_timer_t *h) {
  redis_store *rs = h->data;
  uint64_t now = uv_now(rs->loop);

  if (rs->ac == NULL) {
    start_connect(rs);
    return;
  }
  if (!rs->connected) {
    if (now - rs->connect_start > CONNECT_MS) {
      unreachable(rs, "connecting timed out");
      drop(rs, NULL);
    }
    return;
  }
  if (rs->inflight > 0 && now - rs->last_reply > STUCK_MS) {
    drop(rs, "no answer for 5 s, reconnecting");
    return;
  }
  send_alive(rs);
  if (rs->ready && ++rs->ticks % 2 == 0)
    send_sweep(rs);
}

static int by_seq(const void *a, const void *b) {
  const chat_store_member *x = a, *y = b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Fills rs->snap from HGETALL's flat array; false if it cannot. */
static bool parse_members(redis_store *rs, const redisReply *all, uint32_t *n) {
  size_t count = all->elements / 2;

  if (all->type != REDIS_REPLY_ARRAY || count > UINT16_MAX)
    return false;
  if (count > rs->snap_cap) {
    chat_store_member *p = realloc(rs->snap, count * sizeof(*p));
    if (p == NULL)
      return false;
    rs->snap = p;
    rs->snap_cap = (uint32_t)count;
  }
  *n = 0;
  for (size_t i = 0; i < count; i++) {
    const redisReply *k = all->element[2 * i], *v = all->element[2 * i + 1];
    if (!nick_reply(k) || v->type != REDIS_REPLY_STRING)
      continue; /* not one of ours: skip it */
    rs->snap[(*n)++] = (chat_store_member){k->str, (uint32_t)k->len,
                                           strtoull(v->str, NULL, 10)};
  }
  qsort(rs->snap, *n, sizeof(*rs->snap), by_seq);
  return true;
}

static void on_joined(redisAsyncContext *ac, void *r, void *priv) {
  op *o = priv;
  redis_store *rs = o->rs;
  redisReply *reply = r;
  chat_store_status status = CHAT_STORE_DOWN;
  uint64_t seq = 0;
  uint32_t n = 0;

  (void)ac;
  answered(rs);
  if (reply != NULL && reply->type == REDIS_REPLY_ARRAY &&
      reply->elements >= 1 && reply->element[0]->type == REDIS_REPLY_INTEGER) {
    long long code = reply->element[0]->integer;
    if (code == 1)
      status = CHAT_STORE_TAKEN;
    else if (code == 2)
      status = CHAT_STORE_FULL;
    else if (code == 0 && reply->elements == 3 &&
             reply->element[1]->type == REDIS_REPLY_INTEGER &&
             parse_members(rs, reply->element[2], &n)) {
      status = CHAT_STORE_OK;
      seq = (uint64_t)reply->element[1]->integer;
    }
  } else if (reply != NULL && reply->type == REDIS_REPLY_ERROR)
    netfw_log(NETFW_LOG_WARN, "chat: Redis join failed: %s", reply->str);
  o->join(o->arg, status, seq, status == CHAT_STORE_OK ? rs->snap : NULL, n);
  free(o);
}

static int redis_join(chat_store *s, const char *nick, chat_store_join_cb cb,
                      void *arg) {
  redis_store *rs = (redis_store *)s;
  op *o;

  if (!rs->ready || rs->closing || rs->inflight >= INFLIGHT_MAX)
    return CHAT_STORE_DOWN;
  if ((o = calloc(1, sizeof(*o))) == NULL)
    return CHAT_STORE_DOWN;
  o->rs = rs;
  o->join = cb;
  o->arg = arg;
  if (redisAsyncCommand(rs->ac, on_joined, o,
                        "EVAL %s 4 %s %s %s %s%s %s %s %s", join_lua, K_MEMBERS,
                        K_SEQ, K_OWNERS, K_OWNER, rs->owner, nick, rs->owner,
                        rs->max) != 0) {
    free(o);
    return CHAT_STORE_DOWN;
  }
  rs->inflight++;
  return 0;
}

static void on_left(redisAsyncContext *ac, void *r, void *priv) {
  op *o = priv;
  redisReply *reply = r;

  (void)ac;
  answered(o->rs);
  if (o->leave != NULL)
    o->leave(o->arg, o->nick,
             reply != NULL && reply->type == REDIS_REPLY_INTEGER
                 ? (uint64_t)reply->integer
                 : 0);
  free(o);
}

static int redis_leave(chat_store *s, const char *nick, uint64_t seq,
                       chat_store_leave_cb cb, void *arg) {
  redis_store *rs = (redis_store *)s;
  op *o = rs->connected ? calloc(1, sizeof(*o)) : NULL;

  if (o != NULL) {
    o->rs = rs;
    o->leave = cb;
    o->arg = arg;
    snprintf(o->nick, sizeof(o->nick), "%s", nick);
    if (redisAsyncCommand(rs->ac, on_left, o, "EVAL %s 2 %s %s %s %llu %s",
                          leave_lua, K_MEMBERS, K_SEQ, nick,
                          (unsigned long long)seq, K_OWNER) == 0) {
      rs->inflight++;
      return 0;
    }
    free(o);
  }
  if (cb != NULL) /* Redis is down: our alive key expires, the sweep does it */
    cb(arg, nick, 0);
  return 0;
}

static void on_close_timeout(uv_timer_t *h) {
  *(bool *)h->data = true;
}

static void free_on_close(uv_handle_t *h) {
  redis_store *rs = h->data;
  free(rs->snap);
  free(rs);
}

/* The worker is ending (its loop no longer serves): deletes our alive key
 * so that the others sweep our members at once, waits up to CLOSE_MS for
 * the answers still owed, then frees everything. */
static void redis_close(chat_store *s) {
  redis_store *rs = (redis_store *)s;
  uv_timer_t limit;
  bool expired = false;

  rs->closing = true;
  uv_timer_stop(&rs->tick);
  if (rs->connected) {
    redisAsyncCommand(rs->ac, NULL, NULL, "DEL %s%s", K_ALIVE, rs->owner);
    redisAsyncDisconnect(rs->ac); /* after the pending answers */
    uv_timer_init(rs->loop, &limit);
    limit.data = &expired;
    uv_timer_start(&limit, on_close_timeout, CLOSE_MS, 0);
    while (rs->ac != NULL && !expired)
      uv_run(rs->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&limit, NULL);
  }
  drop(rs, NULL);
  uv_close((uv_handle_t *)&rs->tick, free_on_close);
  uv_run(rs->loop, UV_RUN_NOWAIT); /* the close callbacks */
}

static const chat_store_ops redis_ops = {redis_join, redis_leave, redis_close};

chat_store *chat_store_redis_open(const char *ip, uint16_t port,
                                  const char *server_id, uint32_t max_members,
                                  uv_loop_t *loop, const chat_store_events *ev,
                                  void *ctx) {
  redis_store *rs = calloc(1, sizeof(*rs));

  if (rs == NULL)
    return NULL;
  rs->base.ops = &redis_ops;
  rs->loop = loop;
  snprintf(rs->ip, sizeof(rs->ip), "%s", ip);
  rs->port = port;
  snprintf(rs->server_id, sizeof(rs->server_id), "%s", server_id);
  snprintf(rs->max, sizeof(rs->max), "%u", (unsigned)max_members);
  rs->ev = *ev;
  rs->ctx = ctx;
  set_owner(rs);
  uv_timer_init(loop, &rs->tick);
  rs->tick.data = rs;
  uv_timer_start(&rs->tick, on_tick, 0, TICK_MS);
  uv_unref((uv_handle_t *)&rs->tick); /* never keeps the worker alive */
  return &rs->base;
}
