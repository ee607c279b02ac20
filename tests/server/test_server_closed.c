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
 * callbacks each connection got. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "fixture.h"
#include "frame.h"

#define WAIT_MS 10000

/* The local port of a connected socket: the port the server sees. */
static int local_port(int fd) {
  struct sockaddr_in me;
  socklen_t len = sizeof(me);

  assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
  return ntohs(me.sin_port);
}

/* Fails unless the events from port are exactly kinds[0..n-1], in order. */
static void expect_events(board *b, int port, const int *kinds, int n) {
  int i, j = 0, total = atomic_load(&b->nevents);

  assert_true(total <= BOARD_EVENTS);
  for (i = 0; i < total; i++) {
    const tevent *e = &b->events[i];
    if (!atomic_load(&e->ready) || e->port != port)
      continue;
    if (j >= n || e->kind != kinds[j])
      print_message("port %d: event %d is kind %d, wanted %d\n", port, j,
                    e->kind, j < n ? kinds[j] : -1);
    assert_true(j < n);
    assert_int_equal(e->kind, kinds[j]);
    j++;
  }
  assert_int_equal(j, n);
}

/* Waits for port's on_client_closed and checks what the connection looked
 * like during it: the reason, its data, its address (127.0.0.1 and the
 * port), sends refused. Returns the event. */
static const tevent *expect_closed(board *b, int port, netfw_close_reason why,
                                   long long data) {
  int i = board_wait_event(b, EV_CLOSED, port, WAIT_MS);
  const tevent *e;

  assert_true(i >= 0);
  e = &b->events[i];
  assert_string_equal(netfw_close_reason_name((netfw_close_reason)e->reason),
                      netfw_close_reason_name(why));
  assert_int_equal(e->reason, why);
  assert_int_equal(e->addr_rc, 0);
  assert_string_equal(e->ip, "127.0.0.1");
  assert_int_equal(e->port, port);
  assert_int_equal(e->data, data);
  assert_int_equal(e->send_rc, NETFW_ESTATE);
  assert_int_equal(e->begin_rc, NETFW_ESTATE);
  return e;
}

/* Makes sure the worker has handled everything before: a connection the
 * app shuts down, up to its on_client_closed. Returns its port. */
static int closed_sync(fx *f) {
  int fd = fx_connect(f), port = local_port(fd);

  expect_echo(fd, 0x1, "sync", 4);
  assert_int_equal(wire_send(fd, T_SHUTDOWN, NULL, 0), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_SHUTDOWN, 0);
  return port;
}

static const int CONNECT_CLOSED[] = {EV_CONNECT, EV_CLOSED};
static const int CONNECT_DISCONNECT_CLOSED[] = {EV_CONNECT, EV_DISCONNECT,
                                                EV_CLOSED};

/* After a sync: port got exactly these callbacks; the worker called
 * on_client_closed `closes` times in all, once per reason as counted. */
static void expect_totals(fx *f, int closes, int peer, int shutdown) {
  assert_int_equal(atomic_load(&f->b->closes), closes);
  assert_int_equal(board_count_events(f->b, EV_CLOSED, -1), closes);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_PEER]), peer);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_SHUTDOWN]),
                   shutdown);
}

static void test_server_config_defaults_limits(void **state) {
  netfw_config cfg;

  netfw_config_init(&cfg, &testapp);
  assert_int_equal(cfg.worker_memory, (size_t)1024 * 1024 * 1024);
  assert_int_equal(cfg.frame_timeout_ms, 30000);
}

static void test_server_close_reason_name_every_value(void **state) {
  static const char *const want[] = {
      "peer", "reset",         "shutdown", "protocol", "output_limit",
      "idle", "frame_timeout", "memory",   "nomem",    "stopping"};
  int i;

  assert_int_equal(NETFW_CLOSE_REASON_COUNT, 10);
  assert_int_equal(NETFW_CLOSE_PEER, 0);
  assert_int_equal(NETFW_CLOSE_STOPPING, 9);
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
  close(fd);
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
  shutdown(fd, SHUT_WR); /* EOF now, with 4 MiB still to come */
  {
    size_t got = 0;
    assert_int_equal(wire_wait_eof(fd, WAIT_MS, &got), 0);
    assert_int_equal(got, NETFW_FRAME_HDR_SIZE + n);
  }
  close(fd);
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
  close(fd);
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
  close(fd);
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
  close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_SHUTDOWN, 0);
  closed_sync(f);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_totals(f, 2, 0, 2);
}

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
  close(a);
  expect_closed(f->b, pa, NETFW_CLOSE_PROTOCOL, 0);

  b = fx_connect(f); /* a good frame and the bad header in one write */
  pb = local_port(b);
  netfw__frame_hdr_pack(buf, 0x22, 10);
  memcpy(buf + 6, "0123456789", 10);
  netfw__frame_hdr_pack(buf + 16, 0x23, 1025);
  assert_int_equal(send(b, buf, sizeof(buf), MSG_NOSIGNAL), sizeof(buf));
  expect_frame(b, 0x22, "0123456789", 10);
  assert_int_equal(wire_wait_eof(b, WAIT_MS, NULL), 0);
  close(b);
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
  int fd, port, small = 4096, requests = 0;
  struct sockaddr_in sa;

  f->cfg.max_output = 512 * 1024;
  fx_start(f);
  /* a small receive window, set before connecting */
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
                   0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(f->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
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
  close(fd);
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
  close(fd);
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
  close(a);
  assert_int_equal(wire_wait_eof(b, WAIT_MS, NULL), 0);
  pthread_join(t, NULL);
  close(b);
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
  close(fd);
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
  close(big);
  expect_closed(f->b, pbig, NETFW_CLOSE_MEMORY, 0);
  expect_echo(small, 1, "still served", 12);
  closed_sync(f);
  expect_events(f->b, pbig, CONNECT_CLOSED, 2);
  expect_events(f->b, psmall, (const int[]){EV_CONNECT}, 1);
  expect_totals(f, 2, 0, 1);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_MEMORY]), 1);
  assert_int_equal(atomic_load(&f->b->disconnects), 0);
  close(small);
  expect_closed(f->b, psmall, NETFW_CLOSE_PEER, 0);
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
  close(a);
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
  close(fd);
  assert_true(board_wait_event(f->b, EV_CONNECT, port, WAIT_MS) >= 0);
  atomic_store(&f->b->connect_send, 0);
  closed_sync(f); /* the first on_client_connect has returned */
  assert_int_equal(atomic_load(&f->b->connect_send_rc), NETFW_E2BIG);
  expect_events(f->b, port, CONNECT_CLOSED, 2);
  expect_closed(f->b, port, NETFW_CLOSE_OUTPUT_LIMIT, 0);
  expect_totals(f, 2, 0, 1);
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
      close(fd[i]);
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
      close(fd[i]);
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
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t n;
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    n = recv(fd, got + have, sizeof(want) - have, 0);
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
  close(fd);
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
      T(test_server_closed_oversized_frame),
      T(test_server_closed_output_limit),
      T(test_server_closed_idle),
      T(test_server_closed_frame_timeout),
      T(test_server_closed_memory),
      T(test_server_closed_stopping),
      T(test_server_closed_not_for_refused),
      T(test_server_closed_output_limit_inside_connect),
      T(test_server_closed_once_each),
      T(test_server_send_begin_more_one_frame),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
