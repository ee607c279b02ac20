/* The bus tests' fixture: a server on 127.0.0.1 port 0 running the kit's
 * app (4 workers unless a test says otherwise), a pool of client
 * connections, and the helpers the tests share (probe, drain, quiet). */
#ifndef NETFW_TEST_BUS_FIXTURE_H
#define NETFW_TEST_BUS_FIXTURE_H

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

static inline int setup(void **state) {
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

static inline int teardown(void **state) {
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

static inline void start(fx *f) {
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
  assert_int_not_equal(f->port, 0);
}

/* n connections from the pool, per_worker on each of workers workers,
 * grouped by worker. */
static inline kconn *spread(fx *f, int workers, int per_worker) {
  kconn *c = &f->pool[f->used];

  assert_true(f->used + workers * per_worker <= POOL);
  assert_int_equal(kc_spread(f->port, workers, per_worker, c, 600), 0);
  f->used += workers * per_worker;
  return c;
}

static inline kconn *conn(fx *f) {
  kconn *c = &f->pool[f->used++];

  assert_true(f->used <= POOL);
  assert_int_equal(kc_open(c, f->port), 0);
  assert_int_equal(kc_who(c), 0);
  return c;
}

/* The i32 rc of a one-message B_PUB reply. */
static inline int rc_of(const kframe *fr) {
  int32_t rc;
  memcpy(&rc, fr->p + 4, 4);
  return rc;
}

static inline void publish1(kconn *c, const char *ch, unsigned flags, uint16_t busid,
                     uint32_t pub, uint32_t seq) {
  kframe fr;

  assert_int_equal(kc_pub_send(c, ch, flags, busid, pub, seq, 8, 1), 0);
  assert_int_equal(kc_expect(c, B_PUB, &fr, 10000, NULL), 1);
  assert_int_equal(fr.size, 8);
  assert_int_equal((int)rc_of(&fr), 0);
}

static inline long long by_id(fx *f, uint32_t pid, uint16_t busid) {
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
static inline int probe(fx *f, kconn *c, const char *ch, unsigned flags,
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
static inline void drain(kconn *c, const char *ch, uint16_t busid, uint32_t *next,
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
static inline void quiet(kconn *c, int ms) {
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
static inline long long wait_count(fx *f, uint32_t pid, uint16_t busid,
                            long long want, int timeout_ms) {
  uint64_t deadline = kit_ms() + (uint64_t)timeout_ms;
  long long n;

  while ((n = by_id(f, pid, busid)) < want && kit_ms() < deadline)
    usleep(1000);
  return n;
}

/* Raises the descriptor limit (kc_spread holds connections open while it
 * looks for the workers it wants). */
static inline void raise_nofile(void) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

#endif /* NETFW_TEST_BUS_FIXTURE_H */
