/* The broker on Redis (broker.h): two hiredis async connections on the
 * owner's libuv loop, one for PUBLISH and one for SUBSCRIBE.
 *
 * A connection ("link") is up once Redis answered the PING sent first on
 * it and, on the SUBSCRIBE link, every SUBSCRIBE sent before that: from
 * then on a message published anywhere reaches the subscriptions made so
 * far. A link that is not up 2 s after its connect started is freed and
 * retried; a failed or lost link is retried after its backoff (1 s,
 * doubling to 30 s, back to 1 s once up). A link lost while up is retried
 * every second for its first FAST_RETRY_MS: a restarted Redis (the common
 * outage) is back in use within about a second of its return.
 *
 * Lifetimes: hiredis frees a context itself when its connection fails or
 * is lost (after calling the pending reply callbacks with a NULL reply,
 * then the disconnect callback), so l->ac is cleared first thing in those
 * callbacks, and a callback whose context is not l->ac any more does
 * nothing but the pending-bytes accounting. ac->data always points to the
 * link. The broker's memory goes with the close callback of its last
 * timer, which runs after any hiredis callback netfw__broker_free was
 * called from has returned (hiredis defers that free until then). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "broker.h"
#include "bus.h"
#include "clock.h"
#include "redis_uv.h"
#include "netfw/error.h"
#include "netfw/log.h"

#define PREFIX_LEN (sizeof(NETFW__BROKER_PREFIX) - 1)
#define CONNECT_TIMEOUT_MS 2000
#define BACKOFF_FIRST_S 1u
#define BACKOFF_MAX_S 30u
#define FAST_RETRY_MS 60000u
#define DROP_LOG_MS 10000

/* Why a message from Redis was dropped (one rate-limited log line each). */
enum { DROP_SHORT, DROP_MAGIC, DROP_LARGE, DROP_KINDS };

typedef struct drop_log {
  uint64_t count;   /* drops not logged yet */
  uint64_t last_ms; /* loop time of the last line */
  bool logged;      /* a line was written already */
} drop_log;

typedef struct rlink {
  netfw__broker *b;
  redisAsyncContext *ac; /* NULL while waiting to retry */
  uv_timer_t timer;      /* connect timeout while ac, retry delay while not */
  unsigned backoff;      /* the next retry delay, in seconds */
  uint64_t lost_ms;      /* when it was last lost while up (0: never)  */
  unsigned awaited;      /* SUBSCRIBE replies to see before up */
  bool pong;             /* the first PING was answered */
  bool up;
  bool sub; /* the SUBSCRIBE connection */
} rlink;

struct netfw__broker {
  uv_loop_t *loop;
  char *ip;
  char name[80]; /* "HOST:PORT" for the logs */
  uint16_t port;
  uint64_t origin;
  size_t max_pending;
  size_t pending; /* bytes of PUBLISH commands sent, not yet answered */
  uint32_t max_payload;
  netfw__broker_events ev;
  void *arg;
  rlink pub, sub;
  netfw__chanmap chans;
  uint8_t *scratch; /* one command's channel and message */
  size_t scratch_cap;
  unsigned logged_delay; /* largest retry delay logged since last up */
  int handles;           /* timers not yet closed */
  bool up;
  bool closing;
  drop_log drops[DROP_KINDS];
};

static void link_connect(rlink *l);
static void on_timer(uv_timer_t *t);
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv);

/* ---- helpers ---- */

/* Makes scratch at least n bytes. Returns 0 or NETFW_ENOMEM. */
static int scratch_reserve(netfw__broker *b, size_t n) {
  uint8_t *p;

  if (n <= b->scratch_cap)
    return 0;
  if ((p = realloc(b->scratch, n)) == NULL)
    return NETFW_ENOMEM;
  b->scratch = p;
  b->scratch_cap = n;
  return 0;
}

/* Writes NETFW__BROKER_PREFIX chan into scratch. Returns its length, or 0
 * when out of memory. */
static size_t scratch_key(netfw__broker *b, const uint8_t *chan, size_t len) {
  if (scratch_reserve(b, PREFIX_LEN + len) < 0)
    return 0;
  memcpy(b->scratch, NETFW__BROKER_PREFIX, PREFIX_LEN);
  if (len > 0)
    memcpy(b->scratch + PREFIX_LEN, chan, len);
  return PREFIX_LEN + len;
}

/* Keeps fd out of the workers forked later. */
static void set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);

  if (fd >= 0 && flags >= 0)
    fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

/* ---- state ---- */

/* Recomputes b->up from the links; on a change logs it and tells the
 * owner (the last thing it does: the owner may free the broker). */
