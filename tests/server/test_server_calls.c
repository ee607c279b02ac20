/* Calls on the server (netfw/server.h, "calls: answering requests"): one
 * worker on 127.0.0.1 port 0 with a hand-built protocol (calls_app.c), a
 * raw-socket client that checks the exact frames and their order. Replies
 * go out in request order whoever answers first; a push is never held; a
 * request left without an answer closes its connection (UNANSWERED), at
 * once or after reply_timeout_ms; tokens of a closed connection report
 * NETFW_ECLOSED; max_pending pauses reading; without a protocol nothing
 * changes. Also run over TLS (test_server_calls_tls). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "calls_app.h"
#include "tls_kit.h"
#include "wire.h"

#define WAIT_MS 10000

typedef struct fx {
  cboard *b;
  netfw_config cfg;
  netfw_server *s;
  uint16_t port;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof(*f));

  if (f == NULL || (f->b = cboard_new()) == NULL)
    return -1;
  netfw_config_init(&f->cfg, &calls_app);
  f->cfg.ip = "127.0.0.1";
  f->cfg.port = 0;
  f->cfg.worker_num = 1;
  f->cfg.context = f->b;
  f->cfg.protocol = &test_calls_desc;
  tls_kit_server_config(&f->cfg); /* the _tls variant: TLS on */
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;

  if (f->s != NULL) {
    netfw_server_stop(f->s, 5000);
    netfw_server_free(f->s);
  }
  cboard_free(f->b);
  free(f);
  return 0;
}

static void start(fx *f) {
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
}

static int connect_to(fx *f) {
  int fd = wire_connect(f->port);
  assert_true(fd >= 0);
  return fd;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Sends Get {mode, tag, arg}. */
static void send_get(int fd, int mode, uint32_t tag, uint32_t arg) {
  uint8_t p[9];

  calls_get_payload(p, mode, tag, arg);
  assert_int_equal(wire_send(fd, ID_GET, p, sizeof(p)), 0);
}

/* Expects exactly the frame id {u32 tag}. */
static void expect_tagged(int fd, uint16_t id, uint32_t tag) {
  uint8_t want[4] = {(uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)(tag >> 16),
                     (uint8_t)(tag >> 24)};
  uint16_t got_id = 0;
  uint8_t *got = NULL;
  uint32_t size = 0;

  assert_int_equal(wire_recv(fd, &got_id, &got, &size, WAIT_MS), 1);
  assert_int_equal(got_id, id);
  assert_int_equal(size, 4);
  assert_memory_equal(got, want, 4);
  free(got);
}

/* Nothing arrives for ms. */
static void expect_silence(int fd, int ms) {
  uint8_t buf[64];

  assert_int_equal(wire_read_some(fd, buf, sizeof(buf), ms), -1);
}

/* The worker's on_client_closed totals reach closes, `why` among them. */
static void expect_closed(fx *f, int closes, netfw_close_reason why,
                          int count) {
  assert_int_equal(cboard_wait(&f->b->closes, closes, WAIT_MS), closes);
  assert_int_equal(atomic_load(&f->b->closed_by[why]), count);
}

/* ---- answers in the handler ---- */

/* Requests answered in their handler: each reply, in order; a one-way
 * message and a non-request get nothing. */
static void test_calls_in_handler(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_NOW, 1, 0);
  assert_int_equal(wire_send(fd, ID_SAY, "hi", 2), 0);
  send_get(fd, M_NOW, 2, 0);
  send_get(fd, M_STREAM, 3, 0);
  send_get(fd, M_NOW, 4, 0);
  expect_tagged(fd, ID_GETRESP, 1);
  expect_tagged(fd, ID_GETRESP, 2);
  expect_tagged(fd, ID_GETRESP, 3);
  expect_tagged(fd, ID_GETRESP, 4);
  expect_silence(fd, 100);
  assert_int_equal(atomic_load(&f->b->requests), 4);
  assert_int_equal(atomic_load(&f->b->others), 1);
  assert_int_equal(atomic_load(&f->b->rc[3][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[3][1]), 0);
  assert_int_equal(atomic_load(&f->b->rc[3][2]), 0);
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_PEER, 1);
}

/* Replies that answer no request being handled: another request's reply
 * in Get's handler, a reply from the one-way Say's handler: NETFW_EINVAL,
 * nothing sent, a WARN line; the handler then answers as usual. */
