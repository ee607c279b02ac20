/* netfw_server_stats from outside: every reason a socket can be refused or
 * a connection closed lands in its own counter, exactly once; frames, bytes
 * and handler calls per message; the output gauges; worker deaths,
 * restarts and forks; the counts after a stop; the calls' states. The test
 * app registers no names, so every id counts as "other" except 0x1 and
 * T_FLOOD, which the names below register. Also run over TLS (_tls). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include "fixture.h"

/* The names the tests register: 0x1 "Ping" and T_FLOOD "Flood". */
static const char *test_names(uint16_t id) {
  return id == 0x1 ? "Ping" : id == T_FLOOD ? "Flood" : NULL;
}

/* A stats snapshot of f's server (fails the test on an error). */
static netfw_stats snap(fx *f) {
  netfw_stats st;

  assert_int_equal(netfw_server_stats(f->s, &st), 0);
  return st;
}

/* Waits up to 5 s until *field of the total reaches want (the workers count
 * in their own time); fails the test otherwise. */
#define WAIT_TOTAL(f, field, want)                                             \
  do {                                                                         \
    uint64_t got_ = 0;                                                         \
    for (int i_ = 0; i_ < 250; i_++) {                                         \
      netfw_stats st_ = snap(f);                                               \
      got_ = st_.total.field;                                                  \
      netfw_stats_free(&st_);                                                  \
      if (got_ == (uint64_t)(want))                                            \
        break;                                                                 \
      sleep_ms(20);                                                            \
    }                                                                          \
    assert_int_equal(got_, (uint64_t)(want));                                  \
  } while (0)

/* A plain TCP socket to the server, no TLS (raw bytes on the wire). */
static int raw_connect(uint16_t port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_true(fd >= 0);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

static void test_stats_states(void **state) {
  fx *f = *state;
  netfw_stats st;

  assert_int_equal(netfw_server_stats(NULL, &st), NETFW_EINVAL);
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_stats(f->s, NULL), NETFW_EINVAL);
  assert_int_equal(netfw_server_stats(f->s, &st), NETFW_ESTATE);
  assert_null(st.workers);
  assert_int_equal(netfw_server_metrics_port(f->s), 0);
  assert_string_equal(netfw_refuse_reason_name(NETFW_REFUSE_MAX_CONNECTIONS),
                      "max_connections");
  assert_string_equal(netfw_refuse_reason_name(NETFW_REFUSE_REASON_COUNT),
                      "unknown");
  netfw_stats_free(NULL);
}

/* Frames and bytes per registered id and in "other", the handler
 * histogram, the per-worker breakdown and the totals after a stop. */
