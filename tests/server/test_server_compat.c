/* Compatibility of netfw_config and netfw_app across versions: a program
 * compiled against older headers passes smaller structs (recorded by
 * netfw_config_init); the library reads only those bytes, uses defaults and
 * NULL callbacks for the rest, and refuses sizes it cannot handle. Run under
 * ASan, the exactly-sized heap copies catch any read past them. */
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>

#include "fixture.h"
#include "server_internal.h"

/* The structs as an older program knew them: before worker_memory and
 * frame_timeout_ms, before on_client_closed. */
typedef struct old_config {
  uint32_t size;
  uint32_t app_size;
  const netfw_app *app;
  void *context;
  const char *ip;
  uint16_t port;
  int worker_num;
  uint32_t max_payload;
  size_t max_output;
  int idle_timeout_ms;
  int max_connections;
  int drain_timeout_ms;
  bool reuseport;
} old_config;

typedef struct old_app {
  void *(*create)(void *context);
  bool (*on_client_connect)(void *app, netfw_conn *client);
  void (*on_client_disconnect)(void *app, netfw_conn *client);
  void (*on_message)(void *app, netfw_owned_msg *msg);
  void (*destroy)(void *app);
} old_app;

#define OLD_CFG_SIZE sizeof(old_config)
#define OLD_APP_SIZE sizeof(old_app)
_Static_assert(OLD_CFG_SIZE == offsetof(netfw_config, worker_memory) &&
                   offsetof(old_config, reuseport) ==
                       offsetof(netfw_config, reuseport),
               "old_config is netfw_config's prefix");
_Static_assert(OLD_APP_SIZE == offsetof(netfw_app, on_client_closed),
               "old_app is netfw_app's prefix");

static atomic_int *g_closed; /* on_client_closed calls, shared */
static netfw_app closing_app;

static void count_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  (void)app;
  (void)c;
  (void)why;
  atomic_fetch_add(g_closed, 1);
}

static int setup(void **state) {
  if (fx_setup(state) != 0)
    return -1;
  g_closed = mmap(NULL, sizeof(*g_closed), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_closed == MAP_FAILED)
    return -1;
  closing_app = testapp;
  closing_app.on_client_closed = count_closed;
  return 0;
}

static int teardown(void **state) {
  munmap(g_closed, sizeof(*g_closed));
  return fx_teardown(state);
}

/* Echoes a few frames on 3 connections, closes them and waits until the
 * worker has seen every close (the test app counts disconnects). */
static void serve_a_little(fx *f) {
  int i, fd, before = atomic_load(&f->b->disconnects);
  uint8_t big[100000];

  memset(big, 0x5a, sizeof(big));
  for (i = 0; i < 3; i++) {
    fd = fx_connect(f);
    expect_echo(fd, 7, "hello", 5);
    expect_echo(fd, 8, big, sizeof(big));
    close(fd);
  }
  assert_int_equal(board_wait(&f->b->disconnects, before + 3, 10000),
                   before + 3);
}

