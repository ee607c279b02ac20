/* The local bus: a real server (4 workers on 127.0.0.1) running the kit's
 * app; subscribers, publishers, exact counts and per-publisher order,
 * unsubscribe, the API's refusals. */
#include "bus_fixture.h"

#define NSUB 40
#define NPUB 10
#define NMSG 1000

/* The test: 4 workers, 40 subscribers (10 on each), 10 publishers
 * x 1000 messages with ECHO: every subscriber gets all 10 000, in order. */
static void test_bus_fanout_40_subscribers(void **state) {
  fx *f = *state;
  uint32_t pids[4], next[NPUB];
  kconn *subs, *pubs[NPUB];
  netfw_bus_stats st;
  uint32_t p, s;
  int i, w;
  kframe fr;

  start(f);
  subs = spread(f, 4, NSUB / 4);
  for (i = 0; i < NSUB; i++) {
    uint32_t pid = subs[i].pid;
    assert_int_equal(kc_sub(&subs[i], "news"), 0);
    assert_int_equal(subs[i].pid, pid);
  }
  for (w = 0; w < 4; w++)
    pids[w] = subs[w * (NSUB / 4)].pid;
  for (p = 0; p < NPUB; p++)
    pubs[p] = conn(f);
  probe(f, pubs[0], "news", NETFW_BUS_ECHO, pids, 4);
  for (s = 0; s < NMSG; s++)
    for (p = 0; p < NPUB; p++)
      assert_int_equal(kc_pub_send(pubs[p], "news", NETFW_BUS_ECHO, MAIN, p,
                                   s, 24, 1), 0);
  for (p = 0; p < NPUB; p++)
    for (s = 0; s < NMSG; s++) {
      assert_int_equal(kc_expect(pubs[p], B_PUB, &fr, 10000, NULL), 1);
      assert_int_equal(fr.size, 8);
      assert_memory_equal(fr.p, &s, 4);
      assert_int_equal(rc_of(&fr), 0);
    }
  for (i = 0; i < NSUB; i++) {
    memset(next, 0, sizeof(next));
    drain(&subs[i], "news", MAIN, next, NPUB, NPUB * NMSG, 30000);
  }
  for (i = 0; i < NSUB; i++)
    quiet(&subs[i], i == 0 ? 300 : 0);
  for (w = 0; w < 4; w++) {
    wslot *ws = bboard_find(f->b, (int)pids[w]);
    assert_int_equal(atomic_load(&ws->by_id[0]), NPUB * NMSG);
    assert_int_equal(kc_stats(&subs[w * (NSUB / 4)], &st), 0);
    assert_int_equal(st.delivered, (uint64_t)atomic_load(&ws->on_bus));
    assert_int_equal(st.dropped_in, 0);
    assert_int_equal(st.dropped_out, 0);
  }
  assert_int_equal(atomic_load(&f->b->forward_errors), 0);
  print_message("40 subscribers on 4 workers: 10 x 1000 messages each, in "
                "order\n");
}

/* Without ECHO, the publishing worker's own subscribers get nothing; the
 * other workers' do. */
static void test_bus_no_echo(void **state) {
  fx *f = *state;
  uint32_t pids[4], next[1];
  kconn *c;
  int w, s;

  start(f);
  c = spread(f, 4, 2); /* c[2w]: subscriber on worker w, c[2w+1]: other */
  for (w = 0; w < 4; w++) {
    assert_int_equal(kc_sub(&c[2 * w], "b"), 0);
    pids[w] = c[2 * w].pid;
  }
  probe(f, &c[1], "b", NETFW_BUS_ECHO, pids, 4);
  for (s = 0; s < 200; s++)
    assert_int_equal(kc_pub_send(&c[1], "b", 0, MAIN, 0, (uint32_t)s, 8, 1), 0);
  for (s = 0; s < 200; s++) {
    kframe fr;
    assert_int_equal(kc_expect(&c[1], B_PUB, &fr, 10000, NULL), 1);
    assert_int_equal(rc_of(&fr), 0);
  }
  publish1(&c[1], "b", NETFW_BUS_ECHO, MARK, 0, 200);
  for (w = 0; w < 4; w++) {
    next[0] = 0;
    if (w > 0)
      drain(&c[2 * w], "b", MAIN, next, 1, 200, 10000);
    next[0] = 200;
    drain(&c[2 * w], "b", MARK, next, 1, 1, 10000);
  }
  for (w = 0; w < 4; w++)
    quiet(&c[2 * w], w == 0 ? 300 : 0);
  assert_int_equal(by_id(f, pids[0], MAIN), 0);
  for (w = 1; w < 4; w++)
    assert_int_equal(by_id(f, pids[w], MAIN), 200);
}

/* After unsubscribe, the worker's on_bus no longer sees the channel; a
 * new subscribe brings it back. */
