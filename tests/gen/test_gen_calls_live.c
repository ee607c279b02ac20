/* Generated calls on a real server (tests/gen/calls.netproto, port 0, one
 * worker): calls_call_<Request> on the blocking client, calls_acall_<Request>
 * on the async one (the test thread's loop), against handlers that answer at
 * once (calls_server_send_<Reply>, a push first) or later
 * (netfw_conn_defer, then calls_server_reply_<Reply> from a worker timer).
 * Needs the calls runtime: netfw_client_call, netfw_reply_send and
 * netfw_aclient_* (docs/calls.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "calls.netfw.h"

#define LOCALHOST "127.0.0.1"
#define WAIT_MS 10000
#define LATE_MS 100 /* how long "late" Gets and every Put wait for a reply */

static netfw_str str(const char *s) {
  netfw_str r = {s, (uint32_t)strlen(s)};
  return r;
}

static bool str_eq(netfw_str a, const char *s) {
  return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

/* ---- the server -------------------------------------------------------- */

/* A deferred request, answered when its timer fires. */
typedef struct later {
  uv_timer_t timer;
  netfw_reply reply;
  bool put;       /* Put: Done; else Get: Value */
  uint32_t value; /* Get's Value */
} later;

static void later_closed(uv_handle_t *h) {
  free(h->data);
}

static void later_fire(uv_timer_t *t) {
  later *l = t->data;
  int rc;
  if (l->put) {
    calls_Done done = {0};
    rc = calls_server_reply_Done(l->reply, &done);
  } else {
    calls_Value v = {l->value};
    rc = calls_server_reply_Value(l->reply, &v);
  }
  if (rc != 0 && rc != NETFW_ECLOSED)
    netfw_log(NETFW_LOG_ERROR, "test: reply_send: %s", netfw_strerror(rc));
  uv_close((uv_handle_t *)t, later_closed);
}

/* Takes the request's token and answers it LATE_MS from now. */
static void answer_later(netfw_conn *conn, bool put, uint32_t value) {
  later *l = calloc(1, sizeof(*l));
  if (l == NULL || netfw_conn_defer(conn, &l->reply) != 0) {
    free(l);
    netfw_conn_shutdown(conn);
    return;
  }
  l->put = put;
  l->value = value;
  uv_timer_init(netfw_conn_loop(conn), &l->timer);
  l->timer.data = l;
  uv_timer_start(&l->timer, later_fire, LATE_MS, 0);
}

/* Get "k": a push, then Value 42; "none": Missing; "bad": a Value too short
 * to decode; "late": Value 7, deferred; else Value = the key's length. */
static void srv_on_get(void *app, netfw_conn *conn, const calls_Get *m) {
  calls_Value v = {m->key.len};
  (void)app;
  if (str_eq(m->key, "k")) {
    calls_Changed push = {m->key};
    (void)calls_server_send_Changed(conn, &push);
    v.value = 42;
  } else if (str_eq(m->key, "none")) {
    calls_Missing missing = {0};
    (void)calls_server_send_Missing(conn, &missing);
    return;
  } else if (str_eq(m->key, "bad")) {
    netfw_msg short_value;
    netfw_msg_init(&short_value, CALLS_VALUE_ID);
    (void)netfw_msg_append(&short_value, "\x01\x02", 2); /* u32 wants 4 */
    (void)netfw_conn_send(conn, &short_value);
    netfw_msg_release(&short_value);
    return;
  } else if (str_eq(m->key, "late")) {
    answer_later(conn, false, 7);
    return;
  }
  (void)calls_server_send_Value(conn, &v);
}

static void srv_on_put(void *app, netfw_conn *conn, const calls_Put *m) {
  (void)app;
  (void)m;
  answer_later(conn, true, 0);
}

static void srv_on_forget(void *app, netfw_conn *conn, const calls_Forget *m) {
  (void)app; /* one-way: nothing to answer */
  (void)conn;
  (void)m;
}

static const calls_server_handlers srv_handlers = {
    .on_Get = srv_on_get, .on_Put = srv_on_put, .on_Forget = srv_on_forget};
static const calls_server_app srv_app = {.handlers = &srv_handlers};

static netfw_server *server;
static uint16_t port;

static int server_setup(void **state) {
  netfw_config cfg;
  (void)state;
  netfw_log_set_level(NETFW_LOG_ERROR); /* the bad reply's warning */
  calls_server_config_init(&cfg, &srv_app);
  if (cfg.protocol != &calls_descriptor)
    return -1;
  cfg.ip = LOCALHOST;
  cfg.port = 0;
  cfg.worker_num = 1;
  server = netfw_server_new(&cfg);
  if (server == NULL || netfw_server_start(server) != 0)
    return -1;
  port = netfw_server_port(server);
  return 0;
}

static int server_teardown(void **state) {
  int rc = netfw_server_stop(server, WAIT_MS);
  (void)state;
  netfw_server_free(server);
  return rc == 0 ? 0 : -1;
}

/* ---- the blocking client ----------------------------------------------- */

static int pushes;

static void cl_on_changed(void *user, const calls_Changed *m) {
  (void)user;
  assert_true(str_eq(m->key, "k"));
  pushes++;
}

static const calls_client_handlers cl_handlers = {.on_Changed = cl_on_changed};

static void test_calls_blocking(void **state) {
  netfw_client *c = calls_client_new();
  calls_Get get = {str("k")};
  calls_Put put = {str("p"), 5};
  calls_Forget forget = {str("f")};
  calls_Get_reply reply;
  calls_Put_reply done;
  netfw_arena arena;

  (void)state;
  assert_non_null(c);
  netfw_arena_init(&arena);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port), 0);

  /* answered at once, after a push: the push waits in the inbox */
  assert_int_equal(calls_call_Get(c, &get, &reply, &arena, WAIT_MS), 0);
  assert_int_equal(reply.id, CALLS_VALUE_ID);
  assert_int_equal(reply.as.Value.value, 42);
  pushes = 0;
  assert_int_equal(calls_client_recv(c, &cl_handlers, NULL, &arena, WAIT_MS),
                   0);
  assert_int_equal(pushes, 1);

  /* the other reply of Get */
  get.key = str("none");
  assert_int_equal(calls_call_Get(c, &get, &reply, &arena, WAIT_MS), 0);
  assert_int_equal(reply.id, CALLS_MISSING_ID);

  /* a one-way message between calls takes no place in the order */
  assert_int_equal(calls_client_send_Forget(c, &forget), 0);

  /* deferred by the server, answered from its timer */
  assert_int_equal(calls_call_Put(c, &put, &done, &arena, WAIT_MS), 0);
  assert_int_equal(done.id, CALLS_DONE_ID);

  /* a reply that does not decode: the decoder's error, *reply zeroed, the
   * connection kept */
  get.key = str("bad");
  reply.id = 99;
  assert_int_equal(calls_call_Get(c, &get, &reply, &arena, WAIT_MS),
                   NETFW_EPROTO);
  assert_int_equal(reply.id, 0);
  assert_int_equal(netfw_client_loss(c), 0);

  /* a deadline shorter than the server's delay, then its late reply is
   * dropped, never given to the next call */
  get.key = str("late");
  assert_int_equal(calls_call_Get(c, &get, &reply, &arena, LATE_MS / 4),
                   NETFW_ETIMEDOUT);
  get.key = str("abc");
  assert_int_equal(calls_call_Get(c, &get, &reply, &arena, WAIT_MS), 0);
  assert_int_equal(reply.id, CALLS_VALUE_ID);
  assert_int_equal(reply.as.Value.value, 3);
  assert_int_equal(netfw_client_late_replies(c), 1);

  /* NULL arguments */
  assert_int_equal(calls_call_Get(c, &get, &reply, NULL, WAIT_MS),
                   NETFW_EINVAL);
  assert_int_equal(calls_call_Get(c, &get, NULL, &arena, WAIT_MS),
                   NETFW_EINVAL);

  netfw_client_free(c);
  netfw_arena_free(&arena);
}

