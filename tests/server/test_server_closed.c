/* The on_client_closed contract, one worker, real sockets on 127.0.0.1:
 * called exactly once for every connection on_client_connect accepted,
 * whoever closed it, with the reason, as the connection's last callback
 * (after on_client_disconnect when that is called); during it the
 * connection's data and address still work and sends are refused; a refused
 * connection gets none. Also netfw_close_reason_name and a frame sent in
 * pieces (netfw_conn_send_begin/send_more).
 *
 * The test app records every callback in the board's event list with the
 * peer's port (testapp.h), so the tests below check the exact sequence of
 * callbacks each connection got. The closes on a limit (oversized frame,
 * output limit, timeouts, memory, stop) are in test_server_closed_limits.c;
 * the shared checks in closed_kit.c. */
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

static void test_server_config_defaults_limits(void **state) {
  netfw_config cfg;

  netfw_config_init(&cfg, &testapp);
  assert_int_equal(cfg.worker_memory, (size_t)1024 * 1024 * 1024);
  assert_int_equal(cfg.frame_timeout_ms, 30000);
}

static void test_server_close_reason_name_every_value(void **state) {
  static const char *const want[] = {
      "peer", "reset",         "shutdown", "protocol", "output_limit",
      "idle", "frame_timeout", "memory",   "nomem",    "stopping",
      "unanswered"};
  int i;

  assert_int_equal(NETFW_CLOSE_REASON_COUNT, 11);
  assert_int_equal(NETFW_CLOSE_PEER, 0);
  assert_int_equal(NETFW_CLOSE_STOPPING, 9);
  assert_int_equal(NETFW_CLOSE_UNANSWERED, 10);
  for (i = 0; i < NETFW_CLOSE_REASON_COUNT; i++)
    assert_string_equal(netfw_close_reason_name((netfw_close_reason)i),
                        want[i]);
  assert_string_equal(netfw_close_reason_name(NETFW_CLOSE_REASON_COUNT),
                      "unknown");
  assert_string_equal(netfw_close_reason_name((netfw_close_reason)-1),
                      "unknown");
  assert_string_equal(netfw_close_reason_name((netfw_close_reason)1000),
                      "unknown");
}

/* The peer closes: on_client_disconnect, then on_client_closed(PEER). */
static void test_server_closed_peer(void **state) {
  fx *f = *state;
  uint64_t v = 0x5a5a12345678ull;
  int fd, port;

  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  expect_echo(fd, 1, "x", 1);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_PEER, (long long)v);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_DISCONNECT_CLOSED, 3);
  expect_totals(f, 2, 1, 1);
  /* on_client_disconnect saw the same connection state */
  assert_int_equal(atomic_load(&f->b->disconnect_data), (long long)v);
  assert_int_equal(atomic_load(&f->b->disconnects), 1);
}

/* The peer closes while replies are still queued for it (the lost-tail
 * path: the close waits for the flush): still PEER, once. */
static void test_server_closed_peer_with_output_queued(void **state) {
  fx *f = *state;
  uint32_t n = 4u * 1024 * 1024;
  int fd, port;

  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_BIG, &n, 4), 0);
  assert_int_equal(board_wait(&f->b->big_sent, 1, WAIT_MS), 1);
  wire_shutdown_wr(fd); /* EOF now, with 4 MiB still to come */
  {
    size_t got = 0;
    assert_int_equal(wire_wait_eof(fd, WAIT_MS, &got), 0);
    assert_int_equal(got, NETFW_FRAME_HDR_SIZE + n);
  }
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_PEER, 0);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_DISCONNECT_CLOSED, 3);
  expect_totals(f, 2, 1, 1);
}

/* The peer resets (SO_LINGER 0): on_client_disconnect, then RESET. */
static void test_server_closed_reset(void **state) {
  fx *f = *state;
  uint64_t v = 77;
  int fd, port;

  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  expect_echo(fd, 7, "rst", 3);
  wire_close_rst(fd);
  expect_closed(f->b, port, NETFW_CLOSE_RESET, 77);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_DISCONNECT_CLOSED, 3);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_RESET]), 1);
}

/* The app calls netfw_conn_shutdown: SHUTDOWN, no on_client_disconnect,
 * even though the peer then closes its end. */
static void test_server_closed_shutdown(void **state) {
  fx *f = *state;
  uint64_t v = 0xfeedull;
  int fd, port;

  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  assert_int_equal(wire_send(fd, T_SHUTDOWN3, NULL, 0), 0);
  expect_frame(fd, 1, "a", 1);
  expect_frame(fd, 2, "b", 1);
  expect_frame(fd, 3, "c", 1);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_SHUTDOWN, (long long)v);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 2);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
  assert_int_equal(atomic_load(&f->b->after_shutdown_rc), NETFW_ESTATE);
}

/* netfw_conn_shutdown_for(PROTOCOL), as the generated default hooks do for
 * an unknown id or a malformed payload: PROTOCOL, no disconnect. */
static void test_server_closed_shutdown_for_protocol(void **state) {
  fx *f = *state;
  uint32_t why = NETFW_CLOSE_PROTOCOL;
  int fd, port;

  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  expect_echo(fd, 99, "unknown", 7);
  assert_int_equal(wire_send(fd, T_SHUTDOWN_FOR, &why, 4), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_PROTOCOL, 0);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_PROTOCOL]), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* An out-of-range reason given to netfw_conn_shutdown_for never reaches
 * on_client_closed: the runtime reports SHUTDOWN instead. */
