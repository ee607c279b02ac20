/* The bus tests' kit: a context with a loop, a real redis-server
 * (redis_fixture.h) and two peers, each a broker with counters fed by its
 * events; bounded waits (run_until: a uv timer ends the wait, the test then
 * fails its assertion); a synchronous hiredis client for raw commands; the
 * broker's log lines counted. */
#ifndef NETFW_TESTS_BUS_BROKER_KIT_H
#define NETFW_TESTS_BUS_BROKER_KIT_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <uv.h>

#include "broker.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "redis_fixture.h"

#define ORIGIN_A 0x1111111111111111ull
#define ORIGIN_B 0x2222222222222222ull
#define ORIGIN_X 0x3333333333333333ull
#define BIG_PENDING ((size_t)64 << 20)
#define MAX_PAYLOAD 4096u
#define SEQ_BYTES 12 /* payload: sequence number u32, sender origin u64 */

typedef struct peer {
  netfw__broker *b;
  uint64_t origin;
  uint32_t got;          /* messages on "room" */
  uint32_t next;         /* the sequence number expected next on "room" */
  uint32_t out_of_order; /* "room" messages not numbered next */
  uint32_t bad;          /* wrong id or payload shape */
  uint32_t own;          /* messages this peer sent itself */
  uint32_t other;        /* messages on "other" */
  uint32_t ups, downs;   /* state events */
  bool free_in_message;  /* free the broker from the message callback */
  bool free_on_down;     /* free the broker from state(false) */
} peer;

/* The log lines seen, by what they say. */
typedef struct log_count {
  int unreachable, connected, lost, dropped;
} log_count;

typedef struct ctx {
  uv_loop_t loop;
  uv_timer_t deadline;
  bool expired;
  uint32_t want;
  redis_fixture redis;
  peer a, b;
  log_count logs;
  uv_tcp_t mute;         /* a listener that never answers */
  uv_tcp_t accepted[16]; /* its connections */
  int n_accepted;
} ctx;

/* Writes a little-endian u32 / u64. */
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);

/* Makes p a broker of origin on t's loop and redis port ("room" messages
 * carry a sequence number and the sender's origin: see on_message). */
void peer_new(ctx *t, peer *p, uint64_t origin, size_t max_pending);

/* Subscribes / unsubscribes p on chan. */
void sub(peer *p, const char *chan);
void unsub(peer *p, const char *chan);

/* Publishes sequence number seq (id seq & 0xffff) from p on chan, with
 * size bytes of payload (SEQ_BYTES..256). Returns what the broker did. */
int pub_size(peer *p, const char *chan, uint32_t seq, uint32_t size);
int pub(peer *p, const char *chan, uint32_t seq);

/* Runs the loop until done(t) or ms pass. Returns done(t). */
bool run_until(ctx *t, bool (*done)(ctx *), uint64_t ms);

/* Predicates for run_until. */
bool never(ctx *t);
bool both_up(ctx *t);
bool both_down(ctx *t);

/* Milliseconds on the loop's clock (updated). */
uint64_t now_ms(ctx *t);

/* Runs one command on the fixture's server (a new connection); the reply
 * is the caller's (freeReplyObject). */
redisReply *command(ctx *t, const char *fmt, ...);

/* Subscribers Redis counts on the bus channel chan. */
long long numsub(ctx *t, const char *chan);

/* Closes h unless it is closed or closing already. */
void close_once(uv_handle_t *h);

/* cmocka fixtures: a context with redis-server running (setup) or only a
 * free port for it (setup_no_redis); teardown frees the brokers, fails when
 * a handle stays on the loop, and stops the server. */
int setup(void **state);
int setup_no_redis(void **state);
int teardown(void **state);

/* Peers a (BIG_PENDING) and b (b_pending) up, a subscribed to "room". */
void start_pair(ctx *t, size_t b_pending);

#endif /* NETFW_TESTS_BUS_BROKER_KIT_H */
