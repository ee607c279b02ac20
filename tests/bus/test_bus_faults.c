/* The local bus under faults: workers killed (SIGKILL) and respawned, a
 * worker whose loop is blocked while another floods (bounded queues). */
#include "bus_fixture.h"

/* A worker killed with SIGKILL is respawned; its create() subscribes
 * again, and what is published afterwards reaches it. */
static void test_bus_respawned_worker_resubscribes(void **state) {
  fx *f = *state;
  uint32_t pids[4], live[4];
  uint64_t deadline;
  kconn *pub;
  wslot *fresh;
  int i, k, victim;

  strcpy(f->b->create_channel, "d");
  start(f);
  assert_int_equal(atomic_load(&f->b->creates), 4);
  for (i = 0; i < 4; i++) {
    pids[i] = (uint32_t)atomic_load(&f->b->slot[i].pid);
    assert_int_equal(atomic_load(&f->b->slot[i].create_sub_rc), 0);
  }
  pub = conn(f);
  probe(f, pub, "d", NETFW_BUS_ECHO, pids, 4);
  victim = pids[0] == pub->pid ? 1 : 0;
  assert_int_equal(kill((pid_t)pids[victim], SIGKILL), 0);
  deadline = kit_ms() + 10000;
  while (atomic_load(&f->b->creates) < 5 && kit_ms() < deadline)
    usleep(1000);
  assert_int_equal(atomic_load(&f->b->creates), 5);
  fresh = &f->b->slot[4];
  deadline = kit_ms() + 5000;
  while (atomic_load(&fresh->pid) == 0 && kit_ms() < deadline)
    usleep(1000);
  assert_int_equal(atomic_load(&fresh->create_sub_rc), 0);
  for (i = k = 0; i < 4; i++)
    live[k++] = i == victim ? (uint32_t)atomic_load(&fresh->pid) : pids[i];
  probe(f, pub, "d", NETFW_BUS_ECHO, live, 4);
  for (i = 0; i < 100; i++)
    assert_int_equal(kc_pub_send(pub, "d", NETFW_BUS_ECHO, MAIN, 0,
                                 (uint32_t)i, 8, 1), 0);
  for (i = 0; i < 100; i++) {
    kframe fr;
    assert_int_equal(kc_expect(pub, B_PUB, &fr, 10000, NULL), 1);
    assert_int_equal(rc_of(&fr), 0);
  }
  for (i = 0; i < 4; i++)
    assert_int_equal(wait_count(f, live[i], MAIN, 100, 10000), 100);
  usleep(200000);
  for (i = 0; i < 4; i++)
    assert_int_equal(by_id(f, live[i], MAIN), 100);
  assert_int_equal(by_id(f, pids[victim], MAIN), 0);
  deadline = kit_ms() + 5000; /* the supervisor reaped the victim */
  while (kill((pid_t)pids[victim], 0) == 0 && kit_ms() < deadline)
    usleep(1000);
  assert_int_equal(kill((pid_t)pids[victim], 0), -1);
  assert_int_equal(errno, ESRCH);
}

/* Long enough that the kill (after a twentieth) lands well inside it
 * however the test process is scheduled (at 50 000 a fast run once
 * delivered the whole stream between two looks), small enough that the
 * relay's queue for a lagging survivor (about 25 B a message, 16 MiB)
 * can hold all of it: nothing may be dropped. */
#define STREAM 400000

/* A worker killed while a publisher streams does not disturb the others:
 * each survivor gets every message exactly once; the respawned one gets
 * a part of them. */
static void test_bus_worker_killed_mid_stream(void **state) {
  fx *f = *state;
  uint32_t pids[4];
  uint64_t deadline;
  kconn *pub;
  kframe fr;
  int i, victim;
  long long n;

  strcpy(f->b->create_channel, "h");
  atomic_store(&f->b->pub_batch, 16);
  start(f);
  for (i = 0; i < 4; i++)
    pids[i] = (uint32_t)atomic_load(&f->b->slot[i].pid);
  pub = conn(f);
  probe(f, pub, "h", NETFW_BUS_ECHO, pids, 4);
  victim = pids[0] == pub->pid ? 1 : 0;
  assert_int_equal(kc_pub_send(pub, "h", NETFW_BUS_ECHO, MAIN, 0, 0, 8,
                               STREAM), 0);
  deadline = kit_ms() + 10000; /* kill it once it got a twentieth */
  while (by_id(f, pids[victim], MAIN) < STREAM / 20 && kit_ms() < deadline)
    usleep(200);
  assert_int_equal(kill((pid_t)pids[victim], SIGKILL), 0);
  assert_int_equal(kc_expect(pub, B_PUB, &fr, 30000, NULL), 1);
  assert_memory_equal(fr.p, &(uint32_t){STREAM}, 4);
  n = by_id(f, pids[victim], MAIN);
  print_message("victim killed after %lld of %d messages\n", n, STREAM);
  assert_true(n < STREAM);
  for (i = 0; i < 4; i++)
    if (i != victim)
      assert_int_equal(wait_count(f, pids[i], MAIN, STREAM, 10000), STREAM);
  deadline = kit_ms() + 10000;
  while (atomic_load(&f->b->creates) < 5 && kit_ms() < deadline)
    usleep(1000);
  assert_int_equal(atomic_load(&f->b->creates), 5);
  usleep(200000);
  for (i = 0; i < 4; i++)
    if (i != victim)
      assert_int_equal(by_id(f, pids[i], MAIN), STREAM);
  assert_true(atomic_load(&f->b->slot[4].by_id[0]) <= STREAM);
}

