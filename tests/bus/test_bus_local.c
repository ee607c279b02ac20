/* The local bus: a real server (4 workers on 127.0.0.1) running the kit's
 * app; subscribers, publishers, exact counts and per-publisher order. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus_kit.h"

#define POOL 128
#define MAIN BUS_ID0        /* the messages a test counts        */
#define PROBE (BUS_ID0 + 1) /* "is the subscription in effect?"  */
#define MARK (BUS_ID0 + 2)  /* end marker                        */
#define AFTER (BUS_ID0 + 3) /* published after some change       */

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

typedef struct fx {
  bboard *b;
  netfw_config cfg;
  netfw_server *s;
  uint16_t port;
  kconn pool[POOL];
  int used;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof(*f));
  int i;

  if (f == NULL || (f->b = bboard_new()) == NULL)
    return -1;
  for (i = 0; i < POOL; i++)
    f->pool[i].fd = -1;
  netfw_config_init(&f->cfg, &busapp);
  f->cfg.ip = "127.0.0.1";
  f->cfg.port = 0;
  f->cfg.worker_num = 4;
  f->cfg.context = f->b;
  *state = f;
  alarm(100); /* every test is bounded: SIGALRM ends the run */
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  int i;

  atomic_store(&f->b->release, 1);
  /* No test expects on_bus for a channel its worker left. */
  assert_int_equal(atomic_load(&f->b->unsubscribed_calls), 0);
  for (i = 0; i < POOL; i++)
    if (f->pool[i].fd >= 0)
      kc_close(&f->pool[i]);
  if (f->s != NULL) {
    assert_int_equal(netfw_server_stop(f->s, 5000), 0);
    netfw_server_free(f->s);
  }
  bboard_free(f->b);
  free(f);
  alarm(0);
  return 0;
}

static void start(fx *f) {
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
  assert_int_not_equal(f->port, 0);
}

/* n connections from the pool, per_worker on each of workers workers,
 * grouped by worker. */
static kconn *spread(fx *f, int workers, int per_worker) {
  kconn *c = &f->pool[f->used];

  assert_true(f->used + workers * per_worker <= POOL);
  assert_int_equal(kc_spread(f->port, workers, per_worker, c, 600), 0);
  f->used += workers * per_worker;
  return c;
}

static kconn *conn(fx *f) {
  kconn *c = &f->pool[f->used++];

  assert_true(f->used <= POOL);
  assert_int_equal(kc_open(c, f->port), 0);
  assert_int_equal(kc_who(c), 0);
  return c;
}

/* The i32 rc of a one-message B_PUB reply. */
static int rc_of(const kframe *fr) {
  int32_t rc;
  memcpy(&rc, fr->p + 4, 4);
  return rc;
}

static void publish1(kconn *c, const char *ch, unsigned flags, uint16_t busid,
                     uint32_t pub, uint32_t seq) {
  kframe fr;

  assert_int_equal(kc_pub_send(c, ch, flags, busid, pub, seq, 8, 1), 0);
  assert_int_equal(kc_expect(c, B_PUB, &fr, 10000, NULL), 1);
  assert_int_equal(fr.size, 8);
  assert_int_equal((int)rc_of(&fr), 0);
}

static long long by_id(fx *f, uint32_t pid, uint16_t busid) {
  wslot *w = bboard_find(f->b, (int)pid);
  assert_non_null(w);
  return atomic_load(&w->by_id[busid - BUS_ID0]);
}

/* Publishes PROBE from c until every worker in pids[n] has received one
 * more than before (10 s at most), then one more that all of them must see
 * last: nothing of c's worker is on its way afterwards. Subscriptions take
 * effect asynchronously: this is how a test knows they did. Returns the
 * probes sent (the first ones may be lost: published before the
 * subscription took effect). */