static void test_calls_stray_reply(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_STRAY, 1, 0);
  assert_int_equal(wire_send(fd, ID_SAY, "hi", 2), 0);
  send_get(fd, M_NOW, 2, 0);
  expect_tagged(fd, ID_GETRESP, 1);
  expect_tagged(fd, ID_GETRESP, 2);
  expect_silence(fd, 100);
  assert_int_equal(atomic_load(&f->b->rc[1][0]), NETFW_EINVAL);
  assert_int_equal(atomic_load(&f->b->rc[1][1]), 0);
  assert_int_equal(atomic_load(&f->b->rc[CB_SAY][0]), NETFW_EINVAL);
  assert_true(cboard_log_has(f->b, "ListResp (id 6) is a reply",
                             "handling Get"));
  assert_true(cboard_log_has(f->b, "Ack (id 7) is a reply", "no request"));
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_PEER, 1);
}

/* A graceful stop while a deferred request waits: the connection stays
 * open until its reply is out, then closes (STOPPING); a request never
 * answered is given up after drain_timeout_ms (WARN). */
static void test_calls_stop_answers(void **state) {
  fx *f = *state;
  size_t left = 0;
  int fd, fd2;

  f->cfg.drain_timeout_ms = 1000;
  start(f);
  fd = connect_to(f);
  fd2 = connect_to(f);
  send_get(fd, M_DEFER, 1, 300);
  send_get(fd2, M_HOLD, 2, 0);
  assert_int_equal(cboard_wait(&f->b->requests, 2, WAIT_MS), 2);
  assert_int_equal(netfw_server_stop(f->s, 5000), 0);
  expect_tagged(fd, ID_GETRESP, 1); /* answered 300 ms into the stop */
  assert_int_equal(wire_wait_eof(fd, 1000, &left), 0);
  assert_int_equal(wire_wait_eof(fd2, 1000, &left), 0);
  assert_int_equal(atomic_load(&f->b->rc[1][1]), 0);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_STOPPING]), 2);
  assert_true(cboard_log_has(f->b, "stopping: 1 request still unanswered",
                             "drain_timeout_ms (1000)"));
  wire_close(fd);
  wire_close(fd2);
}

/* A second answer in the handler, a defer after it, another of the
 * request's replies: NETFW_ESTATE, nothing sent; defer twice: ESTATE;
 * reply_send at once inside the handler answers. */
