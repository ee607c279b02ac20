/* Counts are exact (issue 17): a scripted run through a server of 2
 * workers on the st protocol (stats.netproto: Ping, Put, Flag answered
 * with one Reply each) — K connections sending N frames of each of the
 * three ids, one malformed Flag, one frame of an unregistered id, one
 * Reply (registered, but a message only clients receive) sent to the
 * server, one connection refused by on_connect, then one worker killed with
 * SIGKILL after its traffic — and the numbers read back through
 * netfw_server_stats and through GET /metrics are exactly the ones the
 * script implies. Connections land on whichever worker accepts them: the
 * totals do not depend on that, and the per-worker breakdown must sum to
 * them. The tests run in order on one server (group setup). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "frame.h" /* NETFW_FRAME_HDR_SIZE */
#include "metrics_kit.h"
#include "stats.netfw.h"
#include "wire.h"

enum { K = 4, N = 25, KN = K * N, HDR = NETFW_FRAME_HDR_SIZE };
enum { UNKNOWN_ID = 0x0777 };

/* The encoded payloads of the script (stats.netproto). */
static const uint8_t put_payload[] = {5, 'h', 'e', 'l', 'l', 'o'};
static const uint8_t flag_payload[] = {1, 7, 0};
static const uint8_t flag_malformed[] = {2, 7, 0}; /* bool byte 02 */

/* What each message entry must show after the script. */
typedef struct want_msg {
  uint16_t id;
  const char *name; /* NULL: "other" */
  uint64_t received, received_bytes, sent, sent_bytes, malformed, unhandled;
} want_msg;

static const want_msg want[] = {
    {0, NULL, 1, HDR + 5, 0, 0, 0, 1},
    {1, "Ping", KN, KN *(HDR + 4), 0, 0, 0, 0},
    {2, "Put", KN, KN *(HDR + 6), 0, 0, 0, 0},
    {3, "Flag", KN + 1, (KN + 1) * (HDR + 3), 0, 0, 1, 0},
    {9, "Reply", 1, HDR + 4, 3 * KN, 3 * KN *(HDR + 4), 0, 1},
};
#define NWANT (sizeof(want) / sizeof(want[0]))

/* Shared with the workers (MAP_SHARED, mapped before the fork). */
typedef struct ctl {
  atomic_int refuse_next; /* on_connect refuses one connection, then 0 */
} ctl;

static ctl *g_ctl;

/* The group's server and what the tests carry from one to the next. */
typedef struct run {
  netfw_server *s;
  uint16_t port;
  netfw_stats before; /* the snapshot before the kill */
  int killed_slot;
} run;

/* ---- the app ---- */

/* Answers every request with Reply{of = its id}. */
static void reply(netfw_conn *c, uint32_t of) {
  st_Reply r = {.of = of};
  (void)st_server_send_Reply(c, &r);
}

static void on_ping(void *app, netfw_conn *c, const st_Ping *m) {
  (void)app, (void)m;
  reply(c, ST_PING_ID);
}

static void on_put(void *app, netfw_conn *c, const st_Put *m) {
  (void)app, (void)m;
  reply(c, ST_PUT_ID);
}

static void on_flag(void *app, netfw_conn *c, const st_Flag *m) {
  (void)app, (void)m;
  reply(c, ST_FLAG_ID);
}

/* Refuses the connection when the test asked for one refusal. */
static bool on_connect(void *app, netfw_conn *c) {
  int one = 1;

  (void)app, (void)c;
  return !atomic_compare_exchange_strong(&g_ctl->refuse_next, &one, 0);
}

static const st_server_handlers handlers = {
    .on_Ping = on_ping, .on_Put = on_put, .on_Flag = on_flag};
static const st_server_app app = {.handlers = &handlers,
                                  .on_connect = on_connect};

/* ---- helpers ---- */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Takes snapshots into *st until done(st) or ms pass; fails on a timeout
 * (st then holds the last snapshot, freed). */
static void stats_wait(netfw_server *s, netfw_stats *st,
                       bool (*done)(const netfw_stats *), int ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)ms;

  for (;;) {
    assert_int_equal(netfw_server_stats(s, st), 0);
    if (done(st))
      return;
    if (wire_now_ms() > deadline)
      break;
    netfw_stats_free(st);
    sleep_ms(10);
  }
  netfw_stats_free(st);
  fail_msg("the counts did not settle within %d ms", ms);
}

/* The message entry of id in w, or NULL. */
static const netfw_msg_stats *msg_of(const netfw_worker_stats *w, uint16_t id,
                                     bool other) {
  size_t i;

  for (i = 0; i < w->nmessages; i++)
    if ((w->messages[i].name == NULL) == other && w->messages[i].id == id)
      return &w->messages[i];
  return NULL;
}

