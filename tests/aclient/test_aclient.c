/* The async client (netfw/aclient.h) against an in-loop fake server on
 * 127.0.0.1 port 0 (aclient_kit.h): calls matched first in first out with
 * pushes interleaved, 10000 pipelined calls, deadlines and late replies, a
 * wrong reply, close from inside callbacks, max_output and the API's
 * argument checks. Each test runs its own loop with a guard timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aclient_kit.h"

#define MAX_CALLS 10000

static void test_aclient_calls_pushes(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, calls_on_up);
  t.srv.push_every = 3;
  t.ncalls = 9;
  t.close_on = CLOSE_ON_LAST_CALL;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  assert_int_equal(t.connectings, 0); /* never inside an API call */
  assert_int_equal(netfw_aclient_state(t.a), NETFW_LINK_CONNECTING);
  run(&t);
  assert_int_equal(t.ok, 9);
  assert_int_equal(t.out_of_order, 0);
  assert_int_equal(t.pushes, 3);
  assert_int_equal(t.srv.pushes, 3);
  assert_int_equal(t.connectings, 1);
  assert_int_equal(t.ups, 1);
  assert_int_equal(t.downs, 0);
}

/* A plain send of a request takes a FIFO place: its reply is a push. */
static void send_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  assert_int_equal(get(t, 0, -1, true), 0);
  assert_int_equal(get(t, 100, -1, false), 0); /* reply -> on_push */
  assert_int_equal(get(t, 1, -1, true), 0);
}

static void test_aclient_send_request(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, send_on_up);
  t.ncalls = 2;
  t.close_on = CLOSE_ON_LAST_CALL;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "localhost", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.ok, 2);
  assert_int_equal(t.out_of_order, 0);
  assert_int_equal(t.pushes, 1);
}

static void test_aclient_pipelined(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, calls_on_up);
  t.ncalls = MAX_CALLS;
  t.timeout_ms = 4000;
  t.close_on = CLOSE_ON_LAST_CALL;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.ok, MAX_CALLS);
  assert_int_equal(t.out_of_order, 0);
  assert_int_equal(t.next_seq, MAX_CALLS);
  assert_int_equal(t.srv.replies, MAX_CALLS);
}

/* Deadline: the first call times out; the second gets its own reply. */
static void deadline_cb(void *arg, int status, netfw_msg *reply) {
  tctx *t = arg;

  on_call(arg, status, reply);
  if (t->done == 1) {
    t->t_end = uv_now(&t->loop);
    assert_int_equal(status, NETFW_ETIMEDOUT);
    t->next_seq = 1;
    t->ncalls = 2;
    assert_int_equal(get(t, 1, 2000, true), 0);
  }
}

static void deadline_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;
  netfw_msg m;
  uint32_t seq = 0;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  t->t_start = uv_now(&t->loop);
  netfw_msg_init(&m, ID_GET);
  assert_int_equal(netfw_msg_append(&m, &seq, 4), 0);
  assert_int_equal(netfw_aclient_call(t->a, &m, 100, deadline_cb, t), 0);
  netfw_msg_release(&m);
}

static void test_aclient_deadline(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, deadline_on_up);
  t.srv.hold_first_ms = 400;
  t.ncalls = 2;
  t.close_on = CLOSE_ON_LAST_CALL;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.timedout, 1);
  assert_true(t.t_end - t.t_start >= 100);
  assert_true(t.t_end - t.t_start <= 100 + 150);
  assert_int_equal(t.ok, 1); /* the second call, seq 1 */
  assert_int_equal(t.out_of_order, 0);
  assert_int_equal(t.next_seq, 2);
  assert_int_equal(t.srv.replies, 2);
}

/* The late reply was counted before the close freed the client: checked
 * from the second call's callback. */
static void late_cb(void *arg, int status, netfw_msg *reply) {
  tctx *t = arg;

  if (t->done == 1 && status == 0)
    assert_int_equal(netfw_aclient_late_replies(t->a), 1);
  deadline_cb(arg, status, reply);
}

static void late_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;
  uint32_t seq = 0;
  netfw_msg m;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  netfw_msg_init(&m, ID_GET);
  assert_int_equal(netfw_msg_append(&m, &seq, 4), 0);
  assert_int_equal(netfw_aclient_call(t->a, &m, 50, late_cb, t), 0);
  netfw_msg_release(&m);
}

static void test_aclient_late_reply(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, late_on_up);
  t.srv.hold_first_ms = 200;
  t.ncalls = 2;
  t.close_on = CLOSE_ON_LAST_CALL;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.timedout, 1);
  assert_int_equal(t.ok, 1);
  assert_int_equal(t.pushes, 0); /* the late reply went nowhere */
}

/* A wrong reply: EPROTO, the connection dropped (DOWN with EPROTO). */
static void wrong_on_state(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  calls_on_up(user, st, err);
  if (st == NETFW_LINK_DOWN) {
    snprintf(t->why, sizeof(t->why), "%s", netfw_aclient_error(t->a));
    netfw_aclient_close(t->a); /* close from inside on_state */
  }
}