static void test_calls_double_answer(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_TWICE, 1, 0);
  send_get(fd, M_DEFER_TWICE, 2, 0);
  send_get(fd, M_NOW, 3, 0);
  expect_tagged(fd, ID_GETRESP, 1);
  expect_tagged(fd, ID_GETRESP, 2);
  expect_tagged(fd, ID_GETRESP, 3);
  expect_silence(fd, 100);
  assert_int_equal(atomic_load(&f->b->rc[1][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[1][1]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[1][2]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[1][3]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[2][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[2][1]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[2][2]), 0);
  wire_close(fd);
}

/* ---- deferred answers ---- */

/* 50 requests answered by timers in reverse order (the last one first):
 * the replies arrive in request order. */
static void test_calls_deferred_in_order(void **state) {
  fx *f = *state;
  uint32_t i;
  int fd;

  start(f);
  fd = connect_to(f);
  for (i = 0; i < 50; i++)
    send_get(fd, M_DEFER, i, 5 + (50 - i) * 4);
  for (i = 0; i < 50; i++)
    expect_tagged(fd, ID_GETRESP, i);
  expect_silence(fd, 100);
  for (i = 0; i < 50; i++) {
    assert_int_equal(atomic_load(&f->b->rc[i][0]), 0);
    assert_int_equal(atomic_load(&f->b->rc[i][1]), 0);
    assert_int_equal(atomic_load(&f->b->order[i]), (int)i);
  }
  /* answered out of order: the last before the first */
  assert_true(atomic_load(&f->b->answered_ms[49]) <
              atomic_load(&f->b->answered_ms[0]));
  wire_close(fd);
}

/* A push sent while a reply is held goes out at once: Line(2) arrives
 * before the reply to request 1 (answered 400 ms later), then both replies
 * in order (2 was answered first, at 20 ms, and held). */
static void test_calls_push_not_held(void **state) {
  fx *f = *state;
  uint64_t t0;
  int fd;

  start(f);
  fd = connect_to(f);
  t0 = wire_now_ms();
  send_get(fd, M_DEFER, 1, 400);
  send_get(fd, M_PUSH, 2, 20);
  expect_tagged(fd, ID_LINE, 2);
  assert_true(wire_now_ms() - t0 < 300);
  expect_tagged(fd, ID_GETRESP, 1);
  expect_tagged(fd, ID_GETRESP, 2);
  assert_int_equal(atomic_load(&f->b->rc[2][2]), 0);
  assert_true(atomic_load(&f->b->answered_ms[2]) <
              atomic_load(&f->b->answered_ms[1]));
  wire_close(fd);
}

/* A reply held behind a deferred one, given with send_begin/send_more,
 * waits its turn whole. */
static void test_calls_stream_held(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_DEFER, 1, 150);
  send_get(fd, M_STREAM, 2, 0);
  send_get(fd, M_NOW, 3, 0);
  expect_tagged(fd, ID_GETRESP, 1);
  expect_tagged(fd, ID_GETRESP, 2);
  expect_tagged(fd, ID_GETRESP, 3);
  assert_int_equal(atomic_load(&f->b->rc[2][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[2][2]), 0);
  wire_close(fd);
}

/* reply_send with an id that is no reply of the request: NETFW_EINVAL,
 * nothing sent; NULL: EINVAL; then the right one: 0; again: ESTATE; a seq
 * the connection never gave: ESTATE; a connection number never given:
 * ECLOSED. */
static void test_calls_reply_wrong_and_twice(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_WRONG, 1, 20);
  expect_tagged(fd, ID_GETRESP, 1);
  expect_silence(fd, 100);
  assert_int_equal(atomic_load(&f->b->rc[1][0]), NETFW_EINVAL);
  assert_int_equal(atomic_load(&f->b->rc[1][1]), NETFW_EINVAL);
  assert_int_equal(atomic_load(&f->b->rc[1][2]), 0);
  assert_int_equal(atomic_load(&f->b->rc[1][3]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[1][4]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[1][5]), NETFW_ECLOSED);
  wire_close(fd);
}

/* 70 connections (the worker's index grows past its first 64 buckets),
 * 3 requests each, answered last first: every connection gets its own
 * replies, in order. */
static void test_calls_many_connections(void **state) {
  fx *f = *state;
  enum { NCONN = 70 };
  int fds[NCONN], i, k;

  start(f);
  for (i = 0; i < NCONN; i++) {
    fds[i] = connect_to(f);
    for (k = 0; k < 3; k++)
      send_get(fds[i], M_DEFER, (uint32_t)(1000 + i * 3 + k),
               (uint32_t)(60 - k * 20));
  }
  for (i = 0; i < NCONN; i++) {
    for (k = 0; k < 3; k++)
      expect_tagged(fds[i], ID_GETRESP, (uint32_t)(1000 + i * 3 + k));
    wire_close(fds[i]);
  }
  expect_closed(f, NCONN, NETFW_CLOSE_PEER, NCONN);
  assert_int_equal(atomic_load(&f->b->requests), NCONN * 3);
}

/* The connection closes before the deferred answer: reply_send gives
 * NETFW_ECLOSED. */
static void test_calls_reply_after_close(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_DEFER, 1, 300);
  assert_int_equal(cboard_wait(&f->b->requests, 1, WAIT_MS), 1);
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_PEER, 1);
  for (int i = 0; i < 500 && atomic_load(&f->b->rc[1][1]) == CB_UNSET; i++)
    sleep_ms(10);
  assert_int_equal(atomic_load(&f->b->rc[1][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[1][1]), NETFW_ECLOSED);
}

/* ---- unanswered requests ---- */

/* A handler that neither answers nor defers: the replies before it leave,
 * then the connection closes (UNANSWERED, logged at ERROR naming the
 * request); the request after it is never handled. */
static void test_calls_unanswered_closes(void **state) {
  fx *f = *state;
  int fd;

  start(f);
  fd = connect_to(f);
  send_get(fd, M_NOW, 1, 0);
  send_get(fd, M_NONE, 2, 0);
  send_get(fd, M_NOW, 3, 0);
  expect_tagged(fd, ID_GETRESP, 1);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_UNANSWERED, 1);
  assert_int_equal(atomic_load(&f->b->requests), 2);
  assert_true(cboard_log_has(f->b, "ERROR",
                             "request Get (id 3) was neither "
                             "answered nor deferred"));
  assert_true(cboard_log_has(f->b, "127.0.0.1:", "(unanswered)"));
}

