/* Reconnecting (issue 21): the server is stopped and started again on the
 * same port. A call in flight at the loss ends with NETFW_ECONNRESET;
 * calls during the outage fail at once (NETFW_ENOTCONN or
 * NETFW_ECONNRESET), not at their deadline; the client is up again within
 * its backoff and calls succeed. The async client, and the blocking client
 * when its reconnect is implemented (not NETFW_ENOSYS). */
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

#define BACKOFF_INITIAL_MS 50
#define BACKOFF_MAX_MS 200
#define FAST_MS 50 /* a call during the outage returns within this */
#define CALL_DEADLINE_MS 3000

static const netfw_reconnect backoff = {.initial_ms = BACKOFF_INITIAL_MS,
                                        .max_ms = BACKOFF_MAX_MS};

/* ---- the async client --------------------------------------------------- */

typedef struct arun {
  bool up, down, closed, got;
  int ups, downs;
  double up_at;
  int status;
  uint64_t seq;
} arun;

/* Counts UPs (and when the last came), DOWNs; records CLOSED. */
static void a_state(void *user, netfw_link_state st, int err) {
  arun *r = user;

  (void)err;
  if (st == NETFW_LINK_UP)
    r->up = true, r->ups++, r->up_at = calls_now_ms();
  if (st == NETFW_LINK_DOWN)
    r->down = true, r->downs++;
  r->closed |= st == NETFW_LINK_CLOSED;
}

/* Records a call's status and its reply's seq. */
static void a_reply(void *arg, int status, netfw_msg *reply) {
  arun *r = arg;

  r->status = status;
  r->seq = status == 0 ? calls_seq_of(reply) : 0;
  r->got = true;
}

/* One call on the loop: returns its status (the call's own error, or
 * the callback's), *seq the reply's seq. */
static int a_call(netfw_aclient *a, uv_loop_t *loop, arun *r, uint64_t seq,
                  uint32_t delay) {
  netfw_msg *req = calls_req(seq, delay);
  int rc;

  r->got = false;
  rc = netfw_aclient_call(a, req, CALL_DEADLINE_MS, a_reply, r);
  netfw_msg_free(req);
  if (rc != 0)
    return rc;
  assert_true(calls_run_until(loop, &r->got, CALL_DEADLINE_MS + 2000));
  return r->status;
}

/* Async client through a server restart on the same port. */
static void test_calls_reconnect_async(void **state) {
  (void)state;
  calls_server_opts opts = {0};
  netfw_server *s = calls_server_start(1, 0, &opts);
  uint16_t port;
  uv_loop_t loop;
  netfw_aclient_config cfg;
  netfw_aclient *a;
  arun r = {0};
  netfw_msg *req;
  double t0, restarted;
  int rc;

  assert_non_null(s);
  port = netfw_server_port(s);
  assert_int_equal(uv_loop_init(&loop), 0);
  netfw_aclient_config_init(&cfg);
  cfg.protocol = calls_desc();
  cfg.on_state = a_state;
  cfg.user = &r;
  cfg.reconnect = backoff;
  assert_non_null(a = netfw_aclient_new(&loop, &cfg));
  assert_int_equal(netfw_aclient_connect(a, "127.0.0.1", port), 0);
  assert_true(calls_run_until(&loop, &r.up, 5000));
  assert_int_equal(a_call(a, &loop, &r, 1, 0), 0);
  assert_int_equal(r.seq, 1);

  /* A call in flight when the server goes: its reply would come after
   * 10 s, past the stop's 3 s (the worker is then killed). */
  req = calls_req(2, 10000);
  r.got = false;
  assert_int_equal(netfw_aclient_call(a, req, 20000, a_reply, &r), 0);
  netfw_msg_free(req);
  uv_run(&loop, UV_RUN_NOWAIT);
  calls_server_stop(s);
  s = NULL;
  assert_true(calls_run_until(&loop, &r.got, 5000));
  assert_int_equal(r.status, NETFW_ECONNRESET);
  assert_true(calls_run_until(&loop, &r.down, 2000));

  /* The outage: a call fails at once, well before its deadline. */
  for (int i = 0; i < 3; i++) {
    t0 = calls_now_ms();
    rc = a_call(a, &loop, &r, 10 + (uint64_t)i, 0);
    printf("async call during the outage: %s in %.2f ms\n", netfw_err_name(rc),
           calls_now_ms() - t0);
    assert_true(rc == NETFW_ENOTCONN || rc == NETFW_ECONNRESET);
    assert_true(calls_now_ms() - t0 < FAST_MS);
    calls_run_until(&loop, &r.closed, 100); /* let a dial or two fail */
  }

  r.up = false;
  assert_non_null(s = calls_server_start(1, port, &opts));
  restarted = calls_now_ms();
  assert_true(calls_run_until(&loop, &r.up, 5000));
  printf("async client up again %.0f ms after the restart (backoff <= %d ms)\n",
         r.up_at - restarted, BACKOFF_MAX_MS);
  assert_true(r.up_at - restarted <= BACKOFF_MAX_MS + 300);
  assert_int_equal(r.ups, 2);
  assert_int_equal(a_call(a, &loop, &r, 20, CALLS_RANDOM), 0);
  assert_int_equal(r.seq, 20);
  netfw_aclient_close(a);
  assert_true(calls_run_until(&loop, &r.closed, 5000));
  calls_loop_close(&loop);
  calls_server_stop(s);
}

