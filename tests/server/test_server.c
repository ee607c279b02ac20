/* Server semantics with one worker, over real sockets on 127.0.0.1: the
 * netframe behaviours, limits, connection state and the server's states. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "fixture.h"
#include "frame.h"

static void test_server_config_defaults(void **state) {
  netfw_config cfg;

  netfw_config_init(&cfg, &testapp);
  assert_ptr_equal(cfg.app, &testapp);
  assert_null(cfg.ip);
  assert_null(cfg.context);
  assert_int_equal(cfg.port, 54314);
  assert_int_equal(cfg.worker_num, 1);
  assert_int_equal(cfg.max_payload, 16u * 1024 * 1024);
  assert_int_equal(cfg.max_output, (size_t)64 * 1024 * 1024);
  assert_int_equal(cfg.idle_timeout_ms, 0);
  assert_int_equal(cfg.max_connections, 0);
  assert_int_equal(cfg.drain_timeout_ms, 5000);
  assert_false(cfg.reuseport);
}

static void test_server_new_rejects_bad_config(void **state) {
  netfw_app no_msg = {0};
  netfw_config cfg;

  assert_null(netfw_server_new(NULL));
  netfw_config_init(&cfg, NULL);
  assert_null(netfw_server_new(&cfg));
  netfw_config_init(&cfg, &no_msg);
  assert_null(netfw_server_new(&cfg));
  netfw_config_init(&cfg, &testapp);
  cfg.worker_num = -1;
  assert_null(netfw_server_new(&cfg));
  netfw_config_init(&cfg, &testapp);
  cfg.max_output = 0;
  assert_null(netfw_server_new(&cfg));
  cfg.max_output = (size_t)INT32_MAX + 1;
  assert_null(netfw_server_new(&cfg));
  netfw_config_init(&cfg, &testapp);
  cfg.drain_timeout_ms = -1;
  assert_null(netfw_server_new(&cfg));
}

static void test_server_state_errors(void **state) {
  fx *f = *state;

  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_port(f->s), 0);
  assert_int_equal(netfw_server_stop(f->s, -1), NETFW_ESTATE);
  assert_int_equal(netfw_server_start(f->s), 0);
  assert_int_not_equal(netfw_server_port(f->s), 0);
  assert_int_equal(netfw_server_start(f->s), NETFW_ESTATE);
  assert_int_equal(netfw_server_stop(f->s, -1), 0);
  assert_int_equal(netfw_server_stop(f->s, -1), NETFW_ESTATE);
  assert_int_equal(netfw_server_start(f->s), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->creates), 1);
  assert_int_equal(atomic_load(&f->b->destroys), 1);
}

/* A worker that dies before it is ready fails start(); nothing is left. */
static void test_server_start_fails_when_workers_die(void **state) {
  fx *f = *state;

  atomic_store(&f->b->abort_in_create, 1);
  f->cfg.worker_num = 2;
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_start(f->s), NETFW_ESYS);
  assert_int_equal(errno, ECHILD);
  assert_int_equal(netfw_server_port(f->s), 0);
  assert_int_equal(netfw_server_stop(f->s, -1), NETFW_ESTATE);
  assert_true(atomic_load(&f->b->create_calls) >= 1);
  assert_int_equal(atomic_load(&f->b->creates), 0);
  assert_true(board_log_has(f->b, "ERROR", "before it was ready"));
  /* the same server object may try again */
  atomic_store(&f->b->abort_in_create, 0);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
  assert_int_equal(board_wait(&f->b->creates, 2, 10000), 2);
}

static void test_server_addr_in_use(void **state) {
  fx *f = *state;
  netfw_server *other;

  fx_start(f);
  f->cfg.port = f->port;
  other = netfw_server_new(&f->cfg);
  assert_non_null(other);
  assert_int_equal(netfw_server_start(other), NETFW_EADDRINUSE);
  assert_int_equal(netfw_server_port(other), 0);
  netfw_server_free(other);
}