static void broker_update(netfw__broker *b, const char *why) {
  bool up = b->pub.up && b->sub.up && !b->closing;

  if (up == b->up || b->closing)
    return;
  b->up = up;
  if (up) {
    b->logged_delay = 0;
    netfw_log(NETFW_LOG_INFO, "bus: redis %s connected", b->name);
  } else {
    netfw_log(NETFW_LOG_WARN, "bus: redis %s connection lost (%s)", b->name,
              why);
  }
  if (b->ev.state != NULL)
    b->ev.state(b->arg, up);
}

/* Schedules the next connect of l after its backoff, and doubles the
 * backoff. Logs "unreachable" once per delay since the broker was last up
 * (quiet once the delay reached its maximum). */
static void link_retry(rlink *l, const char *why, bool log) {
  netfw__broker *b = l->b;
  unsigned delay = l->backoff;

  l->up = l->pong = false;
  l->awaited = 0;
  if (log && delay > b->logged_delay) {
    b->logged_delay = delay;
    netfw_log(NETFW_LOG_WARN,
              "bus: redis %s unreachable (%s); retrying in %u s", b->name, why,
              delay);
  }
  if (l->lost_ms == 0 || netfw__now_ms() - l->lost_ms >= FAST_RETRY_MS)
    l->backoff = delay * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : delay * 2;
  uv_timer_start(&l->timer, on_timer, (uint64_t)delay * 1000, 0);
}

/* Marks l up once its PING and awaited SUBSCRIBEs are answered. */
static void link_check_up(rlink *l) {
  if (l->up || !l->pong || l->awaited > 0)
    return;
  l->up = true;
  l->backoff = BACKOFF_FIRST_S;
  uv_timer_stop(&l->timer);
  broker_update(l->b, "");
}

/* ---- hiredis callbacks ---- */

/* The first PING's answer: the link is up (or Redis refused us). */
static void on_ping(redisAsyncContext *ac, void *reply, void *priv) {
  rlink *l = ac->data;
  redisReply *r = reply;
  char why[128];

  (void)priv;
  if (r == NULL || l->ac != ac || l->b->closing)
    return;
  if (r->type == REDIS_REPLY_ERROR) {
    snprintf(why, sizeof(why), "%s", r->str);
    l->ac = NULL;
    redisAsyncFree(ac); /* deferred by hiredis until we return */
    link_retry(l, why, true);
    return;
  }
  l->pong = true;
  link_check_up(l);
}

/* The TCP connect finished; on failure hiredis frees ac after this. */
static void on_connect(const redisAsyncContext *ac, int status) {
  rlink *l = ac->data;

  if (status == REDIS_OK || l->ac != ac || l->b->closing)
    return;
  l->ac = NULL;
  link_retry(l, ac->c.errstr, true);
}

/* The connection ended; hiredis frees ac after this. */
static void on_disconnect(const redisAsyncContext *ac, int status) {
  rlink *l = ac->data;
  bool was_up = l->up;
  const char *why = status == REDIS_OK ? "closed" : ac->c.errstr;

  if (l->ac != ac || l->b->closing)
    return;
  l->ac = NULL;
  if (was_up)
    l->lost_ms = netfw__now_ms();
  link_retry(l, why, !was_up);
  broker_update(l->b, why);
}

/* A PUBLISH was answered (or its connection went away). */
static void on_published(redisAsyncContext *ac, void *reply, void *priv) {
  rlink *l = ac->data;

  (void)reply;
  l->b->pending -= (size_t)(uintptr_t)priv;
}

/* Drops a message from Redis for reason kind, with a log line at most
 * every DROP_LOG_MS per kind (counting the drops in between). */
static void drop(netfw__broker *b, int kind) {
  static const char *const what[DROP_KINDS] = {
      "shorter than the header", "with a bad magic", "larger than max_payload"};
  drop_log *d = &b->drops[kind];
  uint64_t now = uv_now(b->loop);

  d->count++;
  if (d->logged && now - d->last_ms < DROP_LOG_MS)
    return;
  netfw_log(NETFW_LOG_WARN, "bus: redis %s: dropped %llu message(s) %s",
            b->name, (unsigned long long)d->count, what[kind]);
  d->count = 0;
  d->last_ms = now;
  d->logged = true;
}