/* ---- the blocking client ------------------------------------------------ */

static struct {
  int ups, downs;
  int64_t up_at_us; /* when the last UP came (calls_now_ms * 1000) */
} brun;

/* On the client's I/O thread. */
static void b_state(void *user, netfw_link_state st, int err) {
  (void)user;
  (void)err;
  if (st == NETFW_LINK_UP) {
    __atomic_store_n(&brun.up_at_us, (int64_t)(calls_now_ms() * 1e3),
                     __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&brun.ups, 1, __ATOMIC_SEQ_CST);
  }
  if (st == NETFW_LINK_DOWN)
    __atomic_fetch_add(&brun.downs, 1, __ATOMIC_SEQ_CST);
}

/* Calls seq with no delay; returns the code, *ms how long it took. */
static int b_call(netfw_client *c, uint64_t seq, double *ms) {
  netfw_msg *req = calls_req(seq, 0), *reply = NULL;
  double t0 = calls_now_ms();
  int rc = netfw_client_call(c, req, &reply, CALL_DEADLINE_MS);

  *ms = calls_now_ms() - t0;
  if (rc == 0 && calls_seq_of(reply) != seq)
    rc = NETFW_EPROTO;
  netfw_msg_free(reply);
  netfw_msg_free(req);
  return rc;
}

/* Waits (at most ms) for the link callback to count n ups or downs. */
static bool b_wait(int *counter, int n, int ms) {
  double end = calls_now_ms() + ms;

  while (__atomic_load_n(counter, __ATOMIC_SEQ_CST) < n && calls_now_ms() < end)
    usleep(1000);
  return __atomic_load_n(counter, __ATOMIC_SEQ_CST) >= n;
}

/* The same for the blocking client (skipped while it says ENOSYS). */
typedef struct slow_call {
  netfw_client *c;
  int rc;
} slow_call;

/* Calls Req(2), answered only after 10 s (20 s deadline); keeps the code. */
static void *b_slow_call(void *arg) {
  slow_call *sc = arg;
  netfw_msg *req = calls_req(2, 10000), *reply = NULL;

  while (__atomic_load_n(&sc->c, __ATOMIC_SEQ_CST) == NULL)
    usleep(1000);
  sc->rc = netfw_client_call(sc->c, req, &reply, 20000);
  netfw_msg_free(reply);
  netfw_msg_free(req);
  return NULL;
}

static void test_calls_reconnect_blocking(void **state) {
  (void)state;
  slow_call slow = {0};
  pthread_t th;
  netfw_msg *m = NULL;
  calls_server_opts opts = {0};
  netfw_server *s = calls_server_start(1, 0, &opts);
  netfw_client *c = netfw_client_new();
  uint16_t port;
  double ms, restarted;
  int rc;

  assert_non_null(s);
  assert_non_null(c);
  port = netfw_server_port(s);
  rc = netfw_client_set_reconnect(c, &backoff);
  if (rc == NETFW_ENOSYS) {
    netfw_client_free(c);
    calls_server_stop(s);
    skip();
  }
  assert_int_equal(rc, 0);
  memset(&brun, 0, sizeof(brun));
  assert_int_equal(netfw_client_set_link_cb(c, b_state, NULL), 0);
  assert_int_equal(netfw_client_set_protocol(c, calls_desc()), 0);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  assert_int_equal(b_call(c, 1, &ms), 0);

  /* A call in flight at the loss ends with ECONNRESET, and recv reports
   * the loss once, then waits for the next connection. */
  assert_int_equal(pthread_create(&th, NULL, b_slow_call, &slow), 0);
  __atomic_store_n(&slow.c, c, __ATOMIC_SEQ_CST);
  usleep(100 * 1000);
  calls_server_stop(s);
  pthread_join(th, NULL);
  assert_int_equal(slow.rc, NETFW_ECONNRESET);
  assert_true(b_wait(&brun.downs, 1, 3000));
  assert_int_equal(netfw_client_recv(c, &m, 1000), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_recv(c, &m, 50), NETFW_ETIMEDOUT);
  for (int i = 0; i < 3; i++) {
    rc = b_call(c, 10 + (uint64_t)i, &ms);
    printf("blocking call during the outage: %s in %.2f ms\n",
           netfw_err_name(rc), ms);
    assert_true(rc == NETFW_ENOTCONN || rc == NETFW_ECONNRESET);
    assert_true(ms < FAST_MS);
    usleep(100 * 1000);
  }
  assert_non_null(s = calls_server_start(1, port, &opts));
  restarted = calls_now_ms();
  assert_true(b_wait(&brun.ups, 2, 5000));
  ms = (double)__atomic_load_n(&brun.up_at_us, __ATOMIC_SEQ_CST) / 1e3 -
       restarted;
  printf("blocking client up again %.0f ms after the restart\n", ms);
  assert_true(ms <= BACKOFF_MAX_MS + 300);
  assert_int_equal(b_call(c, 20, &ms), 0);
  netfw_client_free(c);
  calls_server_stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_reconnect_async),
      cmocka_unit_test(test_calls_reconnect_blocking),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
