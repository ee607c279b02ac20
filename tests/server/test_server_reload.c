/* netfw_server_reload: the rolling restart. Under load (a client that
 * connects, echoes and closes in a loop, 50 long-lived connections echoing
 * all along, 3 reloads): no refused connection, no lost or reordered
 * reply, every worker pid changes; an old generation serves its open
 * connection exactly until it closes, then exits; a slow reader past
 * drain_timeout_ms still gets all its queued output, then EOF; a new
 * worker that dies before it is ready fails the reload and the old one
 * serves on; retired generations never count as a crash loop; reload when
 * not running; a broken TLS key changes nothing (TLS variant). Real
 * processes on 127.0.0.1 port 0; reads the slots' pids from the shared
 * load records (server_internal.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "fixture.h"
#include "server_internal.h"

/* Shared with the workers (mmap'ed before they are forked). */
typedef struct ctl {
  atomic_int fail_create; /* create() aborts (a broken new generation) */
} ctl;

static ctl *g_ctl;
static netfw_app ctl_app;

static void *ctl_create(void *context) {
  if (atomic_load(&g_ctl->fail_create))
    abort();
  return testapp.create(context);
}

static int setup(void **state) {
  void *shared;
  int rc = fx_setup_steered(state, &ctl_app, ctl_create, &shared,
                            sizeof(*g_ctl));

  g_ctl = shared;
  return rc;
}

static int teardown(void **state) {
  munmap(g_ctl, sizeof(*g_ctl));
  return fx_teardown(state);
}

/* The pid of slot i's current worker. */
static int slot_pid(fx *f, int i) {
  return atomic_load(&f->s->load[i].pid);
}

/* Waits up to timeout_ms until process pid is gone (reaped). */
static bool gone_within(int pid, int timeout_ms) {
  uint64_t end = wire_now_ms() + (uint64_t)timeout_ms;

  while (kill(pid, 0) == 0 || errno != ESRCH) {
    if (wire_now_ms() >= end)
      return false;
    sleep_ms(5);
  }
  return true;
}

/* ---- reload under load ---- */

/* The clients run in a child process of the test, not in threads beside
 * the server's supervisor: a fork while another thread of the parent holds
 * an allocator lock would leave the new worker stuck on it (glibc's malloc
 * guards against that, ASan's allocator does not). */

#define LONG_CONNS 50

/* Shared between the test and its client process (mmap'ed). */
typedef struct load_run {
  uint16_t port;
  int first[2];        /* the first generation's pids                 */
  atomic_bool ready;   /* the 50 long-lived connections are open      */
  atomic_bool stop;
  atomic_int refused;  /* connects that failed                        */
  atomic_int lost;     /* a reply missing, wrong or out of order      */
  atomic_int churned;  /* connect-echo-close cycles done              */
  atomic_int rounds;   /* rounds over the 50 long-lived connections   */
  atomic_int foreign;  /* long-lived ones not on a first-gen worker   */
  int fds[LONG_CONNS]; /* the client process's                        */
} load_run;

/* Sends "tag-seq" on fd and expects exactly that back. */
static bool echo_ok(int fd, const char *tag, unsigned seq) {
  char p[32];
  uint16_t id = 0;
  uint8_t *got = NULL;
  uint32_t n = 0;
  int len = snprintf(p, sizeof(p), "%s-%u", tag, seq);
  bool ok;

  if (wire_send(fd, 7, p, (uint32_t)len) != 0)
    return false;
  ok = wire_recv(fd, &id, &got, &n, 10000) == 1 && id == 7 &&
       n == (uint32_t)len && memcmp(got, p, n) == 0;
  free(got);
  return ok;
}

/* New connection, one echo, close; over and over. */
static void *churn(void *arg) {
  load_run *r = arg;
  unsigned seq = 0;

  while (!atomic_load(&r->stop)) {
    int fd = wire_connect(r->port);
    if (fd < 0) {
      atomic_fetch_add(&r->refused, 1);
      sleep_ms(1);
      continue;
    }
    if (!echo_ok(fd, "churn", seq++))
      atomic_fetch_add(&r->lost, 1);
    wire_close(fd);
    atomic_fetch_add(&r->churned, 1);
  }
  return NULL;
}

/* One echo on each long-lived connection per round, with a sequence
 * number per connection (a reordered reply would not match). */