static void test_bus_unsubscribe(void **state) {
  fx *f = *state;
  uint32_t pids[2], next[1];
  kconn *c;
  int still = -1, s;

  start(f);
  c = spread(f, 4, 1); /* c[0], c[1] subscribe; c[2] publishes */
  assert_int_equal(kc_sub(&c[0], "c"), 0);
  assert_int_equal(kc_sub(&c[1], "c"), 0);
  pids[0] = c[0].pid;
  pids[1] = c[1].pid;
  probe(f, &c[2], "c", 0, pids, 2);
  for (s = 0; s < 100; s++)
    publish1(&c[2], "c", 0, MAIN, 0, (uint32_t)s);
  for (s = 0; s < 2; s++) {
    next[0] = 0;
    drain(&c[s], "c", MAIN, next, 1, 100, 10000);
  }
  assert_int_equal(kc_unsub(&c[0], "c", &still), 0);
  assert_int_equal(still, 0);
  for (s = 0; s < 100; s++)
    publish1(&c[2], "c", 0, AFTER, 0, (uint32_t)s);
  next[0] = 0;
  drain(&c[1], "c", AFTER, next, 1, 100, 10000);
  quiet(&c[0], 300);
  assert_int_equal(by_id(f, pids[0], AFTER), 0);
  assert_int_equal(by_id(f, pids[1], AFTER), 100);
  /* Subscribed again: delivered again. */
  assert_int_equal(kc_sub(&c[0], "c"), 0);
  probe(f, &c[2], "c", 0, pids, 1);
  publish1(&c[2], "c", 0, MARK, 0, 7);
  for (s = 0; s < 2; s++) {
    next[0] = 7;
    drain(&c[s], "c", MARK, next, 1, 1, 10000);
  }
}

#define INFLIGHT 100000

/* Messages already on their way when the worker unsubscribes are not
 * delivered (docs/bus.md): the worker is blocked while 100 000 messages
 * (9 MB: more than the link's socket buffers) queue for it and its UNSUB
 * request waits in its socket. */
static void test_bus_unsubscribe_in_flight(void **state) {
  fx *f = *state;
  uint32_t pids[1], ms = 10000;
  uint64_t deadline;
  int before = 0, still = -1, got;
  kmsg m;
  kframe fr;
  kconn *c;

  f->cfg.worker_num = 2;
  start(f);
  c = spread(f, 2, 2); /* A: c[0] subscriber, c[1] blocker; B: c[2] pub */
  assert_int_equal(kc_sub(&c[0], "g"), 0);
  pids[0] = c[0].pid;
  probe(f, &c[2], "g", 0, pids, 1);
  assert_int_equal(kc_send(&c[1], B_BLOCK, &ms, 4), 0);
  deadline = kit_ms() + 5000;
  while (!atomic_load(&f->b->blocked) && kit_ms() < deadline)
    usleep(1000);
  assert_true(atomic_load(&f->b->blocked));
  assert_int_equal(kc_pub_send(&c[2], "g", 0, MAIN, 0, 0, 48, INFLIGHT), 0);
  assert_int_equal(kc_expect(&c[2], B_PUB, &fr, 10000, NULL), 1);
  assert_int_equal(fr.size, 16);
  assert_memory_equal(fr.p, &(uint32_t){INFLIGHT}, 4);
  assert_int_equal(kc_send(&c[0], B_UNSUB, "g", 1), 0);
  usleep(100000);
  atomic_store(&f->b->release, 1);
  assert_int_equal(kc_expect(&c[1], B_BLOCK, &fr, 10000, NULL), 1);
  /* What the worker forwarded before the UNSUB, then its reply. */
  while ((got = kc_recv(&c[0], &fr, 10000)) == 1 && fr.id == B_MSG) {
    assert_int_equal(kc_decode(&fr, &m), 0);
    assert_true(m.busid == PROBE || (m.busid == MAIN && m.seq == (uint32_t)before));
    before += m.busid == MAIN;
  }
  assert_int_equal(got, 1);
  assert_int_equal(fr.id, B_UNSUB);
  assert_int_equal(fr.size, 5);
  memcpy(&still, fr.p, 4);
  assert_int_equal(still, 0);
  assert_int_equal(fr.p[4], 0);
  usleep(300000);
  print_message("unsubscribed with %d on the way: %d delivered before, "
                "%lld in all\n", INFLIGHT, before, by_id(f, pids[0], MAIN));
  assert_true(before < INFLIGHT); /* else nothing was on its way */
  assert_int_equal(by_id(f, pids[0], MAIN), before);
  quiet(&c[0], 0);
}

/* Unsubscribe and subscribe again in one callback while messages published
 * before are on their way: by docs/bus.md ("after netfw_bus_unsubscribe
 * nothing more is delivered, even what was already on its way"; "messages
 * published before the subscription took effect are not delivered") none
 * of them may reach on_bus: the worker drops a channel's messages until
 * the relay acknowledged its latest SUB. */