/* netframe's echo test: id 0xff, "hello". */
static void test_server_echo_hello(void **state) {
  fx *f = *state;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 0xff, "hello", 5);
  wire_close(fd);
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
  assert_int_equal(atomic_load(&f->b->connects), 1);
  assert_int_equal(atomic_load(&f->b->messages), 1);
}

static void test_server_reject_instant(void **state) {
  fx *f = *state;
  int fd;

  atomic_store(&f->b->reject, 1);
  fx_start(f);
  fd = fx_connect(f);
  wire_send(fd, 0xff, "hello", 5); /* may race the close: ignore */
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  atomic_store(&f->b->reject, 0);
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->connects), 2);
  assert_int_equal(atomic_load(&f->b->messages), FX_SYNC_MESSAGES);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

static void test_server_reject_after_3(void **state) {
  fx *f = *state;
  int fd;

  atomic_store(&f->b->reject, 1);
  atomic_store(&f->b->reject_send, 3);
  fx_start(f);
  fd = fx_connect(f);
  wire_send(fd, 0xff, "never delivered", 15);
  expect_frame(fd, 100, "pre-0", 5);
  expect_frame(fd, 101, "pre-1", 5);
  expect_frame(fd, 102, "pre-2", 5);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  atomic_store(&f->b->reject, 0);
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->messages), FX_SYNC_MESSAGES);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

static void test_server_shutdown_after_3(void **state) {
  fx *f = *state;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_SHUTDOWN3, NULL, 0), 0);
  wire_send(fd, 0xff, "after shutdown: discarded", 25);
  expect_frame(fd, 1, "a", 1);
  expect_frame(fd, 2, "b", 1);
  expect_frame(fd, 3, "c", 1);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->after_shutdown_rc), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->messages), 1 + FX_SYNC_MESSAGES);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* The lost-tail problem: every message sent right before a close arrives. */
static void test_server_lost_tail_1024(void **state) {
  fx *f = *state;
  uint8_t *buf = malloc(1024 * 10), *p = buf;
  uint32_t i;
  int fd;

  assert_non_null(buf);
  fx_start(f);
  fd = fx_connect(f);
  for (i = 0; i < 1024; i++, p += 10) {
    netfw__frame_hdr_pack(p, T_SEQ, 4);
    memcpy(p + 6, &i, 4);
  }
  assert_int_equal(wire_send_all(fd, buf, 1024 * 10), 0);
  wire_close(fd);
  free(buf);
  assert_int_equal(board_wait(&f->b->seq_received, 1024, 20000), 1024);
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
  assert_int_equal(atomic_load(&f->b->seq_received), 1024);
  assert_int_equal(atomic_load(&f->b->order_errors), 0);
}

/* A peer that half-closes still gets the replies queued for it. */
static void test_server_half_close_gets_replies(void **state) {
  fx *f = *state;
  uint32_t i;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  for (i = 0; i < 1024; i++)
    assert_int_equal(wire_send(fd, 0x42, &i, 4), 0);
  wire_shutdown_wr(fd);
  for (i = 0; i < 1024; i++)
    expect_frame(fd, 0x42, &i, 4);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
}

static void test_server_disconnect_on_peer_reset(void **state) {
  fx *f = *state;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 7, "x", 1);
  wire_close_rst(fd);
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->disconnects), 1);
}

static void test_server_max_payload(void **state) {
  fx *f = *state;
  uint8_t *p = calloc(1, 1025);
  int fd;

  assert_non_null(p);
  f->cfg.max_payload = 1024;
  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 0x10, p, 1024); /* the limit itself is allowed */
  assert_int_equal(wire_send_hdr(fd, 0x11, 1025), 0);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  wire_close(fd);
  free(p);
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->messages), 1 + FX_SYNC_MESSAGES);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
  assert_true(board_log_has(f->b, "127.0.0.1:", "max_payload"));
  assert_true(board_log_has(f->b, "WARN", "1025"));
}