static void *long_lived(void *arg) {
  load_run *r = arg;
  unsigned seq = 0;
  int i;

  while (!atomic_load(&r->stop)) {
    for (i = 0; i < LONG_CONNS; i++) {
      char tag[16];
      snprintf(tag, sizeof(tag), "long%d", i);
      if (!echo_ok(r->fds[i], tag, seq))
        atomic_fetch_add(&r->lost, 1);
    }
    seq++;
    atomic_fetch_add(&r->rounds, 1);
  }
  return NULL;
}

/* The pid of the worker serving fd (a T_PID round trip), without cmocka's
 * asserts (for the client process); 0 when it fails. */
static int pid_of_conn(int fd) {
  uint16_t id = 0;
  uint8_t *p = NULL;
  uint32_t n = 0, pid = 0;

  if (wire_send(fd, T_PID, NULL, 0) == 0 &&
      wire_recv(fd, &id, &p, &n, 10000) == 1 && id == T_PID && n == 4)
    memcpy(&pid, p, 4);
  free(p);
  return (int)pid;
}

/* The client process: both loops until told to stop; then checks that
 * every long-lived connection is still the first generation's. */
static void run_clients(load_run *r) {
  pthread_t tc, tl;
  int i, pid;

  for (i = 0; i < LONG_CONNS; i++)
    if ((r->fds[i] = wire_connect(r->port)) < 0)
      _exit(3);
  atomic_store(&r->ready, true);
  if (pthread_create(&tc, NULL, churn, r) != 0 ||
      pthread_create(&tl, NULL, long_lived, r) != 0)
    _exit(4);
  pthread_join(tc, NULL);
  pthread_join(tl, NULL);
  for (i = 0; i < LONG_CONNS; i++) {
    pid = pid_of_conn(r->fds[i]);
    if (pid != r->first[0] && pid != r->first[1])
      atomic_fetch_add(&r->foreign, 1);
    wire_close(r->fds[i]);
  }
  _exit(0);
}