static void test_stats_messages(void **state) {
  fx *f = *state;
  netfw_stats st;
  int fd, i;

  f->cfg.msg_name = test_names;
  fx_start(f);
  fd = fx_connect(f);
  for (i = 0; i < 7; i++)
    expect_echo(fd, 0x1, "ping", 4);
  for (i = 0; i < 3; i++)
    expect_echo(fd, 0x2, "xy", 2);
  wire_close(fd);
  WAIT_TOTAL(f, closed[NETFW_CLOSE_PEER], 1);
  st = snap(f);
  assert_int_equal(st.nworkers, 1);
  assert_int_equal(st.total.nmessages, 3); /* other, Ping, Flood */
  assert_null(st.total.messages[0].name);
  assert_string_equal(st.total.messages[1].name, "Ping");
  assert_int_equal(st.total.messages[1].id, 0x1);
  assert_string_equal(st.total.messages[2].name, "Flood");
  assert_int_equal(st.total.messages[1].received, 7);
  assert_int_equal(st.total.messages[1].received_bytes, 7 * (6 + 4));
  assert_int_equal(st.total.messages[1].sent, 7);
  assert_int_equal(st.total.messages[1].sent_bytes, 7 * (6 + 4));
  assert_int_equal(st.total.messages[0].received, 3);
  assert_int_equal(st.total.messages[0].sent_bytes, 3 * (6 + 2));
  assert_int_equal(st.total.messages[2].received, 0);
  assert_int_equal(st.total.all.received, 10);
  uint64_t in_buckets = 0;
  for (i = 0; i <= NETFW_STATS_BUCKETS; i++)
    in_buckets += st.total.messages[1].handler_buckets[i];
  assert_int_equal(in_buckets, 7);
  assert_true(st.total.messages[1].handler_ns > 0);
  assert_int_equal(st.workers[0].all.received, 10);
  assert_int_equal(st.total.accepted, 1);
  assert_int_equal(st.total.open, 0);
  assert_int_equal(st.total.started, 1);
  assert_true(st.total.up);
  assert_int_equal(st.workers[0].slot, 0);
  assert_true(st.workers[0].pid > 0);
  assert_int_equal(st.workers[0].generation, 1);
  netfw_stats_free(&st);
  assert_null(st.workers);

  assert_int_equal(netfw_server_stop(f->s, 3000), 0);
  st = snap(f); /* after the stop: the final counts, nobody up */
  assert_int_equal(st.total.all.received, 10);
  assert_int_equal(st.total.messages[1].sent, 7);
  assert_int_equal(st.total.accepted, 1);
  assert_false(st.total.up);
  assert_int_equal(st.workers[0].pid, 0);
  netfw_stats_free(&st);
}

/* A full worker refuses at accept; the app's connection is counted open
 * until it closes. */
static void test_stats_max_connections(void **state) {
  fx *f = *state;
  int a, b;

  f->cfg.max_connections = 1;
  fx_start(f);
  a = fx_connect(f);
  expect_echo(a, 0x2, "a", 1);
  b = raw_connect(f->port);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_MAX_CONNECTIONS], 1);
  WAIT_TOTAL(f, accepted, 2);
  WAIT_TOTAL(f, open, 1);
  close(b);
  wire_close(a);
  WAIT_TOTAL(f, closed[NETFW_CLOSE_PEER], 1);
  WAIT_TOTAL(f, open, 0);
}

/* Connections closed by the output limit so far. */
static uint64_t limit_closes(fx *f) {
  netfw_stats st = snap(f);
  uint64_t n = st.total.closed[NETFW_CLOSE_OUTPUT_LIMIT];

  netfw_stats_free(&st);
  return n;
}

/* Each server-side reason once: shutdown, protocol (oversized frame),
 * idle, output limit, reset; and the output high-water mark. */
static void test_stats_close_reasons(void **state) {
  fx *f = *state;
  netfw_stats st;
  uint32_t n = 64 * 1024; /* T_FLOOD: 4 frames of 64 KiB */
  int fd;

  f->cfg.idle_timeout_ms = 300;
  f->cfg.max_payload = 1024;
  f->cfg.max_output = 512 * 1024;
  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_SHUTDOWN, NULL, 0), 0);
  assert_int_equal(wire_wait_eof(fd, 5000, NULL), 0);
  wire_close(fd);
  WAIT_TOTAL(f, closed[NETFW_CLOSE_SHUTDOWN], 1);
  fd = fx_connect(f);
  assert_int_equal(wire_send_hdr(fd, 0x2, 4096), 0); /* over max_payload */
  /* an orderly close: the server's FIN, then its drain ends at our EOF */
  assert_int_equal(wire_wait_eof(fd, 5000, NULL), 0);
  wire_close(fd);
  WAIT_TOTAL(f, closed[NETFW_CLOSE_PROTOCOL], 1);
  fd = fx_connect(f); /* says nothing: shut down after 300 ms */
  assert_int_equal(wire_wait_eof(fd, 5000, NULL), 0);
  wire_close(fd);
  WAIT_TOTAL(f, closed[NETFW_CLOSE_IDLE], 1);
  fd = wire_connect_rcvbuf(f->port, 4096); /* floods, never reads */
  for (int i = 0; i < 2000 && limit_closes(f) == 0; i++) {
    if (wire_send(fd, T_FLOOD, &n, sizeof(n)) != 0)
      break;
    sleep_ms(1);
  }
  WAIT_TOTAL(f, closed[NETFW_CLOSE_OUTPUT_LIMIT], 1);
  wire_close_rst(fd);
  st = snap(f);
  assert_true(st.total.output_queued_max >= 64 * 1024);
  assert_true(st.total.output_queued_max <= 512 * 1024);
  assert_int_equal(st.total.output_queued, 0);
  assert_int_equal(st.total.accepted, 4);
  assert_int_equal(st.total.closed[NETFW_CLOSE_PEER], 0);
  netfw_stats_free(&st);
}

