/* The bus tests' kit: two brokers on one loop, a real redis-server, bounded
 * waits and counted log lines (see broker_kit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_kit.h"

/* ---- payloads ---- */

void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

/* ---- broker events ---- */

static void on_message(void *arg, const uint8_t *chan, size_t chan_len,
                       uint16_t id, const uint8_t *payload, uint32_t size) {
  peer *p = arg;
  uint32_t seq;

  if (chan_len == 5 && memcmp(chan, "other", 5) == 0) {
    p->other++;
    return;
  }
  if (chan_len != 4 || memcmp(chan, "room", 4) != 0 || size < SEQ_BYTES) {
    p->bad++;
    return;
  }
  seq = get32(payload);
  if (get64(payload + 4) == p->origin)
    p->own++;
  if (id != (uint16_t)seq)
    p->bad++;
  if (seq != p->next)
    p->out_of_order++;
  p->next = seq + 1;
  p->got++;
  if (p->free_in_message) {
    netfw__broker_free(p->b);
    p->b = NULL;
  }
}

static void on_state(void *arg, bool up) {
  peer *p = arg;

  if (up) {
    p->ups++;
    return;
  }
  p->downs++;
  if (p->free_on_down) {
    netfw__broker_free(p->b);
    p->b = NULL;
  }
}

static const netfw__broker_events events = {on_message, on_state};

/* ---- helpers ---- */

void peer_new(ctx *t, peer *p, uint64_t origin, size_t max_pending) {
  memset(p, 0, sizeof(*p));
  p->origin = origin;
  p->b = netfw__broker_new(&t->loop, "127.0.0.1", t->redis.port, origin,
                           max_pending, MAX_PAYLOAD, &events, p);
  assert_non_null(p->b);
}

void sub(peer *p, const char *chan) {
  netfw__broker_subscribe(p->b, (const uint8_t *)chan, strlen(chan));
}

void unsub(peer *p, const char *chan) {
  netfw__broker_unsubscribe(p->b, (const uint8_t *)chan, strlen(chan));
}

/* Publishes sequence number seq from p on chan, size bytes of payload. */
int pub_size(peer *p, const char *chan, uint32_t seq, uint32_t size) {
  uint8_t buf[256] = {0};

  assert_true(size >= SEQ_BYTES && size <= sizeof(buf));
  put32(buf, seq);
  put64(buf + 4, p->origin);
  return netfw__broker_publish(p->b, (const uint8_t *)chan, strlen(chan),
                               (uint16_t)seq, buf, size);
}

int pub(peer *p, const char *chan, uint32_t seq) {
  return pub_size(p, chan, seq, SEQ_BYTES);
}

static void on_deadline(uv_timer_t *h) {
  ctx *t = h->data;

  t->expired = true;
}

/* Runs the loop until done(t) or ms milliseconds pass (the deadline timer
 * fails the wait). Returns done(t). */
bool run_until(ctx *t, bool (*done)(ctx *), uint64_t ms) {
  t->expired = false;
  uv_update_time(&t->loop);
  uv_timer_start(&t->deadline, on_deadline, ms, 0);
  while (!done(t) && !t->expired)
    uv_run(&t->loop, UV_RUN_ONCE);
  uv_timer_stop(&t->deadline);
  return done(t);
}

bool never(ctx *t) {
  (void)t;
  return false;
}

bool both_up(ctx *t) {
  return netfw__broker_up(t->a.b) && netfw__broker_up(t->b.b);
}

bool both_down(ctx *t) {
  return t->a.downs > 0 && t->b.downs > 0;
}

/* Milliseconds on the loop's clock. */
uint64_t now_ms(ctx *t) {
  uv_update_time(&t->loop);
  return uv_now(&t->loop);
}

/* A synchronous client of the fixture's server (for raw PUBLISH and
 * PUBSUB checks). */
