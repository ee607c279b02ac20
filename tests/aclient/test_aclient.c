/* The async client (netfw/aclient.h) against an in-loop fake server on
 * 127.0.0.1 port 0: calls matched first in first out with pushes
 * interleaved, 10000 pipelined calls, deadlines and late replies, a wrong
 * reply, a refused connection, reconnecting, close from inside callbacks,
 * max_output, the API's argument checks and the backoff's range. Each test
 * runs its own loop with a guard timer that fails it after GUARD_MS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../runtime/aclient/aclient.h"
#include "fake_server.h"
#include "netfw/netfw.h"

#define GUARD_MS 5000
#define MAX_CALLS 10000

static const uint16_t get_returns[] = {1, 4};
static const uint16_t list_returns[] = {3};
static const netfw_desc_message msgs[] = {
    {.id = ID_GET, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Get"},
     .returns = get_returns, .nreturns = 2},
    {.id = ID_GETRESP, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "GetResp"}},
    {.id = ID_LIST, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "List"},
     .returns = list_returns, .nreturns = 1},
    {.id = ID_LISTRESP, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "ListResp"}},
    {.id = ID_ACK, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "Ack"}},
    {.id = ID_LINE, .dir = NETFW_DESC_TO_CLIENT, .body = {.name = "Line"}},
    {.id = ID_SAY, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Say"}},
};
static const netfw_desc desc = {.abi = NETFW_DESC_ABI, .proto = "t",
                                .messages = msgs, .nmessages = 7};

/* One test's world. */
typedef struct tctx {
  uv_loop_t loop;
  uv_timer_t guard;
  uv_timer_t t1;
  fake_server srv;
  netfw_aclient *a;
  netfw_aclient_config cfg;
  int ncalls;              /* calls to make once UP                      */
  int timeout_ms;          /* their deadline                             */
  int done;                /* call callbacks                             */
  int ok, timedout, reset, proto, other;
  uint32_t next_seq;       /* the seq the next reply must carry          */
  int out_of_order;
  int pushes;
  int ups, downs, connectings, closed;
  int down_err[16];
  int after_closed;        /* callbacks after CLOSED (must stay 0)       */
  int close_on;            /* which callback closes the client           */
  uint64_t t_start, t_end; /* ms                                         */
  uint64_t t_listen;       /* reconnect: when the listener came back      */
  uint64_t t_up2;          /* reconnect: the second UP                   */
  int fast_fail;           /* reconnect: calls refused while DOWN        */
} tctx;

enum { CLOSE_NONE, CLOSE_ON_PUSH, CLOSE_ON_LAST_CALL, CLOSE_ON_DOWN };

static tctx *T;

static void on_guard(uv_timer_t *t) {
  (void)t;
  fail_msg("test took more than %d ms", GUARD_MS);
}

static void fin(tctx *t) {
  fake_stop(&t->srv);
  uv_close((uv_handle_t *)&t->guard, NULL);
  uv_close((uv_handle_t *)&t->t1, NULL);
}

static void on_state(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  if (t->closed)
    t->after_closed++;
  switch (st) {
  case NETFW_LINK_CONNECTING:
    t->connectings++;
    break;
  case NETFW_LINK_UP:
    t->ups++;
    break;
  case NETFW_LINK_DOWN:
    if (t->downs < 16)
      t->down_err[t->downs] = err;
    t->downs++;
    break;
  case NETFW_LINK_CLOSED:
    t->closed++;
    fin(t);
    break;
  }
}

static void on_push(void *user, netfw_msg *m) {
  tctx *t = user;

  if (t->closed)
    t->after_closed++;
  t->pushes++;
  if (netfw_msg_id(m) == ID_LINE)
    assert_memory_equal(netfw_msg_payload(m), "line", 4);
  if (t->close_on == CLOSE_ON_PUSH)
    netfw_aclient_close(t->a);
}

