/* Kit of test_bus_redis: a raw-frame pub/sub server app (bus_redis_app.c)
 * for netfw servers joined by a real Redis, and a poll-driven test client
 * (bus_redis_kit.c) that counts what every subscriber connection receives
 * (per publisher: count, order, probes, fences). Every wait is a poll loop
 * with a deadline. */
#ifndef NETFW_TESTS_BUS_REDIS_KIT_H
#define NETFW_TESTS_BUS_REDIS_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netfw/netfw.h>

#include "redis_fixture.h"

/* Frame ids between the test client and the app. */
enum {
  K_SUB = 0x10,    /* c->s: channel bytes; subscribe this connection      */
  K_ACK = 0x11,    /* s->c: u32 pid, i32 netfw_bus_subscribe code         */
  K_PUB = 0x12,    /* c->s: u8 len, channel, body (see below)             */
  K_RC = 0x13,     /* s->c: i32 non-zero netfw_bus_publish code           */
  K_PING = 0x14,   /* c->s: empty                                         */
  K_PONG = 0x15,   /* s->c: u32 pid, u32 1 if the broker is up (stats)   */
  K_BUSMSG = 0x16  /* bus message id and s->c delivery: the body          */
};

/* Body of a published message: u32 pub, u32 seq, u32 kind, u32 tag, pad. */
enum { KIND_DATA = 0, KIND_PROBE = 1, KIND_FENCE = 2 };

#define KIT_CHANNEL "room:redis"
#define KIT_PAD 48
#define KIT_NPUB 4
#define KIT_MAXSUB 96

/* One client connection: a subscriber or a publisher. */
typedef struct kconn {
  int fd;
  int srv;      /* index of the server it is connected to */
  uint32_t pid; /* the worker serving it                  */
  uint8_t *in;
  size_t len, cap;
  /* as a subscriber, per publisher id */
  uint64_t got[KIT_NPUB];  /* data messages                        */
  uint64_t base[KIT_NPUB]; /* got[] at the start of a round        */
  uint32_t last[KIT_NPUB]; /* last data seq + 1 (0: none yet)      */
  uint32_t probe[KIT_NPUB];/* last probe tag seen                  */
  uint32_t fence[KIT_NPUB];/* last fence tag seen                  */
  uint64_t bad;            /* out of order, duplicate or malformed */
  /* as a publisher */
  uint32_t seq;            /* next data seq                        */
  uint32_t rcs;            /* K_RC frames with NETFW_ENOTCONN      */
  uint32_t rc_other;       /* K_RC frames with any other code      */
  uint32_t pongs;
} kconn;

/* One test's world: Redis, two servers, their client connections. */
typedef struct kenv {
  redis_fixture redis;
  char url[64];
  netfw_server *srv[2];
  uint16_t port[2];
  uint32_t wpid[2][2]; /* the worker pids seen per server */
  kconn subs[KIT_MAXSUB];
  int nsubs;
  kconn pubs[KIT_NPUB]; /* pubs[i] publishes as publisher id i */
  int npubs;
  uint32_t tag; /* last probe/fence tag used */
} kenv;

/* The test app (raw frames, no generated code). */
extern const netfw_app kit_app;

/* Allocates a zeroed env (all fds -1); NULL on failure. */
kenv *kit_new(void);

/* Closes every connection, stops and frees both servers, stops Redis. */
void kit_free(kenv *e);

/* Sets e->url to redis://127.0.0.1:port. */
void kit_set_url(kenv *e, uint16_t port);

/* Starts server i (2 workers, 127.0.0.1, port 0, bus_url e->url); returns
 * netfw_server_start's code. */
int kit_server_start(kenv *e, int i);

/* Connects subscribers to server i until both its workers hold at least
 * min each (at most 40 connections); returns false if that fails. */
bool kit_add_subscribers(kenv *e, int i, int min);

/* Polls a worker of server i (PING every 20 ms) until it reports the broker
 * up; false after timeout_ms. */
bool kit_wait_broker(kenv *e, int i, int timeout_ms);

/* Adds a publisher on server i, preferring a worker the server's other
 * publishers do not use; returns false on failure. */
bool kit_add_publisher(kenv *e, int i);

/* Polls every connection once for up to timeout_ms and handles what came. */
void kit_pump(kenv *e, int timeout_ms);

/* Pumps until pred(e, arg) holds or timeout_ms passes; returns pred's value. */
bool kit_wait(kenv *e, bool (*pred)(kenv *, const void *), const void *arg,
              int timeout_ms);

/* Publisher p sends one message of the kind (data: the next seq). */
void kit_publish(kenv *e, int p, uint32_t kind, uint32_t tag);

/* Sends n data messages from every publisher in mask (bit p), interleaved,
 * pumping as it goes. */
void kit_publish_round(kenv *e, unsigned mask, uint32_t n);

/* PING every publisher and wait for its PONG (everything the app replied
 * before it, K_RC frames included, has then been counted). */
bool kit_sync_pubs(kenv *e, int timeout_ms);

/* Snapshots every subscriber's got[] into base[]. */
void kit_mark(kenv *e);

/* Waits until every subscriber of server srv (-1: all) got at least n data
 * messages from every publisher in mask since kit_mark; false on timeout. */
bool kit_wait_round(kenv *e, int srv, unsigned mask, uint64_t n, int ms);

/* Probes from every publisher until every subscriber saw one from each, and
 * the last probes drew no K_RC; then resets the K_RC counts. */
bool kit_warmup(kenv *e, int timeout_ms);

/* Fence A, B, A (the first publisher of each server): when it returns true, every copy of every
 * earlier message, through Redis or not, has reached the subscribers. */
bool kit_fence(kenv *e, int timeout_ms);

/* Number of subscribers of server i on worker pid. */
int kit_subs_on(const kenv *e, int i, uint32_t pid);

/* Milliseconds on the monotonic clock. */
uint64_t kit_now_ms(void);

#endif /* NETFW_TESTS_BUS_REDIS_KIT_H */