/* A good frame and an oversized header in one write: the reply to the good
 * frame still arrives, then the close. */
static void test_server_max_payload_keeps_earlier_reply(void **state) {
  fx *f = *state;
  uint8_t buf[6 + 10 + 6 + 100];
  int fd;

  memset(buf, 0x3c, sizeof(buf));
  netfw__frame_hdr_pack(buf, 0x22, 10);
  memcpy(buf + 6, "0123456789", 10);
  netfw__frame_hdr_pack(buf + 16, 0x23, 1025);
  f->cfg.max_payload = 1024;
  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send_all(fd, buf, sizeof(buf)), 0);
  expect_frame(fd, 0x22, "0123456789", 10);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->messages), 1 + FX_SYNC_MESSAGES);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
  assert_true(board_log_has(f->b, "max_payload", "1025"));
}

/* A peer that stops reading while the server keeps sending is closed when
 * its unsent output passes max_output. */
static void test_server_output_limit(void **state) {
  fx *f = *state;
  uint32_t chunk = 64 * 1024;
  uint64_t deadline;
  int fd, requests = 0;

  f->cfg.max_output = 1024 * 1024;
  fx_start(f);
  fd = fx_connect(f);
  deadline = wire_now_ms() + 60000;
  while (atomic_load(&f->b->flood_rc) == 0 && wire_now_ms() < deadline) {
    if (wire_send(fd, T_FLOOD, &chunk, 4) != 0)
      break;
    requests++;
    sleep_ms(2);
  }
  print_message("output limit hit after %d flood requests (%llu ms)\n",
                requests,
                (unsigned long long)(wire_now_ms() + 60000 - deadline));
  /* the worker closes the socket (our send fails) just before it records
     what netfw_conn_send returned: give it a moment */
  deadline = wire_now_ms() + 10000;
  while (atomic_load(&f->b->flood_rc) == 0 && wire_now_ms() < deadline)
    sleep_ms(2);
  assert_int_equal(atomic_load(&f->b->flood_rc), NETFW_E2BIG);
  assert_true(requests > 1); /* the first ones went to the socket */
  assert_true(wire_wait_eof(fd, 20000, NULL) >= 0);
  wire_close(fd);
  assert_true(board_log_has(f->b, "output limit", "127.0.0.1:"));
  fx_sync(f);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
}

/* During on_client_disconnect the connection's data is still there and a
 * send is refused. */
static void test_server_disconnect_callback_state(void **state) {
  fx *f = *state;
  uint64_t v = 0x5a5a1234ull;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  expect_echo(fd, 1, "x", 1);
  wire_close(fd);
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
  assert_int_equal(atomic_load(&f->b->disconnect_send_rc), NETFW_ESTATE);
  assert_int_equal(atomic_load(&f->b->disconnect_data), (long long)v);
}

static void test_server_conn_addr_and_data(void **state) {
  fx *f = *state;
  struct sockaddr_in me;
  socklen_t len = sizeof(me);
  char want[64];
  uint64_t v = 0x1122334455667788ull, zero = 0;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
  snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(me.sin_port));
  assert_int_equal(wire_send(fd, T_ADDR, NULL, 0), 0);
  expect_frame(fd, T_ADDR, want, (uint32_t)strlen(want));
  assert_int_equal(wire_send(fd, T_GETDATA, NULL, 0), 0);
  expect_frame(fd, T_GETDATA, &zero, 8);
  assert_int_equal(wire_send(fd, T_SETDATA, &v, 8), 0);
  assert_int_equal(wire_send(fd, T_GETDATA, NULL, 0), 0);
  expect_frame(fd, T_GETDATA, &v, 8);
  wire_close(fd);
}

