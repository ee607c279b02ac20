/* Client runtime against a real netfw server started in the test on port 0:
 * echo, reject, send-3-then-close and counting apps. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfw/netfw.h"
#include "client_kit.h"
#include "peer.h"


/* ---- apps (run in the forked worker) ---------------------------------- */

typedef struct count_ctx {
  int report_fd; /* write end of a pipe: one u64 count per connection */
} count_ctx;

typedef struct count_state {
  uint64_t frames;
  uint64_t in_order;
} count_state;

static void *app_create(void *context) {
  return context;
}

static void echo_on_message(void *app, netfw_owned_msg *om) {
  (void)netfw_conn_send(om->owner, om->msg);
}

static bool reject_on_connect(void *app, netfw_conn *client) {
  return false;
}

static bool send3_on_connect(void *app, netfw_conn *client) {
  static const char *const texts[] = {"one", "two", "three"};
  for (uint16_t i = 0; i < 3; i++) {
    netfw_msg m;
    netfw_msg_init(&m, (uint16_t)(i + 1));
    (void)netfw_msg_append(&m, texts[i], strlen(texts[i]));
    (void)netfw_conn_send(client, &m);
    netfw_msg_release(&m);
  }
  return false; /* what was sent is flushed, then the connection closes */
}

static bool count_on_connect(void *app, netfw_conn *client) {
  count_state *st = calloc(1, sizeof(*st));
  netfw_conn_set_data(client, st);
  return st != NULL;
}

static void count_on_message(void *app, netfw_owned_msg *om) {
  count_state *st = netfw_conn_data(om->owner);
  uint32_t seq;
  if (netfw_msg_size(om->msg) == 4 && netfw_msg_pop(om->msg, &seq, 4) == 0 &&
      seq == st->frames)
    st->in_order++;
  st->frames++;
}

static void count_on_disconnect(void *app, netfw_conn *client) {
  count_ctx *ctx = app;
  count_state *st = netfw_conn_data(client);
  uint64_t report[2] = {st->frames, st->in_order};
  (void)!write(ctx->report_fd, report, sizeof(report));
  free(st);
}

static const netfw_app echo_app = {.create = app_create,
                                   .on_message = echo_on_message};
static const netfw_app reject_app = {.create = app_create,
                                     .on_client_connect = reject_on_connect,
                                     .on_message = echo_on_message};
static const netfw_app send3_app = {.create = app_create,
                                    .on_client_connect = send3_on_connect,
                                    .on_message = echo_on_message};
static const netfw_app count_app = {.create = app_create,
                                    .on_client_connect = count_on_connect,
                                    .on_client_disconnect = count_on_disconnect,
                                    .on_message = count_on_message};

/* ---- fixture ----------------------------------------------------------- */

/* Every server is started in the group setup, before this process uses
 * libuv for anything: a worker forked after the process initialised libuv
 * (any uv_loop_init, e.g. by a client) currently aborts at startup (the
 * worker closes libuv's inherited signal-lock pipe; reported to the server
 * owner). Starting them all first keeps these tests about the client. */
enum { SRV_ECHO, SRV_REJECT, SRV_SEND3, SRV_COUNT, SRV_DOOMED, SRV_N };

typedef struct fixture {
  netfw_server *server[SRV_N];
  uint16_t port[SRV_N];
  count_ctx ctx;
  int report_rd;
} fixture;

static fixture fx;

static netfw_server *start_server(const netfw_app *app, uint16_t *port) {
  netfw_config cfg;

  netfw_config_init(&cfg, app);
  cfg.worker_num = 1;
  cfg.context = &fx.ctx;
  return server_start(&cfg, port);
}

static int group_setup(void **state) {
  static const netfw_app *const apps[SRV_N] = {
      &echo_app, &reject_app, &send3_app, &count_app, &echo_app};
  int fds[2];

  if (pipe(fds) != 0)
    return -1;
  fx.report_rd = fds[0];
  fx.ctx.report_fd = fds[1];
  for (int i = 0; i < SRV_N; i++) {
    fx.server[i] = start_server(apps[i], &fx.port[i]);
    if (fx.server[i] == NULL)
      return -1;
  }
  return 0;
}

static int group_teardown(void **state) {
  int rc = 0;
  for (int i = 0; i < SRV_N; i++) {
    if (i != SRV_DOOMED && fx.server[i] != NULL &&
        netfw_server_stop(fx.server[i], WAIT_MS) != 0)
      rc = -1;
    netfw_server_free(fx.server[i]);
  }
  close(fx.report_rd);
  close(fx.ctx.report_fd);
  return rc;
}

