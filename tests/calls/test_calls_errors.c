/* How calls fail (issue 21), both clients: a reply that does not answer
 * the oldest request (NETFW_EPROTO, the connection dropped), a connection
 * lost under a call (NETFW_ECONNRESET before the deadline), and the calls
 * refused at the API edge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <uv.h>

#include "calls_kit.h"

/* A blocking client on the calls protocol connected to s. */
static netfw_client *connected(netfw_server *s) {
  netfw_client *c = netfw_client_new();

  assert_non_null(c);
  assert_int_equal(netfw_client_set_protocol(c, calls_desc()), 0);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", netfw_server_port(s)),
                   0);
  return c;
}

/* Calls Req(seq, delay); returns the code (EPROTO too when the reply's seq
 * differs). */
static int call(netfw_client *c, uint64_t seq, uint32_t delay, int timeout) {
  netfw_msg *req = calls_req(seq, delay), *reply = NULL;
  int rc = netfw_client_call(c, req, &reply, timeout);

  if (rc == 0 && calls_seq_of(reply) != seq)
    rc = -1000;
  if (rc != 0)
    assert_null(reply);
  netfw_msg_free(reply);
  netfw_msg_free(req);
  return rc;
}

/* Resp2 for a Req: EPROTO, loss EPROTO, then ECONNRESET. */
static void test_calls_errors_wrong_reply_blocking(void **state) {
  (void)state;
  calls_server_opts opts = {.plain = true};
  netfw_server *s = calls_server_start(1, 0, &opts);
  netfw_client *c;

  assert_non_null(s);
  c = connected(s);
  assert_int_equal(call(c, 1, 0, 2000), 0);
  assert_int_equal(netfw_client_loss(c), 0);
  assert_int_equal(call(c, 2, CALLS_WRONG, 2000), NETFW_EPROTO);
  assert_int_equal(netfw_client_loss(c), NETFW_EPROTO);
  /* The connection was dropped: no later reply can be matched. */
  assert_int_equal(call(c, 3, 0, 2000), NETFW_ECONNRESET);
  netfw_client_free(c);
  calls_server_stop(s);
}

typedef struct lost_call {
  netfw_client *c;
  int rc;
  double ms;
} lost_call;

/* Calls Req(1) answered only after 10 s, with a 20 s deadline. */
static void *slow_caller(void *arg) {
  lost_call *lc = arg;
  double t0 = calls_now_ms();

  lc->rc = call(lc->c, 1, 10000, 20000);
  lc->ms = calls_now_ms() - t0;
  return NULL;
}

/* The server goes under a waiting call: ECONNRESET, long before 20 s. */
static void test_calls_errors_loss_blocking(void **state) {
  (void)state;
  calls_server_opts opts = {0};
  netfw_server *s = calls_server_start(1, 0, &opts);
  lost_call lc = {0};
  pthread_t th;

  assert_non_null(s);
  lc.c = connected(s);
  assert_int_equal(pthread_create(&th, NULL, slow_caller, &lc), 0);
  usleep(100 * 1000);
  calls_server_stop(s); /* its worker is killed after 3 s */
  pthread_join(th, NULL);
  printf("call under a lost connection: %s after %.0f ms\n",
         netfw_err_name(lc.rc), lc.ms);
  assert_int_equal(lc.rc, NETFW_ECONNRESET);
  assert_true(lc.ms < 6000); /* the loss, not the 20 s deadline */
  assert_int_not_equal(netfw_client_loss(lc.c), 0);
  netfw_client_free(lc.c);
}

/* ---- the async client ---------------------------------------------------- */

typedef struct arun {
  bool up, down, closed, got;
  int status, down_err;
} arun;

/* Records UP, DOWN (and its error) and CLOSED. */
static void a_state(void *user, netfw_link_state st, int err) {
  arun *r = user;

  r->up |= st == NETFW_LINK_UP;
  if (st == NETFW_LINK_DOWN)
    r->down = true, r->down_err = err;
  r->closed |= st == NETFW_LINK_CLOSED;
}