static bool seen(const int *pids, int n, int pid) {
  int i;

  for (i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Waits until the churn loop has done `more` further cycles and the
 * long-lived one 2 further rounds. */
static void churn_on(load_run *r, int more) {
  int want = atomic_load(&r->churned) + more;
  int rounds = atomic_load(&r->rounds) + 2;
  uint64_t end = wire_now_ms() + 30000;

  while ((atomic_load(&r->churned) < want ||
          atomic_load(&r->rounds) < rounds) &&
         wire_now_ms() < end)
    sleep_ms(2);
  assert_true(atomic_load(&r->churned) >= want);
  assert_true(atomic_load(&r->rounds) >= rounds);
}

/* 3 reloads of 2 workers while both clients run. */
static void test_reload_under_load(void **state) {
  fx *f = *state;
  load_run *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int pids[2 * 4], npids = 0, i, k, status;
  pid_t client;
  uint64_t t0;

  assert_true(r != MAP_FAILED);
  f->cfg.worker_num = 2;
  f->cfg.drain_timeout_ms = 60000; /* the long-lived ones stay served */
  fx_start(f);
  r->port = f->port;
  for (i = 0; i < 2; i++)
    pids[npids++] = r->first[i] = slot_pid(f, i);
  client = fork();
  assert_true(client >= 0);
  if (client == 0)
    run_clients(r);
  while (!atomic_load(&r->ready) && waitpid(client, &status, WNOHANG) == 0)
    sleep_ms(2);
  assert_true(atomic_load(&r->ready));
  churn_on(r, 20);
  for (k = 0; k < 3; k++) {
    t0 = wire_now_ms();
    assert_int_equal(netfw_server_reload(f->s), 0);
    print_message("reload %d took %llu ms\n", k + 1,
                  (unsigned long long)(wire_now_ms() - t0));
    for (i = 0; i < 2; i++) {
      assert_false(seen(pids, npids, slot_pid(f, i)));
      pids[npids++] = slot_pid(f, i);
    }
    churn_on(r, 20); /* the new generation serves new connections */
  }
  atomic_store(&r->stop, true);
  assert_int_equal(waitpid(client, &status, 0), client);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  print_message("churned %d, %d rounds over %d long-lived, refused %d, "
                "lost %d\n",
                atomic_load(&r->churned), atomic_load(&r->rounds), LONG_CONNS,
                atomic_load(&r->refused), atomic_load(&r->lost));
  assert_int_equal(atomic_load(&r->refused), 0);
  assert_int_equal(atomic_load(&r->lost), 0);
  assert_int_equal(atomic_load(&r->foreign), 0); /* first gen served them */
  for (i = 0; i < 6; i++) /* generations 1 to 3 end with their clients */
    assert_true(gone_within(pids[i], 10000));
  assert_int_equal(kill(slot_pid(f, 0), 0), 0);
  assert_int_equal(kill(slot_pid(f, 1), 0), 0);
  assert_false(board_log_has(f->b, "crash loop", NULL));
  munmap(r, sizeof(*r));
}

/* ---- an old generation and its open connection ---- */

/* The connection open before the reload is served by the old worker,
 * exactly, until the client closes it; then the old worker exits 0, long
 * before drain_timeout_ms. */
static void test_old_generation_drains(void **state) {
  fx *f = *state;
  static uint8_t big[64 * 1024];
  int a, b, old, k;
  uint64_t t0;

  f->cfg.drain_timeout_ms = 20000;
  fx_start(f);
  a = fx_connect(f);
  old = (int)fx_worker_pid(a);
  expect_echo(a, 1, "before", 6);
  assert_int_equal(netfw_server_reload(f->s), 0);
  /* the old one may accept until it has handled its signal: wait */
  t0 = wire_now_ms();
  while (!board_log_has(f->b, "worker 0 retired: 1 open connection", NULL) &&
         wire_now_ms() - t0 < 10000)
    sleep_ms(2);
  b = fx_connect(f);
  assert_int_not_equal((int)fx_worker_pid(b), old);
  assert_int_equal(slot_pid(f, 0), (int)fx_worker_pid(b));
  for (k = 0; k < 5; k++) {
    memset(big, 'a' + k, sizeof(big));
    expect_echo(a, (uint16_t)(10 + k), big, sizeof(big));
  }
  assert_int_equal((int)fx_worker_pid(a), old);
  assert_int_equal(kill(old, 0), 0); /* still there for a */
  t0 = wire_now_ms();
  wire_close(a);
  assert_true(gone_within(old, 5000));
  print_message("old worker gone %llu ms after its last client left\n",
                (unsigned long long)(wire_now_ms() - t0));
  t0 = wire_now_ms(); /* the supervisor logs the exit once it reaped it */
  while (!board_log_has(f->b, "generation 1) exited with status 0", NULL) &&
         wire_now_ms() - t0 < 5000)
    sleep_ms(2);
  assert_true(board_log_has(f->b, "generation 1) exited with status 0", NULL));
  expect_echo(b, 2, "after", 5);
  wire_close(b);
}

/* A client that reads its large reply slowly, well past drain_timeout_ms
 * after the reload: the old worker shuts it down gracefully, so every
 * queued byte arrives, then EOF (no reset). */
static void test_slow_reader_past_drain(void **state) {
  fx *f = *state;
  const uint32_t n = 1024 * 1024;
  size_t total = 0, want = 4 * ((size_t)n + NETFW_FRAME_HDR_SIZE);
  static uint8_t buf[16384];
  uint32_t u = n;
  uint64_t t0;
  ssize_t got;
  int a, old;

  f->cfg.drain_timeout_ms = 300;
  fx_start(f);
  a = wire_connect_rcvbuf(f->port, 16384);
  assert_true(a >= 0);
  old = (int)fx_worker_pid(a);
  assert_int_equal(wire_send(a, T_FLOOD, &u, sizeof(u)), 0);
  sleep_ms(100);
  assert_int_equal(netfw_server_reload(f->s), 0);
  t0 = wire_now_ms();
  while ((got = wire_read_some(a, buf, sizeof(buf), 10000)) > 0) {
    total += (size_t)got;
    sleep_ms(5);
  }
  print_message("read %zu bytes in %llu ms after the reload\n", total,
                (unsigned long long)(wire_now_ms() - t0));
  assert_int_equal(got, 0); /* EOF, not a reset or a timeout */
  assert_int_equal(total, want);
  assert_true(wire_now_ms() - t0 > 600);
  assert_true(board_log_has(f->b, "still open after 300 ms", NULL));
  wire_close(a);
  assert_true(gone_within(old, 5000));
}

/* ---- failures and states ---- */

/* A new worker that dies before it is ready: NETFW_ESYS (ECHILD), the old
 * one still serves, the server runs; the next reload succeeds. */
static void test_new_worker_dies(void **state) {
  fx *f = *state;
  int fd, old;

  fx_start(f);
  old = slot_pid(f, 0);
  atomic_store(&g_ctl->fail_create, 1);
  errno = 0;
  assert_int_equal(netfw_server_reload(f->s), NETFW_ESYS);
  assert_int_equal(errno, ECHILD);
  atomic_store(&g_ctl->fail_create, 0);
  assert_int_equal(slot_pid(f, 0), old);
  fd = fx_connect(f);
  assert_int_equal((int)fx_worker_pid(fd), old);
  expect_echo(fd, 1, "old serves", 10);
  wire_close(fd);
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_RUNNING);
  assert_int_equal(netfw_server_reload(f->s), 0);
  assert_int_not_equal(slot_pid(f, 0), old);
  assert_true(gone_within(old, 5000));
}

/* Six reloads in a row, each old generation exiting within 3 s of its
 * fork: not a crash loop. */
static void test_reloads_not_a_crash_loop(void **state) {
  fx *f = *state;
  int k, fd, prev;

  f->cfg.drain_timeout_ms = 0;
  fx_start(f);
  for (k = 0; k < 6; k++) {
    prev = slot_pid(f, 0);
    assert_int_equal(netfw_server_reload(f->s), 0);
    assert_true(gone_within(prev, 5000));
  }
  sleep_ms(100);
  assert_int_equal(netfw_server_state(f->s), NETFW_RUN_RUNNING);
  assert_false(board_log_has(f->b, "crash loop", NULL));
  assert_false(board_log_has(f->b, "respawning", NULL));
  fd = fx_connect(f);
  expect_echo(fd, 1, "seventh", 7);
  wire_close(fd);
}

/* NULL: NETFW_EINVAL; before start and after stop: NETFW_ESTATE. */
static void test_reload_not_running(void **state) {
  fx *f = *state;

  assert_int_equal(netfw_server_reload(NULL), NETFW_EINVAL);
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_reload(f->s), NETFW_ESTATE);
  assert_int_equal(netfw_server_start(f->s), 0);
  assert_int_equal(netfw_server_stop(f->s, 3000), 0);
  assert_int_equal(netfw_server_reload(f->s), NETFW_ESTATE);
}

