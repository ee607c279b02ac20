/* The async client over TLS (registered twice: test_aclient_tls runs the
 * calls in plaintext, test_aclient_tls_tls over TLS with the kit's
 * certificates, tests/support/tls_kit.h): calls against a netfw server,
 * an untrusted server (NETFW_ETLS), a handshake that never ends
 * (NETFW_ETIMEDOUT within connect_timeout_ms) and a TLS file that cannot
 * be read (netfw_aclient_new refuses). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "fake_server.h"
#include "netfw/netfw.h"
#include "tls_kit.h"

#define NCALLS 100
#define GUARD_MS 5000

static const uint16_t get_returns[] = {1};
static const netfw_desc_message msgs[] = {
    {.id = ID_GET,
     .dir = NETFW_DESC_TO_SERVER,
     .body = {.name = "Get"},
     .returns = get_returns,
     .nreturns = 1},
    {.id = ID_GETRESP,
     .dir = NETFW_DESC_TO_CLIENT,
     .is_reply = true,
     .body = {.name = "GetResp"}},
};
static const netfw_desc desc = {
    .abi = NETFW_DESC_ABI, .proto = "s", .messages = msgs, .nmessages = 2};

static void on_message(void *app, netfw_owned_msg *om) {
  netfw_msg r;

  (void)app;
  netfw_msg_init(&r, ID_GETRESP);
  (void)netfw_msg_append(&r, netfw_msg_payload(om->msg),
                         netfw_msg_size(om->msg));
  (void)netfw_conn_send(om->owner, &r);
  netfw_msg_release(&r);
}

typedef struct tctx {
  uv_loop_t loop;
  uv_timer_t guard;
  netfw_aclient *a;
  fake_server fake;
  bool with_fake;
  int ok, in_order, done, ups, downs, down_err, closed;
  uint64_t t_start, t_down;
  char error[256];
} tctx;

static void on_guard(uv_timer_t *t) {
  (void)t;
  fail_msg("test took more than %d ms", GUARD_MS);
}

static void on_reply(void *arg, int status, netfw_msg *reply) {
  tctx *t = arg;
  uint32_t seq;

  if (status == 0) {
    memcpy(&seq, netfw_msg_payload(reply), 4);
    t->ok++;
    if ((int)seq == t->done)
      t->in_order++;
  }
  if (++t->done == NCALLS)
    netfw_aclient_close(t->a);
}

static void on_state(void *user, netfw_link_state st, int err) {
  tctx *t = user;

  if (st == NETFW_LINK_UP) {
    t->ups++;
    for (uint32_t i = 0; i < NCALLS; i++) {
      netfw_msg m;
      netfw_msg_init(&m, ID_GET);
      assert_int_equal(netfw_msg_append(&m, &i, 4), 0);
      assert_int_equal(netfw_aclient_call(t->a, &m, 3000, on_reply, t), 0);
      netfw_msg_release(&m);
    }
  } else if (st == NETFW_LINK_DOWN) {
    t->downs++;
    t->down_err = err;
    t->t_down = uv_now(&t->loop);
    snprintf(t->error, sizeof(t->error), "%s", netfw_aclient_error(t->a));
    netfw_aclient_close(t->a);
  } else if (st == NETFW_LINK_CLOSED) {
    t->closed++;
    if (t->with_fake)
      fake_stop(&t->fake);
    uv_close((uv_handle_t *)&t->guard, NULL);
  }
}

/* The kit's ca.pem (TLS variant); plaintext: NULL. */
static const netfw_tls_config *client_tls(netfw_tls_config *tc,
                                          char path[PATH_MAX], const char *ca) {
  if (tls_kit_dir() == NULL)
    return NULL;
  netfw_tls_config_init(tc);
  if (ca != NULL) {
    snprintf(path, PATH_MAX, "%s/%s", tls_kit_dir(), ca);
    tc->ca_file = path;
  }
  return tc;
}

/* Runs a client of cfg against port to its CLOSED. */
static void run_client(tctx *t, netfw_aclient_config *cfg, uint16_t port) {
  cfg->protocol = &desc;
  cfg->on_state = on_state;
  cfg->user = t;
  t->a = netfw_aclient_new(&t->loop, cfg);
  assert_non_null(t->a);
  t->t_start = uv_now(&t->loop);
  assert_int_equal(netfw_aclient_connect(t->a, "127.0.0.1", port), 0);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(t->closed, 1);
  assert_int_equal(uv_loop_close(&t->loop), 0);
}