/* A deferred request never answered: after reply_timeout_ms (200) the
 * connection closes (UNANSWERED, logged), not before. */
static void test_calls_reply_timeout(void **state) {
  fx *f = *state;
  uint64_t t0, took;
  int fd;

  f->cfg.reply_timeout_ms = 200;
  start(f);
  fd = connect_to(f);
  t0 = wire_now_ms();
  send_get(fd, M_HOLD, 1, 0);
  send_get(fd, M_NOW, 2, 0); /* held behind 1, dropped with it */
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  took = wire_now_ms() - t0;
  assert_true(took >= 190);
  assert_true(took < 1500);
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_UNANSWERED, 1);
  assert_int_equal(atomic_load(&f->b->rc[1][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[2][0]), 0);
  assert_true(cboard_log_has(f->b, "request Get (id 3) unanswered for",
                             "reply_timeout_ms 200"));
}

/* ---- limits ---- */

/* A peer waiting for a deferred reply is not idle: with idle_timeout_ms
 * 400 the reply given after 1200 ms still arrives; idle afterwards, the
 * connection is shut down (IDLE). (400 ms: a TLS handshake under valgrind
 * must fit in it.) */
static void test_calls_waiting_not_idle(void **state) {
  fx *f = *state;
  int fd;

  f->cfg.idle_timeout_ms = 400;
  start(f);
  fd = connect_to(f);
  send_get(fd, M_DEFER, 1, 1200);
  expect_tagged(fd, ID_GETRESP, 1);
  assert_int_equal(atomic_load(&f->b->rc[1][1]), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_IDLE, 1);
}

/* max_pending 4: with 4 requests unanswered the 5th, already in the read
 * buffer, waits until the first is answered; the 6th, sent later, waits in
 * the socket until the second is. Replies in order. */
static void test_calls_max_pending(void **state) {
  fx *f = *state;
  uint32_t i;
  int fd;

  f->cfg.max_pending = 4;
  start(f);
  fd = connect_to(f);
  send_get(fd, M_DEFER, 0, 300);
  send_get(fd, M_DEFER, 1, 600);
  for (i = 2; i < 5; i++)
    send_get(fd, M_DEFER, i, 900);
  sleep_ms(150);
  assert_int_equal(atomic_load(&f->b->requests), 4);
  send_get(fd, M_DEFER, 5, 10);
  for (i = 0; i < 6; i++)
    expect_tagged(fd, ID_GETRESP, i);
  assert_int_equal(atomic_load(&f->b->requests), 6);
  /* each one handled only after an earlier reply went out */
  assert_true(atomic_load(&f->b->handled_ms[4]) >=
              atomic_load(&f->b->answered_ms[0]));
  assert_true(atomic_load(&f->b->handled_ms[5]) >=
              atomic_load(&f->b->answered_ms[1]));
  assert_true(atomic_load(&f->b->handled_ms[5]) <
              atomic_load(&f->b->answered_ms[2]));
  for (i = 0; i < 6; i++)
    assert_int_equal(atomic_load(&f->b->order[i]), (int)i);
  wire_close(fd);
}

/* A held reply counts against max_output: over it, the connection closes
 * (OUTPUT_LIMIT) and the send says NETFW_E2BIG. */
static void test_calls_held_output_limit(void **state) {
  fx *f = *state;
  int fd;

  f->cfg.max_output = 1000;
  start(f);
  fd = connect_to(f);
  send_get(fd, M_DEFER, 1, 500);
  send_get(fd, M_BIG, 2, 600);
  send_get(fd, M_BIG, 3, 600);
  assert_true(wire_wait_eof(fd, WAIT_MS, NULL) >= 0); /* EOF or reset */
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_OUTPUT_LIMIT, 1);
  assert_int_equal(atomic_load(&f->b->rc[2][0]), 0);
  assert_int_equal(atomic_load(&f->b->rc[3][0]), NETFW_E2BIG);
}

/* Held replies count against the worker's memory budget: two of 60000
 * bytes held behind a deferred request pass a 100000-byte budget, and the
 * connection holding them is closed (MEMORY). */
