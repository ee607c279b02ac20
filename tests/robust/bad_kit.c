/* The fixture of the bad-input tests (test_bad_input.c, test_bad_peers.c):
 * an echo server started in this process with a witness connection, its
 * workers' pids and descriptor counts, and the checks every case ends with
 * (same workers, witness and a fresh connection served, descriptors back). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bad_kit.h"
#include "rng.h"
#include "robust.h"

int setup(void **state) {
  bad *t = calloc(1, sizeof(*t));

  if (t == NULL || rb_server_init(&t->r) != 0)
    return -1;
  t->witness = -1;
  *state = t;
  return 0;
}

int teardown(void **state) {
  bad *t = *state;

  if (t->witness >= 0)
    close(t->witness);
  rb_server_fini(&t->r);
  free(t);
  return 0;
}

int find_slot(const bad *t, pid_t pid) {
  int i;

  for (i = 0; i < t->nworkers; i++)
    if (t->workers[i] == pid)
      return i;
  return -1;
}

/* Exact echoes of a few sizes on fd: 0 B, 7 B and 100 KiB (or max_payload
 * when that is smaller). */
void assert_serves_max(int fd, uint32_t max_payload) {
  static uint8_t big[100 * 1024];
  uint32_t n = max_payload < sizeof(big) ? max_payload : sizeof(big);
  test_rng rng;

  test_rng_seed(&rng, 42);
  test_rng_fill(&rng, big, sizeof(big));
  assert_true(rb_echo_ok(fd, 0x0001, NULL, 0, IO_MS));
  assert_true(rb_echo_ok(fd, 0xbeef, "witness", 7, IO_MS));
  assert_true(rb_echo_ok(fd, 0x0002, big, n, IO_MS));
}

/* Starts the server with t->r.cfg, opens the witness, notes the workers and
 * their descriptor counts (witness included). Every worker first serves a
 * warm-up connection: libuv opens a reserve descriptor (/dev/null, for its
 * EMFILE trick) with a loop's first TCP handle, which is not a leak. */
void start(bad *t) {
  int warm[16], nwarm = 0, i;
  bool seen[MAX_WORKERS] = {false};

  assert_int_equal(rb_server_start(&t->r), 0);
  t->nworkers = t->r.cfg.worker_num;
  assert_true(t->nworkers <= MAX_WORKERS);
  assert_int_equal(rb_wait_children(getpid(), t->nworkers, t->workers, 5000),
                   t->nworkers);
  for (;;) {
    int n = 0, slot;
    for (i = 0; i < t->nworkers; i++)
      n += seen[i];
    if (n == t->nworkers)
      break;
    assert_true(nwarm < 16);
    warm[nwarm] = wire_connect(t->r.port);
    assert_true(warm[nwarm] >= 0);
    slot = find_slot(t, rb_worker_of(warm[nwarm++]));
    assert_true(slot >= 0);
    seen[slot] = true;
  }
  for (i = 0; i < nwarm; i++)
    close(warm[i]);
  assert_int_equal(rb_wait_int(&t->r.b->open_conns, 0, IO_MS), 0);
  t->witness = wire_connect(t->r.port);
  assert_true(t->witness >= 0);
  assert_serves(t->witness);
  assert_true(find_slot(t, rb_worker_of(t->witness)) >= 0);
  assert_int_equal(rb_wait_int(&t->r.b->open_conns, 1, IO_MS), 1);
  for (i = 0; i < t->nworkers; i++) {
    t->fds_before[i] = rb_fd_count(t->workers[i]);
    assert_true(t->fds_before[i] > 0);
  }
}

/* Waits (bounded) until every worker holds as many descriptors as before. */
void assert_fds_back(const bad *t) {
  uint64_t deadline = wire_now_ms() + IO_MS;
  int i, n;

  for (i = 0; i < t->nworkers; i++) {
    while ((n = rb_fd_count(t->workers[i])) != t->fds_before[i] &&
           wire_now_ms() < deadline)
      rb_sleep_ms(10);
    if (n != t->fds_before[i]) {
      char cmd[128];
      snprintf(cmd, sizeof(cmd), "ls -l /proc/%ld/fd >&2; ss -tanp >&2",
               (long)t->workers[i]);
      if (system(cmd) != 0)
        print_message("(could not list the descriptors)\n");
    }
    assert_int_equal(n, t->fds_before[i]);
  }
}

/* The checks every case ends with (see the file comment). */
void assert_unaffected(bad *t) {
  pid_t now[MAX_WORKERS + 1];
  int i, fd;

  assert_int_equal(rb_children(getpid(), now, MAX_WORKERS + 1), t->nworkers);
  for (i = 0; i < t->nworkers; i++) {
    assert_true(rb_alive(t->workers[i]));
    assert_true(find_slot(t, now[i]) >= 0);
  }
  assert_int_equal(atomic_load(&t->r.b->creates), t->nworkers);
  assert_serves(t->witness);
  fd = wire_connect(t->r.port);
  assert_true(fd >= 0);
  assert_serves(fd);
  assert_true(find_slot(t, rb_worker_of(fd)) >= 0);
  close(fd);
  assert_fds_back(t);
}

/* Closed by the server: EOF or reset, within IO_MS. */
void assert_closed_by_server(int fd) {
  int r = wire_wait_eof(fd, IO_MS, NULL);

  assert_true(r == 0 || r == 1);
}

long worker_rss(const bad *t) {
  long v = rb_vm_kib(t->workers[0], "VmRSS:");

  assert_true(v > 0);
  return v;
}
