/* How a client learns why its connection ended, and reconnecting (issue
 * 22, items 5 and 10), against real netfw servers and a scripted peer:
 * - a server that closes for the peer's fault (an oversized frame, a
 *   protocol error) closes in order: recv says NETFW_ECONNRESET as it
 *   always did, netfw_client_loss says NETFW_ECLOSED, netfw_client_error
 *   "closed by the server", and the server logs the reason at WARN;
 * - a reset is NETFW_ECONNRESET, the client's own limit NETFW_E2BIG;
 * - a client that was shut down (or lost) connects again and works. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_kit.h"
#include "netfw/netfw.h"
#include "peer.h"

enum { T_PROTOCOL_ERROR = 0x99 }; /* the app closes as for a bad message */

/* ---- the app (runs in the forked worker) ------------------------------- */

static void on_message(void *app, netfw_owned_msg *om) {
  (void)app;
  if (netfw_msg_id(om->msg) == T_PROTOCOL_ERROR) {
    netfw_log(NETFW_LOG_WARN, "test app: message id %u refused; closing",
              (unsigned)T_PROTOCOL_ERROR);
    netfw_conn_shutdown_for(om->owner, NETFW_CLOSE_PROTOCOL);
    return;
  }
  (void)netfw_conn_send(om->owner, om->msg);
}

static const netfw_app echo_app = {.on_message = on_message};

/* ---- fixture ----------------------------------------------------------- */

/* The servers start in the group setup, before this process initialises
 * libuv (see test_client_server.c). SRV_SMALL has max_payload 1024. */
enum { SRV_ECHO, SRV_ECHO2, SRV_SMALL, SRV_N };

static struct {
  netfw_server *server[SRV_N];
  uint16_t port[SRV_N];
  int log_rd, log_wr; /* every process's log lines, one per write */
} fx;

/* The log sink, inherited by the workers: one write(2) per line into a
 * pipe the test reads (atomic below PIPE_BUF). */
static void pipe_sink(netfw_log_level level, const char *line, void *arg) {
  char buf[1024];
  int n = snprintf(buf, sizeof(buf), "%s %s\n", netfw_log_level_name(level),
                   line);

  (void)arg;
  if (n > 0)
    (void)!write(fx.log_wr, buf, (size_t)n < sizeof(buf) ? (size_t)n
                                                         : sizeof(buf) - 1);
}

/* Waits until a line containing both s1 and s2 was logged (by any
 * process). Returns true if one came within WAIT_MS. */
static bool log_wait_for(const char *s1, const char *s2) {
  static char seen[1 << 16];
  static size_t len;
  int64_t end = peer_now_ms() + WAIT_MS;

  for (;;) {
    char *line = seen;
    char *nl;
    while ((nl = memchr(line, '\n', len - (size_t)(line - seen))) != NULL) {
      *nl = '\0';
      bool hit = strstr(line, s1) != NULL && strstr(line, s2) != NULL;
      *nl = '\n';
      if (hit)
        return true;
      line = nl + 1;
    }
    struct pollfd pfd = {.fd = fx.log_rd, .events = POLLIN};
    int64_t left = end - peer_now_ms();
    if (left <= 0 || poll(&pfd, 1, (int)left) != 1)
      return false;
    if (len == sizeof(seen))
      len = 0; /* long run: forget the old lines */
    ssize_t n = read(fx.log_rd, seen + len, sizeof(seen) - len);
    if (n <= 0)
      return false;
    len += (size_t)n;
  }
}

static netfw_server *start_server(uint32_t max_payload, uint16_t *port) {
  netfw_config cfg;

  netfw_config_init(&cfg, &echo_app);
  cfg.max_payload = max_payload;
  return server_start(&cfg, port);
}

static int group_setup(void **state) {
  int fds[2];

  (void)state;
  if (pipe(fds) != 0 || fcntl(fds[1], F_SETFL, O_NONBLOCK) != 0)
    return -1;
  fx.log_rd = fds[0];
  fx.log_wr = fds[1];
  netfw_log_set_format(NETFW_LOG_TEXT);
  netfw_log_set_sink(pipe_sink, NULL);
  for (int i = 0; i < SRV_N; i++) {
    fx.server[i] = start_server(i == SRV_SMALL ? 1024 : 1u << 20, &fx.port[i]);
    if (fx.server[i] == NULL)
      return -1;
  }
  return 0;
}

