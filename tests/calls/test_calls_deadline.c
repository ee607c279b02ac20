/* Deadlines of blocking calls (issue 21): a request the server answers
 * only after twice the deadline ends with NETFW_ETIMEDOUT at the deadline;
 * its late reply is dropped and counted, never given to the next call.
 * Blocking client and async client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "calls_kit.h"

#define DEADLINE_MS 200

typedef struct fx {
  calls_server_opts opts;
  netfw_server *s;
  netfw_client *c;
} fx;

/* A 1-worker calls server and a blocking client connected to it. */
static int setup(void **state) {
  static fx f;

  f = (fx){0};
  if ((f.s = calls_server_start(1, 0, &f.opts)) == NULL ||
      (f.c = netfw_client_new()) == NULL ||
      netfw_client_set_protocol(f.c, calls_desc()) != 0 ||
      netfw_client_connect(f.c, "127.0.0.1", netfw_server_port(f.s)) != 0)
    return -1;
  *state = &f;
  return 0;
}

/* Frees the client, then stops the server. */
static int teardown(void **state) {
  fx *f = *state;

  netfw_client_free(f->c);
  calls_server_stop(f->s);
  return 0;
}

/* Calls req(seq, delay) with timeout_ms; returns the code, *ms the time. */
static int timed_call(netfw_client *c, uint64_t seq, uint32_t delay,
                      int timeout_ms, netfw_msg **reply, double *ms) {
  netfw_msg *req = calls_req(seq, delay);
  double t0 = calls_now_ms();
  int rc = netfw_client_call(c, req, reply, timeout_ms);

  *ms = calls_now_ms() - t0;
  netfw_msg_free(req);
  return rc;
}

/* The late call times out at its deadline; the next call, sent at once,
 * gets its own reply after the late one is dropped. */
static void test_calls_deadline_late_dropped(void **state) {
  fx *f = *state;
  netfw_msg *reply = NULL;
  double ms;

  assert_int_equal(timed_call(f->c, 1, 0, 2000, &reply, &ms), 0);
  assert_int_equal(calls_seq_of(reply), 1);
  netfw_msg_free(reply);

  assert_int_equal(
      timed_call(f->c, 2, 2 * DEADLINE_MS, DEADLINE_MS, &reply, &ms),
      NETFW_ETIMEDOUT);
  assert_null(reply);
  printf("deadline %d ms: ETIMEDOUT after %.1f ms (lateness %+.1f ms)\n",
         DEADLINE_MS, ms, ms - DEADLINE_MS);
  assert_true(ms >= DEADLINE_MS - 5);
  assert_true(ms <= DEADLINE_MS + 150);
  assert_int_equal(netfw_client_late_replies(f->c), 0);

  /* Sent while the late reply is still on its way: it waits behind it. */
  assert_int_equal(timed_call(f->c, 3, 0, 5000, &reply, &ms), 0);
  assert_int_equal(netfw_msg_id(reply), CALLS_RESP);
  assert_int_equal(calls_seq_of(reply), 3);
  netfw_msg_free(reply);
  assert_int_equal(netfw_client_late_replies(f->c), 1);

  /* The dropped reply never reached the inbox either. */
  assert_int_equal(netfw_client_recv(f->c, &reply, 100), NETFW_ETIMEDOUT);
  assert_int_equal(timed_call(f->c, 4, 0, 2000, &reply, &ms), 0);
  assert_int_equal(calls_seq_of(reply), 4);
  netfw_msg_free(reply);
  assert_int_equal(netfw_client_late_replies(f->c), 1);
}

