/* The on_client_closed contract when the runtime closes a connection on a
 * limit, one worker, real sockets on 127.0.0.1: an oversized frame, the
 * output limit (also inside on_client_connect), idle and frame timeouts,
 * the memory budget and a server stop. Moved out of test_server_closed.c
 * (peer, reset, shutdown, refused, once each); the shared checks are in
 * closed_kit.c. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "closed_kit.h"
#include "fixture.h"
#include "frame.h"

/* A header over max_payload: PROTOCOL, whether the runtime closes at once
 * (nothing queued) or after flushing a reply queued before it. */
static void test_server_closed_oversized_frame(void **state) {
  fx *f = *state;
  uint8_t buf[6 + 10 + 6];
  int a, b, pa, pb;

  f->cfg.max_payload = 1024;
  fx_start(f);
  a = fx_connect(f);
  pa = local_port(a);
  expect_echo(a, 0x10, "ok", 2);
  assert_int_equal(wire_send_hdr(a, 0x11, 1025), 0);
  assert_true(wire_wait_eof(a, WAIT_MS, NULL) >= 0);
  wire_close(a);
  expect_closed(f->b, pa, NETFW_CLOSE_PROTOCOL, 0);

  b = fx_connect(f); /* a good frame and the bad header in one write */
  pb = local_port(b);
  netfw__frame_hdr_pack(buf, 0x22, 10);
  memcpy(buf + 6, "0123456789", 10);
  netfw__frame_hdr_pack(buf + 16, 0x23, 1025);
  assert_int_equal(wire_send_all(b, buf, sizeof(buf)), 0);
  expect_frame(b, 0x22, "0123456789", 10);
  assert_int_equal(wire_wait_eof(b, WAIT_MS, NULL), 0);
  wire_close(b);
  expect_closed(f->b, pb, NETFW_CLOSE_PROTOCOL, 0);

  closed_sync(f);
  expect_events(f->b, pa, CONNECT_CLOSED, 2);
  expect_events(f->b, pb, CONNECT_CLOSED, 2);
  expect_totals(f, 3, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_PROTOCOL]), 2);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* A peer that stops reading while the app keeps sending: OUTPUT_LIMIT once
 * the unsent output passes max_output; no disconnect. */
static void test_server_closed_output_limit(void **state) {
  fx *f = *state;
  uint32_t chunk = 64 * 1024;
  uint64_t deadline;
  int fd, port, requests = 0;

  f->cfg.max_output = 512 * 1024;
  fx_start(f);
  fd = wire_connect_rcvbuf(f->port, 4096); /* a small receive window */
  assert_true(fd >= 0);
  port = local_port(fd);
  deadline = wire_now_ms() + 60000;
  while (atomic_load(&f->b->flood_rc) == 0 && wire_now_ms() < deadline) {
    if (wire_send(fd, T_FLOOD, &chunk, 4) != 0)
      break;
    requests++;
    sleep_ms(1);
  }
  expect_closed(f->b, port, NETFW_CLOSE_OUTPUT_LIMIT, 0);
  assert_int_equal(atomic_load(&f->b->flood_rc), NETFW_E2BIG);
  assert_true(requests >= 2);
  wire_close(fd);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_OUTPUT_LIMIT]), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* Silent for idle_timeout_ms: IDLE; no disconnect. */
static void test_server_closed_idle(void **state) {
  fx *f = *state;
  uint64_t v = 3;
  int fd, port;

  f->cfg.idle_timeout_ms = 300;
  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  expect_echo(fd, 1, "then silence", 12);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_IDLE, 3);
  closed_sync(f); /* well within 300 ms: not idle itself */
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_IDLE]), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* netfw_server_stop with connections open: STOPPING for each, all before
 * the app's destroy; no disconnect. One peer closes on the EOF, the other
 * never does (drain_timeout_ms bounds it). */
typedef struct stopper {
  netfw_server *s;
  int rc;
} stopper;

static void *stop_thread(void *arg) {
  stopper *st = arg;
  st->rc = netfw_server_stop(st->s, 20000);
  return NULL;
}