static int group_teardown(void **state) {
  int rc = 0;

  (void)state;
  for (int i = 0; i < SRV_N; i++) {
    if (fx.server[i] != NULL && netfw_server_stop(fx.server[i], WAIT_MS) != 0)
      rc = -1;
    netfw_server_free(fx.server[i]);
  }
  netfw_log_set_sink(NULL, NULL);
  close(fx.log_rd);
  close(fx.log_wr);
  return rc;
}

/* Sends a payload of n bytes (id 0x10) and returns what send said. */
static int send_sized(netfw_client *c, size_t n) {
  netfw_msg *m = netfw_msg_new(0x10);
  void *zero = calloc(1, n > 0 ? n : 1);
  int rc;

  assert_non_null(m);
  assert_non_null(zero);
  assert_int_equal(netfw_msg_append(m, zero, n), 0);
  rc = netfw_client_send(c, m);
  netfw_msg_free(m);
  free(zero);
  return rc;
}

/* After the server closed c in order: every call says how. */
static void expect_closed_by_server(netfw_client *c) {
  netfw_msg *m = NULL;

  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_null(m);
  assert_int_equal(netfw_client_loss(c), NETFW_ECLOSED);
  assert_string_equal(netfw_client_error(c), "closed by the server");
  assert_string_equal(netfw_strerror(netfw_client_loss(c)),
                      "connection closed by the peer");
  assert_int_equal(send_sized(c, 1), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_loss(c), NETFW_ECLOSED); /* still known */
}

/* ---- item 5: why the connection ended ---------------------------------- */

static void test_client_loss_none_while_connected(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);

  (void)state;
  assert_int_equal(netfw_client_loss(NULL), NETFW_EINVAL);
  send_text(c, 1, "hi");
  expect_text(c, 1, "hi");
  assert_int_equal(netfw_client_loss(c), 0);
  assert_string_equal(netfw_client_error(c), "");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  assert_int_equal(netfw_client_loss(c), 0); /* shut down, not lost */
  netfw_client_free(c);
}

static void test_client_loss_oversized_frame_closed_by_server(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_SMALL]);

  (void)state;
  send_text(c, 1, "before");
  expect_text(c, 1, "before");
  assert_int_equal(send_sized(c, 4096), 0); /* the server's limit is 1024 */
  expect_closed_by_server(c);
  netfw_client_free(c);
  assert_true(log_wait_for("WARN: 127.0.0.1:",
                           "frame id 16 announces 4096 bytes, over "
                           "max_payload (1024); closing the connection"));
}

static void test_client_loss_protocol_error_closed_by_server(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);

  (void)state;
  send_text(c, T_PROTOCOL_ERROR, "wrong way");
  expect_closed_by_server(c);
  netfw_client_free(c);
  assert_true(log_wait_for("WARN: ", "message id 153 refused; closing"));
}

static void test_client_loss_reset(void **state) {
  test_peer p = {0};
  uint16_t port = peer_start(&p, PEER_RESET);
  netfw_client *c = connect_to(port);
  netfw_msg *m = NULL;

  (void)state;
  send_text(c, 1, "reset me");
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_loss(c), NETFW_ECONNRESET);
  assert_string_equal(netfw_client_error(c),
                      "reset (connection reset by peer)");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  peer_join(&p);
}

/* A reset right at accept lands while connect is still at work, or just
 * after: connect says NETFW_ECONNRESET ("reset while connecting"), or it
 * succeeded and the first recv does. Never NETFW_ESYS. */
