/* Automatic reconnection of the blocking client (netfw/link.h) against a
 * fake server (call_peer.c) that closes, then is started again on the same
 * port: the loss is reported to recv once, calls in flight fail with
 * NETFW_ECONNRESET, calls and sends while down with NETFW_ENOTCONN, the
 * client comes back within its backoff and calls work again; the link
 * callback sees every state; max_attempts; shutdown while waiting; the
 * backoff's equal jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "call_peer.h"
#include "client_internal.h"
#include "client_kit.h"
#include "netfw/netfw.h"
#include "peer.h"

enum { MAX_EVENTS = 256 };

/* What the link callback saw, in order. */
typedef struct link_rec {
  pthread_mutex_t lock;
  int n;
  netfw_link_state st[MAX_EVENTS];
  int err[MAX_EVENTS];
} link_rec;

/* The link callback: records (st, err). */
static void on_link(void *user, netfw_link_state st, int err) {
  link_rec *r = user;

  pthread_mutex_lock(&r->lock);
  if (r->n < MAX_EVENTS) {
    r->st[r->n] = st;
    r->err[r->n] = err;
    r->n++;
  }
  pthread_mutex_unlock(&r->lock);
}

/* How many events (st, err) were seen (err 1: any code). */
static int rec_count(link_rec *r, netfw_link_state st, int err) {
  int n = 0;

  pthread_mutex_lock(&r->lock);
  for (int i = 0; i < r->n; i++)
    n += r->st[i] == st && (err == 1 || r->err[i] == err);
  pthread_mutex_unlock(&r->lock);
  return n;
}

/* Waits until (st, err) was seen n times; returns the ms it took. */
static int64_t rec_wait(link_rec *r, netfw_link_state st, int err, int n) {
  int64_t t0 = peer_now_ms();

  while (rec_count(r, st, err) < n && peer_now_ms() - t0 < WAIT_MS)
    usleep(1000);
  assert_int_equal(rec_count(r, st, err), n);
  return peer_now_ms() - t0;
}

/* A client with test_calls_desc, reconnect rc and the recorder, connected to p
 * started in mode. */
static netfw_client *rc_client(const netfw_reconnect *rc, link_rec *r,
                               call_peer *p, call_peer_mode mode) {
  netfw_client *c = client_new();

  pthread_mutex_init(&r->lock, NULL);
  r->n = 0;
  assert_int_equal(netfw_client_set_protocol(c, &test_calls_desc), 0);
  assert_int_equal(netfw_client_set_reconnect(c, rc), 0);
  assert_int_equal(netfw_client_set_link_cb(c, on_link, r), 0);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, call_peer_start(p, mode)),
                   0);
  rec_wait(r, NETFW_LINK_UP, 0, 1);
  return c;
}

/* Calls Get with text and checks the GetResp echoes it. */
static void call_ok(netfw_client *c, const char *text) {
  netfw_msg *req = msg_text(M_GET, text), *reply = NULL;

  assert_int_equal(netfw_client_call(c, req, &reply, WAIT_MS), 0);
  assert_int_equal(netfw_msg_id(reply), M_GETRESP);
  assert_int_equal(netfw_msg_size(reply), strlen(text));
  assert_memory_equal(netfw_msg_payload(reply), text, strlen(text));
  netfw_msg_free(reply);
  netfw_msg_free(req);
}

/* The server closes during a call, stays away a while, then listens on
 * the same port again: the call fails ECONNRESET, recv reports the loss
 * once, calls and sends fail fast with ENOTCONN while down, and within
 * the backoff the client is up again and calls work. */
static void test_reconnect_after_server_restart(void **state) {
  netfw_reconnect rc = {.initial_ms = 200, .max_ms = 400};
  call_peer p = {0};
  link_rec r;
  netfw_client *c = rc_client(&rc, &r, &p, CP_CLOSE);
  netfw_msg *req = msg_text(M_GET, "lost"), *reply = NULL, *m = NULL;
  uint16_t port = p.port;

  (void)state;
  assert_int_equal(netfw_client_call(c, req, &reply, -1), NETFW_ECONNRESET);
  call_peer_join(&p); /* nothing listens now: the dials are refused */
  assert_int_equal(netfw_client_loss(c), NETFW_ECLOSED);
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  rec_wait(&r, NETFW_LINK_DOWN, NETFW_ECONNREFUSED, 1);
  assert_int_equal(netfw_client_call(c, req, &reply, WAIT_MS), NETFW_ENOTCONN);
  assert_int_equal(netfw_client_send(c, req), NETFW_ENOTCONN);
  assert_int_equal(netfw_client_recv(c, &m, 50), NETFW_ETIMEDOUT); /* once */

  p = (call_peer){.port = port};
  call_peer_start(&p, CP_ANSWER);
  assert_in_range(rec_wait(&r, NETFW_LINK_UP, 0, 2), 0, 400 + 300);
  call_ok(c, "back");
  assert_int_equal(netfw_client_loss(c), 0);
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  call_peer_join(&p);
  /* UP, DOWN (closed), then CONNECTING and DOWN (refused) in turns, then
   * CONNECTING, UP, CLOSED */
  assert_true(r.n >= 6);
  assert_int_equal(r.st[0], NETFW_LINK_UP);
  assert_int_equal(r.st[1], NETFW_LINK_DOWN);
  assert_int_equal(r.err[1], NETFW_ECLOSED);
  for (int i = 2; i < r.n - 3; i += 2) {
    assert_int_equal(r.st[i], NETFW_LINK_CONNECTING);
    assert_int_equal(r.st[i + 1], NETFW_LINK_DOWN);
    assert_int_equal(r.err[i + 1], NETFW_ECONNREFUSED);
  }
  assert_int_equal(r.st[r.n - 3], NETFW_LINK_CONNECTING);
  assert_int_equal(r.st[r.n - 2], NETFW_LINK_UP);
  assert_int_equal(r.st[r.n - 1], NETFW_LINK_CLOSED);
  netfw_msg_free(req);
  netfw_client_free(c);
}

