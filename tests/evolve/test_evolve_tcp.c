/* Cross-version peers over TCP: a version 1 server (ev1, a prefork server
 * with 1 worker on port 0) and a version 2 client (ev2), then a version 2
 * server and a version 1 client. The client sends every `-> server` message
 * for a few rounds; the server's typed handlers check the fields (the
 * defaults on the version 2 side) and answer with `-> client` messages,
 * which the client's typed handlers check. Every count is exact, every
 * receive has a timeout. The worker's counts and failed checks live in
 * shared memory, mapped before the fork. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "evolve_samples.h"

#define LOCALHOST "127.0.0.1"
#define WAIT_MS 10000 /* any one receive, any stop */
#define QUIET_MS 200  /* nothing more arrives */
#define ROUNDS 3
#define SEQ_REPLY 100 /* Welcome.seq = Hello.seq + SEQ_REPLY */

/* What a server's handlers saw (shared with its worker). */
typedef struct server_seen {
  int hello, ping, items, extra, bye, unknown, malformed;
  uint16_t unknown_id;
  ev_tally tally;
} server_seen;

/* What a client's handlers saw. */
typedef struct client_seen {
  int welcome, ping, items, status, unknown, malformed;
  uint32_t round; /* the round whose replies arrive */
  ev_tally tally;
} client_seen;

/* ---- the version 1 server ---------------------------------------------- */

static void v1_on_hello(void *app, netfw_conn *conn, const ev1_Hello *m) {
  server_seen *s = app;
  ev1_Welcome w;
  check_v1_hello(&s->tally, m, (uint32_t)++s->hello);
  sample_v1_welcome(&w, m->seq + SEQ_REPLY);
  EV_CHECK(&s->tally, ev1_server_send_Welcome(conn, &w) == 0);
}

static void v1_on_ping(void *app, netfw_conn *conn, const ev1_Ping *m) {
  server_seen *s = app;
  ev1_Ping p;
  s->ping++;
  check_v1_ping(&s->tally, m);
  sample_v1_ping(&p);
  EV_CHECK(&s->tally, ev1_server_send_Ping(conn, &p) == 0);
}

static void v1_on_items(void *app, netfw_conn *conn, const ev1_Items *m) {
  server_seen *s = app;
  ev1_Items it;
  s->items++;
  check_v1_items(&s->tally, m);
  sample_v1_items(&it);
  EV_CHECK(&s->tally, ev1_server_send_Items(conn, &it) == 0);
}

/* Bye and a message version 1 does not know (Extra) both get a Status. */
static void v1_reply_status(server_seen *s, netfw_conn *conn) {
  ev1_Status st;
  sample_v1_status(&st);
  EV_CHECK(&s->tally, ev1_server_send_Status(conn, &st) == 0);
}

static void v1_on_bye(void *app, netfw_conn *conn, const ev1_Bye *m) {
  server_seen *s = app;
  s->bye++;
  EV_CHECK(&s->tally, m->code == 3);
  v1_reply_status(s, conn);
}

static void v1_on_unknown(void *app, netfw_conn *conn, netfw_msg *msg) {
  server_seen *s = app;
  s->unknown++;
  s->unknown_id = netfw_msg_id(msg);
  v1_reply_status(s, conn);
}

static void v1_on_malformed(void *app, netfw_conn *conn, netfw_msg *msg,
                            int err) {
  ((server_seen *)app)->malformed++;
}

static const ev1_server_handlers v1_server = {.on_Hello = v1_on_hello,
                                              .on_Ping = v1_on_ping,
                                              .on_Items = v1_on_items,
                                              .on_Bye = v1_on_bye,
                                              .on_unknown = v1_on_unknown,
                                              .on_malformed = v1_on_malformed};

/* ---- the version 2 server ---------------------------------------------- */