/* The same with the next call made only after the late reply came. */
static void test_calls_deadline_late_before_next(void **state) {
  fx *f = *state;
  netfw_msg *reply = NULL;
  double ms;

  assert_int_equal(
      timed_call(f->c, 10, 2 * DEADLINE_MS, DEADLINE_MS, &reply, &ms),
      NETFW_ETIMEDOUT);
  printf("deadline %d ms: ETIMEDOUT after %.1f ms (lateness %+.1f ms)\n",
         DEADLINE_MS, ms, ms - DEADLINE_MS);
  assert_true(ms >= DEADLINE_MS - 5 && ms <= DEADLINE_MS + 150);
  usleep(2 * DEADLINE_MS * 1000);
  assert_int_equal(netfw_client_late_replies(f->c), 1);
  assert_int_equal(timed_call(f->c, 11, 0, 2000, &reply, &ms), 0);
  assert_int_equal(calls_seq_of(reply), 11);
  netfw_msg_free(reply);
  assert_int_equal(netfw_client_recv(f->c, &reply, 50), NETFW_ETIMEDOUT);
}

/* ---- the async client ---------------------------------------------------- */

typedef struct acall {
  bool got;
  int status;
  uint64_t seq;
  double at; /* when the callback came */
} acall;

/* Records a call's end: status, its reply's seq, the time. */
static void a_done(void *arg, int status, netfw_msg *reply) {
  acall *c = arg;

  c->status = status;
  c->seq = status == 0 ? calls_seq_of(reply) : 0;
  c->at = calls_now_ms();
  c->got = true;
}

/* Records UP and CLOSED. */
static void a_state(void *user, netfw_link_state st, int err) {
  bool *flags = user; /* [0] up, [1] closed */

  (void)err;
  flags[0] |= st == NETFW_LINK_UP;
  flags[1] |= st == NETFW_LINK_CLOSED;
}

/* Sends Req(seq, delay) with timeout_ms; *c reports its end. */
static void a_call(netfw_aclient *a, uint64_t seq, uint32_t delay,
                   int timeout_ms, acall *c) {
  netfw_msg *req = calls_req(seq, delay);

  *c = (acall){0};
  assert_int_equal(netfw_aclient_call(a, req, timeout_ms, a_done, c), 0);
  netfw_msg_free(req);
}

/* The late call ends with ETIMEDOUT at its deadline; the call sent right
 * after it gets its own reply; the late one is counted. */
static void test_calls_deadline_async(void **state) {
  fx *f = *state;
  uv_loop_t loop;
  netfw_aclient_config cfg;
  netfw_aclient *a;
  bool flags[2] = {false, false};
  acall late, next;
  double t0, ms;

  assert_int_equal(uv_loop_init(&loop), 0);
  netfw_aclient_config_init(&cfg);
  cfg.protocol = calls_desc();
  cfg.on_state = a_state;
  cfg.user = flags;
  assert_non_null(a = netfw_aclient_new(&loop, &cfg));
  assert_int_equal(
      netfw_aclient_connect(a, "127.0.0.1", netfw_server_port(f->s)), 0);
  assert_true(calls_run_until(&loop, &flags[0], 5000));
  t0 = calls_now_ms();
  a_call(a, 1, 2 * DEADLINE_MS, DEADLINE_MS, &late);
  a_call(a, 2, 0, 5000, &next);
  assert_true(calls_run_until(&loop, &late.got, 5000));
  ms = late.at - t0;
  printf("async deadline %d ms: %s after %.1f ms (lateness %+.1f ms)\n",
         DEADLINE_MS, netfw_err_name(late.status), ms, ms - DEADLINE_MS);
  assert_int_equal(late.status, NETFW_ETIMEDOUT);
  assert_true(ms >= DEADLINE_MS - 5 && ms <= DEADLINE_MS + 150);
  assert_false(next.got);
  assert_true(calls_run_until(&loop, &next.got, 5000));
  assert_int_equal(next.status, 0);
  assert_int_equal(next.seq, 2);
  assert_int_equal(netfw_aclient_late_replies(a), 1);
  netfw_aclient_close(a);
  assert_true(calls_run_until(&loop, &flags[1], 5000));
  calls_loop_close(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_calls_deadline_late_dropped, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_calls_deadline_late_before_next,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_calls_deadline_async, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