/* After max_attempts refused dials the client stays down: recv says
 * ECONNRESET again (no more connections will come), sends ENOTCONN. */
static void test_reconnect_gives_up(void **state) {
  netfw_reconnect rc = {.initial_ms = 20, .max_ms = 40, .max_attempts = 3};
  call_peer p = {0};
  link_rec r;
  netfw_client *c = rc_client(&rc, &r, &p, CP_CLOSE);
  netfw_msg *say = msg_text(M_SAY, "bye"), *m = NULL;

  (void)state;
  assert_int_equal(netfw_client_send(c, say), 0);
  call_peer_join(&p);
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  rec_wait(&r, NETFW_LINK_DOWN, NETFW_ECONNREFUSED, 3);
  usleep(200 * 1000); /* no fourth dial comes */
  assert_int_equal(rec_count(&r, NETFW_LINK_CONNECTING, 0), 3);
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_send(c, say), NETFW_ENOTCONN);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(r.st[r.n - 1], NETFW_LINK_CLOSED);
  netfw_msg_free(say);
  netfw_client_free(c);
}

/* Shutdown during a long backoff returns at once. */
static void test_reconnect_shutdown_while_waiting(void **state) {
  netfw_reconnect rc = {.initial_ms = 10000, .max_ms = 10000};
  call_peer p = {0};
  link_rec r;
  netfw_client *c = rc_client(&rc, &r, &p, CP_CLOSE);
  netfw_msg *say = msg_text(M_SAY, "bye"), *m = NULL;
  int64_t t0;

  (void)state;
  assert_int_equal(netfw_client_send(c, say), 0);
  call_peer_join(&p);
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  rec_wait(&r, NETFW_LINK_DOWN, NETFW_ECLOSED, 1);
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  assert_in_range(peer_now_ms() - t0, 0, 1000);
  assert_int_equal(r.st[r.n - 1], NETFW_LINK_CLOSED);
  assert_int_equal(rec_count(&r, NETFW_LINK_CONNECTING, 0), 0);
  netfw_msg_free(say);
  netfw_client_free(c);
}

/* With reconnect off the callback sees UP, DOWN (how) and CLOSED. */
static void test_link_cb_without_reconnect(void **state) {
  call_peer p = {0};
  link_rec r;
  netfw_client *c = rc_client(NULL, &r, &p, CP_CLOSE);
  netfw_msg *say = msg_text(M_SAY, "bye"), *m = NULL;

  (void)state;
  assert_int_equal(netfw_client_send(c, say), 0);
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  call_peer_join(&p);
  rec_wait(&r, NETFW_LINK_DOWN, NETFW_ECLOSED, 1);
  assert_int_equal(netfw_client_send(c, say), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(r.n, 3);
  assert_int_equal(r.st[0], NETFW_LINK_UP);
  assert_int_equal(r.st[1], NETFW_LINK_DOWN);
  assert_int_equal(r.st[2], NETFW_LINK_CLOSED);
  netfw_msg_free(say);
  netfw_client_free(c);
}

/* The n-th wait is in [d/2, d], d = min(max, initial * 2^n). */
static void test_reconnect_delay_equal_jitter(void **state) {
  netfw_reconnect r = {.initial_ms = 100, .max_ms = 1000};
  netfw_reconnect dflt = {.initial_ms = 100};

  (void)state;
  assert_int_equal(netfw__reconnect_delay(&r, 0, 0), 50);
  assert_int_equal(netfw__reconnect_delay(&r, 0, 50), 100);
  assert_int_equal(netfw__reconnect_delay(&r, 0, 51), 50);
  assert_int_equal(netfw__reconnect_delay(&r, 3, 0), 400);
  assert_int_equal(netfw__reconnect_delay(&r, 3, 400), 800);
  assert_int_equal(netfw__reconnect_delay(&r, 4, 0), 500);
  assert_int_equal(netfw__reconnect_delay(&r, 40, 500), 1000);
  assert_int_equal(netfw__reconnect_delay(&dflt, 30, 5000), 10000);
  for (uint64_t x = 1; x < 1000000; x = x * 7 + 3)
    assert_in_range(netfw__reconnect_delay(&r, 2, x), 200, 400);
}

/* The setters' refusals. */
static void test_reconnect_setters(void **state) {
  netfw_reconnect bad = {.initial_ms = 10, .max_ms = -1};
  call_peer p = {0};
  netfw_client *c = client_new();

  (void)state;
  assert_int_equal(netfw_client_set_reconnect(c, &bad), NETFW_EINVAL);
  assert_int_equal(netfw_client_set_reconnect(NULL, NULL), NETFW_EINVAL);
  assert_int_equal(netfw_client_set_link_cb(NULL, NULL, NULL), NETFW_EINVAL);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_ANSWER)), 0);
  assert_int_equal(netfw_client_set_reconnect(c, NULL), NETFW_ESTATE);
  assert_int_equal(netfw_client_set_link_cb(c, NULL, NULL), NETFW_ESTATE);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  assert_int_equal(netfw_client_set_reconnect(c, NULL), 0);
  call_peer_join(&p);
  netfw_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reconnect_after_server_restart),
      cmocka_unit_test(test_reconnect_gives_up),
      cmocka_unit_test(test_reconnect_shutdown_while_waiting),
      cmocka_unit_test(test_link_cb_without_reconnect),
      cmocka_unit_test(test_reconnect_delay_equal_jitter),
      cmocka_unit_test(test_reconnect_setters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