static void test_server_idle_timeout(void **state) {
  fx *f = *state;
  uint64_t t0, waited;
  int idle, busy, fresh, i;

  f->cfg.idle_timeout_ms = 300;
  fx_start(f);
  idle = fx_connect(f);
  busy = fx_connect(f);
  expect_echo(idle, 1, "i", 1);
  for (i = 0; i < 10; i++) { /* 1 s of traffic every 100 ms keeps it open */
    expect_echo(busy, 2, "b", 1);
    sleep_ms(100);
  }
  assert_int_equal(wire_wait_eof(idle, 10000, NULL), 0); /* closed by now */
  expect_echo(busy, 3, "still open", 10);
  wire_close(busy); /* a peer close: the one disconnect callback of this test */
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
  fresh = fx_connect(f);
  t0 = wire_now_ms();
  assert_int_equal(wire_wait_eof(fresh, 10000, NULL), 0);
  waited = wire_now_ms() - t0;
  print_message("a silent connection was closed after %llu ms (limit 300)\n",
                (unsigned long long)waited);
  assert_true(waited >= 250);
  wire_close(fresh);
  wire_close(idle);
  sleep_ms(100);
  assert_int_equal(atomic_load(&f->b->disconnects), 1); /* busy only */
  assert_true(board_log_has(f->b, "idle", "127.0.0.1:"));
}

static void test_server_max_connections(void **state) {
  fx *f = *state;
  uint64_t deadline;
  int a, b, c, d = -1;

  f->cfg.max_connections = 2;
  fx_start(f);
  a = fx_connect(f);
  b = fx_connect(f);
  expect_echo(a, 1, "a", 1);
  expect_echo(b, 1, "b", 1);
  c = fx_connect(f);
  assert_int_equal(wire_wait_eof(c, 10000, NULL), 0);
  wire_close(c);
  assert_int_equal(atomic_load(&f->b->connects), 2);
  assert_true(board_log_has(f->b, "max_connections", "127.0.0.1:"));
  wire_close(a);
  assert_int_equal(board_wait(&f->b->disconnects, 1, 10000), 1);
  deadline = wire_now_ms() + 10000;
  while (wire_now_ms() < deadline) { /* a slot is free again */
    uint16_t id;
    uint8_t *p;
    uint32_t n;
    d = fx_connect(f);
    assert_int_equal(wire_send(d, 5, "d", 1), 0);
    if (wire_recv(d, &id, &p, &n, 10000) == 1) {
      assert_int_equal(id, 5);
      free(p);
      break;
    }
    wire_close(d);
    d = -1;
    sleep_ms(20);
  }
  assert_true(d >= 0);
  expect_echo(b, 1, "b", 1);
  wire_close(b);
  wire_close(d);
  assert_int_equal(atomic_load(&f->b->connects), 3);
}

/* start() returns only once the worker serves: connect right away. */
static void test_server_start_then_connect_20(void **state) {
  fx *f = *state;
  int i, fd;

  for (i = 0; i < 20; i++) {
    fx_start(f);
    fd = fx_connect(f);
    expect_echo(fd, (uint16_t)i, "now", 3);
    wire_close(fd);
    assert_int_equal(netfw_server_stop(f->s, -1), 0);
    netfw_server_free(f->s);
    f->s = NULL;
  }
  assert_int_equal(atomic_load(&f->b->creates), 20);
  assert_int_equal(atomic_load(&f->b->destroys), 20);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_config_defaults),
      cmocka_unit_test(test_server_new_rejects_bad_config),
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_server_state_errors),
      T(test_server_start_fails_when_workers_die),
      T(test_server_addr_in_use),
      T(test_server_echo_hello),
      T(test_server_reject_instant),
      T(test_server_reject_after_3),
      T(test_server_shutdown_after_3),
      T(test_server_lost_tail_1024),
      T(test_server_half_close_gets_replies),
      T(test_server_disconnect_on_peer_reset),
      T(test_server_max_payload),
      T(test_server_max_payload_keeps_earlier_reply),
      T(test_server_output_limit),
      T(test_server_disconnect_callback_state),
      T(test_server_conn_addr_and_data),
      T(test_server_idle_timeout),
      T(test_server_max_connections),
      T(test_server_start_then_connect_20),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
