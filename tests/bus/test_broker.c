/* The Redis broker (runtime/bus/redis.c) against a real redis-server: two
 * brokers with different origins on one loop, the way two servers share a
 * Redis. Every wait is bounded by a uv timer (run_until); counts and order
 * are exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "broker_kit.h"

/* Predicates for run_until. */
static bool a_got_want(ctx *t) {
  return t->a.got >= t->want;
}

static bool a_other(ctx *t) {
  return t->a.other >= 1;
}

static bool b_got_want(ctx *t) {
  return t->b.got >= t->want;
}

/* ---- tests ---- */

/* (a) 10000 messages from B reach A exactly once, in order; B, subscribed
 * too, gets none of its own (only A's marker after them). */
static void test_broker_pubsub_10000_in_order(void **state) {
  ctx *t = *state;
  uint32_t i;

  peer_new(t, &t->a, ORIGIN_A, BIG_PENDING);
  peer_new(t, &t->b, ORIGIN_B, BIG_PENDING);
  sub(&t->a, "room");
  sub(&t->b, "room");
  assert_true(run_until(t, both_up, 3000));
  for (i = 0; i < 10000; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 10000;
  assert_true(run_until(t, a_got_want, 30000));
  /* A's marker reaches B after all of B's own messages did. */
  t->b.next = 777;
  assert_int_equal(pub(&t->a, "room", 777), 0);
  t->want = 1;
  assert_true(run_until(t, b_got_want, 5000));
  run_until(t, never, 100);
  assert_int_equal(t->a.got, 10000);
  assert_int_equal(t->a.next, 10000);
  assert_int_equal(t->a.out_of_order, 0);
  assert_int_equal(t->a.own, 0);
  assert_int_equal(t->a.bad, 0);
  assert_int_equal(t->b.got, 1);
  assert_int_equal(t->b.own, 0);
  assert_int_equal(t->b.out_of_order, 0);
  assert_int_equal(t->b.bad, 0);
}

/* (b) No Redis at start: ENOTCONN and down; Redis starts: up within 2.5 s
 * (the subscription made while down is sent on connect) and messages flow. */
static void test_broker_redis_starts_later(void **state) {
  ctx *t = *state;
  uint64_t t0;
  uint32_t i;

  peer_new(t, &t->a, ORIGIN_A, BIG_PENDING);
  peer_new(t, &t->b, ORIGIN_B, BIG_PENDING);
  sub(&t->a, "room");
  assert_int_equal(pub(&t->b, "room", 0), NETFW_ENOTCONN);
  run_until(t, never, 300);
  assert_false(netfw__broker_up(t->a.b));
  assert_false(netfw__broker_up(t->b.b));
  assert_int_equal(pub(&t->b, "room", 0), NETFW_ENOTCONN);
  assert_int_equal(t->a.ups + t->b.ups, 0);
  assert_int_equal(t->logs.unreachable, 2); /* one per broker, not per link */

  assert_int_equal(redis_fixture_start(&t->redis, t->redis.port), 0);
  t0 = now_ms(t);
  assert_true(run_until(t, both_up, 2500));
  assert_true(now_ms(t) - t0 <= 2500);
  assert_int_equal(t->a.ups, 1);
  assert_int_equal(t->b.ups, 1);
  for (i = 0; i < 10; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 10;
  assert_true(run_until(t, a_got_want, 5000));
  run_until(t, never, 50);
  assert_int_equal(t->a.got, 10);
  assert_int_equal(t->a.out_of_order, 0);
  assert_int_equal(t->logs.unreachable, 2);
  assert_int_equal(t->logs.connected, 2);
}

/* (c) Redis killed: down soon, ENOTCONN; restarted on the same port: up
 * again and the same subscription delivers within 2 s of the restart. */
static void test_broker_redis_restart_resubscribes(void **state) {
  ctx *t = *state;
  uint64_t t0;
  uint32_t i;

  start_pair(t, BIG_PENDING);
  for (i = 0; i < 100; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 100;
  assert_true(run_until(t, a_got_want, 5000));

  redis_fixture_kill(&t->redis);
  assert_true(run_until(t, both_down, 2000));
  assert_int_equal(t->a.downs, 1);
  assert_int_equal(t->b.downs, 1);
  assert_false(netfw__broker_up(t->b.b));
  assert_int_equal(pub(&t->b, "room", 100), NETFW_ENOTCONN);

  assert_int_equal(redis_fixture_restart(&t->redis), 0);
  t0 = now_ms(t);
  assert_true(run_until(t, both_up, 2000));
  for (i = 100; i < 200; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 200;
  assert_true(now_ms(t) - t0 < 2000);
  assert_true(run_until(t, a_got_want, 2000 - (now_ms(t) - t0)));
  run_until(t, never, 50);
  assert_int_equal(t->a.got, 200);
  assert_int_equal(t->a.out_of_order, 0);
  assert_int_equal(t->a.ups, 2);
  assert_int_equal(t->b.ups, 2);
}

/* (d) A small max_pending: publishing without running the loop fills it
 * (EAGAIN); once Redis answered, publishing works again. */
static void test_broker_max_pending_eagain(void **state) {
  ctx *t = *state;
  uint32_t ok = 0, full = 0, i;
  int rc;

  start_pair(t, 1000);
  for (i = 0; i < 50; i++) {
    rc = pub_size(&t->b, "room", ok, 100);
    if (rc == 0) {
      assert_int_equal(full, 0); /* no success after the first EAGAIN */
      ok++;
    } else {
      assert_int_equal(rc, NETFW_EAGAIN);
      full++;
    }
  }
  /* each costs prefix 10 + "room" 4 + header 14 + 100 = 128 bytes */
  assert_int_equal(ok, 1000 / 128);
  assert_int_equal(full, 50 - ok);
  t->want = ok;
  assert_true(run_until(t, a_got_want, 5000));
  run_until(t, never, 50); /* the PUBLISH replies */
  assert_int_equal(pub_size(&t->b, "room", ok, 100), 0);
  t->want = ok + 1;
  assert_true(run_until(t, a_got_want, 5000));
  assert_int_equal(t->a.got, ok + 1);
  assert_int_equal(t->a.out_of_order, 0);
}

static bool numsub_room_zero(ctx *t) {
  return numsub(t, "room") == 0;
}

/* (e) Unsubscribe stops delivery at once, and Redis drops the
 * subscription. */
static void test_broker_unsubscribe_stops_delivery(void **state) {
  ctx *t = *state;
  uint32_t i;

  peer_new(t, &t->a, ORIGIN_A, BIG_PENDING);
  peer_new(t, &t->b, ORIGIN_B, BIG_PENDING);
  sub(&t->a, "room");
  sub(&t->a, "other");
  sub(&t->a, "room"); /* idempotent */
  assert_true(run_until(t, both_up, 3000));
  assert_int_equal(numsub(t, "room"), 1);
  for (i = 0; i < 10; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 10;
  assert_true(run_until(t, a_got_want, 5000));

  unsub(&t->a, "room");
  unsub(&t->a, "never-subscribed"); /* no-op */
  for (i = 10; i < 20; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  assert_int_equal(pub(&t->b, "other", 0), 0);
  assert_true(run_until(t, a_other, 5000));
  assert_true(run_until(t, numsub_room_zero, 2000));
  assert_int_equal(t->a.got, 10);
  assert_int_equal(t->a.other, 1);
  assert_int_equal(numsub(t, "other"), 1);
}

/* Malformed messages on Redis are dropped (too short, bad magic, too
 * large), the own-origin one silently; a good one after them arrives. */
static void test_broker_drops_malformed(void **state) {
  ctx *t = *state;
  uint8_t m[NETFW__BROKER_HDR + MAX_PAYLOAD + 1] = {0};
  const char *key = NETFW__BROKER_PREFIX "room";
  size_t good = NETFW__BROKER_HDR + SEQ_BYTES;

  peer_new(t, &t->a, ORIGIN_A, BIG_PENDING);
  peer_new(t, &t->b, ORIGIN_B, BIG_PENDING);
  sub(&t->a, "room");
  assert_true(run_until(t, both_up, 3000));
  memcpy(m, NETFW__BROKER_MAGIC, 4);
  put64(m + 4, ORIGIN_X);
  put64(m + NETFW__BROKER_HDR + 4, ORIGIN_X);
  freeReplyObject(command(t, "PUBLISH %s %b", key, m, (size_t)3));
  freeReplyObject(
      command(t, "PUBLISH %s %b", key, m, (size_t)NETFW__BROKER_HDR - 1));
  freeReplyObject(command(t, "PUBLISH %s %b", key, m, sizeof(m)));
  for (int i = 0; i < 5; i++) /* counted, not logged (one line per 10 s) */
    freeReplyObject(command(t, "PUBLISH %s %b", key, m, (size_t)3));
  put64(m + 4, ORIGIN_A); /* A's own */
  freeReplyObject(command(t, "PUBLISH %s %b", key, m, good));
  memcpy(m, "NFB0", 4); /* bad magic */
  put64(m + 4, ORIGIN_X);
  freeReplyObject(command(t, "PUBLISH %s %b", key, m, good));
  memcpy(m, NETFW__BROKER_MAGIC, 4); /* good, payload exactly the max */
  freeReplyObject(command(t, "PUBLISH %s %b", key, m,
                          (size_t)NETFW__BROKER_HDR + MAX_PAYLOAD));
  t->want = 1;
  assert_true(run_until(t, a_got_want, 5000));
  run_until(t, never, 50);
  assert_int_equal(t->a.got, 1);
  assert_int_equal(t->a.bad, 0);
  assert_int_equal(t->a.out_of_order, 0);
  assert_int_equal(t->logs.dropped, 3); /* short, large, magic: once each */
}

/* Freeing the broker from its own message and state callbacks: no event
 * afterwards, nothing leaked or touched after free (ASan, valgrind). */
static void test_broker_free_from_callbacks(void **state) {
  ctx *t = *state;
  uint32_t i;

  start_pair(t, BIG_PENDING);
  t->a.free_in_message = true;
  for (i = 0; i < 5; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 1;
  assert_true(run_until(t, a_got_want, 5000));
  run_until(t, never, 100);
  assert_null(t->a.b);
  assert_int_equal(t->a.got, 1);

  t->b.free_on_down = true;
  redis_fixture_kill(&t->redis);
  run_until(t, never, 300);
  assert_null(t->b.b);
  assert_int_equal(t->b.downs, 1);
}

static bool a_down(ctx *t) {
  return t->a.downs >= 1;
}

static bool a_up(ctx *t) {
  return t->a.b != NULL && netfw__broker_up(t->a.b);
}

/* Only A's SUBSCRIBE connection is closed by Redis (CLIENT KILL): A goes
 * down, B stays up; A reconnects, resubscribes, and delivery resumes. */
static void test_broker_one_connection_lost(void **state) {
  ctx *t = *state;
  uint64_t t0;
  uint32_t i;

  start_pair(t, BIG_PENDING);
  assert_int_equal(pub(&t->b, "room", 0), 0);
  t->want = 1;
  assert_true(run_until(t, a_got_want, 5000));
  freeReplyObject(command(t, "CLIENT KILL TYPE pubsub"));
  t0 = now_ms(t);
  assert_true(run_until(t, a_down, 2000));
  assert_false(netfw__broker_up(t->a.b));
  assert_int_equal(pub(&t->a, "room", 0), NETFW_ENOTCONN);
  assert_true(run_until(t, a_up, 2500));
  assert_true(now_ms(t) - t0 >= 900); /* the 1 s backoff */
  for (i = 1; i < 11; i++)
    assert_int_equal(pub(&t->b, "room", i), 0);
  t->want = 11;
  assert_true(run_until(t, a_got_want, 2000));
  run_until(t, never, 50);
  assert_int_equal(t->a.got, 11);
  assert_int_equal(t->a.out_of_order, 0);
  assert_int_equal(t->a.downs, 1);
  assert_int_equal(t->a.ups, 2);
  assert_int_equal(t->b.downs, 0);
  assert_int_equal(t->b.ups, 1);
}

/* Counts the sockets connected to port, and those without FD_CLOEXEC. */
static void count_sockets(uint16_t port, int *n, int *inheritable) {
  for (int fd = 0; fd < 1024; fd++) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    if (getpeername(fd, (struct sockaddr *)&a, &len) != 0 ||
        a.sin_family != AF_INET || ntohs(a.sin_port) != port)
      continue;
    (*n)++;
    if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
      (*inheritable)++;
  }
}

/* The Redis sockets are not inherited by the workers forked later. */
static void test_broker_sockets_cloexec(void **state) {
  ctx *t = *state;
  int n = 0, inheritable = 0;

  start_pair(t, BIG_PENDING);
  count_sockets(t->redis.port, &n, &inheritable);
  assert_int_equal(n, 4); /* two brokers, two connections each */
  assert_int_equal(inheritable, 0);
}

static void on_mute_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  (void)buf;
  if (nread < 0)
    close_once((uv_handle_t *)s); /* the broker gave up on it */
}

static void on_mute_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  static char b[64];

  (void)h;
  (void)hint;
  *buf = uv_buf_init(b, sizeof(b));
}

/* Accepts and keeps every connection, never answering. */
static void on_mute_conn(uv_stream_t *server, int status) {
  ctx *t = server->data;
  uv_tcp_t *c = &t->accepted[t->n_accepted];

  if (status < 0 || t->n_accepted == 16)
    return;
  uv_tcp_init(&t->loop, c);
  t->n_accepted++;
  if (uv_accept(server, (uv_stream_t *)c) == 0)
    uv_read_start((uv_stream_t *)c, on_mute_alloc, on_mute_read);
}

static bool four_accepted(ctx *t) {
  return t->n_accepted >= 4;
}

/* A server that accepts but never answers PING: each connection is given
 * up after 2 s and retried 1 s later; never up. */
static void test_broker_connect_timeout(void **state) {
  ctx *t = *state;
  struct sockaddr_in a;
  uint64_t t0;

  uv_ip4_addr("127.0.0.1", t->redis.port, &a);
  assert_int_equal(uv_tcp_init(&t->loop, &t->mute), 0);
  t->mute.data = t;
  assert_int_equal(uv_tcp_bind(&t->mute, (struct sockaddr *)&a, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&t->mute, 16, on_mute_conn), 0);
  t0 = now_ms(t);
  peer_new(t, &t->a, ORIGIN_A, BIG_PENDING);
  run_until(t, never, 1900);
  assert_int_equal(t->n_accepted, 2);
  assert_int_equal(t->logs.unreachable, 0);
  assert_true(run_until(t, four_accepted, 2000));
  assert_true(now_ms(t) - t0 >= 2900);
  assert_int_equal(t->n_accepted, 4);
  assert_int_equal(t->logs.unreachable, 1); /* "retrying in 1 s", once */
  assert_false(netfw__broker_up(t->a.b));
  assert_int_equal(pub(&t->a, "room", 0), NETFW_ENOTCONN);
  assert_int_equal(t->a.ups + t->a.downs, 0);
}

/* (f) redis:// URLs. */
static void test_broker_parse_url(void **state) {
  char host[64];
  uint16_t port = 0;

  (void)state;
  assert_int_equal(netfw__broker_parse_url("redis://10.0.0.5:6380", host,
                                           sizeof(host), &port),
                   0);
  assert_string_equal(host, "10.0.0.5");
  assert_int_equal(port, 6380);
  assert_int_equal(netfw__broker_parse_url("redis://cache.example-1.net", host,
                                           sizeof(host), &port),
                   0);
  assert_string_equal(host, "cache.example-1.net");
  assert_int_equal(port, 6379);
  assert_int_equal(
      netfw__broker_parse_url("redis://[::1]:7000", host, sizeof(host), &port),
      0);
  assert_string_equal(host, "::1");
  assert_int_equal(port, 7000);
  assert_int_equal(netfw__broker_parse_url("redis://[fe80::1%eth0]", host,
                                           sizeof(host), &port),
                   0);
  assert_string_equal(host, "fe80::1%eth0");
  assert_int_equal(port, 6379);
  assert_int_equal(
      netfw__broker_parse_url("redis://h:65535", host, sizeof(host), &port), 0);
  assert_int_equal(port, 65535);

  static const char *const bad[] = {"http://h:6379",
                                    "redis:/h:6379",
                                    "h:6379",
                                    "redis://",
                                    "redis://:6379",
                                    "redis://h:",
                                    "redis://h:0",
                                    "redis://h:65536",
                                    "redis://h:99999999999",
                                    "redis://h:12a",
                                    "redis://h:-1",
                                    "redis://h:6379/0",
                                    "redis://u@h:6379",
                                    "redis://::1:6379",
                                    "redis://[::1",
                                    "redis://[]:6379",
                                    "redis://[::1]x",
                                    "redis://h h",
                                    ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (netfw__broker_parse_url(bad[i], host, sizeof(host), &port) !=
        NETFW_EINVAL)
      fail_msg("accepted bad URL '%s'", bad[i]);
  }
  /* host longer than the buffer */
  assert_int_equal(
      netfw__broker_parse_url("redis://abcdefgh:1", host, 8, &port),
      NETFW_EINVAL);
  assert_int_equal(netfw__broker_parse_url("redis://abcdefg:1", host, 8, &port),
                   0);
  assert_int_equal(netfw__broker_parse_url(NULL, host, 8, &port), NETFW_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_broker_parse_url),
      cmocka_unit_test_setup_teardown(test_broker_pubsub_10000_in_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broker_redis_starts_later,
                                      setup_no_redis, teardown),
      cmocka_unit_test_setup_teardown(test_broker_redis_restart_resubscribes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_broker_max_pending_eagain, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broker_unsubscribe_stops_delivery,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_broker_drops_malformed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broker_free_from_callbacks, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broker_one_connection_lost, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broker_sockets_cloexec, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_broker_connect_timeout,
                                      setup_no_redis, teardown),
  };

  signal(SIGPIPE, SIG_IGN); /* writes to a killed redis-server */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