static int probe(fx *f, kconn *c, const char *ch, unsigned flags,
                 const uint32_t *pids, int n) {
  uint64_t deadline = kit_ms() + 10000;
  long long before[8];
  int sent = 0, i, all;

  assert_true(n <= 8);
  for (i = 0; i < n; i++)
    before[i] = by_id(f, pids[i], PROBE);
  do {
    publish1(c, ch, flags, PROBE, 999, (uint32_t)sent++);
    usleep(2000);
    for (all = 1, i = 0; i < n; i++)
      all &= by_id(f, pids[i], PROBE) > before[i];
  } while (!all && kit_ms() < deadline);
  assert_true(all);
  publish1(c, ch, flags, PROBE, 999, (uint32_t)sent++);
  deadline = kit_ms() + 5000;
  for (i = 0; i < n; i++) {
    wslot *w = bboard_find(f->b, (int)pids[i]);
    while (atomic_load(&w->last_probe) != sent && kit_ms() < deadline)
      usleep(500);
    assert_int_equal(atomic_load(&w->last_probe), sent);
  }
  return sent;
}

/* Reads c until it has want MAIN-like messages with busid on ch, checking
 * payloads and per-publisher order from next[] (PROBE skipped). */
static void drain(kconn *c, const char *ch, uint16_t busid, uint32_t *next,
                  uint32_t npub, int want, int timeout_ms) {
  uint64_t deadline = kit_ms() + (uint64_t)timeout_ms;
  int got = 0;
  kframe fr;
  kmsg m;

  while (got < want) {
    uint64_t now = kit_ms();
    int rc = kc_recv(c, &fr, now >= deadline ? 0 : (int)(deadline - now));
    if (rc != 1)
      fail_msg("worker %u: %d of %d messages, then kc_recv %d", c->pid, got,
               want, rc);
    assert_int_equal(kc_decode(&fr, &m), 0);
    if (m.busid == PROBE)
      continue;
    assert_int_equal(m.busid, busid);
    assert_string_equal(m.channel, ch);
    assert_true(m.pad_ok);
    assert_true(m.pub < npub);
    if (m.seq != next[m.pub])
      fail_msg("worker %u: publisher %u: seq %u, expected %u", c->pid, m.pub,
               m.seq, next[m.pub]);
    next[m.pub]++;
    got++;
  }
}

/* Nothing but probes arrives on c within ms (0: what is there now). */
static void quiet(kconn *c, int ms) {
  uint64_t deadline = kit_ms() + (uint64_t)ms;
  kframe fr;
  kmsg m;

  for (;;) {
    uint64_t now = kit_ms();
    int rc = kc_recv(c, &fr, now >= deadline ? 0 : (int)(deadline - now));
    if (rc == -1)
      return;
    assert_int_equal(rc, 1);
    assert_int_equal(kc_decode(&fr, &m), 0);
    if (m.busid != PROBE)
      fail_msg("worker %u: unexpected message busid %#x pub %u seq %u",
               c->pid, m.busid, m.pub, m.seq);
  }
}

/* Waits until worker pid counted want messages of busid (or timeout). */
static long long wait_count(fx *f, uint32_t pid, uint16_t busid,
                            long long want, int timeout_ms) {
  uint64_t deadline = kit_ms() + (uint64_t)timeout_ms;
  long long n;

  while ((n = by_id(f, pid, busid)) < want && kit_ms() < deadline)
    usleep(1000);
  return n;
}

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

#define STREAM 50000

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
  deadline = kit_ms() + 10000; /* kill it once it got a tenth */
  while (by_id(f, pids[victim], MAIN) < STREAM / 10 && kit_ms() < deadline)
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
  assert_int_equal(kc_try(c, TRY_UNSUBSCRIBE, name, 0, 0), 0);
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
      cmocka_unit_test_setup_teardown(test_bus_fanout_40_subscribers, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bus_no_echo, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_unsubscribe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_unsubscribe_in_flight, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bus_respawned_worker_resubscribes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_worker_killed_mid_stream, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bus_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bus_slow_worker_drops, setup,
                                      teardown),
  };
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* kc_spread holds extras */
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  return cmocka_run_group_tests(tests, NULL, NULL);
}