/* Checks one message (m: its bytes) and hands it to the owner. */
static void deliver(netfw__broker *b, const uint8_t *chan, size_t chan_len,
                    const redisReply *m) {
  netfw__broker_msg msg;
  int rc;

  if (m->type != REDIS_REPLY_STRING) {
    drop(b, DROP_SHORT);
    return;
  }
  rc = netfw__broker_msg_parse((const uint8_t *)m->str, m->len,
                               b->max_payload, &msg);
  if (rc != 0) {
    drop(b, rc == NETFW_ERANGE  ? DROP_SHORT
            : rc == NETFW_E2BIG ? DROP_LARGE
                                : DROP_MAGIC);
    return;
  }
  if (msg.origin == b->origin)
    return; /* ours: the relay delivered it on this server already */
  if (b->ev.message != NULL)
    b->ev.message(b->arg, chan, chan_len, msg.id, msg.payload, msg.size);
}

/* Every reply on the SUBSCRIBE link: subscribe confirmations and messages
 * ("message", channel, bytes); channels no longer in the set are skipped
 * (their UNSUBSCRIBE may still be on its way). */
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *priv) {
  rlink *l = ac->data;
  netfw__broker *b = l->b;
  redisReply *r = reply, *t, *ch;

  (void)priv;
  if (r == NULL || l->ac != ac || b->closing)
    return;
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
    return;
  t = r->element[0];
  ch = r->element[1];
  if (t->type != REDIS_REPLY_STRING || ch->type != REDIS_REPLY_STRING)
    return;
  if (strcmp(t->str, "subscribe") == 0 && !l->up && l->awaited > 0) {
    l->awaited--;
    link_check_up(l);
    return;
  }
  if (strcmp(t->str, "message") != 0 || ch->len < PREFIX_LEN ||
      memcmp(ch->str, NETFW__BROKER_PREFIX, PREFIX_LEN) != 0)
    return;
  if (netfw__chanmap_get(&b->chans, (const uint8_t *)ch->str + PREFIX_LEN,
                         ch->len - PREFIX_LEN) == NULL)
    return;
  deliver(b, (const uint8_t *)ch->str + PREFIX_LEN, ch->len - PREFIX_LEN,
          r->element[2]);
}

/* ---- links ---- */

/* Sends cmd ("SUBSCRIBE" or "UNSUBSCRIBE") for chan on the SUBSCRIBE
 * link; a SUBSCRIBE sent before the link is up delays up until answered. */
static void send_sub(netfw__broker *b, const char *cmd, const uint8_t *chan,
                     size_t len) {
  rlink *l = &b->sub;
  size_t klen = scratch_key(b, chan, len);
  bool subscribe = cmd[0] == 'S';

  if (klen == 0) {
    netfw_log(NETFW_LOG_ERROR, "bus: redis %s: out of memory for %s", b->name,
              cmd);
    return;
  }
  if (redisAsyncCommand(l->ac, subscribe ? on_sub_reply : NULL, NULL,
                        subscribe ? "SUBSCRIBE %b" : "UNSUBSCRIBE %b",
                        b->scratch, klen) != REDIS_OK)
    return; /* UNSUBSCRIBE with nothing subscribed, or out of memory */
  if (subscribe && !l->up)
    l->awaited++;
}

/* SUBSCRIBEs one channel of the set again (a new SUBSCRIBE link). */
static void resubscribe(void *arg, const uint8_t *chan, size_t len,
                        void *value) {
  (void)value;
  send_sub(arg, "SUBSCRIBE", chan, len);
}

/* Fires while connecting: the connect timed out; while not: retry now. */
static void on_timer(uv_timer_t *t) {
  rlink *l = t->data;
  redisAsyncContext *ac = l->ac;

  if (ac == NULL) {
    link_connect(l);
    return;
  }
  l->ac = NULL;
  redisAsyncFree(ac);
  link_retry(l, "no answer within 2 s", true);
}

/* Starts a connection: PING first, then (SUBSCRIBE link) every channel. */
static void link_connect(rlink *l) {
  netfw__broker *b = l->b;
  redisAsyncContext *ac = redisAsyncConnect(b->ip, b->port);
  char why[128];

  l->up = l->pong = false;
  l->awaited = 0;
  if (ac == NULL || ac->err) {
    snprintf(why, sizeof(why), "%s", ac ? ac->c.errstr : "out of memory");
    if (ac != NULL)
      redisAsyncFree(ac);
    link_retry(l, why, true);
    return;
  }
  set_cloexec(ac->c.fd);
  if (netfw__redis_uv_attach(ac, b->loop, true) < 0) {
    redisAsyncFree(ac);
    link_retry(l, "cannot poll its socket", true);
    return;
  }
  ac->data = l;
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  l->ac = ac;
  redisAsyncCommand(ac, on_ping, NULL, "PING");
  if (l->sub)
    netfw__chanmap_each(&b->chans, resubscribe, b);
  uv_timer_start(&l->timer, on_timer, CONNECT_TIMEOUT_MS, 0);
}