static void test_bus_resubscribe_in_flight(void **state) {
  fx *f = *state;
  uint8_t req[11] = {TRY_RESUBSCRIBE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'r'};
  uint32_t pids[1], ms = 10000;
  uint64_t deadline;
  long long mark, total;
  kframe fr;
  kconn *c;

  f->cfg.worker_num = 2;
  start(f);
  c = spread(f, 2, 2); /* A: c[0] subscribes, c[1] blocks; B: c[2] pub */
  assert_int_equal(kc_try(&c[0], TRY_SUBSCRIBE, "r", 0, 0), 0);
  pids[0] = c[0].pid;
  probe(f, &c[2], "r", 0, pids, 1);
  assert_int_equal(kc_send(&c[1], B_BLOCK, &ms, 4), 0);
  deadline = kit_ms() + 5000;
  while (!atomic_load(&f->b->blocked) && kit_ms() < deadline)
    usleep(1000);
  assert_true(atomic_load(&f->b->blocked));
  assert_int_equal(kc_pub_send(&c[2], "r", 0, MAIN, 0, 0, 48, INFLIGHT), 0);
  assert_int_equal(kc_expect(&c[2], B_PUB, &fr, 10000, NULL), 1);
  assert_int_equal(kc_send(&c[0], B_TRY, req, sizeof(req)), 0);
  usleep(100000);
  atomic_store(&f->b->release, 1);
  assert_int_equal(kc_expect(&c[1], B_BLOCK, &fr, 10000, NULL), 1);
  assert_int_equal(kc_expect(&c[0], B_TRY, &fr, 10000, NULL), 1);
  assert_memory_equal(fr.p, &(int32_t){0}, 4);
  usleep(500000);
  wslot *w = bboard_find(f->b, (int)pids[0]);
  mark = atomic_load(&w->mark);
  total = atomic_load(&w->by_id[0]);
  print_message("resubscribed with %d on the way: %lld delivered before, "
                "%lld after\n", INFLIGHT, mark, total - mark);
  assert_int_equal(total, mark);
}

/* Outside a worker every call is NETFW_ESTATE; in one, bad names and flags
 * are NETFW_EINVAL and payloads over max_payload NETFW_E2BIG. */
static void test_bus_errors(void **state) {
  fx *f = *state;
  char name[202];
  netfw_bus_stats st;
  kconn *c;
  int round;

  for (round = 0; round < 2; round++) { /* before start, then running */
    assert_int_equal(netfw_bus_publish_bytes("x", 1, "a", 1, 0), NETFW_ESTATE);
    assert_int_equal(netfw_bus_subscribe("x"), NETFW_ESTATE);
    assert_int_equal(netfw_bus_unsubscribe("x"), NETFW_ESTATE);
    assert_false(netfw_bus_subscribed("x"));
    assert_int_equal(netfw_bus_stats_get(&st), NETFW_ESTATE);
    if (round == 0) {
      f->cfg.worker_num = 2;
      f->cfg.max_payload = 1024;
      start(f);
    }
  }
  c = conn(f);
  memset(name, 'a', sizeof(name));
  name[201] = '\0'; /* 201 bytes: one too many */
  assert_int_equal(kc_try(c, TRY_PUBLISH, "", 0, 1), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_PUBLISH, NULL, 0, 1), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_PUBLISH, name, 0, 1), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_PUBLISH, "e", 0x80, 1), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_PUBLISH, "e", 0, 1025), NETFW_E2BIG);
  assert_int_equal(kc_try(c, TRY_PUBLISH, "e", NETFW_BUS_ECHO, 1025),
                   NETFW_E2BIG);
  assert_int_equal(kc_try(c, TRY_PUBLISH, "e", 0, 1024), 0);
  assert_int_equal(kc_try(c, TRY_PUBLISH, "e", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, "", 0, 0), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, NULL, 0, 0), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, name, 0, 0), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, "", 0, 0), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, name, 0, 0), NETFW_EINVAL);
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, "never", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_STATS_NULL, "x", 0, 0), NETFW_EINVAL);
  /* Idempotent: twice subscribed, once unsubscribed, gone. */
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, "twice", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, "twice", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBED, "twice", 0, 0), 1);
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, "twice", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBED, "twice", 0, 0), 0);
  /* At most NETFW_BUS_SUBSCRIPTIONS_MAX channels per worker. */
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE_N, "m", 0,
                          NETFW_BUS_SUBSCRIPTIONS_MAX), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, "one-more", 0, 0), NETFW_E2BIG);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, "m17", 0, 0), 0); /* again */
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE_N, "m", 0,
                          NETFW_BUS_SUBSCRIPTIONS_MAX), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBED, "m17", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, "one-more", 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, "one-more", 0, 0), 0);
  name[200] = '\0'; /* 200 bytes: the longest name */
  assert_int_equal(kc_try(c, TRY_SUBSCRIBE, name, 0, 0), 0);
  assert_int_equal(kc_try(c, TRY_PUBLISH, name, NETFW_BUS_ECHO, 1024), 0);
  /* The largest message on the longest name travels (same link: the SUB
   * went first, so it is in effect). */
  assert_int_equal(wait_count(f, c->pid, BUS_ID0 + 7, 1, 5000), 1);
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, name, 0, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bus_fanout_40_subscribers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_no_echo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_unsubscribe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_unsubscribe_in_flight, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_resubscribe_in_flight, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bus_errors, setup, teardown),
  };

  raise_nofile();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