static void test_calls_held_memory_budget(void **state) {
  fx *f = *state;
  int fd;

  f->cfg.worker_memory = 100000;
  start(f);
  fd = connect_to(f);
  send_get(fd, M_DEFER, 1, 300);
  send_get(fd, M_BIG, 2, 60000);
  send_get(fd, M_BIG, 3, 60000);
  assert_true(wire_wait_eof(fd, WAIT_MS, NULL) >= 0); /* EOF or reset */
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_MEMORY, 1);
  assert_int_equal(atomic_load(&f->b->rc[2][0]), 0);
  assert_true(cboard_log_has(f->b, "worker memory budget exceeded", NULL));
}

/* ---- without a protocol ---- */

/* No protocol: sends go out as sent, a handler may answer nothing,
 * netfw_conn_defer says NETFW_ESTATE. */
static void test_calls_no_protocol(void **state) {
  fx *f = *state;
  int fd;

  f->cfg.protocol = NULL;
  start(f);
  fd = connect_to(f);
  send_get(fd, M_NONE, 1, 0);
  send_get(fd, M_DEFER, 2, 0);
  send_get(fd, M_TWICE, 3, 0);
  expect_tagged(fd, ID_GETRESP, 3);
  expect_tagged(fd, ID_GETRESP, 3);
  expect_tagged(fd, ID_ACK, 3);
  expect_silence(fd, 150);
  assert_int_equal(atomic_load(&f->b->rc[2][0]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->rc[3][1]), 0);
  assert_int_equal(atomic_load(&f->b->rc[3][2]), NETFW_ESTATE);
  assert_true(cboard_log_has(f->b, "netfw_conn_defer: the server has no "
                                   "protocol", NULL));
  wire_close(fd);
  expect_closed(f, 1, NETFW_CLOSE_PEER, 1);
}

/* ---- the config ---- */

static void expect_refused(const netfw_config *cfg, const char *want) {
  char why[256];

  assert_int_equal(netfw_config_check(cfg, why, sizeof(why)), NETFW_EINVAL);
  assert_string_equal(why, want);
}

static void test_calls_config_refused(void **state) {
  fx *f = *state;
  static const uint16_t past[] = {9};
  netfw_desc_message bad[] = {
      {.id = 1, .body = {.name = "A"}, .returns = past, .nreturns = 1},
      {.id = 1, .body = {.name = "B"}}};
  netfw_desc d = {
      .abi = NETFW_DESC_ABI, .proto = "p", .messages = bad, .nmessages = 1};
  netfw_config cfg = f->cfg;

  assert_int_equal(netfw_config_check(&cfg, NULL, 0), 0);
  cfg.protocol = &d;
  expect_refused(&cfg, "protocol 'p': message 'A' returns message index 9, "
                       "past its 1 messages");
  d.nmessages = 2;
  bad[0].nreturns = 0;
  expect_refused(&cfg,
                 "protocol 'p': message id 1 is used twice (again by 'B')");
  d.abi = NETFW_DESC_ABI + 1;
  expect_refused(&cfg, "protocol 'p' has descriptor layout 2: this libnetfw "
                       "reads 1 (regenerate it with this netfw-gen)");
  cfg = f->cfg;
  cfg.max_pending = 0;
  expect_refused(&cfg, "max_pending is 0: must be >= 1 (requests read on a "
                       "connection whose replies are not out yet)");
  cfg = f->cfg;
  cfg.reply_timeout_ms = -1;
  expect_refused(&cfg, "reply_timeout_ms is -1: must be >= 0 (0 = off, or "
                       "milliseconds)");
  netfw_config_init(&cfg, &calls_app);
  assert_int_equal(cfg.reply_timeout_ms, 30000);
  assert_int_equal(cfg.max_pending, 1024);
  assert_null(cfg.protocol);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(test_calls_in_handler),        T(test_calls_stray_reply),
      T(test_calls_stop_answers),
      T(test_calls_double_answer),
      T(test_calls_deferred_in_order), T(test_calls_push_not_held),
      T(test_calls_stream_held),       T(test_calls_reply_wrong_and_twice),
      T(test_calls_reply_after_close), T(test_calls_many_connections),
      T(test_calls_unanswered_closes), T(test_calls_reply_timeout),
      T(test_calls_waiting_not_idle),  T(test_calls_max_pending),
      T(test_calls_held_output_limit), T(test_calls_held_memory_budget),
      T(test_calls_no_protocol),       T(test_calls_config_refused),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