static void v2_on_hello(void *app, netfw_conn *conn, const ev2_Hello *m) {
  server_seen *s = app;
  ev2_Welcome w;
  check_v2_hello_from_v1(&s->tally, m, (uint32_t)++s->hello);
  sample_v2_welcome(&w, m->seq + SEQ_REPLY);
  EV_CHECK(&s->tally, ev2_server_send_Welcome(conn, &w) == 0);
}

static void v2_on_ping(void *app, netfw_conn *conn, const ev2_Ping *m) {
  server_seen *s = app;
  ev2_Ping p;
  s->ping++;
  check_v2_ping_from_v1(&s->tally, m);
  sample_v2_ping(&p);
  EV_CHECK(&s->tally, ev2_server_send_Ping(conn, &p) == 0);
}

static void v2_on_items(void *app, netfw_conn *conn, const ev2_Items *m) {
  server_seen *s = app;
  ev2_Items it;
  s->items++;
  check_v2_items_from_v1(&s->tally, m);
  sample_v2_items(&it);
  EV_CHECK(&s->tally, ev2_server_send_Items(conn, &it) == 0);
}

static void v2_on_extra(void *app, netfw_conn *conn, const ev2_Extra *m) {
  ((server_seen *)app)->extra++; /* a version 1 client cannot send it */
}

static void v2_on_bye(void *app, netfw_conn *conn, const ev2_Bye *m) {
  server_seen *s = app;
  ev2_Status st;
  s->bye++;
  EV_CHECK(&s->tally, m->code == 3);
  sample_v2_status(&st);
  EV_CHECK(&s->tally, ev2_server_send_Status(conn, &st) == 0);
}

static void v2_on_unknown(void *app, netfw_conn *conn, netfw_msg *msg) {
  ((server_seen *)app)->unknown++;
}

static void v2_on_malformed(void *app, netfw_conn *conn, netfw_msg *msg,
                            int err) {
  ((server_seen *)app)->malformed++;
}

static const ev2_server_handlers v2_server = {.on_Hello = v2_on_hello,
                                              .on_Ping = v2_on_ping,
                                              .on_Items = v2_on_items,
                                              .on_Extra = v2_on_extra,
                                              .on_Bye = v2_on_bye,
                                              .on_unknown = v2_on_unknown,
                                              .on_malformed = v2_on_malformed};

/* ---- the version 2 client (talks to the version 1 server) -------------- */

static void v2c_on_welcome(void *user, const ev2_Welcome *m) {
  client_seen *c = user;
  c->welcome++;
  check_v2_welcome_from_v1(&c->tally, m, c->round + SEQ_REPLY);
}

static void v2c_on_ping(void *user, const ev2_Ping *m) {
  client_seen *c = user;
  c->ping++;
  check_v2_ping_from_v1(&c->tally, m);
}

static void v2c_on_items(void *user, const ev2_Items *m) {
  client_seen *c = user;
  c->items++;
  check_v2_items_from_v1(&c->tally, m);
}

static void v2c_on_status(void *user, const ev2_Status *m) {
  client_seen *c = user;
  c->status++;
  check_v2_status_from_v1(&c->tally, m);
}

static void v2c_on_unknown(void *user, netfw_msg *msg) {
  ((client_seen *)user)->unknown++;
}

static void v2c_on_malformed(void *user, netfw_msg *msg, int err) {
  ((client_seen *)user)->malformed++;
}

static const ev2_client_handlers v2_client = {.on_Welcome = v2c_on_welcome,
                                              .on_Ping = v2c_on_ping,
                                              .on_Items = v2c_on_items,
                                              .on_Status = v2c_on_status,
                                              .on_unknown = v2c_on_unknown,
                                              .on_malformed = v2c_on_malformed};

/* ---- the version 1 client (talks to the version 2 server) -------------- */

static void v1c_on_welcome(void *user, const ev1_Welcome *m) {
  client_seen *c = user;
  c->welcome++;
  check_v1_welcome(&c->tally, m, c->round + SEQ_REPLY, 300); /* LATER */
}

