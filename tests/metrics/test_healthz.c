/* GET /healthz (issue 17): 200 "ok\n" while every worker slot has a
 * serving worker, 503 "unavailable\n" otherwise, made deterministic by a
 * test app whose workers obey switches in shared memory: a replacement
 * worker that stays inside create() (its slot has no serving worker for as
 * long as the test wants), and workers that exit at start until the
 * crash-loop guard stops the server (FAILED: no worker at all). Also the
 * endpoint's other answers: HEAD, 405 with Allow, 404. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics_kit.h"
#include "netfw/netfw.h"
#include "wire.h"

/* Shared with the workers (MAP_SHARED, mapped before the fork). */
typedef struct ctl {
  atomic_int hang;    /* create() waits while this is set               */
  atomic_int hanging; /* create() calls waiting now                     */
  atomic_int crash;   /* create() exits with status 3                    */
} ctl;

static ctl *g_ctl;

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Obeys the switches, then serves (the app state is unused). */
static void *app_create(void *context) {
  if (atomic_load(&g_ctl->crash))
    _exit(3);
  if (atomic_load(&g_ctl->hang)) {
    atomic_fetch_add(&g_ctl->hanging, 1);
    while (atomic_load(&g_ctl->hang))
      sleep_ms(2);
    atomic_fetch_sub(&g_ctl->hanging, 1);
  }
  return context;
}

/* Echoes. */
static void app_message(void *app, netfw_owned_msg *m) {
  (void)app;
  if (netfw_conn_send(m->owner, m->msg) != 0)
    netfw_conn_shutdown(m->owner);
}

static const netfw_app app = {.create = app_create, .on_message = app_message};

typedef struct hz {
  netfw_server *s;
  uint16_t mport; /* the metrics port */
} hz;

static int setup(void **state) {
  hz *h = calloc(1, sizeof(*h));
  netfw_config cfg;

  if (h == NULL)
    return -1;
  memset(g_ctl, 0, sizeof(*g_ctl));
  netfw_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = 2;
  cfg.metrics_addr = "127.0.0.1:0";
  h->s = netfw_server_new(&cfg);
  if (h->s == NULL || netfw_server_start(h->s) != 0)
    return -1;
  h->mport = netfw_server_metrics_port(h->s);
  *state = h;
  return h->mport != 0 ? 0 : -1;
}

static int teardown(void **state) {
  hz *h = *state;

  atomic_store(&g_ctl->hang, 0);
  if (h->s != NULL) {
    netfw_server_stop(h->s, 5000);
    netfw_server_free(h->s);
  }
  free(h);
  return 0;
}

/* GET path; returns the status (0: no answer), the body into body. */
static int get(const hz *h, const char *path, char *body, size_t len) {
  mk_resp r;
  int code;

  mk_http(h->mport, "GET", path, &r);
  code = r.code;
  snprintf(body, len, "%s", r.body != NULL ? r.body : "");
  mk_resp_free(&r);
  return code;
}

/* Polls GET /healthz until it answers want (within ms). Returns the last
 * status seen. */
static int healthz_until(const hz *h, int want, int ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)ms;
  char body[64];
  int code;

  while ((code = get(h, "/healthz", body, sizeof(body))) != want &&
         wire_now_ms() < deadline)
    sleep_ms(20);
  return code;
}

/* The pid of slot w's serving worker (0: none). */
static long worker_pid(const hz *h, int w) {
  netfw_stats st;
  long pid;

  assert_int_equal(netfw_server_stats(h->s, &st), 0);
  pid = st.workers[w].pid;
  netfw_stats_free(&st);
  return pid;
}

/* netfw_worker_up{worker="w"} from GET /metrics. */
static uint64_t metrics_worker_up(const hz *h, int w) {
  mk_resp r;
  mk_prom *p;
  char err[200] = "", labels[32];
  uint64_t v = 99;

  assert_int_equal(mk_http(h->mport, "GET", "/metrics", &r), 0);
  assert_int_equal(r.code, 200);
  p = mk_prom_parse(r.body, err, sizeof(err));
  if (p == NULL)
    fail_msg("/metrics does not parse: %s", err);
  snprintf(labels, sizeof(labels), "worker=\"%d\"", w);
  assert_true(mk_prom_u64(p, "netfw_worker_up", labels, &v));
  mk_prom_free(p);
  mk_resp_free(&r);
  return v;
}

/* Once both workers serve: sets *sw (a switch the next create() obeys)
 * and SIGKILLs slot 0's worker. */
static void kill_worker0(const hz *h, atomic_int *sw) {
  long pid;

  assert_int_equal(healthz_until(h, 200, 10000), 200);
  pid = worker_pid(h, 0);
  assert_true(pid > 0);
  atomic_store(sw, 1);
  assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
}

/* Waits (up to 5 s) until one create() hangs on the switch. */
static void wait_hanging(void) {
  for (int i = 0; i < 500 && atomic_load(&g_ctl->hanging) == 0; i++)
    sleep_ms(10);
  assert_int_equal(atomic_load(&g_ctl->hanging), 1);
}

/* Both workers up: 200 "ok\n", for GET and HEAD; other methods 405 with
 * Allow, other paths 404. */