static uint64_t closed_sum(const netfw_worker_stats *w) {
  uint64_t n = 0;
  int i;

  for (i = 0; i < NETFW_CLOSE_REASON_COUNT; i++)
    n += w->closed[i];
  return n;
}

/* ---- the script ---- */

/* One client: N of each request pipelined, then every Reply checked in
 * order, then a close (the server sees the peer's EOF). */
static void client_round(uint16_t port, int c) {
  int fd = wire_connect(port), i;
  uint16_t id;
  uint8_t *p;
  uint32_t n, v;

  assert_true(fd >= 0);
  for (i = 0; i < N; i++) {
    uint32_t seq = (uint32_t)(c * N + i);
    assert_int_equal(wire_send(fd, ST_PING_ID, &seq, 4), 0);
    assert_int_equal(wire_send(fd, ST_PUT_ID, put_payload, 6), 0);
    assert_int_equal(wire_send(fd, ST_FLAG_ID, flag_payload, 3), 0);
  }
  for (i = 0; i < 3 * N; i++) {
    assert_int_equal(wire_recv(fd, &id, &p, &n, 10000), 1);
    assert_int_equal(id, ST_REPLY_ID);
    assert_int_equal(n, 4);
    memcpy(&v, p, 4);
    free(p);
    assert_int_equal(v, (uint32_t)(1 + i % 3)); /* Ping, Put, Flag */
  }
  wire_close(fd);
}

/* Sends one frame on a new connection and expects the server to close it
 * without a reply (an EOF, nothing before it). */
static void bad_frame(uint16_t port, uint16_t id, const void *p, uint32_t n) {
  int fd = wire_connect(port);
  size_t discarded = 99;

  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, id, p, n), 0);
  assert_int_equal(wire_wait_eof(fd, 10000, &discarded), 0);
  assert_int_equal(discarded, 0);
  wire_close(fd);
}

/* A connection on_connect refuses: closed by the server, nothing sent. */
static void refused_conn(uint16_t port) {
  int fd;
  size_t discarded = 99;

  atomic_store(&g_ctl->refuse_next, 1);
  fd = wire_connect(port);
  assert_true(fd >= 0);
  assert_int_equal(wire_wait_eof(fd, 10000, &discarded), 0);
  assert_int_equal(discarded, 0);
  assert_int_equal(atomic_load(&g_ctl->refuse_next), 0);
  wire_close(fd);
}

/* Every connection of the script accepted and ended. */
static bool script_settled(const netfw_stats *st) {
  return st->total.accepted == K + 4 && closed_sum(&st->total) == K + 3 &&
         st->total.refused[NETFW_REFUSE_APP] == 1 && st->total.open == 0;
}

/* ---- checks ---- */

/* w's counts of connections and messages are the script's. */
static void assert_script_counts(const netfw_worker_stats *w) {
  size_t i;
  int r;

  assert_int_equal(w->accepted, K + 4);
  assert_int_equal(w->open, 0);
  for (r = 0; r < NETFW_REFUSE_REASON_COUNT; r++)
    assert_int_equal(w->refused[r], r == NETFW_REFUSE_APP ? 1 : 0);
  for (r = 0; r < NETFW_CLOSE_REASON_COUNT; r++)
    assert_int_equal(w->closed[r], r == NETFW_CLOSE_PEER       ? K
                                   : r == NETFW_CLOSE_PROTOCOL ? 3
                                                               : 0);
  assert_int_equal(w->nmessages, NWANT);
  for (i = 0; i < NWANT; i++) {
    const netfw_msg_stats *m = &w->messages[i];
    uint64_t b = 0;
    int k;
    assert_int_equal(m->id, want[i].id); /* [0] other, then by id */
    if (want[i].name == NULL)
      assert_null(m->name);
    else
      assert_string_equal(m->name, want[i].name);
    assert_int_equal(m->received, want[i].received);
    assert_int_equal(m->received_bytes, want[i].received_bytes);
    assert_int_equal(m->sent, want[i].sent);
    assert_int_equal(m->sent_bytes, want[i].sent_bytes);
    assert_int_equal(m->malformed, want[i].malformed);
    assert_int_equal(m->unhandled, want[i].unhandled);
    for (k = 0; k <= NETFW_STATS_BUCKETS; k++)
      b += m->handler_buckets[k];
    assert_int_equal(b, m->received);
    if (m->id != 0 && m->received > 0)
      assert_true(m->handler_ns > 0);
  }
  assert_int_equal(w->all.received, 3 + 3 * KN);
  assert_int_equal(w->all.received_bytes, KN * (3 * HDR + 4 + 6 + 3) +
                                              (HDR + 3) + (HDR + 5) +
                                              (HDR + 4));
  assert_int_equal(w->all.sent, 3 * KN);
  assert_int_equal(w->all.sent_bytes, 3 * KN * (HDR + 4));
  assert_int_equal(w->all.malformed, 1);
  assert_int_equal(w->all.unhandled, 2);
  assert_int_equal(w->bus_published, 0);
  assert_int_equal(w->bus_delivered, 0);
  assert_int_equal(w->bus_dropped, 0);
}