/* Over TLS: the key file turned to garbage makes the reload fail with
 * NETFW_ETLS and nothing changes (same pids, still serving); put back, the
 * reload replaces every worker. */
static void test_reload_broken_tls_key(void **state) {
  fx *f = *state;
  char dir[] = "/tmp/netfw-reload-XXXXXX", cert[64], key[64], cmd[512];
  netfw_tls_config tls;
  int pid0, pid1, fd;
  FILE *k;

  if (tls_kit_dir() == NULL) {
    print_message("skipped in plaintext: needs the TLS variant's files\n");
    skip();
  }
  assert_non_null(mkdtemp(dir));
  snprintf(cert, sizeof(cert), "%s/server.pem", dir);
  snprintf(key, sizeof(key), "%s/server.key", dir);
  snprintf(cmd, sizeof(cmd), "cp '%s/server.pem' '%s' && cp '%s/server.key' '%s'",
           tls_kit_dir(), cert, tls_kit_dir(), key);
  assert_int_equal(system(cmd), 0);
  netfw_tls_config_init(&tls);
  tls.cert_file = cert;
  tls.key_file = key;
  f->cfg.tls = &tls;
  f->cfg.worker_num = 2;
  fx_start(f);
  pid0 = slot_pid(f, 0);
  pid1 = slot_pid(f, 1);
  assert_non_null(k = fopen(key, "w"));
  fputs("garbage, not a key\n", k);
  fclose(k);
  assert_int_equal(netfw_server_reload(f->s), NETFW_ETLS);
  assert_int_equal(slot_pid(f, 0), pid0);
  assert_int_equal(slot_pid(f, 1), pid1);
  assert_true(board_log_has(f->b, "reload:", "nothing changed"));
  fd = fx_connect(f);
  expect_echo(fd, 1, "same", 4);
  wire_close(fd);
  snprintf(cmd, sizeof(cmd), "cp '%s/server.key' '%s'", tls_kit_dir(), key);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(netfw_server_reload(f->s), 0);
  assert_int_not_equal(slot_pid(f, 0), pid0);
  assert_int_not_equal(slot_pid(f, 1), pid1);
  fd = fx_connect(f);
  expect_echo(fd, 1, "new", 3);
  wire_close(fd);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reload_under_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_old_generation_drains, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_slow_reader_past_drain, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_new_worker_dies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reloads_not_a_crash_loop, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_reload_not_running, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_reload_broken_tls_key, setup,
                                      teardown),
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