static void setup_ctx(tctx *t) {
  memset(t, 0, sizeof(*t));
  assert_int_equal(uv_loop_init(&t->loop), 0);
  uv_timer_init(&t->loop, &t->guard);
  uv_timer_start(&t->guard, on_guard, GUARD_MS, 0);
}

/* Starts a netfw server on a free port, over TLS in the TLS variant. */
static netfw_server *start_server(uint16_t *port) {
  static const netfw_app app = {.on_message = on_message};
  netfw_config cfg;
  netfw_server *s;

  netfw_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  tls_kit_server_config(&cfg);
  s = netfw_server_new(&cfg);
  assert_non_null(s);
  assert_int_equal(netfw_server_start(s), 0);
  *port = netfw_server_port(s);
  return s;
}

static void test_aclient_tls_calls(void **state) {
  tctx t;
  netfw_aclient_config cfg;
  netfw_tls_config tc;
  char ca[PATH_MAX];
  uint16_t port;
  (void)state;
  netfw_server *s = start_server(&port);
  setup_ctx(&t);
  netfw_aclient_config_init(&cfg);
  cfg.tls = client_tls(&tc, ca, "ca.pem");
  run_client(&t, &cfg, port);
  assert_int_equal(t.ups, 1);
  assert_int_equal(t.ok, NCALLS);
  assert_int_equal(t.in_order, NCALLS);
  assert_int_equal(netfw_server_stop(s, 10000), 0);
  netfw_server_free(s);
}

/* Skips the calling test in plaintext. */
#define TLS_ONLY()                                                             \
  do {                                                                         \
    if (tls_kit_dir() == NULL) {                                               \
      print_message("skipped in plaintext: a TLS case\n");                     \
      skip();                                                                  \
    }                                                                          \
  } while (0)

/* The system's trust store does not know the kit's CA: DOWN, NETFW_ETLS. */
static void test_aclient_tls_untrusted(void **state) {
  tctx t;
  netfw_aclient_config cfg;
  netfw_tls_config tc;
  char ca[PATH_MAX];
  uint16_t port;
  (void)state;
  TLS_ONLY();
  netfw_server *s = start_server(&port);
  setup_ctx(&t);
  netfw_aclient_config_init(&cfg);
  cfg.tls = client_tls(&tc, ca, NULL);
  run_client(&t, &cfg, port);
  assert_int_equal(t.ups, 0);
  assert_int_equal(t.downs, 1);
  assert_int_equal(t.down_err, NETFW_ETLS);
  assert_non_null(strstr(t.error, "TLS"));
  assert_int_equal(netfw_server_stop(s, 10000), 0);
  netfw_server_free(s);
}

/* A server that accepts and never answers the ClientHello: the handshake
 * counts inside connect_timeout_ms. */
static void test_aclient_tls_handshake_timeout(void **state) {
  tctx t;
  netfw_aclient_config cfg;
  netfw_tls_config tc;
  char ca[PATH_MAX];
  uint64_t took;
  (void)state;
  TLS_ONLY();
  setup_ctx(&t);
  fake_start(&t.fake, &t.loop, 0);
  t.fake.silent = true;
  t.with_fake = true;
  netfw_aclient_config_init(&cfg);
  cfg.connect_timeout_ms = 200;
  cfg.tls = client_tls(&tc, ca, "ca.pem");
  run_client(&t, &cfg, t.fake.port);
  took = t.t_down - t.t_start;
  assert_int_equal(t.downs, 1);
  assert_int_equal(t.down_err, NETFW_ETIMEDOUT);
  assert_true(took >= 200 && took <= 200 + 150);
  assert_int_equal(t.fake.accepted, 1);
}

static void test_aclient_tls_bad_file(void **state) {
  uv_loop_t loop;
  netfw_aclient_config cfg;
  netfw_tls_config tc;
  (void)state;
  assert_int_equal(uv_loop_init(&loop), 0);
  netfw_aclient_config_init(&cfg);
  netfw_tls_config_init(&tc);
  tc.ca_file = "/nonexistent/ca.pem";
  cfg.tls = &tc;
  assert_null(netfw_aclient_new(&loop, &cfg));
  assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aclient_tls_calls),
      cmocka_unit_test(test_aclient_tls_untrusted),
      cmocka_unit_test(test_aclient_tls_handshake_timeout),
      cmocka_unit_test(test_aclient_tls_bad_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