/* Adds a's counters into sum (the fields the breakdown sums). */
static void add_worker(netfw_worker_stats *sum, const netfw_worker_stats *a) {
  size_t i;
  int r;

  sum->accepted += a->accepted;
  sum->open += a->open;
  sum->started += a->started;
  sum->restarts += a->restarts;
  for (r = 0; r < NETFW_REFUSE_REASON_COUNT; r++)
    sum->refused[r] += a->refused[r];
  for (r = 0; r < NETFW_CLOSE_REASON_COUNT; r++)
    sum->closed[r] += a->closed[r];
  for (r = 0; r < 65; r++)
    sum->died_signal[r] += a->died_signal[r];
  for (r = 0; r < 256; r++)
    sum->died_exit[r] += a->died_exit[r];
  for (i = 0; i < a->nmessages && i < sum->nmessages; i++) {
    netfw_msg_stats *s = &sum->messages[i];
    const netfw_msg_stats *m = &a->messages[i];
    s->received += m->received;
    s->received_bytes += m->received_bytes;
    s->sent += m->sent;
    s->sent_bytes += m->sent_bytes;
    s->malformed += m->malformed;
    s->unhandled += m->unhandled;
    s->handler_ns += m->handler_ns;
  }
}

/* The per-worker breakdown sums to the total, field by field. */
static void assert_breakdown_sums(const netfw_stats *st) {
  netfw_msg_stats msgs[NWANT];
  netfw_worker_stats sum;
  size_t i;
  int w;

  memset(&sum, 0, sizeof(sum));
  memset(msgs, 0, sizeof(msgs));
  sum.messages = msgs;
  sum.nmessages = NWANT;
  assert_int_equal(st->nworkers, 2);
  for (w = 0; w < st->nworkers; w++) {
    assert_int_equal(st->workers[w].slot, w);
    assert_int_equal(st->workers[w].nmessages, NWANT);
    add_worker(&sum, &st->workers[w]);
  }
  assert_int_equal(st->total.slot, -1);
  assert_int_equal(sum.accepted, st->total.accepted);
  assert_int_equal(sum.open, st->total.open);
  assert_int_equal(sum.started, st->total.started);
  assert_int_equal(sum.restarts, st->total.restarts);
  assert_memory_equal(sum.refused, st->total.refused, sizeof(sum.refused));
  assert_memory_equal(sum.closed, st->total.closed, sizeof(sum.closed));
  assert_memory_equal(sum.died_signal, st->total.died_signal,
                      sizeof(sum.died_signal));
  assert_memory_equal(sum.died_exit, st->total.died_exit,
                      sizeof(sum.died_exit));
  for (i = 0; i < NWANT; i++) {
    const netfw_msg_stats *t = &st->total.messages[i];
    assert_int_equal(msgs[i].received, t->received);
    assert_int_equal(msgs[i].received_bytes, t->received_bytes);
    assert_int_equal(msgs[i].sent, t->sent);
    assert_int_equal(msgs[i].sent_bytes, t->sent_bytes);
    assert_int_equal(msgs[i].malformed, t->malformed);
    assert_int_equal(msgs[i].unhandled, t->unhandled);
    assert_int_equal(msgs[i].handler_ns, t->handler_ns);
  }
}

/* ---- the tests ---- */

/* The script, then the C API's numbers, before any worker died. */
static void test_stats_counts_api(void **state) {
  run *r = *state;
  netfw_stats *st = &r->before;
  int c, w;

  for (c = 0; c < K; c++)
    client_round(r->port, c);
  bad_frame(r->port, ST_FLAG_ID, flag_malformed, 3);
  bad_frame(r->port, UNKNOWN_ID, "abcde", 5);
  bad_frame(r->port, ST_REPLY_ID, "\x09\0\0\0", 4); /* not for servers */
  refused_conn(r->port);
  stats_wait(r->s, st, script_settled, 10000);

  assert_script_counts(&st->total);
  assert_null(msg_of(&st->total, UNKNOWN_ID, false)); /* it is in "other" */
  assert_int_equal(st->total.started, 2);
  assert_int_equal(st->total.restarts, 0);
  assert_true(st->total.up);
  for (w = 0; w < 2; w++) {
    assert_true(st->workers[w].up);
    assert_true(st->workers[w].pid > 0);
    assert_int_equal(st->workers[w].generation, 1);
    assert_int_equal(st->workers[w].started, 1);
  }
  assert_int_equal(st->total.output_queued, 0);
  assert_breakdown_sums(st);
}

