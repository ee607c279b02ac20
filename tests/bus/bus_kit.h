/* The bus tests' kit: a test app speaking a small protocol over raw netfw
 * frames (subscribe a connection, publish, report), the shared board its
 * workers write to (mmap'ed MAP_SHARED before the fork), and a buffered
 * blocking client for it. */
#ifndef NETFW_TEST_BUS_KIT_H
#define NETFW_TEST_BUS_KIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/bus.h"
#include "netfw/netfw.h"

/* Request ids (client -> worker); every reply has the request's id. */
enum {
  B_WHO = 0x7201,   /* -> u32 pid, u32 slot                               */
  B_SUB = 0x7202,   /* channel -> u32 pid, i32 rc, u32 slot               */
  B_UNSUB = 0x7203, /* channel -> i32 rc, u8 still subscribed (bus view) */
  B_PUB = 0x7204,   /* kit_pub -> u32 seq, i32 rc (count 1), or
                       u32 published, u32 eagain retries, u64 ns (count>1) */
  B_TRY = 0x7205,   /* u8 op, u32 flags, u32 size, channel -> i32 rc      */
  B_STATS = 0x7206, /* -> i32 rc, u64 published, delivered, dropped_out,
                       dropped_in, broker_failed                          */
  B_BLOCK = 0x7207, /* u32 ms: block the loop until board->release or ms;
                       -> u32 ms blocked                                  */
  B_MSG = 0x7210    /* worker -> subscriber: u16 bus id, u8 channel length,
                       channel, the bus message's payload                 */
};

/* B_TRY operations. */
enum {
  TRY_PUBLISH = 1,
  TRY_SUBSCRIBE,
  TRY_UNSUBSCRIBE,
  TRY_STATS_NULL,
  TRY_SUBSCRIBED,    /* -> netfw_bus_subscribed (1 or 0)                  */
  TRY_SUBSCRIBE_N,   /* size channels "<channel><i>": first failure or 0  */
  TRY_UNSUBSCRIBE_N, /* the same, unsubscribed                           */
  TRY_RESUBSCRIBE    /* unsubscribe then subscribe again in one callback;
                        the slot's mark takes by_id[0] at that moment      */
};

/* Bus message ids the tests publish with; the board counts each. */
#define BUS_ID0 0x7300
#define BUS_IDS 8

/* The payload of a bus message: u32 publisher, u32 seq, u64 ns (CLOCK_
 * MONOTONIC at publish), then pad bytes, pad[i] = (uint8_t)(seq + i). */
#define BUS_HDR 16

/* B_PUB's request: u8 flags, u8 channel length, u16 bus id, u32 publisher,
 * u32 seq (of the first), u32 pad, u32 count, channel. count 1 publishes
 * at once; count > 1 publishes seq..seq+count-1 over loop iterations
 * (batch per iteration, retrying EAGAIN on the next one) and replies once. */
#define PUB_REQ_HDR 20

/* What one worker process did; found by pid. */
typedef struct wslot {
  atomic_int pid;
  atomic_llong on_bus;           /* on_bus calls                         */
  atomic_llong by_id[BUS_IDS];   /* on_bus calls per BUS_ID0 + i         */
  atomic_int create_sub_rc;      /* create()'s netfw_bus_subscribe rc    */
  atomic_llong last_probe;       /* 1 + seq of the last BUS_ID0 + 1 seen */
  atomic_llong mark;             /* by_id[0] at TRY_RESUBSCRIBE          */
} wslot;

#define BOARD_SLOTS 64

typedef struct bboard {
  atomic_int creates;
  atomic_int destroys;
  atomic_int nslots;
  wslot slot[BOARD_SLOTS];
  char create_channel[64]; /* non-empty: create() subscribes to it      */
  atomic_int blocked;      /* a worker is inside B_BLOCK                */
  atomic_int release;      /* ends B_BLOCK                              */
  atomic_int pub_batch;    /* messages per loop iteration (default 64)  */
  atomic_int forward_errors; /* netfw_conn_send failures in on_bus      */
  atomic_int unsubscribed_calls; /* on_bus for a channel the worker is not
                                    subscribed to (never expected)       */
} bboard;

extern const netfw_app busapp;

bboard *bboard_new(void);
void bboard_free(bboard *b);
/* The slot of pid, or NULL. */
wslot *bboard_find(bboard *b, int pid);

/* A blocking connection with a read buffer. */
typedef struct kconn {
  int fd;
  uint32_t pid;  /* worker, after kc_who / kc_sub */
  uint32_t slot;
  uint8_t *buf;
  size_t len, off, cap;
} kconn;

/* One received frame; payload valid until the next kc_recv. */
typedef struct kframe {
  uint16_t id;
  uint32_t size;
  const uint8_t *p;
} kframe;

int kc_open(kconn *c, uint16_t port); /* 0 or -1 */
void kc_close(kconn *c);
int kc_send(kconn *c, uint16_t id, const void *p, uint32_t n); /* 0 / -1 */
/* 1 frame, 0 EOF, -1 timeout, -2 error. */
int kc_recv(kconn *c, kframe *f, int timeout_ms);
/* Receives frames until one has this id (others: B_MSG counted in
 * *skipped when not NULL, anything else fails). 1, or what kc_recv said. */
int kc_expect(kconn *c, uint16_t id, kframe *f, int timeout_ms, int *skipped);
/* B_WHO: fills c->pid, c->slot. 0 or -1. */
int kc_who(kconn *c);
/* B_SUB / B_UNSUB: returns the rc the worker got (or -100 on I/O). */
int kc_sub(kconn *c, const char *channel);
int kc_unsub(kconn *c, const char *channel, int *still);
/* Sends one B_PUB request (no wait). */
int kc_pub_send(kconn *c, const char *channel, unsigned flags, uint16_t busid,
                uint32_t pub, uint32_t seq, uint32_t pad, uint32_t count);
/* B_TRY: the rc the worker got. */
int kc_try(kconn *c, int op, const char *channel, unsigned flags,
           uint32_t size);
/* B_STATS into *st; returns the rc (or -100). */
int kc_stats(kconn *c, netfw_bus_stats *st);

/* A decoded B_MSG. */
typedef struct kmsg {
  uint16_t busid;
  char channel[NETFW_BUS_CHANNEL_MAX + 1];
  uint32_t pub, seq;
  uint64_t ns;
  uint32_t pad;
  int pad_ok;
} kmsg;
int kc_decode(const kframe *f, kmsg *m); /* 0 or -1 */

/* Opens connections to port until per_worker of them sit on each of
 * workers distinct workers (extras held open meanwhile, then closed), at
 * most max_tries connections. Fills out[workers * per_worker], grouped by
 * worker (out[w * per_worker + i]). 0 or -1. */
int kc_spread(uint16_t port, int workers, int per_worker, kconn *out,
              int max_tries);

/* Milliseconds / nanoseconds on CLOCK_MONOTONIC. */
uint64_t kit_ms(void);
uint64_t kit_ns(void);
/* Resident set of a process (0: self) in KiB, or 0. */
long kit_rss_kib(int pid);

#endif /* NETFW_TEST_BUS_KIT_H */