/* ---- the async client --------------------------------------------------- */

typedef struct async_run {
  netfw_aclient *a;
  int up, closed;
  int done;           /* callbacks so far */
  uint32_t values[3]; /* the Values, in callback order */
  int statuses[3];
  uint16_t ids[3];
} async_run;

static void got_get(void *arg, int status, calls_Get_reply *reply) {
  async_run *r = arg;
  assert_true(r->done < 3);
  r->statuses[r->done] = status;
  r->ids[r->done] = reply != NULL ? reply->id : 0;
  r->values[r->done] =
      reply != NULL && reply->id == CALLS_VALUE_ID ? reply->as.Value.value : 0;
  if (status != 0)
    assert_null(reply);
  if (++r->done == 3)
    netfw_aclient_close(r->a);
}

/* Once up: three pipelined Gets, the first answered last by the server's
 * clock but first on the wire. */
static void on_state(void *user, netfw_link_state s, int err) {
  async_run *r = user;
  calls_Get late = {str("late")}, k = {str("k")}, none = {str("none")};
  if (s == NETFW_LINK_CLOSED) {
    r->closed++;
    return;
  }
  if (s != NETFW_LINK_UP) {
    assert_int_equal(s, NETFW_LINK_CONNECTING);
    assert_int_equal(err, 0);
    return;
  }
  r->up++;
  assert_int_equal(calls_acall_Get(r->a, &late, WAIT_MS, got_get, r), 0);
  assert_int_equal(calls_acall_Get(r->a, &k, WAIT_MS, got_get, r), 0);
  assert_int_equal(calls_acall_Get(r->a, &none, WAIT_MS, got_get, r), 0);
  assert_int_equal(r->done, 0); /* never from inside acall */
}

static void test_calls_async(void **state) {
  netfw_aclient_config cfg;
  async_run r = {0};
  calls_Get get = {str("k")};
  uv_loop_t loop;

  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  calls_aclient_config_init(&cfg);
  assert_ptr_equal(cfg.protocol, &calls_descriptor);
  cfg.on_state = on_state;
  cfg.user = &r;
  r.a = netfw_aclient_new(&loop, &cfg);
  assert_non_null(r.a);
  /* not up yet: refused, and the callback never runs */
  assert_int_equal(calls_acall_Get(r.a, &get, WAIT_MS, got_get, &r),
                   NETFW_ENOTCONN);
  assert_int_equal(calls_acall_Get(r.a, &get, WAIT_MS, NULL, &r), NETFW_EINVAL);
  assert_int_equal(netfw_aclient_connect(r.a, LOCALHOST, port), 0);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(r.up, 1);
  assert_int_equal(r.closed, 1);
  assert_int_equal(r.done, 3);
  assert_int_equal(r.statuses[0], 0);
  assert_int_equal(r.statuses[1], 0);
  assert_int_equal(r.statuses[2], 0);
  assert_int_equal(r.ids[0], CALLS_VALUE_ID);
  assert_int_equal(r.values[0], 7);
  assert_int_equal(r.ids[1], CALLS_VALUE_ID);
  assert_int_equal(r.values[1], 42);
  assert_int_equal(r.ids[2], CALLS_MISSING_ID);
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_blocking),
      cmocka_unit_test(test_calls_async),
  };
  return cmocka_run_group_tests(tests, server_setup, server_teardown);
}
