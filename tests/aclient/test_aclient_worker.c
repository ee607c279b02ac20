/* The async client inside netfw server workers: server A (2 workers,
 * reuseport) creates one aclient per worker on netfw_worker_loop(),
 * connected to server B (a plain netfw server answering every Get with a
 * GetResp carrying the same payload). A test connection's Go makes A's
 * worker run 100 concurrent calls to B; when all have ended the worker
 * answers Done {pid, ok, in_order}. The test opens connections until both
 * workers have answered, each with 100 calls matched in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "fake_server.h" /* the test protocol's ids */
#include "netfw/netfw.h"

#define NCALLS 100
#define ROUND 8  /* connections per round                   */
#define ROUNDS 6 /* bound on rounds before both workers seen */
#define WAIT_MS 10000
enum { ID_GO = 60, ID_DONE = 61 };

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
    .abi = NETFW_DESC_ABI, .proto = "w", .messages = msgs, .nmessages = 2};

/* ---- server B: answers Get with GetResp, same payload ---------------- */

static void b_on_message(void *app, netfw_owned_msg *om) {
  netfw_msg r;

  (void)app;
  if (netfw_msg_id(om->msg) != ID_GET)
    return;
  netfw_msg_init(&r, ID_GETRESP);
  (void)netfw_msg_append(&r, netfw_msg_payload(om->msg),
                         netfw_msg_size(om->msg));
  (void)netfw_conn_send(om->owner, &r);
  netfw_msg_release(&r);
}

/* ---- server A: a worker's aclient to B -------------------------------- */

typedef struct job {
  netfw_conn *conn; /* NULL once the connection is gone */
  int done, ok, in_order;
  struct job *next; /* waiting for the aclient to come up */
} job;

typedef struct a_worker {
  netfw_aclient *ac;
  uint16_t b_port;
  job *waiting; /* Go that came before the aclient was up */
} a_worker;

static a_worker W; /* one per worker process */

static void job_start(job *j);

/* UP: the jobs that waited for it start. */
static void a_on_state(void *user, netfw_link_state st, int err) {
  job *j;

  (void)user;
  (void)err;
  while (st == NETFW_LINK_UP && (j = W.waiting) != NULL) {
    W.waiting = j->next;
    job_start(j);
  }
}

static void *a_create(void *context) {
  netfw_aclient_config cfg;

  W.b_port = (uint16_t)(uintptr_t)context;
  netfw_aclient_config_init(&cfg);
  cfg.protocol = &desc;
  cfg.reconnect.initial_ms = 10;
  cfg.reconnect.max_ms = 100;
  cfg.on_state = a_on_state;
  W.ac = netfw_aclient_new(netfw_worker_loop(), &cfg);
  if (W.ac != NULL)
    (void)netfw_aclient_connect(W.ac, "127.0.0.1", W.b_port);
  return &W;
}

/* Closes the aclient: the worker runs its loop after destroy until the
 * close has finished. */
static void a_destroy(void *app) {
  (void)app;
  netfw_aclient_close(W.ac);
}

static void job_end(job *j) {
  uint32_t done[3] = {(uint32_t)getpid(), (uint32_t)j->ok,
                      (uint32_t)j->in_order};
  netfw_msg m;

  if (j->conn != NULL) {
    netfw_conn_set_data(j->conn, NULL);
    netfw_msg_init(&m, ID_DONE);
    (void)netfw_msg_append(&m, done, sizeof(done));
    (void)netfw_conn_send(j->conn, &m);
    netfw_msg_release(&m);
  }
  free(j);
}

static void on_reply(void *arg, int status, netfw_msg *reply) {
  job *j = arg;
  uint32_t seq;

  if (status == 0 && netfw_msg_size(reply) == 4) {
    memcpy(&seq, netfw_msg_payload(reply), 4);
    j->ok++;
    if ((int)seq == j->done)
      j->in_order++;
  }
  if (++j->done == NCALLS)
    job_end(j);
}

