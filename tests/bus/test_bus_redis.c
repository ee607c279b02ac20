/* The bus across two servers (2 workers each) joined by a real Redis:
 * exact counts and per-publisher order over all 4 workers, Redis killed
 * and restarted mid-test, Redis down at start, and no duplicate copies on
 * the publisher's own server. Every wait is a poll loop with a deadline;
 * the servers and Redis are stopped in the teardown whatever happened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "bus_redis_kit.h"

#define MASK_ALL 0xfu /* publishers 0..3 */

/* Allocates the env; Redis and the servers are each test's to start. */
static int setup(void **state) {
  kenv *e = kit_new();

  *state = e;
  return e == NULL ? -1 : 0;
}

/* Stops and frees everything the test started, in every path. */
static int teardown(void **state) {
  kit_free(*state);
  return 0;
}

/* Starts Redis on a free port, then both servers on it. B forks its
 * workers once A's broker is up and quiet: a fork while A's supervisor
 * thread holds a Redis reply shows that reply as "definitely lost" in B's
 * workers under valgrind (inherited memory, see the report). */
static void start_all(kenv *e) {
  assert_int_equal(redis_fixture_start(&e->redis, 0), 0);
  kit_set_url(e, e->redis.port);
  assert_int_equal(kit_server_start(e, 0), 0);
  assert_true(kit_wait_broker(e, 0, 5000));
  assert_int_equal(kit_server_start(e, 1), 0);
  assert_true(kit_wait_broker(e, 1, 5000));
}

/* At least min subscribers on each of the 4 workers, and npub publishers
 * per server (publisher ids: server A's first). */
static void connect_clients(kenv *e, int min, int npub) {
  int i, k;

  for (i = 0; i < 2; i++) {
    assert_true(kit_add_subscribers(e, i, min));
    assert_int_not_equal(e->wpid[i][0], e->wpid[i][1]);
    assert_true(kit_subs_on(e, i, e->wpid[i][0]) >= min);
    assert_true(kit_subs_on(e, i, e->wpid[i][1]) >= min);
  }
  for (i = 0; i < 2; i++)
    for (k = 0; k < npub; k++)
      assert_true(kit_add_publisher(e, i));
  print_message("subscribers: A %d+%d, B %d+%d\n",
                kit_subs_on(e, 0, e->wpid[0][0]),
                kit_subs_on(e, 0, e->wpid[0][1]),
                kit_subs_on(e, 1, e->wpid[1][0]),
                kit_subs_on(e, 1, e->wpid[1][1]));
}

/* Asserts: no subscriber saw anything out of order, duplicated or broken,
 * and no publisher got a code back. */
static void assert_clean(kenv *e) {
  int i;

  for (i = 0; i < e->nsubs; i++) {
    assert_true(e->subs[i].fd >= 0);
    assert_int_equal(e->subs[i].bad, 0);
  }
  for (i = 0; i < e->npubs; i++) {
    assert_int_equal(e->pubs[i].rcs, 0);
    assert_int_equal(e->pubs[i].rc_other, 0);
  }
}

/* Asserts every subscriber of server srv (-1: all) got exactly n from each
 * publisher in mask since kit_mark. */
static void assert_exact(kenv *e, int srv, unsigned mask, uint64_t n) {
  int i, p;

  for (i = 0; i < e->nsubs; i++)
    for (p = 0; p < e->npubs; p++)
      if ((srv < 0 || e->subs[i].srv == srv) && (mask & (1u << p)))
        assert_int_equal(e->subs[i].got[p] - e->subs[i].base[p], n);
}

/* A full round: n from every publisher in mask reach every subscriber
 * exactly once, in order, with no code back; the fence proves no late
 * copy follows. */
static void full_round(kenv *e, unsigned mask, uint32_t n) {
  kit_mark(e);
  kit_publish_round(e, mask, n);
  assert_true(kit_sync_pubs(e, 10000));
  assert_true(kit_wait_round(e, -1, mask, n, 30000));
  assert_true(kit_fence(e, 5000));
  assert_exact(e, -1, mask, n);
  assert_clean(e);
}

/* Sum of the NETFW_ENOTCONN codes the publishers of server srv got. */
static uint32_t enotconn_of(const kenv *e, int srv) {
  uint32_t n = 0;
  int p;

  for (p = 0; p < e->npubs; p++)
    if (e->pubs[p].srv == srv)
      n += e->pubs[p].rcs;
  return n;
}

/* Mask of the publishers of server srv. */
static unsigned pubs_of(const kenv *e, int srv) {
  unsigned m = 0;
  int p;

  for (p = 0; p < e->npubs; p++)
    if (e->pubs[p].srv == srv)
      m |= 1u << p;
  return m;
}

/* Publishes batches of n from server srv's publishers until one of them
 * got NETFW_ENOTCONN back (bounded); returns the count per publisher. */
static uint32_t publish_until_enotconn(kenv *e, int srv, uint32_t n, int ms) {
  uint64_t end = kit_now_ms() + (uint64_t)ms;
  uint32_t sent = 0;

  while (enotconn_of(e, srv) == 0 && kit_now_ms() < end) {
    kit_publish_round(e, pubs_of(e, srv), n);
    sent += n;
    assert_true(kit_sync_pubs(e, 5000));
  }
  assert_true(enotconn_of(e, srv) >= 1);
  return sent;
}

/* True when every subscriber of server B saw a probe of pub 0 tagged at
 * least *arg (probe tags only grow). */
static bool b_saw_probe(kenv *e, const void *arg) {
  uint32_t tag = *(const uint32_t *)arg;
  int i;

  for (i = 0; i < e->nsubs; i++)
    if (e->subs[i].srv == 1 && e->subs[i].probe[0] < tag)
      return false;
  return true;
}