static void test_client_loss_reset_at_accept(void **state) {
  for (int i = 0; i < 20; i++) {
    test_peer p = {0};
    uint16_t port = peer_start(&p, PEER_RESET_NOW);
    netfw_client *c = client_new();
    netfw_msg *m = NULL;
    int rc = netfw_client_connect(c, LOCALHOST, port);

    (void)state;
    if (rc == 0) {
      assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
      assert_int_equal(netfw_client_loss(c), NETFW_ECONNRESET);
    } else {
      assert_int_equal(rc, NETFW_ECONNRESET);
      assert_non_null(strstr(netfw_client_error(c), "reset"));
    }
    netfw_client_free(c);
    peer_join(&p);
  }
}

static void test_client_loss_own_max_payload(void **state) {
  netfw_client *c = client_new();
  netfw_msg *m = NULL;

  (void)state;
  assert_int_equal(netfw_client_set_max_payload(c, 100), 0);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, fx.port[SRV_ECHO]), 0);
  assert_int_equal(send_sized(c, 101), 0); /* echoed: over our limit */
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_loss(c), NETFW_E2BIG);
  assert_string_equal(netfw_client_error(c),
                      "dropped by this client: the server sent a frame "
                      "over max_payload (100 bytes)");
  netfw_client_free(c);
}

/* ---- item 10: connecting again ------------------------------------------ */

static void test_client_loss_reconnect_after_shutdown(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);
  netfw_msg *m = NULL;

  (void)state;
  send_text(c, 1, "first");
  expect_text(c, 1, "first");
  assert_int_equal(netfw_client_connect(c, LOCALHOST, fx.port[SRV_ECHO]),
                   NETFW_ESTATE); /* connected: shut down first */
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  assert_int_equal(send_sized(c, 1), NETFW_ESTATE);
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ESTATE);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ESTATE);

  assert_int_equal(netfw_client_connect(c, LOCALHOST, fx.port[SRV_ECHO]), 0);
  for (uint32_t i = 0; i < 100; i++)
    send_seq(c, i);
  for (uint32_t i = 0; i < 100; i++)
    expect_seq(c, i);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);

  /* another server, and free while connected */
  assert_int_equal(netfw_client_connect(c, LOCALHOST, fx.port[SRV_ECHO2]), 0);
  send_text(c, 2, "second server");
  expect_text(c, 2, "second server");
  netfw_client_free(c);
}

/* A lost connection: shut down (which reports the loss), then connect
 * again; the loss and its words are gone, the settings kept. */
static void test_client_loss_reconnect_after_loss(void **state) {
  netfw_client *c = connect_to(fx.port[SRV_ECHO]);
  netfw_msg *m = NULL;

  (void)state;
  send_text(c, T_PROTOCOL_ERROR, "bye");
  expect_closed_by_server(c);
  assert_int_equal(netfw_client_set_max_payload(c, 100), 0); /* not connected */
  assert_int_equal(netfw_client_connect(c, LOCALHOST, fx.port[SRV_ECHO]), 0);
  assert_int_equal(netfw_client_loss(c), 0);
  assert_string_equal(netfw_client_error(c), "");
  assert_int_equal(netfw_client_set_max_payload(c, 100), NETFW_ESTATE);
  send_text(c, 3, "again");
  expect_text(c, 3, "again");
  assert_int_equal(send_sized(c, 101), 0); /* the new limit holds */
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_loss(c), NETFW_E2BIG);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, peer_closed_port()),
                   NETFW_ECONNREFUSED); /* a failed reconnect: retry */
  assert_int_equal(netfw_client_set_max_payload(c, 1u << 20), 0);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, fx.port[SRV_ECHO]), 0);
  send_text(c, 4, "last");
  expect_text(c, 4, "last");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_loss_none_while_connected),
      cmocka_unit_test(test_client_loss_oversized_frame_closed_by_server),
      cmocka_unit_test(test_client_loss_protocol_error_closed_by_server),
      cmocka_unit_test(test_client_loss_reset),
      cmocka_unit_test(test_client_loss_reset_at_accept),
      cmocka_unit_test(test_client_loss_own_max_payload),
      cmocka_unit_test(test_client_loss_reconnect_after_shutdown),
      cmocka_unit_test(test_client_loss_reconnect_after_loss),
  };
  return cmocka_run_group_tests_name("client_loss", tests, group_setup,
                                     group_teardown);
}
