/* The async client tests' kit (aclient_kit.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aclient_kit.h"

/* One test's world. */
static void on_guard(uv_timer_t *t) {
  (void)t;
  fail_msg("test took more than %d ms", GUARD_MS);
}

static void fin(tctx *t) {
  fake_stop(&t->srv);
  uv_close((uv_handle_t *)&t->guard, NULL);
  uv_close((uv_handle_t *)&t->t1, NULL);
}

void on_state(void *user, netfw_link_state st, int err) {
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

void on_push(void *user, netfw_msg *m) {
  tctx *t = user;

  if (t->closed)
    t->after_closed++;
  t->pushes++;
  if (netfw_msg_id(m) == ID_LINE)
    assert_memory_equal(netfw_msg_payload(m), "line", 4);
  if (t->close_on == CLOSE_ON_PUSH)
    netfw_aclient_close(t->a);
}

void on_call(void *arg, int status, netfw_msg *reply) {
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
int get(tctx *t, uint32_t seq, int timeout_ms, bool call) {
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
void setup_ctx(tctx *t, netfw_link_cb state_cb) {
  memset(t, 0, sizeof(*t));
  assert_int_equal(uv_loop_init(&t->loop), 0);
  uv_timer_init(&t->loop, &t->guard);
  uv_timer_init(&t->loop, &t->t1);
  t->t1.data = t;
  uv_timer_start(&t->guard, on_guard, GUARD_MS, 0);
  uv_unref((uv_handle_t *)&t->guard);
  fake_start(&t->srv, &t->loop, 0);
  netfw_aclient_config_init(&t->cfg);
  t->cfg.protocol = &test_calls_desc;
  t->cfg.on_push = on_push;
  t->cfg.on_state = state_cb;
  t->cfg.user = t;
  t->timeout_ms = -1;
}

void new_client(tctx *t) {
  t->a = netfw_aclient_new(&t->loop, &t->cfg);
  assert_non_null(t->a);
}

/* Runs the loop to its end and checks everything was closed. */
void run(tctx *t) {
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(t->closed, 1);
  assert_int_equal(t->after_closed, 0);
  assert_int_equal(uv_loop_close(&t->loop), 0);
}

/* UP: makes ncalls calls Get(0..ncalls-1). */
void calls_on_up(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st != NETFW_LINK_UP)
    return;
  t->t_start = uv_now(&t->loop);
  for (int i = 0; i < t->ncalls; i++)
    assert_int_equal(get(t, (uint32_t)i, t->timeout_ms, true), 0);
}