static void v1c_on_ping(void *user, const ev1_Ping *m) {
  client_seen *c = user;
  c->ping++;
  check_v1_ping(&c->tally, m);
}

static void v1c_on_items(void *user, const ev1_Items *m) {
  client_seen *c = user;
  c->items++;
  check_v1_items(&c->tally, m);
}

static void v1c_on_status(void *user, const ev1_Status *m) {
  client_seen *c = user;
  c->status++;
  check_v1_status(&c->tally, m);
}

static void v1c_on_unknown(void *user, netfw_msg *msg) {
  ((client_seen *)user)->unknown++;
}

static void v1c_on_malformed(void *user, netfw_msg *msg, int err) {
  ((client_seen *)user)->malformed++;
}

static const ev1_client_handlers v1_client = {.on_Welcome = v1c_on_welcome,
                                              .on_Ping = v1c_on_ping,
                                              .on_Items = v1c_on_items,
                                              .on_Status = v1c_on_status,
                                              .on_unknown = v1c_on_unknown,
                                              .on_malformed = v1c_on_malformed};

/* ---- fixture: a server of either version on port 0 --------------------- */

typedef struct fixture {
  netfw_server *server;
  server_seen *seen; /* shared with the worker */
  ev1_server_app app1;
  ev2_server_app app2;
  netfw_client *client;
  netfw_arena arena;
  client_seen cs;
} fixture;

/* Starts the server cfg describes (one worker,
 * 127.0.0.1, port 0) and connects a client to it. */
static void fixture_start(fixture *f, netfw_config *cfg) {
  cfg->ip = LOCALHOST;
  cfg->port = 0;
  cfg->worker_num = 1;
  f->server = netfw_server_new(cfg);
  assert_non_null(f->server);
  assert_int_equal(netfw_server_start(f->server), 0);
  f->client = netfw_client_new();
  assert_non_null(f->client);
  assert_int_equal(netfw_client_connect(f->client, LOCALHOST,
                                        netfw_server_port(f->server)),
                   0);
  netfw_arena_init(&f->arena);
}

static int setup(void **state) {
  static fixture f;
  memset(&f, 0, sizeof(f));
  f.seen = mmap(NULL, sizeof(*f.seen), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (f.seen == MAP_FAILED)
    return -1;
  memset(f.seen, 0, sizeof(*f.seen));
  netfw_log_set_level(NETFW_LOG_ERROR);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  int rc = 0;
  if (f->client != NULL && netfw_client_shutdown(f->client, WAIT_MS) != 0)
    rc = -1;
  netfw_client_free(f->client);
  if (f->server != NULL && netfw_server_stop(f->server, WAIT_MS) != 0)
    rc = -1;
  netfw_server_free(f->server);
  netfw_arena_free(&f->arena);
  munmap(f->seen, sizeof(*f->seen));
  return rc;
}

/* Receives exactly one message within WAIT_MS and dispatches it. */
#define RECV(proto, f, handlers)                                               \
  assert_int_equal(proto##_client_recv((f)->client, (handlers), &(f)->cs,      \
                                       &(f)->arena, WAIT_MS),                  \
                   0)

/* Nothing more arrives: a receive times out. */
#define QUIET(proto, f, handlers)                                              \
  assert_int_equal(proto##_client_recv((f)->client, (handlers), &(f)->cs,      \
                                       &(f)->arena, QUIET_MS),                 \
                   NETFW_ETIMEDOUT)

/* The counts every session ends with; `unknown` Extras went to on_unknown
 * (id 6), `statuses` Statuses came back. */