/* The slot whose worker received the most frames (it had traffic). */
static int busiest_slot(const netfw_stats *st) {
  return st->workers[1].all.received > st->workers[0].all.received ? 1 : 0;
}

/* The killed worker is replaced and the slot's counts survived it. */
static bool respawned(const netfw_stats *st) {
  return st->total.restarts == 1 && st->total.started == 3 && st->total.up;
}

/* The counts of slot w in a and b are the same (connections, messages). */
static void assert_same_counts(const netfw_worker_stats *a,
                               const netfw_worker_stats *b) {
  size_t i;

  assert_int_equal(a->accepted, b->accepted);
  assert_memory_equal(a->refused, b->refused, sizeof(a->refused));
  assert_memory_equal(a->closed, b->closed, sizeof(a->closed));
  assert_int_equal(a->nmessages, b->nmessages);
  for (i = 0; i < a->nmessages; i++) {
    assert_int_equal(a->messages[i].received, b->messages[i].received);
    assert_int_equal(a->messages[i].received_bytes,
                     b->messages[i].received_bytes);
    assert_int_equal(a->messages[i].sent, b->messages[i].sent);
    assert_int_equal(a->messages[i].sent_bytes, b->messages[i].sent_bytes);
    assert_int_equal(a->messages[i].malformed, b->messages[i].malformed);
    assert_int_equal(a->messages[i].unhandled, b->messages[i].unhandled);
    assert_int_equal(a->messages[i].handler_ns, b->messages[i].handler_ns);
    assert_memory_equal(a->messages[i].handler_buckets,
                        b->messages[i].handler_buckets,
                        sizeof(a->messages[i].handler_buckets));
  }
}

/* SIGKILL of the busiest worker: deaths{SIGKILL} 1, restarts 1, started
 * 3, and every count it made still there, in its slot. */
static void test_stats_counts_killed_worker(void **state) {
  run *r = *state;
  netfw_stats after;
  int w = r->killed_slot = busiest_slot(&r->before), s;
  long pid = r->before.workers[w].pid;

  assert_true(r->before.workers[w].all.received > 0);
  assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
  stats_wait(r->s, &after, respawned, 10000);

  assert_script_counts(&after.total);
  for (s = 0; s < 2; s++)
    assert_same_counts(&r->before.workers[s], &after.workers[s]);
  assert_int_not_equal(after.workers[w].pid, pid);
  assert_int_equal(after.workers[w].generation, 2);
  assert_int_equal(after.workers[w].started, 2);
  assert_int_equal(after.workers[w].restarts, 1);
  assert_int_equal(after.workers[w].died_signal[SIGKILL], 1);
  assert_int_equal(after.workers[1 - w].pid, r->before.workers[1 - w].pid);
  assert_int_equal(after.workers[1 - w].restarts, 0);
  for (s = 0; s < 65; s++)
    assert_int_equal(after.total.died_signal[s], s == SIGKILL ? 1 : 0);
  for (s = 0; s < 256; s++)
    assert_int_equal(after.total.died_exit[s], 0);
  assert_breakdown_sums(&after);
  netfw_stats_free(&r->before);
  r->before = after; /* the reference of the next test */
}

/* GET /metrics shows the same numbers: the exposition matches the
 * snapshot series by series, and the script's numbers are there as
 * literals too. */
