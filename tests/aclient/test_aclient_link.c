/* The async client's link (netfw/link.h) against an in-loop fake server
 * (aclient_kit.h): a refused connection, reconnecting after the server
 * went and came back on the same port, and the backoff's range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../runtime/aclient/aclient.h"
#include "aclient_kit.h"

static void refused_on_state(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st == NETFW_LINK_DOWN) {
    assert_true(strstr(netfw_aclient_error(t->a), "refused") != NULL);
    netfw_aclient_close(t->a);
  }
}

/* DOWN: close from inside on_state, whatever the reason. */
static void refused_on_state_any(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  on_state(user, st, err);
  if (st == NETFW_LINK_DOWN)
    netfw_aclient_close(t->a);
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

/* max_attempts: the first dial and two more, then it stays DOWN. */
static void on_give_up(uv_timer_t *h) {
  tctx *t = h->data;

  assert_int_equal(netfw_aclient_state(t->a), NETFW_LINK_DOWN);
  netfw_aclient_close(t->a);
}

static void test_aclient_max_attempts(void **state) {
  tctx t;
  uint16_t port;
  (void)state;
  setup_ctx(&t, on_state);
  port = t.srv.port;
  fake_stop(&t.srv);
  t.cfg.reconnect.initial_ms = 10;
  t.cfg.reconnect.max_ms = 20;
  t.cfg.reconnect.max_attempts = 2;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "127.0.0.1", port), 0);
  uv_timer_start(&t.t1, on_give_up, 300, 0); /* waits are at most 20 ms */
  run(&t);
  assert_int_equal(t.connectings, 3);
  assert_int_equal(t.downs, 3);
  for (int i = 0; i < 3; i++)
    assert_int_equal(t.down_err[i], NETFW_ECONNREFUSED);
}

/* A name that does not resolve: DOWN with NETFW_EADDRINFO, or, on a host
 * whose resolver does not answer, NETFW_ETIMEDOUT: the lookup counts
 * inside connect_timeout_ms. */
static void test_aclient_bad_name(void **state) {
  tctx t;
  (void)state;
  setup_ctx(&t, refused_on_state_any);
  t.cfg.connect_timeout_ms = 2000;
  new_client(&t);
  assert_int_equal(netfw_aclient_connect(t.a, "no-such-host.invalid", 9), 0);
  run(&t);
  assert_int_equal(t.downs, 1);
  assert_true(t.down_err[0] == NETFW_EADDRINFO ||
              t.down_err[0] == NETFW_ETIMEDOUT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aclient_refused),
      cmocka_unit_test(test_aclient_reconnect),
      cmocka_unit_test(test_aclient_backoff_range),
      cmocka_unit_test(test_aclient_max_attempts),
      cmocka_unit_test(test_aclient_bad_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