static void on_call(void *arg, int status, netfw_msg *reply) {
  tctx *t = arg;
  uint32_t seq;

  if (t->closed)
    t->after_closed++;
  t->done++;
  if (status == 0) {
    assert_non_null(reply);
    assert_int_equal(netfw_msg_size(reply), 4);
    memcpy(&seq, netfw_msg_payload(reply), 4);
    if (seq != t->next_seq)
      t->out_of_order++;
    t->next_seq = seq + 1;
    t->ok++;
  } else {
    assert_null(reply);
    if (status == NETFW_ETIMEDOUT)
      t->timedout++;
    else if (status == NETFW_ECONNRESET)
      t->reset++;
    else if (status == NETFW_EPROTO)
      t->proto++;
    else
      t->other++;
  }
  if (t->close_on == CLOSE_ON_LAST_CALL && t->done == t->ncalls)
    netfw_aclient_close(t->a);
}

/* Sends Get(seq) as a call (or as a plain send when cb is NULL). */
static int get(tctx *t, uint32_t seq, int timeout_ms, bool call) {
  netfw_msg m;
  int rc;

  netfw_msg_init(&m, ID_GET);
  assert_int_equal(netfw_msg_append(&m, &seq, 4), 0);
  rc = call ? netfw_aclient_call(t->a, &m, timeout_ms, on_call, t)
            : netfw_aclient_send(t->a, &m);
  netfw_msg_release(&m);
  return rc;
}

/* Makes the loop, the guard, the server and the client (not connected). */
static void setup_ctx(tctx *t, netfw_link_cb state_cb) {
  memset(t, 0, sizeof(*t));
  T = t;
  assert_int_equal(uv_loop_init(&t->loop), 0);
  uv_timer_init(&t->loop, &t->guard);
  uv_timer_init(&t->loop, &t->t1);
  t->t1.data = t;
  uv_timer_start(&t->guard, on_guard, GUARD_MS, 0);
  uv_unref((uv_handle_t *)&t->guard);
  fake_start(&t->srv, &t->loop, 0);
  netfw_aclient_config_init(&t->cfg);
  t->cfg.protocol = &desc;
  t->cfg.on_push = on_push;
  t->cfg.on_state = state_cb;
  t->cfg.user = t;
  t->timeout_ms = -1;
}

static void new_client(tctx *t) {
  t->a = netfw_aclient_new(&t->loop, &t->cfg);
  assert_non_null(t->a);
}

/* Runs the loop to its end and checks everything was closed. */
static void run(tctx *t) {
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(t->closed, 1);
  assert_int_equal(t->after_closed, 0);
  assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* UP: makes ncalls calls Get(0..ncalls-1). */
static void calls_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  t->t_start = uv_now(&t->loop);
  for (int i = 0; i < t->ncalls; i++)
    assert_int_equal(get(t, (uint32_t)i, t->timeout_ms, true), 0);
}

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
  if (st == NETFW_LINK_DOWN)
    netfw_aclient_close(t->a); /* close from inside on_state */
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
}

static void refused_on_state(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st == NETFW_LINK_DOWN) {
    assert_true(strstr(netfw_aclient_error(t->a), "refused") != NULL);
    netfw_aclient_close(t->a);
  }
}

static void test_aclient_refused(void **state) {
  tctx t;
  uint16_t port;
  (void)state;
  setup_ctx(&t, refused_on_state);
  port = t.srv.port;
  fake_stop(&t.srv); /* nothing listens on port now */
  uv_run(&t.loop, UV_RUN_NOWAIT);
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", port), 0);
  run(&t);
  assert_int_equal(t.connectings, 1);
  assert_int_equal(t.downs, 1);
  assert_int_equal(t.down_err[0], NETFW_ECONNREFUSED);
}

/* Reconnect: UP, a call in flight, the server goes (reset), calls fail
 * fast while DOWN, the listener comes back on the same port, UP again. */