static void assert_session(const fixture *f, int unknown, int statuses) {
  assert_tally_clean(&f->seen->tally);
  assert_tally_clean(&f->cs.tally);
  assert_int_equal(f->seen->hello, ROUNDS);
  assert_int_equal(f->seen->ping, ROUNDS);
  assert_int_equal(f->seen->items, ROUNDS);
  assert_int_equal(f->seen->bye, ROUNDS);
  assert_int_equal(f->seen->extra, 0);
  assert_int_equal(f->seen->unknown, unknown);
  assert_int_equal(f->seen->unknown_id, unknown > 0 ? EV2_EXTRA_ID : 0);
  assert_int_equal(f->seen->malformed, 0);
  assert_int_equal(f->cs.welcome, ROUNDS);
  assert_int_equal(f->cs.ping, ROUNDS);
  assert_int_equal(f->cs.items, ROUNDS);
  assert_int_equal(f->cs.status, statuses);
  assert_int_equal(f->cs.unknown + f->cs.malformed, 0);
}

/* A version 2 client sends the full version 2 messages (Extra too, which
 * version 1 does not know) to a version 1 server, and sees version 1
 * replies with every [since] field at its default. */
static void test_evolve_tcp_v1_server_v2_client(void **state) {
  fixture *f = *state;
  netfw_config cfg;
  f->app1.handlers = &v1_server;
  f->app1.context = f->seen;
  ev1_server_config_init(&cfg, &f->app1);
  fixture_start(f, &cfg);
  for (uint32_t round = 1; round <= ROUNDS; round++) {
    ev2_Hello h;
    ev2_Ping p;
    ev2_Items it;
    ev2_Extra x;
    ev2_Bye b = {3};
    f->cs.round = round;
    sample_v2_hello(&h, round);
    sample_v2_ping(&p);
    sample_v2_items(&it);
    sample_v2_extra(&x);
    assert_int_equal(ev2_client_send_Hello(f->client, &h), 0);
    RECV(ev2, f, &v2_client);
    assert_int_equal(f->cs.welcome, (int)round);
    assert_int_equal(ev2_client_send_Ping(f->client, &p), 0);
    RECV(ev2, f, &v2_client);
    assert_int_equal(ev2_client_send_Items(f->client, &it), 0);
    RECV(ev2, f, &v2_client);
    assert_int_equal(ev2_client_send_Extra(f->client, &x), 0);
    RECV(ev2, f, &v2_client);
    assert_int_equal(ev2_client_send_Bye(f->client, &b), 0);
    RECV(ev2, f, &v2_client);
  }
  QUIET(ev2, f, &v2_client);
  assert_session(f, ROUNDS, 2 * ROUNDS);
}

/* A version 1 client sends version 1 messages to a version 2 server, whose
 * handlers see the defaults, and reads its full version 2 replies. */
static void test_evolve_tcp_v2_server_v1_client(void **state) {
  fixture *f = *state;
  netfw_config cfg;
  f->app2.handlers = &v2_server;
  f->app2.context = f->seen;
  ev2_server_config_init(&cfg, &f->app2);
  fixture_start(f, &cfg);
  for (uint32_t round = 1; round <= ROUNDS; round++) {
    ev1_Hello h;
    ev1_Ping p;
    ev1_Items it;
    ev1_Bye b = {3};
    f->cs.round = round;
    sample_v1_hello(&h, round);
    sample_v1_ping(&p);
    sample_v1_items(&it);
    assert_int_equal(ev1_client_send_Hello(f->client, &h), 0);
    RECV(ev1, f, &v1_client);
    assert_int_equal(f->cs.welcome, (int)round);
    assert_int_equal(ev1_client_send_Ping(f->client, &p), 0);
    RECV(ev1, f, &v1_client);
    assert_int_equal(ev1_client_send_Items(f->client, &it), 0);
    RECV(ev1, f, &v1_client);
    assert_int_equal(ev1_client_send_Bye(f->client, &b), 0);
    RECV(ev1, f, &v1_client);
  }
  QUIET(ev1, f, &v1_client);
  assert_session(f, 0, ROUNDS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_evolve_tcp_v1_server_v2_client,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_evolve_tcp_v2_server_v1_client,
                                      setup, teardown),
  };
  return cmocka_run_group_tests_name("evolve_tcp", tests, NULL, NULL);
}