redisReply *command(ctx *t, const char *fmt, ...) {
  redisContext *c = redisConnect("127.0.0.1", t->redis.port);
  redisReply *r;
  va_list ap;

  assert_non_null(c);
  assert_int_equal(c->err, 0);
  va_start(ap, fmt);
  r = redisvCommand(c, fmt, ap);
  va_end(ap);
  redisFree(c);
  assert_non_null(r);
  return r;
}

/* Subscribers Redis counts on the bus channel chan. */
long long numsub(ctx *t, const char *chan) {
  redisReply *r = command(t, "PUBSUB NUMSUB %s%s", NETFW__BROKER_PREFIX, chan);
  long long n;

  assert_int_equal(r->type, REDIS_REPLY_ARRAY);
  assert_int_equal(r->elements, 2);
  n = r->element[1]->integer;
  freeReplyObject(r);
  return n;
}

/* Counts the broker's connection log lines (and still prints them). */
static void log_sink(netfw_log_level level, const char *line, void *arg) {
  log_count *c = arg;

  (void)level;
  fprintf(stderr, "%s\n", line);
  if (strstr(line, "unreachable") != NULL)
    c->unreachable++;
  if (strstr(line, " connected") != NULL)
    c->connected++;
  if (strstr(line, "connection lost") != NULL)
    c->lost++;
  if (strstr(line, "dropped") != NULL)
    c->dropped++;
}

/* ---- fixtures ---- */

static int setup_common(void **state, bool start_redis) {
  ctx *t = calloc(1, sizeof(*t));

  if (t == NULL || uv_loop_init(&t->loop) != 0) {
    free(t);
    return -1;
  }
  uv_timer_init(&t->loop, &t->deadline);
  t->deadline.data = t;
  netfw_log_set_sink(log_sink, &t->logs);
  *state = t;
  if (start_redis && redis_fixture_start(&t->redis, 0) != 0)
    goto failed_redis;
  if (!start_redis && (t->redis.port = redis_fixture_free_port()) == 0)
    goto failed_redis;
  return 0;

failed_redis: /* cmocka calls no teardown when setup fails */
  teardown(state);
  return -1;
}

int setup(void **state) {
  return setup_common(state, true);
}

int setup_no_redis(void **state) {
  return setup_common(state, false);
}

/* Closes h unless it is closed or closing already. */
void close_once(uv_handle_t *h) {
  if (h->loop != NULL && !uv_is_closing(h))
    uv_close(h, NULL);
}

/* Runs the loop until no handle is left (at most 5 s: then lists them). */
static int drain(ctx *t) {
  uint64_t end = now_ms(t) + 5000;

  while (uv_loop_alive(&t->loop) && now_ms(t) < end) {
    uv_run(&t->loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  if (!uv_loop_alive(&t->loop))
    return 0;
  fprintf(stderr, "handles left on the loop:\n");
  uv_print_all_handles(&t->loop, stderr);
  return -1;
}

int teardown(void **state) {
  ctx *t = *state;
  int rc;

  if (t->a.b != NULL)
    netfw__broker_free(t->a.b);
  if (t->b.b != NULL)
    netfw__broker_free(t->b.b);
  close_once((uv_handle_t *)&t->deadline);
  close_once((uv_handle_t *)&t->mute);
  for (int i = 0; i < t->n_accepted; i++)
    close_once((uv_handle_t *)&t->accepted[i]);
  rc = drain(t); /* no broker handle may be left behind */
  netfw_log_set_sink(NULL, NULL);
  if (rc == 0)
    rc = uv_loop_close(&t->loop);
  redis_fixture_stop(&t->redis);
  free(t);
  return rc == 0 ? 0 : -1;
}

/* Both peers on "room", both up. */
void start_pair(ctx *t, size_t b_pending) {
  peer_new(t, &t->a, ORIGIN_A, BIG_PENDING);
  peer_new(t, &t->b, ORIGIN_B, b_pending);
  sub(&t->a, "room");
  assert_true(run_until(t, both_up, 3000));
  assert_int_equal(t->a.ups, 1);
  assert_int_equal(t->b.ups, 1);
}