static void a_on_message(void *app, netfw_owned_msg *om) {
  job *j;

  (void)app;
  if (netfw_msg_id(om->msg) != ID_GO || (j = calloc(1, sizeof(*j))) == NULL)
    return;
  j->conn = om->owner;
  netfw_conn_set_data(om->owner, j);
  if (netfw_aclient_state(W.ac) != NETFW_LINK_UP) {
    j->next = W.waiting;
    W.waiting = j;
    return;
  }
  job_start(j);
}

/* Makes the NCALLS concurrent calls of j. */
static void job_start(job *j) {
  netfw_msg req;

  for (uint32_t i = 0; i < NCALLS; i++) {
    netfw_msg_init(&req, ID_GET);
    (void)netfw_msg_append(&req, &i, 4);
    if (netfw_aclient_call(W.ac, &req, 5000, on_reply, j) != 0)
      on_reply(j, NETFW_ENOTCONN, NULL); /* counted, not ok */
    netfw_msg_release(&req);
  }
}

static void a_on_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  job *j = netfw_conn_data(c);

  (void)app;
  (void)why;
  if (j != NULL)
    j->conn = NULL;
}

/* ---- the test ---------------------------------------------------------- */

static netfw_server *start(const netfw_app *app, void *context, int workers,
                           uint16_t *port) {
  netfw_config cfg;
  netfw_server *s;

  netfw_config_init(&cfg, app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = workers;
  cfg.reuseport = workers > 1;
  cfg.context = context;
  s = netfw_server_new(&cfg);
  assert_non_null(s);
  assert_int_equal(netfw_server_start(s), 0);
  *port = netfw_server_port(s);
  return s;
}

/* Sends Go on ROUND connections at once and collects their Done. Returns
 * how many distinct worker pids answered so far (in pids[2]). */
static int one_round(uint16_t port, uint32_t pids[2], int npids) {
  netfw_client *c[ROUND];
  netfw_msg go, *done;
  uint32_t d[3];

  netfw_msg_init(&go, ID_GO);
  for (int i = 0; i < ROUND; i++) {
    c[i] = netfw_client_new();
    assert_non_null(c[i]);
    assert_int_equal(netfw_client_connect(c[i], "127.0.0.1", port), 0);
    assert_int_equal(netfw_client_send(c[i], &go), 0);
  }
  for (int i = 0; i < ROUND; i++) {
    assert_int_equal(netfw_client_recv(c[i], &done, WAIT_MS), 0);
    assert_int_equal(netfw_msg_id(done), ID_DONE);
    assert_int_equal(netfw_msg_size(done), sizeof(d));
    memcpy(d, netfw_msg_payload(done), sizeof(d));
    assert_int_equal(d[1], NCALLS); /* every call answered */
    assert_int_equal(d[2], NCALLS); /* each by its own reply, in order */
    if ((npids == 0 || d[0] != pids[0]) && npids < 2)
      pids[npids++] = d[0];
    netfw_msg_free(done);
    (void)netfw_client_shutdown(c[i], WAIT_MS);
    netfw_client_free(c[i]);
  }
  netfw_msg_release(&go);
  return npids;
}

static void test_aclient_in_worker(void **state) {
  static const netfw_app b_app = {.on_message = b_on_message};
  static const netfw_app a_app = {.create = a_create,
                                  .on_message = a_on_message,
                                  .destroy = a_destroy,
                                  .on_client_closed = a_on_closed};
  uint16_t b_port, a_port;
  uint32_t pids[2] = {0, 0};
  int npids = 0, rounds = 0;
  (void)state;

  netfw_server *b = start(&b_app, NULL, 1, &b_port);
  netfw_server *a = start(&a_app, (void *)(uintptr_t)b_port, 2, &a_port);
  while (npids < 2 && rounds++ < ROUNDS)
    npids = one_round(a_port, pids, npids);
  assert_int_equal(npids, 2);
  assert_int_equal(netfw_server_stop(a, WAIT_MS), 0);
  assert_int_equal(netfw_server_stop(b, WAIT_MS), 0);
  netfw_server_free(a);
  netfw_server_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aclient_in_worker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