/* Frees the broker once its last timer is closed. */
static void on_timer_closed(uv_handle_t *h) {
  rlink *l = h->data;
  netfw__broker *b = l->b;

  if (--b->handles > 0)
    return;
  netfw__chanmap_free(&b->chans);
  free(b->scratch);
  free(b->ip);
  free(b);
}

/* Disconnects l (no callback reaches the owner) and closes its timer. */
static void link_close(rlink *l) {
  redisAsyncContext *ac = l->ac;

  l->ac = NULL;
  l->up = false;
  if (ac != NULL)
    redisAsyncFree(ac); /* deferred when called from one of its callbacks */
  uv_close((uv_handle_t *)&l->timer, on_timer_closed);
}

/* Sets up l (its timer included) for broker b. */
static void link_init(rlink *l, netfw__broker *b, bool sub) {
  memset(l, 0, sizeof(*l));
  l->b = b;
  l->sub = sub;
  l->backoff = BACKOFF_FIRST_S;
  uv_timer_init(b->loop, &l->timer);
  l->timer.data = l;
  b->handles++;
}

/* ---- the interface ---- */

netfw__broker *netfw__broker_new(uv_loop_t *loop, const char *ip, uint16_t port,
                                 uint64_t origin, size_t max_pending,
                                 uint32_t max_payload,
                                 const netfw__broker_events *ev, void *arg) {
  netfw__broker *b = calloc(1, sizeof(*b));

  if (b == NULL)
    return NULL;
  if ((b->ip = strdup(ip)) == NULL) {
    free(b);
    return NULL;
  }
  if (strchr(ip, ':') != NULL)
    snprintf(b->name, sizeof(b->name), "[%s]:%u", ip, (unsigned)port);
  else
    snprintf(b->name, sizeof(b->name), "%s:%u", ip, (unsigned)port);
  b->loop = loop;
  b->port = port;
  b->origin = origin;
  b->max_pending = max_pending;
  b->max_payload = max_payload;
  b->ev = *ev;
  b->arg = arg;
  netfw__chanmap_init(&b->chans);
  link_init(&b->pub, b, false);
  link_init(&b->sub, b, true);
  link_connect(&b->pub);
  link_connect(&b->sub);
  return b;
}

void netfw__broker_subscribe(netfw__broker *b, const uint8_t *chan,
                             size_t len) {
  if (netfw__chanmap_get(&b->chans, chan, len) != NULL)
    return;
  if (netfw__chanmap_put(&b->chans, chan, len, b) != 0) {
    netfw_log(NETFW_LOG_ERROR, "bus: redis %s: out of memory to subscribe",
              b->name);
    return;
  }
  if (b->sub.ac != NULL)
    send_sub(b, "SUBSCRIBE", chan, len);
}

void netfw__broker_unsubscribe(netfw__broker *b, const uint8_t *chan,
                               size_t len) {
  if (netfw__chanmap_del(&b->chans, chan, len) != NULL && b->sub.ac != NULL)
    send_sub(b, "UNSUBSCRIBE", chan, len);
}

int netfw__broker_publish(netfw__broker *b, const uint8_t *chan,
                          size_t chan_len, uint16_t id, const uint8_t *payload,
                          uint32_t size) {
  size_t klen = PREFIX_LEN + chan_len, mlen = NETFW__BROKER_HDR + size;
  uint8_t *m;

  if (!b->up)
    return NETFW_ENOTCONN;
  if (b->pending > b->max_pending || klen + mlen > b->max_pending - b->pending)
    return NETFW_EAGAIN;
  if (scratch_reserve(b, klen + mlen) < 0 ||
      scratch_key(b, chan, chan_len) == 0)
    return NETFW_ENOMEM;
  m = b->scratch + klen;
  netfw__broker_hdr_pack(m, b->origin, id);
  if (size > 0)
    memcpy(m + NETFW__BROKER_HDR, payload, size);
  if (redisAsyncCommand(b->pub.ac, on_published,
                        (void *)(uintptr_t)(klen + mlen), "PUBLISH %b %b",
                        b->scratch, klen, m, mlen) != REDIS_OK)
    return NETFW_ENOMEM;
  b->pending += klen + mlen;
  return 0;
}

bool netfw__broker_up(const netfw__broker *b) {
  return b->up;
}

void netfw__broker_free(netfw__broker *b) {
  if (b == NULL)
    return;
  b->closing = true;
  b->up = false;
  link_close(&b->pub);
  link_close(&b->sub);
}