static void test_aclient_wrong_reply(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, wrong_on_state);
  t.srv.wrong = true;
  t.ncalls = 3;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.proto, 1);
  assert_int_equal(t.reset, 2); /* the calls behind it */
  assert_int_equal(t.downs, 1);
  assert_int_equal(t.down_err[0], NETFW_EPROTO);
  assert_non_null(strstr(t.why, "which is not one of its replies"));
}

/* Close from on_push: every call still waiting ends with ECONNRESET, once. */
static void test_aclient_close_in_push(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, calls_on_up);
  t.srv.push_every = 1; /* a push before the first reply */
  t.ncalls = 3;
  t.close_on = CLOSE_ON_PUSH;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.pushes, 1);
  assert_int_equal(t.done, 3);
  assert_int_equal(t.reset, 3);
}

static void max_output_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;
  uint8_t big[200] = {0};
  netfw_msg m;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  netfw_msg_init(&m, ID_SAY);
  assert_int_equal(netfw_msg_append(&m, big, 40), 0);
  assert_int_equal(netfw_aclient_send(t->a, &m), 0);            /* 46 bytes */
  assert_int_equal(netfw_aclient_send(t->a, &m), 0);            /* 92 */
  assert_int_equal(netfw_aclient_send(t->a, &m), NETFW_EAGAIN); /* 138 */
  netfw_msg_release(&m);
  netfw_msg_init(&m, ID_GET);
  assert_int_equal(netfw_msg_append(&m, big, 200), 0);
  assert_int_equal(netfw_aclient_call(t->a, &m, -1, on_call, t), NETFW_EAGAIN);
  netfw_msg_release(&m);
  netfw_aclient_close(t->a);
}

static void test_aclient_max_output(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, max_output_on_up);
  t.cfg.max_output = 100;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.done, 0); /* EAGAIN: no callback */
}

static void test_aclient_api(void **state) {
  tctx t;
  netfw_msg m;
  (void)state;
  setup_ctx(&t, on_state);
  netfw_aclient_config bad = t.cfg;
  netfw_tls_config tls;
  memset(&tls, 0, sizeof(tls));
  bad.tls = &tls;
  assert_null(netfw_aclient_new(&t.loop, &bad)); /* not supported yet */
  bad = t.cfg;
  bad.connect_timeout_ms = 0;
  assert_null(netfw_aclient_new(&t.loop, &bad));
  assert_null(netfw_aclient_new(NULL, &t.cfg));
  new_client(&t);
  netfw_msg_init(&m, ID_GET);
  assert_int_equal(netfw_aclient_connect(t.a, NULL, 1), NETFW_EINVAL);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", 0), NETFW_EINVAL);
  assert_int_equal(netfw_aclient_call(t.a, &m, -1, on_call, &t),
                   NETFW_ENOTCONN);
  assert_int_equal(netfw_aclient_call(t.a, &m, 0, on_call, &t), NETFW_EINVAL);
  assert_int_equal(netfw_aclient_call(t.a, &m, -2, on_call, &t), NETFW_EINVAL);
  assert_int_equal(netfw_aclient_call(t.a, &m, 10, NULL, &t), NETFW_EINVAL);
  netfw_msg_set_id(&m, ID_SAY);
  assert_int_equal(netfw_aclient_call(t.a, &m, 10, on_call, &t), NETFW_EINVAL);
  assert_int_equal(netfw_aclient_send(t.a, &m), NETFW_ENOTCONN);
  assert_int_equal(netfw_aclient_state(t.a), NETFW_LINK_DOWN);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port),
                   NETFW_ESTATE);
  netfw_aclient_close(t.a);
  netfw_aclient_close(t.a); /* a second close: no-op */
  netfw_aclient_close(NULL);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port),
                   NETFW_ESTATE);
  assert_int_equal(t.closed, 0); /* from the loop only */
  run(&t);
  assert_int_equal(t.connectings, 0); /* closed before it was reported */
  netfw_msg_release(&m);
}

static void test_aclient_no_protocol(void **state) {
  tctx t;
  netfw_msg m;
  (void)state;
  setup_ctx(&t, on_state);
  t.cfg.protocol = NULL;
  new_client(&t);
  netfw_msg_init(&m, ID_GET);
  assert_int_equal(netfw_aclient_call(t.a, &m, -1, on_call, &t), NETFW_ESTATE);
  netfw_msg_release(&m);
  netfw_aclient_close(t.a);
  run(&t);
}

/* close flushes what was queued before it, then ends gracefully. */
static void flush_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  for (uint32_t i = 0; i < 3; i++)
    assert_int_equal(get(t, i, -1, false), 0);
  netfw_aclient_close(t->a);
}

static void test_aclient_close_flushes(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, flush_on_up);
  t.srv.silent = true;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.srv.requests, 3);
  assert_int_equal(t.pushes, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aclient_calls_pushes),
      cmocka_unit_test(test_aclient_send_request),
      cmocka_unit_test(test_aclient_pipelined),
      cmocka_unit_test(test_aclient_deadline),
      cmocka_unit_test(test_aclient_late_reply),
      cmocka_unit_test(test_aclient_wrong_reply),
      cmocka_unit_test(test_aclient_close_in_push),
      cmocka_unit_test(test_aclient_max_output),
      cmocka_unit_test(test_aclient_api),
      cmocka_unit_test(test_aclient_no_protocol),
      cmocka_unit_test(test_aclient_close_flushes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