static void test_stats_counts_metrics(void **state) {
  run *r = *state;
  mk_resp resp;
  mk_prom *p;
  char err[256] = "";
  uint64_t v;

  assert_int_equal(
      mk_http(netfw_server_metrics_port(r->s), "GET", "/metrics", &resp), 0);
  assert_int_equal(resp.code, 200);
  assert_string_equal(resp.ctype, "text/plain; version=0.0.4; charset=utf-8");
  p = mk_prom_parse(resp.body, err, sizeof(err));
  if (p == NULL)
    fail_msg("/metrics does not parse: %s", err);
  mk_assert_exposition(p, &r->before);
  assert_true(mk_prom_u64(p, "netfw_connections_accepted_total", "", &v));
  assert_int_equal(v, K + 4);
  assert_true(
      mk_prom_u64(p, "netfw_connections_refused_total", "reason=\"app\"", &v));
  assert_int_equal(v, 1);
  assert_true(
      mk_prom_u64(p, "netfw_connections_closed_total", "reason=\"peer\"", &v));
  assert_int_equal(v, K);
  assert_true(mk_prom_u64(p, "netfw_connections_closed_total",
                          "reason=\"protocol\"", &v));
  assert_int_equal(v, 3);
  assert_true(mk_prom_u64(p, "netfw_messages_received_total",
                          "message=\"Flag\",id=\"3\"", &v));
  assert_int_equal(v, KN + 1);
  assert_true(mk_prom_u64(p, "netfw_bytes_received_total",
                          "message=\"Put\",id=\"2\"", &v));
  assert_int_equal(v, KN * (HDR + 6));
  assert_true(mk_prom_u64(p, "netfw_bytes_sent_total",
                          "message=\"Reply\",id=\"9\"", &v));
  assert_int_equal(v, 3 * KN * (HDR + 4));
  assert_true(mk_prom_u64(p, "netfw_messages_malformed_total",
                          "message=\"Flag\",id=\"3\"", &v));
  assert_int_equal(v, 1);
  assert_true(mk_prom_u64(p, "netfw_messages_unhandled_total",
                          "message=\"?\",id=\"other\"", &v));
  assert_int_equal(v, 1);
  assert_true(mk_prom_u64(p, "netfw_messages_unhandled_total",
                          "message=\"Reply\",id=\"9\"", &v));
  assert_int_equal(v, 1);
  assert_true(mk_prom_u64(p, "netfw_handler_duration_seconds_count",
                          "message=\"Ping\",id=\"1\"", &v));
  assert_int_equal(v, KN);
  assert_true(
      mk_prom_u64(p, "netfw_worker_deaths_total", "reason=\"SIGKILL\"", &v));
  assert_int_equal(v, 1);
  assert_int_equal(mk_prom_count(p, "netfw_worker_deaths_total"), 1);
  assert_true(mk_prom_u64(p, "netfw_worker_restarts_total", "", &v));
  assert_int_equal(v, 1);
  assert_true(mk_prom_u64(p, "netfw_workers_started_total", "", &v));
  assert_int_equal(v, 3);
  assert_true(mk_prom_u64(p, "netfw_worker_up", "worker=\"0\"", &v));
  assert_int_equal(v, 1);
  assert_true(mk_prom_u64(p, "netfw_worker_up", "worker=\"1\"", &v));
  assert_int_equal(v, 1);
  mk_prom_free(p);
  mk_resp_free(&resp);
}

/* After the scrape, the C API still shows the same numbers (a scrape
 * counts nothing and changes nothing). */
static void test_stats_counts_final(void **state) {
  run *r = *state;
  netfw_stats st;
  int s;

  assert_int_equal(netfw_server_stats(r->s, &st), 0);
  assert_script_counts(&st.total);
  for (s = 0; s < 2; s++)
    assert_same_counts(&r->before.workers[s], &st.workers[s]);
  assert_int_equal(st.total.restarts, 1);
  assert_int_equal(st.total.started, 3);
  netfw_stats_free(&st);
}

static int group_setup(void **state) {
  run *r = calloc(1, sizeof(*r));
  netfw_config cfg;

  g_ctl = mmap(NULL, sizeof(*g_ctl), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r == NULL || g_ctl == MAP_FAILED)
    return -1;
  st_server_config_init(&cfg, &app);
  if (cfg.msg_name != st_msg_name) /* the generated init registers them */
    return -1;
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = 2;
  cfg.metrics_addr = "127.0.0.1:0";
  r->s = netfw_server_new(&cfg);
  if (r->s == NULL || netfw_server_start(r->s) != 0)
    return -1;
  r->port = netfw_server_port(r->s);
  if (netfw_server_metrics_port(r->s) == 0)
    return -1;
  *state = r;
  return 0;
}

static int group_teardown(void **state) {
  run *r = *state;

  if (r == NULL)
    return 0;
  if (r->s != NULL) {
    assert_int_equal(netfw_server_stop(r->s, 5000), 0);
    netfw_server_free(r->s);
  }
  netfw_stats_free(&r->before);
  munmap(g_ctl, sizeof(*g_ctl));
  free(r);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stats_counts_api),
      cmocka_unit_test(test_stats_counts_killed_worker),
      cmocka_unit_test(test_stats_counts_metrics),
      cmocka_unit_test(test_stats_counts_final),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