/* Records a call's status; reply is given exactly on success. */
static void a_reply(void *arg, int status, netfw_msg *reply) {
  arun *r = arg;

  r->status = status;
  if (status == 0)
    assert_non_null(reply);
  else
    assert_null(reply);
  r->got = true;
}

/* Async: not up -> ENOTCONN; Resp2 for a Req -> EPROTO, DOWN EPROTO. */
static void test_calls_errors_wrong_reply_async(void **state) {
  (void)state;
  calls_server_opts opts = {.plain = true};
  netfw_server *s = calls_server_start(1, 0, &opts);
  uv_loop_t loop;
  netfw_aclient_config cfg;
  netfw_aclient *a;
  arun r = {0};
  netfw_msg *req;

  assert_non_null(s);
  assert_int_equal(uv_loop_init(&loop), 0);
  netfw_aclient_config_init(&cfg);
  cfg.protocol = calls_desc();
  cfg.on_state = a_state;
  cfg.user = &r;
  assert_non_null(a = netfw_aclient_new(&loop, &cfg));
  req = calls_req(1, 0);
  assert_int_equal(netfw_aclient_call(a, req, 1000, a_reply, &r),
                   NETFW_ENOTCONN); /* not up yet */
  assert_int_equal(netfw_aclient_connect(a, "127.0.0.1", netfw_server_port(s)),
                   0);
  assert_true(calls_run_until(&loop, &r.up, 5000));
  netfw_msg_free(req);
  req = calls_req(2, CALLS_WRONG);
  assert_int_equal(netfw_aclient_call(a, req, 2000, a_reply, &r), 0);
  netfw_msg_free(req);
  assert_true(calls_run_until(&loop, &r.got, 3000));
  assert_int_equal(r.status, NETFW_EPROTO);
  assert_true(calls_run_until(&loop, &r.down, 2000));
  printf("async: wrong reply -> DOWN with %s\n", netfw_err_name(r.down_err));
  assert_int_equal(r.down_err, NETFW_EPROTO);
  netfw_aclient_close(a);
  assert_true(calls_run_until(&loop, &r.closed, 5000));
  calls_loop_close(&loop);
  calls_server_stop(s);
}

/* Refused at the edge: no protocol, not connected, not a request. */
static void test_calls_errors_refusals(void **state) {
  (void)state;
  calls_server_opts opts = {0};
  netfw_server *s = calls_server_start(1, 0, &opts);
  netfw_client *c = netfw_client_new();
  netfw_msg *req = calls_req(1, 0), *note = netfw_msg_new(CALLS_NOTE);
  netfw_msg *reply = (netfw_msg *)1;

  assert_non_null(s);
  assert_int_equal(netfw_client_call(c, req, &reply, 1000), NETFW_ESTATE);
  assert_null(reply);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", netfw_server_port(s)),
                   0);
  /* Connected without a protocol: calls refused, and set_protocol too. */
  assert_int_equal(netfw_client_call(c, req, &reply, 1000), NETFW_ESTATE);
  assert_int_equal(netfw_client_set_protocol(c, calls_desc()), NETFW_ESTATE);
  assert_int_equal(netfw_client_shutdown(c, 2000), 0);
  assert_int_equal(netfw_client_set_protocol(c, calls_desc()), 0);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", netfw_server_port(s)),
                   0);
  assert_int_equal(netfw_client_call(c, note, &reply, 1000), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(c, req, &reply, -2), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(c, NULL, &reply, 1000), NETFW_EINVAL);
  assert_int_equal(call(c, 1, 0, 2000), 0);
  netfw_msg_free(req);
  netfw_msg_free(note);
  netfw_client_free(c);
  calls_server_stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_errors_wrong_reply_blocking),
      cmocka_unit_test(test_calls_errors_loss_blocking),
      cmocka_unit_test(test_calls_errors_wrong_reply_async),
      cmocka_unit_test(test_calls_errors_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