static void test_healthz_ok_while_up(void **state) {
  hz *h = *state;
  char body[64];
  mk_resp r;

  assert_int_equal(healthz_until(h, 200, 10000), 200);
  assert_int_equal(get(h, "/healthz", body, sizeof(body)), 200);
  assert_string_equal(body, "ok\n");
  assert_int_equal(metrics_worker_up(h, 0), 1);
  assert_int_equal(metrics_worker_up(h, 1), 1);
  assert_int_equal(mk_http(h->mport, "HEAD", "/healthz", &r), 0);
  assert_int_equal(r.code, 200); /* (curl --head reads no body) */
  mk_resp_free(&r);
  assert_int_equal(mk_http(h->mport, "POST", "/healthz", &r), 0);
  assert_int_equal(r.code, 405);
  assert_string_equal(r.allow, "GET, HEAD");
  mk_resp_free(&r);
  assert_int_equal(get(h, "/nothing", body, sizeof(body)), 404);
}

/* Slot 0's worker is killed and its replacement stays inside create():
 * 503 "unavailable\n" for as long as it does (checked repeatedly), its
 * worker_up 0 and the other's 1; released, it serves and /healthz is 200
 * again. */
static void test_healthz_503_while_a_slot_starts(void **state) {
  hz *h = *state;
  char body[64];
  int i;

  kill_worker0(h, &g_ctl->hang);
  wait_hanging(); /* the replacement */
  assert_int_equal(healthz_until(h, 503, 5000), 503);
  for (i = 0; i < 5; i++) { /* and it stays so */
    assert_int_equal(get(h, "/healthz", body, sizeof(body)), 503);
    assert_string_equal(body, "unavailable\n");
    sleep_ms(50);
  }
  assert_int_equal(metrics_worker_up(h, 0), 0);
  assert_int_equal(metrics_worker_up(h, 1), 1);
  atomic_store(&g_ctl->hang, 0);
  assert_int_equal(healthz_until(h, 200, 10000), 200);
  assert_int_equal(get(h, "/healthz", body, sizeof(body)), 200);
  assert_string_equal(body, "ok\n");
  assert_int_equal(metrics_worker_up(h, 0), 1);
}

/* Replacements exit at start until the crash-loop guard stops the server
 * (FAILED): /healthz is 503, every worker_up 0. */
static void test_healthz_503_after_crash_loop(void **state) {
  hz *h = *state;
  char body[64];
  netfw_stats st;

  kill_worker0(h, &g_ctl->crash);
  assert_int_equal(netfw_server_wait(h->s, 20000), NETFW_RUN_FAILED);
  assert_int_equal(get(h, "/healthz", body, sizeof(body)), 503);
  assert_string_equal(body, "unavailable\n");
  assert_int_equal(netfw_server_stats(h->s, &st), 0);
  assert_false(st.total.up);
  assert_int_equal(st.total.died_signal[SIGKILL], 1);
  assert_true(st.total.died_exit[3] >= 4); /* 5 early deaths in a row */
  netfw_stats_free(&st);
  assert_int_equal(metrics_worker_up(h, 0), 0);
  assert_int_equal(metrics_worker_up(h, 1), 0);
}

/* argv[1]: a cmocka filter ("*crash*"); NETFW_TEST_SKIP: tests to skip
 * (a pattern too). */
typedef struct reload_job {
  netfw_server *s;
  int rc;
} reload_job;

static void *reload_thread(void *arg) {
  reload_job *j = arg;

  j->rc = netfw_server_reload(j->s);
  return NULL;
}

/* A reload whose new workers stay inside create() for a while: the old
 * ones still serve their slots, so /healthz stays 200 throughout (checked
 * repeatedly while the first new worker hangs), and after the reload. */
static void test_healthz_ok_during_reload(void **state) {
  hz *h = *state;
  reload_job j = {.s = h->s, .rc = -99};
  char body[64];
  pthread_t t;
  int i;

  assert_int_equal(healthz_until(h, 200, 10000), 200);
  atomic_store(&g_ctl->hang, 1);
  assert_int_equal(pthread_create(&t, NULL, reload_thread, &j), 0);
  wait_hanging(); /* slot 0's new worker */
  for (i = 0; i < 10; i++) {
    assert_int_equal(get(h, "/healthz", body, sizeof(body)), 200);
    sleep_ms(30);
  }
  atomic_store(&g_ctl->hang, 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(j.rc, 0);
  assert_int_equal(get(h, "/healthz", body, sizeof(body)), 200);
  assert_string_equal(body, "ok\n");
  assert_int_equal(metrics_worker_up(h, 0), 1);
  assert_int_equal(metrics_worker_up(h, 1), 1);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_healthz_ok_while_up, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_healthz_503_while_a_slot_starts,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_healthz_ok_during_reload, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_healthz_503_after_crash_loop, setup,
                                      teardown),
  };
  int rc;

  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  if (getenv("NETFW_TEST_SKIP") != NULL)
    cmocka_set_skip_filter(getenv("NETFW_TEST_SKIP"));
  g_ctl = mmap(NULL, sizeof(*g_ctl), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_ctl == MAP_FAILED)
    return 1;
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  munmap(g_ctl, sizeof(*g_ctl));
  return rc;
}