/* PROXY protocol on: a bad header is a refused handshake, a peer that
 * leaves before sending one is "lost"; neither reaches the app. */
static void test_stats_refused_handshake(void **state) {
  fx *f = *state;
  int fd;

  f->cfg.proxy_protocol = true;
  fx_start(f);
  fd = raw_connect(f->port);
  assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_HANDSHAKE], 1);
  close(fd);
  fd = raw_connect(f->port); /* a TCP health check */
  close(fd);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_LOST], 1);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_HANDSHAKE], 1);
  WAIT_TOTAL(f, accepted, 2);
  WAIT_TOTAL(f, open, 0);
}

/* Over TLS (the _tls run): garbage instead of a ClientHello is a failed
 * handshake; a client that leaves without a byte is lost, not failed. */
static void test_stats_tls_refusals(void **state) {
  fx *f = *state;
  int fd;

  if (tls_kit_dir() == NULL)
    skip();
  fx_start(f);
  fd = raw_connect(f->port);
  assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_HANDSHAKE], 1);
  close(fd);
  fd = raw_connect(f->port);
  close(fd);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_LOST], 1);
  fd = fx_connect(f);
  expect_echo(fd, 0x2, "tls", 3);
  wire_close(fd);
  WAIT_TOTAL(f, closed[NETFW_CLOSE_PEER], 1);
  WAIT_TOTAL(f, accepted, 3);
  WAIT_TOTAL(f, refused[NETFW_REFUSE_HANDSHAKE], 1);
}

/* A worker that dies: its counts stay with its slot, the death is counted
 * by signal, and its replacement as a fork and a restart. */
static void test_stats_worker_death(void **state) {
  fx *f = *state;
  netfw_stats st;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 0x2, "before", 6);
  assert_int_equal(wire_send(fd, T_ABORT, NULL, 0), 0);
  WAIT_TOTAL(f, restarts, 1);
  wire_close(fd);
  WAIT_TOTAL(f, died_signal[SIGABRT], 1);
  WAIT_TOTAL(f, started, 2);
  fd = fx_connect(f);
  expect_echo(fd, 0x2, "after", 5);
  wire_close(fd);
  st = snap(f);
  /* "before" and "after" echoed; T_ABORT was received, its handler never
   * returned, so it was not counted */
  assert_int_equal(st.total.messages[0].sent, 2);
  assert_int_equal(st.total.messages[0].received, 2);
  assert_int_equal(st.total.accepted, 2);
  assert_int_equal(st.workers[0].generation, 2);
  netfw_stats_free(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stats_states, fx_setup,
                                      fx_teardown),
      cmocka_unit_test_setup_teardown(test_stats_messages, fx_setup,
                                      fx_teardown),
      cmocka_unit_test_setup_teardown(test_stats_max_connections, fx_setup,
                                      fx_teardown),
      cmocka_unit_test_setup_teardown(test_stats_close_reasons, fx_setup,
                                      fx_teardown),
      cmocka_unit_test_setup_teardown(test_stats_refused_handshake, fx_setup,
                                      fx_teardown),
      cmocka_unit_test_setup_teardown(test_stats_tls_refusals, fx_setup,
                                      fx_teardown),
      cmocka_unit_test_setup_teardown(test_stats_worker_death, fx_setup,
                                      fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