/* Asserts the subscribers of server srv saw at most n, in order (some of
 * those published while Redis went away may be lost). */
static void assert_at_most(kenv *e, int srv, unsigned mask, uint64_t n) {
  int i, p;

  for (i = 0; i < e->nsubs; i++)
    for (p = 0; p < e->npubs; p++)
      if (e->subs[i].srv == srv && (mask & (1u << p))) {
        assert_true(e->subs[i].got[p] - e->subs[i].base[p] <= n);
        assert_int_equal(e->subs[i].bad, 0);
      }
}

/* (1) 2 servers x 2 workers, >= 3 subscribers per worker, 4 publishers x
 * 1000: every subscriber gets exactly 4000, per publisher in order. */
static void test_bus_redis_two_servers_exact(void **state) {
  kenv *e = *state;

  start_all(e);
  connect_clients(e, 3, 2);
  assert_true(kit_warmup(e, 5000));
  full_round(e, MASK_ALL, 1000);
}

/* (2) Redis killed mid-test: A's local delivery goes on (both workers,
 * exact counts) and publishers get NETFW_ENOTCONN; restarted: B gets A's
 * probe within 2 s, then a full exact round again. */
static void test_bus_redis_killed_and_restarted(void **state) {
  kenv *e = *state;
  uint64_t t0, ms;
  uint32_t sent, tag;
  unsigned a_pubs;

  start_all(e);
  connect_clients(e, 3, 2);
  a_pubs = pubs_of(e, 0);
  assert_true(kit_warmup(e, 5000));
  full_round(e, MASK_ALL, 200);

  redis_fixture_kill(&e->redis);
  kit_mark(e);
  sent = publish_until_enotconn(e, 0, 50, 5000);
  kit_publish_round(e, a_pubs, 100); /* surely while down */
  sent += 100;
  assert_true(kit_sync_pubs(e, 5000));
  assert_true(kit_wait_round(e, 0, a_pubs, sent, 10000));
  assert_exact(e, 0, a_pubs, sent);
  assert_at_most(e, 1, a_pubs, sent);
  print_message("while down: %u per A publisher, %u NETFW_ENOTCONN\n", sent,
                enotconn_of(e, 0));
  assert_true(enotconn_of(e, 0) >= 100); /* at least the last batch */
  assert_int_equal(enotconn_of(e, 1), 0);
  for (int i = 0; i < e->nsubs; i++)
    assert_int_equal(e->subs[i].bad, 0);

  assert_int_equal(redis_fixture_restart(&e->redis), 0);
  t0 = kit_now_ms();
  tag = e->tag + 1; /* the first probe after the restart */
  while (!b_saw_probe(e, &tag) && kit_now_ms() - t0 < 3000) {
    kit_publish(e, 0, KIND_PROBE, ++e->tag);
    kit_wait(e, b_saw_probe, &tag, 50); /* one probe every 50 ms */
  }
  ms = kit_now_ms() - t0;
  print_message("B reached again %llu ms after the restart\n",
                (unsigned long long)ms);
  assert_true(b_saw_probe(e, &tag));
  assert_true(ms <= 2000);

  assert_true(kit_warmup(e, 5000));
  full_round(e, MASK_ALL, 1000);
}

/* (3) Redis down at start: the servers start and deliver locally (with
 * NETFW_ENOTCONN); Redis then starts on bus_url's port: cross-server
 * delivery begins within the start backoff, then an exact round. */
static void test_bus_redis_down_at_start(void **state) {
  kenv *e = *state;
  uint16_t port = redis_fixture_free_port();
  unsigned a_pubs;
  uint64_t t0;

  assert_int_not_equal(port, 0);
  kit_set_url(e, port);
  assert_int_equal(kit_server_start(e, 0), 0);
  assert_int_equal(kit_server_start(e, 1), 0);
  connect_clients(e, 3, 2);
  a_pubs = pubs_of(e, 0);

  kit_mark(e);
  kit_publish_round(e, a_pubs, 100);
  assert_true(kit_sync_pubs(e, 5000));
  assert_true(kit_wait_round(e, 0, a_pubs, 100, 10000));
  assert_exact(e, 0, a_pubs, 100);
  assert_exact(e, 1, a_pubs, 0);
  assert_int_equal(enotconn_of(e, 0), 2 * 100);

  assert_int_equal(redis_fixture_start(&e->redis, port), 0);
  t0 = kit_now_ms();
  assert_true(kit_warmup(e, 6000));
  print_message("cross-server delivery %llu ms after Redis started\n",
                (unsigned long long)(kit_now_ms() - t0));
  full_round(e, MASK_ALL, 500);
}

/* (4) One publisher on A: subscribers on A (on the publisher's worker and
 * the other) and on B each get every message exactly once; the fence
 * (A, B, A through Redis) shows no Redis copy follows the local one. */
static void test_bus_redis_no_duplicates(void **state) {
  kenv *e = *state;
  int i;

  start_all(e);
  connect_clients(e, 2, 1);
  assert_int_equal(e->pubs[0].srv, 0);
  assert_true(kit_subs_on(e, 0, e->pubs[0].pid) >= 2);
  assert_true(kit_warmup(e, 5000));
  full_round(e, 1u << 0, 1000);
  for (i = 0; i < e->nsubs; i++) /* B's publisher only sent marks */
    assert_int_equal(e->subs[i].got[1], 0);
}

/* Runs the four cases, each with its own Redis and servers. */
int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bus_redis_two_servers_exact, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bus_redis_killed_and_restarted,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_redis_down_at_start, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bus_redis_no_duplicates, setup,
                                      teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