static void test_server_closed_shutdown_for_bad_reason(void **state) {
  fx *f = *state;
  uint32_t why = 1000;
  int fd, port;

  fx_start(f);
  fd = fx_connect(f);
  port = local_port(fd);
  assert_int_equal(wire_send(fd, T_SHUTDOWN_FOR, &why, 4), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_SHUTDOWN, 0);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 2);
}

/* on_client_connect returned false: no on_client_closed (and no
 * disconnect), with or without frames sent before refusing. */
static void test_server_closed_not_for_refused(void **state) {
  fx *f = *state;
  int a, b, pa, pb;

  atomic_store(&f->b->reject, 1);
  fx_start(f);
  a = fx_connect(f);
  pa = local_port(a);
  assert_int_equal(wire_wait_eof(a, WAIT_MS, NULL), 0);
  wire_close(a);
  atomic_store(&f->b->reject_send, 2);
  b = fx_connect(f);
  pb = local_port(b);
  expect_frame(b, 100, "pre-0", 5);
  expect_frame(b, 101, "pre-1", 5);
  assert_int_equal(wire_wait_eof(b, WAIT_MS, NULL), 0);
  wire_close_rst(b);
  atomic_store(&f->b->reject, 0);
  sleep_ms(100);
  closed_sync(f);
  expect_events(f->b, pa, (const int[]){EV_CONNECT}, 1);
  expect_events(f->b, pb, (const int[]){EV_CONNECT}, 1);
  expect_totals(f, 1, 0, 1); /* the sync connection only */
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* Many connections ended in different ways at once: each gets exactly one
 * on_client_closed, with its own reason, as its last callback. */
static void test_server_closed_once_each(void **state) {
  enum { N = 24 };
  fx *f = *state;
  int fd[N], port[N], i;
  uint32_t proto = NETFW_CLOSE_PROTOCOL;
  static const netfw_close_reason want[4] = {
      NETFW_CLOSE_PEER, NETFW_CLOSE_RESET, NETFW_CLOSE_SHUTDOWN,
      NETFW_CLOSE_PROTOCOL};

  fx_start(f);
  for (i = 0; i < N; i++) {
    fd[i] = fx_connect(f);
    port[i] = local_port(fd[i]);
    expect_echo(fd[i], 2, "up", 2);
  }
  for (i = 0; i < N; i++) {
    switch (i % 4) {
    case 0:
      wire_close(fd[i]);
      break;
    case 1:
      wire_close_rst(fd[i]);
      break;
    case 2:
      assert_int_equal(wire_send(fd[i], T_SHUTDOWN, NULL, 0), 0);
      break;
    case 3:
      assert_int_equal(wire_send(fd[i], T_SHUTDOWN_FOR, &proto, 4), 0);
      break;
    }
  }
  for (i = 0; i < N; i++)
    if (i % 4 >= 2) {
      assert_int_equal(wire_wait_eof(fd[i], WAIT_MS, NULL), 0);
      wire_close(fd[i]);
    }
  for (i = 0; i < N; i++)
    expect_closed(f->b, port[i], want[i % 4], 0);
  closed_sync(f);
  for (i = 0; i < N; i++) {
    if (i % 4 < 2)
      expect_events(f->b, port[i], CONNECT_DISCONNECT_CLOSED, 3);
    else
      expect_events(f->b, port[i], CONNECT_CLOSED, 2);
  }
  expect_totals(f, N + 1, N / 4, N / 4 + 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_RESET]), N / 4);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_PROTOCOL]), N / 4);
  assert_int_equal(atomic_load(&f->b->disconnects), N / 2);
}

/* netfw_conn_send_begin/send_more: exactly one frame, header then the
 * pieces; a plain send or a second begin in between is refused; a piece
 * longer than what is owed is refused; afterwards sends work again. */
static void test_server_send_begin_more_one_frame(void **state) {
  fx *f = *state;
  static const uint8_t want[] = {
      0x51, 0x51, 10,   0,    0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
      'i',  'j',  0x52, 0x51, 5, 0, 0,   0,   'a', 'f', 't', 'e', 'r'};
  uint8_t got[sizeof(want)];
  size_t have = 0;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_STREAM, NULL, 0), 0);
  while (have < sizeof(want)) {
    ssize_t n = wire_read_some(fd, got + have, sizeof(want) - have, WAIT_MS);
    assert_true(n > 0);
    have += (size_t)n;
  }
  assert_memory_equal(got, want, sizeof(want));
  expect_echo(fd, 3, "nothing in between", 18); /* no stray bytes */
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_BEGIN]), 0);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_MORE1]), 0);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_SEND_INSIDE]), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_BEGIN_INSIDE]),
                   NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_MORE2]), 0);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_MORE_TOO_LONG]),
                   NETFW_EINVAL);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_MORE3]), 0);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_MORE_DONE]), NETFW_EINVAL);
  assert_int_equal(atomic_load(&f->b->stream_rc[SR_SEND_AFTER]), 0);
  wire_close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_config_defaults_limits),
      cmocka_unit_test(test_server_close_reason_name_every_value),
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_server_closed_peer),
      T(test_server_closed_peer_with_output_queued),
      T(test_server_closed_reset),
      T(test_server_closed_shutdown),
      T(test_server_closed_shutdown_for_protocol),
      T(test_server_closed_shutdown_for_bad_reason),
      T(test_server_closed_not_for_refused),
      T(test_server_closed_once_each),
      T(test_server_send_begin_more_one_frame),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