static void test_server_closed_stopping(void **state) {
  fx *f = *state;
  uint64_t va = 0xa, vb = 0xb;
  int a, b, pa, pb, i, total, destroy_at = -1;
  stopper st;
  pthread_t t;

  f->cfg.drain_timeout_ms = 500;
  fx_start(f);
  a = fx_connect(f);
  b = fx_connect(f);
  pa = local_port(a);
  pb = local_port(b);
  assert_int_equal(wire_send(a, T_SETDATA, &va, 8), 0);
  assert_int_equal(wire_send(b, T_SETDATA, &vb, 8), 0);
  expect_echo(a, 1, "a", 1);
  expect_echo(b, 1, "b", 1);
  st.s = f->s;
  assert_int_equal(pthread_create(&t, NULL, stop_thread, &st), 0);
  assert_int_equal(wire_wait_eof(a, WAIT_MS, NULL), 0);
  wire_close(a);
  assert_int_equal(wire_wait_eof(b, WAIT_MS, NULL), 0);
  pthread_join(t, NULL);
  wire_close(b);
  assert_int_equal(st.rc, 0);
  expect_closed(f->b, pa, NETFW_CLOSE_STOPPING, 0xa);
  expect_closed(f->b, pb, NETFW_CLOSE_STOPPING, 0xb);
  expect_events(f->b, pa, CONNECT_CLOSED, 2);
  expect_events(f->b, pb, CONNECT_CLOSED, 2);
  assert_int_equal(atomic_load(&f->b->closes), 2);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_STOPPING]), 2);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
  assert_int_equal(atomic_load(&f->b->destroys), 1);
  /* destroy is the last event, after both on_client_closed */
  total = atomic_load(&f->b->nevents);
  for (i = 0; i < total; i++)
    if (f->b->events[i].kind == EV_DESTROY)
      destroy_at = i;
  assert_int_equal(destroy_at, total - 1);
  assert_int_equal(board_count_events(f->b, EV_DESTROY, -1), 1);
}

/* A frame whose header arrived but whose payload stalls past
 * frame_timeout_ms: FRAME_TIMEOUT; no disconnect. */
static void test_server_closed_frame_timeout(void **state) {
  fx *f = *state;
  uint64_t v = 0xf7;
  int fd, port;

  f->cfg.frame_timeout_ms = 300;
  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  expect_echo(fd, 1, "whole", 5);
  assert_int_equal(wire_send_hdr(fd, 5, 100), 0);
  assert_int_equal(wire_send_all(fd, "0123456789", 10), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_FRAME_TIMEOUT, 0xf7);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_FRAME_TIMEOUT]), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* Over the worker's memory budget: the connection holding the most (a
 * large frame in progress) is closed with MEMORY; a small one is not. */
static void test_server_closed_memory(void **state) {
  fx *f = *state;
  static uint8_t chunk[64 * 1024];
  int big, small, pbig, psmall, i;

  f->cfg.worker_memory = 256 * 1024;
  fx_start(f);
  small = fx_connect(f);
  psmall = local_port(small);
  expect_echo(small, 1, "small", 5);
  big = fx_connect(f);
  pbig = local_port(big);
  expect_echo(big, 1, "big", 3);
  assert_int_equal(wire_send_hdr(big, 5, 1024 * 1024), 0);
  for (i = 0; i < 8; i++) /* 512 KiB of it: the server may cut us off */
    if (wire_send_all(big, chunk, sizeof(chunk)) != 0)
      break;
  assert_true(wire_wait_eof(big, WAIT_MS, NULL) >= 0);
  wire_close(big);
  expect_closed(f->b, pbig, NETFW_CLOSE_MEMORY, 0);
  expect_echo(small, 1, "still served", 12);
  closed_sync(f);
  expect_events(f->b, pbig, CONNECT_CLOSED, 2);
  expect_events(f->b, psmall, (const int[]){EV_CONNECT}, 1);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_MEMORY]), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
  wire_close(small);
  expect_closed(f->b, psmall, NETFW_CLOSE_PEER, 0);
}

/* on_client_connect accepts (returns true) but its own send already passed
 * max_output, so the runtime closed the connection inside the callback:
 * the app accepted it, so on_client_closed(OUTPUT_LIMIT) is still owed,
 * exactly once (an app that registered the conn in on_client_connect would
 * otherwise keep it dangling: the ghost bug again). Found by this test,
 * fixed in 0de5c99. */
static void test_server_closed_output_limit_inside_connect(void **state) {
  fx *f = *state;
  int fd, port;

  f->cfg.max_output = 16 * 1024;
  atomic_store(&f->b->connect_send, 64 * 1024);
  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_true(wire_wait_eof(fd, WAIT_MS, NULL) >= 0);
  wire_close(fd);
  assert_true(board_wait_event(f->b, EV_CONNECT, port, WAIT_MS) >= 0);
  atomic_store(&f->b->connect_send, 0);
  closed_sync(f); /* the first on_client_connect has returned */
  assert_int_equal(atomic_load(&f->b->connect_send_rc), NETFW_E2BIG);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_closed(f->b, port, NETFW_CLOSE_OUTPUT_LIMIT, 0);
  expect_totals(f, 2, 0, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_server_closed_oversized_frame),
      T(test_server_closed_output_limit),
      T(test_server_closed_idle),
      T(test_server_closed_frame_timeout),
      T(test_server_closed_memory),
      T(test_server_closed_stopping),
      T(test_server_closed_output_limit_inside_connect),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