/* Starts a server from cfg (a caller's struct of any size). */
static void start_from(fx *f, const netfw_config *cfg) {
  f->s = netfw_server_new(cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
}

/* The macro records the caller's sizes. */
static void test_init_records_sizes(void **state) {
  netfw_config cfg;

  (void)state;
  memset(&cfg, 0xee, sizeof(cfg));
  netfw_config_init(&cfg, &testapp);
  assert_int_equal(cfg.size, sizeof(netfw_config));
  assert_int_equal(cfg.app_size, sizeof(netfw_app));
  assert_ptr_equal(cfg.app, &testapp);
  assert_int_equal(cfg.worker_memory, NETFW_DEFAULT_WORKER_MEMORY);
  netfw_config_init(&cfg, NULL);
  assert_null(cfg.app);
  assert_null(netfw_server_new(&cfg));
}

/* A control: the current structs, on_client_closed is called. */
static void test_current_caller(void **state) {
  fx *f = *state;

  f->cfg.app = &closing_app;
  fx_start(f);
  serve_a_little(f);
  assert_int_equal(board_wait(g_closed, 3, 10000), 3);
}

/* An older program: both structs end before the newest members and are
 * exactly that big on the heap. The server runs with the defaults of what
 * the program's structs lack: worker_memory, frame_timeout_ms,
 * on_client_closed (NULL, although the program's app "had" it). */
static void test_older_caller_exact_heap(void **state) {
  fx *f = *state;
  old_config *cfg = malloc(sizeof(*cfg));
  old_app *app = malloc(sizeof(*app));

  assert_non_null(cfg);
  assert_non_null(app);
  memcpy(app, &closing_app, sizeof(*app)); /* closing_app's prefix */
  netfw_config_init_sized((netfw_config *)cfg, (const netfw_app *)app,
                          sizeof(*cfg), sizeof(*app));
  assert_int_equal(cfg->size, OLD_CFG_SIZE);
  assert_int_equal(cfg->app_size, OLD_APP_SIZE);
  assert_int_equal(cfg->drain_timeout_ms, NETFW_DEFAULT_DRAIN_MS);
  cfg->ip = "127.0.0.1";
  cfg->port = 0;
  cfg->context = f->b;
  start_from(f, (const netfw_config *)cfg);
  free(cfg); /* the server keeps its own copies */
  free(app);
  assert_int_equal(f->s->cfg.worker_memory, NETFW_DEFAULT_WORKER_MEMORY);
  assert_int_equal(f->s->cfg.frame_timeout_ms, NETFW_DEFAULT_FRAME_TIMEOUT_MS);
  assert_ptr_equal(f->s->cfg.app, &f->s->app);
  assert_null(f->s->app.on_client_closed);
  serve_a_little(f);
  assert_int_equal(netfw_server_stop(f->s, 3000), 0);
  assert_int_equal(atomic_load(&f->b->destroys), 1);
  assert_int_equal(atomic_load(g_closed), 0);
}

/* The same older sizes inside full-size structs whose tails hold values
 * that would show if read: a negative frame timeout (new would refuse it),
 * a 1-byte memory budget (every connection closed), on_client_closed set. */
static void test_older_caller_tail_ignored(void **state) {
  fx *f = *state;
  netfw_config *cfg = calloc(1, sizeof(*cfg));
  netfw_app *app = calloc(1, sizeof(*app));

  assert_non_null(cfg);
  assert_non_null(app);
  *app = closing_app;
  netfw_config_init_sized(cfg, app, OLD_CFG_SIZE, OLD_APP_SIZE);
  assert_int_equal(cfg->frame_timeout_ms, 0); /* init wrote none of it */
  cfg->worker_memory = 1;
  cfg->frame_timeout_ms = -7;
  cfg->ip = "127.0.0.1";
  cfg->port = 0;
  cfg->context = f->b;
  start_from(f, cfg);
  serve_a_little(f);
  assert_int_equal(atomic_load(g_closed), 0);
  assert_false(board_log_has(f->b, "memory", NULL));
  free(cfg);
  free(app);
}

/* A netfw 0.2 program (its config ends before tls) whose struct tail holds
 * garbage: the server runs in plaintext, never reading that tail as a
 * netfw_tls_config pointer. */
static void test_v02_caller_plaintext(void **state) {
  enum { V02 = offsetof(netfw_config, tls) };
  fx *f = *state;
  netfw_config *cfg = malloc(sizeof(*cfg));

  assert_non_null(cfg);
  memset(cfg, 0xa5, sizeof(*cfg));
  netfw_config_init_sized(cfg, &closing_app, V02, sizeof(netfw_app));
  assert_int_equal(cfg->size, V02);
  cfg->ip = "127.0.0.1";
  cfg->port = 0;
  cfg->context = f->b;
  start_from(f, cfg);
  free(cfg);
  assert_null(f->s->cfg.tls);
  serve_a_little(f);
  assert_int_equal(board_wait(g_closed, 3, 10000), 3);
}

/* A netfw 0.3 program (its config ends before msg_name) whose struct tail
 * holds garbage: no names are registered, no metrics endpoint is served,
 * and the server counts every id as "other". */
static void test_v03_caller_no_metrics(void **state) {
  enum { V03 = offsetof(netfw_config, msg_name) };
  fx *f = *state;
  netfw_config *cfg = malloc(sizeof(*cfg));
  netfw_stats st;

  assert_non_null(cfg);
  memset(cfg, 0xa5, sizeof(*cfg));
  netfw_config_init_sized(cfg, &closing_app, V03, sizeof(netfw_app));
  assert_int_equal(cfg->size, V03);
  cfg->ip = "127.0.0.1";
  cfg->port = 0;
  cfg->context = f->b;
  start_from(f, cfg);
  free(cfg);
  assert_null(f->s->cfg.msg_name);
  assert_null(f->s->cfg.metrics_addr);
  assert_int_equal(netfw_server_metrics_port(f->s), 0);
  serve_a_little(f);
  assert_int_equal(board_wait(g_closed, 3, 10000), 3);
  assert_int_equal(netfw_server_stats(f->s, &st), 0);
  assert_int_equal(st.total.nmessages, 1);
  assert_true(st.total.messages[0].received > 0);
  netfw_stats_free(&st);
}

/* Sizes the library cannot handle are refused with a logged reason. */
static void test_sizes_refused(void **state) {
  fx *f = *state;
  netfw_config zero;
  unsigned char big[sizeof(netfw_config) + 16];
  netfw_config *newer = (netfw_config *)(void *)big;
  netfw_app apps[2];

  memset(&zero, 0, sizeof(zero)); /* never filled by netfw_config_init */
  zero.app = &testapp;
  zero.max_output = 1024;
  assert_null(netfw_server_new(&zero));
  assert_true(board_log_has(f->b, "ERROR", "fill it with netfw_config_init"));

  memset(big, 0, sizeof(big)); /* a program built against newer headers */
  netfw_config_init_sized(newer, &testapp, sizeof(big), sizeof(netfw_app));
  assert_int_equal(newer->size, sizeof(big));
  assert_null(netfw_server_new(newer));
  assert_true(board_log_has(f->b, "ERROR", "upgrade libnetfw"));

  /* a newer app whose unknown callbacks are all NULL is fine */
  memset(apps, 0, sizeof(apps));
  apps[0] = testapp;
  f->cfg.app = &apps[0];
  f->cfg.app_size = sizeof(netfw_app) + 16;
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  netfw_server_free(f->s);
  f->s = NULL;
  /* ... one that sets one of them is not */
  apps[1].create = testapp.create;
  assert_null(netfw_server_new(&f->cfg));
  assert_true(board_log_has(f->b, "ERROR", "does not know"));
  f->cfg.app_size = 8; /* not even on_message */
  assert_null(netfw_server_new(&f->cfg));
  assert_true(board_log_has(f->b, "ERROR", "too small"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
      T(test_init_records_sizes),      T(test_current_caller),
      T(test_older_caller_exact_heap), T(test_older_caller_tail_ignored),
      T(test_sizes_refused),           T(test_v02_caller_plaintext),
      T(test_v03_caller_no_metrics),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