static void on_relisten(uv_timer_t *h) {
  tctx *t = h->data;

  t->srv.silent = false;
  fake_start(&t->srv, &t->loop, t->srv.port);
  t->t_listen = uv_now(&t->loop);
}

static void on_kill(uv_timer_t *h) {
  tctx *t = h->data;

  fake_stop(&t->srv);
  uv_timer_start(&t->t1, on_relisten, 300, 0);
}

static void reconnect_on_state(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st == NETFW_LINK_UP && t->ups == 1) {
    assert_int_equal(get(t, 0, -1, true), 0); /* never answered */
    uv_timer_start(&t->t1, on_kill, 50, 0);
  } else if (st == NETFW_LINK_DOWN) {
    if (get(t, 7, -1, true) == NETFW_ENOTCONN &&
        get(t, 7, -1, false) == NETFW_ENOTCONN)
      t->fast_fail++;
  } else if (st == NETFW_LINK_UP) {
    t->t_up2 = uv_now(&t->loop);
    t->next_seq = 5;
    t->ncalls = 2;
    t->close_on = CLOSE_ON_LAST_CALL;
    assert_int_equal(get(t, 5, 1000, true), 0);
  }
}

static void test_aclient_reconnect(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, reconnect_on_state);
  t.srv.silent = true;
  t.cfg.reconnect.initial_ms = 20;
  t.cfg.reconnect.max_ms = 100;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", t.srv.port), 0);
  run(&t);
  assert_int_equal(t.ups, 2);
  assert_int_equal(t.reset, 1); /* the call in flight at the drop */
  assert_int_equal(t.ok, 1);
  assert_true(t.downs >= 2); /* the drop, then refused dials */
  assert_true(t.down_err[0] == NETFW_ECONNRESET ||
              t.down_err[0] == NETFW_ECLOSED);
  assert_int_equal(t.down_err[1], NETFW_ECONNREFUSED);
  assert_int_equal(t.fast_fail, t.downs);
  assert_true(t.t_up2 >= t.t_listen);
  assert_true(t.t_up2 - t.t_listen <= 100 + 50); /* within one max wait */
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
  assert_int_equal(netfw_aclient_send(t->a, &m), 0);  /* 46 bytes */
  assert_int_equal(netfw_aclient_send(t->a, &m), 0);  /* 92 */
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

/* The n-th wait lies in [d/2, d], d = min(max, initial * 2^n). */
static void test_aclient_backoff_range(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, on_state);
  t.cfg.reconnect.initial_ms = 100;
  t.cfg.reconnect.max_ms = 1000;
  new_client(&t);
  for (int n = 0; n < 8; n++) {
    uint64_t d = n >= 4 ? 1000 : 100u << n, lo = d, hi = 0;
    for (int i = 0; i < 2000; i++) {
      uint64_t w = netfw__abackoff_wait(t.a, n);
      lo = w < lo ? w : lo;
      hi = w > hi ? w : hi;
    }
    assert_true(lo >= d / 2 && hi <= d);
    assert_true(lo <= d / 2 + d / 20 && hi >= d - d / 20); /* spread */
  }
  netfw_aclient_close(t.a);
  run(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aclient_calls_pushes),
      cmocka_unit_test(test_aclient_send_request),
      cmocka_unit_test(test_aclient_pipelined),
      cmocka_unit_test(test_aclient_deadline),
      cmocka_unit_test(test_aclient_late_reply),
      cmocka_unit_test(test_aclient_wrong_reply),
      cmocka_unit_test(test_aclient_refused),
      cmocka_unit_test(test_aclient_reconnect),
      cmocka_unit_test(test_aclient_close_in_push),
      cmocka_unit_test(test_aclient_max_output),
      cmocka_unit_test(test_aclient_api),
      cmocka_unit_test(test_aclient_no_protocol),
      cmocka_unit_test(test_aclient_backoff_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