/* Reads the count the app reported for one connection. */
static void read_report(uint64_t *frames, uint64_t *in_order) {
  struct pollfd pfd = {.fd = fx.report_rd, .events = POLLIN};
  uint64_t report[2];
  assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
  assert_int_equal(read(fx.report_rd, report, sizeof(report)), sizeof(report));
  *frames = report[0];
  *in_order = report[1];
}





/* ---- tests ------------------------------------------------------------- */

static void test_client_server_echo_round_trip(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);
  netfw_msg *m = netfw_msg_new(0xff);

  assert_int_equal(netfw_msg_append(m, "hello", 5), 0);
  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
  expect_text(c, 0xff, "hello");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
}

static void test_client_server_timeouts_then_echo(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);
  netfw_msg *m = NULL;
  int64_t t0, elapsed;

  t0 = peer_now_ms();
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  assert_true(peer_now_ms() - t0 < 100);
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_recv(c, &m, 200), NETFW_ETIMEDOUT);
  elapsed = peer_now_ms() - t0;
  assert_true(elapsed >= 200);
  assert_true(elapsed < 1000);
  assert_null(m);
  send_seq(c, 42);
  expect_seq(c, 42);
  netfw_client_free(c);
}

static void test_client_server_reject(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_REJECT]);
  netfw_msg *m = NULL;
  netfw_msg one;

  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_null(m);
  netfw_msg_init(&one, 1);
  assert_int_equal(netfw_client_send(c, &one), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
}

static void test_client_server_three_then_close(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_SEND3]);
  netfw_msg *m = NULL;

  expect_text(c, 1, "one");
  expect_text(c, 2, "two");
  expect_text(c, 3, "three");
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
}

static void test_client_server_send_full_completion(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_COUNT]);
  uint64_t frames = 0, in_order = 0;

  for (uint32_t i = 0; i < 1024; i++)
    send_seq(c, i);
  assert_int_equal(netfw_client_shutdown(c, -1), 0);
  netfw_client_free(c);
  read_report(&frames, &in_order);
  assert_int_equal(frames, 1024);
  assert_int_equal(in_order, 1024);
}

static void test_client_server_empty_and_16mib(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);
  const uint32_t big = 16u * 1024 * 1024;
  netfw_msg *m = netfw_msg_new(0);
  uint8_t *data;

  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
  expect_text(c, 0, "");

  m = netfw_msg_new(9);
  data = netfw_msg_append_space(m, big);
  assert_non_null(data);
  for (uint32_t i = 0; i < big; i++)
    data[i] = (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
  assert_int_equal(netfw_client_send(c, m), 0);
  netfw_msg_free(m);
  m = NULL;
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS * 3), 0);
  assert_int_equal(netfw_msg_id(m), 9);
  assert_int_equal(netfw_msg_size(m), big);
  data = (uint8_t *)netfw_msg_payload(m);
  for (uint32_t i = 0; i < big; i++)
    if (data[i] != (uint8_t)(i ^ (i >> 8) ^ (i >> 16)))
      fail_msg("byte %u differs", i);
  netfw_msg_free(m);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
}

static void test_client_server_pipelined_100k(void **state) {
  enum { N = 100000 };
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);

  for (uint32_t i = 0; i < N; i++)
    send_seq(c, i);
  for (uint32_t i = 0; i < N; i++)
    expect_seq(c, i);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
}



static void test_client_server_send_and_recv_threads(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);
  sender_arg a = {.c = c, .n = 20000};
  pthread_t t;

  assert_int_equal(pthread_create(&t, NULL, sender_main, &a), 0);
  for (uint32_t i = 0; i < a.n; i++)
    expect_seq(c, i);
  pthread_join(t, NULL);
  assert_int_equal(a.failures, 0);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
}

static void test_client_server_stopped_server_refuses(void **state) {
  uint16_t port = fx.port[SRV_DOOMED];
  netfw_client *c = client_new();
  int64_t t0;

  assert_int_equal(netfw_server_stop(fx.server[SRV_DOOMED], WAIT_MS), 0);
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port),
                   NETFW_ECONNREFUSED);
  assert_true(peer_now_ms() - t0 < 2000);
  netfw_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_server_echo_round_trip),
      cmocka_unit_test(test_client_server_timeouts_then_echo),
      cmocka_unit_test(test_client_server_reject),
      cmocka_unit_test(test_client_server_three_then_close),
      cmocka_unit_test(test_client_server_send_full_completion),
      cmocka_unit_test(test_client_server_empty_and_16mib),
      cmocka_unit_test(test_client_server_pipelined_100k),
      cmocka_unit_test(test_client_server_send_and_recv_threads),
      cmocka_unit_test(test_client_server_stopped_server_refuses),
  };
  return cmocka_run_group_tests_name("client_server", tests, group_setup,
                                     group_teardown);
}