#define FLOOD 50000
#define FLOOD_PAD (1024 - BUS_HDR)

/* A worker whose loop is blocked while another floods a channel it
 * subscribed to, with bus_queue 64 KiB: the publisher finishes while the
 * slow worker is still blocked, the relay drops and counts for it
 * (delivered + dropped_in = published, exactly), memory stays bounded. */
static void test_bus_slow_worker_drops(void **state) {
  fx *f = *state;
  netfw_bus_stats s0, s1, p0, p1;
  uint32_t pids[1], next[1] = {0}, published, eagain;
  uint64_t ns, deadline;
  long rss0, rss1, rssp0, rssp1;
  kframe fr;
  kconn *c;
  int blocked_at_reply;

  f->cfg.worker_num = 2;
  f->cfg.bus_queue = 64 * 1024;
  start(f);
  c = spread(f, 2, 2); /* worker A: c[0] subscriber, c[1] blocker;
                          worker B: c[2] publisher, c[3] stats */
  assert_int_equal(kc_sub(&c[0], "f"), 0);
  pids[0] = c[0].pid;
  probe(f, &c[2], "f", 0, pids, 1);
  assert_int_equal(kc_stats(&c[1], &s0), 0);
  assert_int_equal(kc_stats(&c[3], &p0), 0);
  rss0 = kit_rss_kib(0);
  rssp0 = kit_rss_kib((int)c[2].pid);
  uint32_t ms = 20000;
  assert_int_equal(kc_send(&c[1], B_BLOCK, &ms, 4), 0);
  deadline = kit_ms() + 5000;
  while (!atomic_load(&f->b->blocked) && kit_ms() < deadline)
    usleep(1000);
  assert_true(atomic_load(&f->b->blocked));
  assert_int_equal(kc_pub_send(&c[2], "f", 0, MAIN, 0, 0, FLOOD_PAD, FLOOD),
                   0);
  assert_int_equal(kc_expect(&c[2], B_PUB, &fr, 15000, NULL), 1);
  blocked_at_reply = atomic_load(&f->b->blocked);
  rss1 = kit_rss_kib(0);
  rssp1 = kit_rss_kib((int)c[2].pid);
  assert_int_equal(fr.size, 16);
  memcpy(&published, fr.p, 4);
  memcpy(&eagain, fr.p + 4, 4);
  memcpy(&ns, fr.p + 8, 8);
  atomic_store(&f->b->release, 1);
  print_message("flood: %u x %u B in %.0f ms (%u EAGAIN retries); relay "
                "RSS %ld -> %ld KiB, publisher %ld -> %ld KiB\n",
                published, BUS_HDR + FLOOD_PAD, (double)ns / 1e6, eagain,
                rss0, rss1, rssp0, rssp1);
  assert_true(blocked_at_reply); /* the publisher did not wait for it */
  assert_int_equal(published, FLOOD);
  assert_int_equal(kc_expect(&c[1], B_BLOCK, &fr, 10000, NULL), 1);
  /* delivered + dropped_in reach exactly what was published. */
  deadline = kit_ms() + 20000;
  do {
    usleep(5000);
    assert_int_equal(kc_stats(&c[1], &s1), 0);
  } while ((s1.delivered - s0.delivered) + (s1.dropped_in - s0.dropped_in) <
               FLOOD && kit_ms() < deadline);
  print_message("slow worker: delivered %llu, dropped_in %llu\n",
                (unsigned long long)(s1.delivered - s0.delivered),
                (unsigned long long)(s1.dropped_in - s0.dropped_in));
  assert_true(s1.dropped_in > s0.dropped_in);
  assert_int_equal((s1.delivered - s0.delivered) +
                       (s1.dropped_in - s0.dropped_in), FLOOD);
  assert_int_equal(by_id(f, pids[0], MAIN), s1.delivered - s0.delivered);
  assert_int_equal(kc_stats(&c[3], &p1), 0);
  assert_int_equal(p1.published - p0.published, FLOOD);
  assert_int_equal(p1.dropped_out - p0.dropped_out, eagain);
  /* The subscriber gets what was delivered, in order, with gaps. */
  long long want = by_id(f, pids[0], MAIN), got = 0;
  while (got < want) {
    kmsg m;
    assert_int_equal(kc_recv(&c[0], &fr, 10000), 1);
    assert_int_equal(kc_decode(&fr, &m), 0);
    if (m.busid == PROBE)
      continue;
    assert_true(m.seq >= next[0] && m.pad_ok);
    next[0] = m.seq + 1;
    got++;
  }
  quiet(&c[0], 200);
  if (!UNDER_ASAN) {
    assert_true(rss1 - rss0 < 32 * 1024);
    assert_true(rssp1 - rssp0 < 32 * 1024);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bus_respawned_worker_resubscribes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_worker_killed_mid_stream, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_slow_worker_drops, setup, teardown),
  };

  raise_nofile();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
