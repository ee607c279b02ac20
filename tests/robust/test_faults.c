/* Faults (ctest label "fault"): workers and parents killed with SIGKILL,
 * netfw_server_stop under load. A netfw_client whose server vanishes is in
 * test_client_faults.c.
 *
 * Streaming clients are the accounting streamer (accounting.c): 50
 * connections on one epoll thread, each message with a sequence number and
 * a checksum, checked on return. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounting.h"
#include "robust.h"

#define NCLIENTS 50

static void print_totals(const char *what, const acct_stats *s) {
  char line[512];

  acct_format(s, line, sizeof(line));
  print_message("%s: %s\n", what, line);
}

/* Asserts what every connection received is an intact, in-order prefix of
 * what it sent (nothing corrupted, duplicated or reordered). */
static void assert_prefix(const acct_stats *s) {
  assert_int_equal(s->corrupted, 0);
  assert_int_equal(s->duplicated, 0);
  assert_int_equal(s->reordered, 0);
  assert_int_equal(s->ok, s->received);
}

/* ---- kill -9 one worker while 50 clients stream ---- */

static bool is_one_of(pid_t p, const pid_t *set, int n) {
  int i;

  for (i = 0; i < n; i++)
    if (set[i] == p)
      return true;
  return false;
}

/* Two workers, 50 streaming clients. Worker A is killed with SIGKILL:
 * a replacement serves a new connection within 1 s; every client of worker
 * B streams on without an error or a lost message; every client of A ends
 * with a reset (or EOF) after an intact prefix. */
static void kill_worker_while_streaming(rb_server *r, bool reuseport) {
  acct_cfg cfg = {.conns = NCLIENTS,
                  .msgs = 0,
                  .window = 8,
                  .sizes = ACCT_SIZES_SMALL,
                  .seed = 99};
  pid_t workers[2], of[NCLIENTS], victim, replacement = -1;
  int i, on_victim = 0, on_other = 0, killed_reset = 0, killed_eof = 0;
  int others_done = 0, attempt;
  uint64_t t_kill, t_served = 0;
  accounting *a;
  acct_stats s, tot;

  r->cfg.worker_num = 2;
  r->cfg.reuseport = reuseport;
  assert_int_equal(rb_server_start(r), 0);
  assert_int_equal(rb_wait_children(getpid(), 2, workers, 5000), 2);
  cfg.port = r->port;
  victim = workers[0];
  /* Both workers need clients. Which worker takes a connection is the
   * accept balance's business (best effort: on a loaded machine a burst
   * has gone to one worker whole), so an all-on-one spread is retried. */
  for (attempt = 0;; attempt++) {
    a = acct_new(&cfg);
    assert_non_null(a);
    assert_int_equal(acct_open(a), 0);
    for (i = 0; i < NCLIENTS; i++) {
      of[i] = rb_worker_of(acct_fd(a, i));
      assert_true(is_one_of(of[i], workers, 2));
    }
    for (i = 0, on_victim = 0; i < NCLIENTS; i++)
      on_victim += of[i] == victim;
    on_other = NCLIENTS - on_victim;
    print_message("clients per worker: %d on the victim, %d on the other\n",
                  on_victim, on_other);
    if ((on_victim >= 1 && on_other >= 1) || attempt == 4)
      break;
    acct_free(a);
    rb_sleep_ms(200);
  }
  assert_true(on_victim >= 1 && on_other >= 1);

  assert_int_equal(acct_run(a, 500), NCLIENTS);
  assert_int_equal(kill(victim, SIGKILL), 0);
  t_kill = wire_now_ms();
  /* probe with new connections (kept streaming meanwhile) until one is
     served by a worker that is neither of the first two */
  while (t_served == 0 && wire_now_ms() < t_kill + 10000) {
    int fd = wire_connect(r->port);
    pid_t p;
    assert_true(fd >= 0);
    p = rb_worker_of(fd);
    assert_true(p > 0);
    if (p != victim && p != workers[1] && rb_echo_ok(fd, 1, "new", 3, 5000)) {
      t_served = wire_now_ms();
      replacement = p;
    }
    close(fd);
    acct_run(a, 10);
  }
  assert_true(t_served != 0);
  print_message("replacement %ld served a new connection %lu ms after the "
                "kill\n",
                (long)replacement, (unsigned long)(t_served - t_kill));
  assert_true(t_served - t_kill <= 1000);

  acct_run(a, 300);
  acct_stop_sending(a);
  assert_int_equal(acct_run(a, 30000), 0);
  for (i = 0; i < NCLIENTS; i++) {
    int end = acct_end(a, i);
    acct_conn_stats(a, i, &s);
    assert_prefix(&s);
    if (of[i] == victim) {
      assert_true(end == ACCT_RESET || end == ACCT_EOF);
      killed_reset += end == ACCT_RESET;
      killed_eof += end == ACCT_EOF;
    } else {
      assert_int_equal(end, ACCT_DONE);
      assert_true(s.sent > 0);
      assert_int_equal(s.lost, 0);
      assert_int_equal(s.received, s.sent);
      others_done++;
    }
  }
  acct_totals(a, &tot);
  print_totals("kill -9 worker", &tot);
  print_message("victim's clients: %d reset, %d EOF; others: %d done\n",
                killed_reset, killed_eof, others_done);
  assert_int_equal(killed_reset + killed_eof, on_victim);
  assert_int_equal(killed_reset + killed_eof + others_done, NCLIENTS);
  acct_free(a);
}

static void test_fault_kill_worker_while_streaming(void **state) {
  kill_worker_while_streaming(*state, false);
}

/* The same with cfg.reuseport: one listening socket per worker, kept open
 * by the parent, so connections hashed to the dead worker's socket wait for
 * its replacement. */
static void test_fault_kill_worker_while_streaming_reuseport(void **state) {
  kill_worker_while_streaming(*state, true);
}

/* ---- kill -9 the parent ---- */

/* The server runs in a forked child (its parent process) so that this test
 * survives the kill; the test is the children's subreaper, so the orphaned
 * workers become its children and can be reaped and timed. */
static void test_fault_kill_parent(void **state) {
  int pfd[2], fds[4], i, one = 1, lfd;
  struct {
    uint16_t port;
    pid_t workers[2];
  } info;
  bool gone[2] = {false, false};
  uint64_t t0, took[2] = {0, 0};
  struct sockaddr_in sa;
  pid_t child;

  (void)state;
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  assert_int_equal(pipe(pfd), 0);
  child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    rb_server r;
    close(pfd[0]);
    if (rb_server_init(&r) != 0)
      _exit(3);
    r.cfg.worker_num = 2;
    if (rb_server_start(&r) != 0 ||
        rb_wait_children(getpid(), 2, info.workers, 5000) != 2)
      _exit(4);
    info.port = r.port;
    if (write(pfd[1], &info, sizeof(info)) != (ssize_t)sizeof(info))
      _exit(5);
    for (;;)
      pause();
  }
  close(pfd[1]);
  assert_int_equal(read(pfd[0], &info, sizeof(info)), (ssize_t)sizeof(info));
  close(pfd[0]);
  for (i = 0; i < 4; i++) { /* connections open through the kill */
    fds[i] = wire_connect(info.port);
    assert_true(fds[i] >= 0);
    assert_true(rb_echo_ok(fds[i], 2, "before", 6, 10000));
  }

  assert_int_equal(kill(child, SIGKILL), 0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  t0 = wire_now_ms();
  while ((!gone[0] || !gone[1]) && wire_now_ms() < t0 + 10000) {
    for (i = 0; i < 2; i++)
      if (!gone[i] &&
          waitpid(info.workers[i], NULL, WNOHANG) == info.workers[i]) {
        gone[i] = true;
        took[i] = wire_now_ms() - t0;
      }
    rb_sleep_ms(5);
  }
  print_message("workers exited %lu ms and %lu ms after the parent's kill\n",
                (unsigned long)took[0], (unsigned long)took[1]);
  assert_true(gone[0] && gone[1]);
  assert_true(took[0] <= 2000 && took[1] <= 2000);
  for (i = 0; i < 4; i++) {
    int rc = wire_wait_eof(fds[i], 5000, NULL);
    assert_true(rc == 0 || rc == 1);
    close(fds[i]);
  }
  /* the port is free: a new listener binds it (SO_REUSEADDR, as any server
     would, for the connections now in TIME_WAIT) */
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(lfd >= 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(info.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(lfd, 4), 0);
  close(lfd);
}

/* ---- netfw_server_stop while 50 clients stream ---- */

typedef struct stopper {
  netfw_server *s;
  int rc;
  uint64_t took_ms;
} stopper;

static void *stop_thread(void *arg) {
  stopper *st = arg;
  uint64_t t0 = wire_now_ms();

  st->rc = netfw_server_stop(st->s, 30000);
  st->took_ms = wire_now_ms() - t0;
  return NULL;
}

/* The stop runs on a thread while this one keeps the clients streaming.
 * Every message a worker handed to on_message was echoed and arrived
 * (totals of the workers = totals of the clients), intact and in order;
 * then every connection ended with EOF, none with a reset. */
static void stop_while_streaming(rb_server *r, bool reuseport) {
  acct_cfg cfg = {.conns = NCLIENTS,
                  .msgs = 0,
                  .window = 8,
                  .sizes = ACCT_SIZES_SMALL,
                  .seed = 5};
  stopper st = {0};
  pthread_t th;
  accounting *a;
  acct_stats tot, s;
  pid_t workers[2];
  int i;

  r->cfg.worker_num = 2;
  r->cfg.reuseport = reuseport;
  assert_int_equal(rb_server_start(r), 0);
  assert_int_equal(rb_wait_children(getpid(), 2, workers, 5000), 2);
  cfg.port = r->port;
  a = acct_new(&cfg);
  assert_non_null(a);
  assert_int_equal(acct_open(a), 0);
  assert_int_equal(acct_run(a, 500), NCLIENTS);
  st.s = r->s;
  assert_int_equal(pthread_create(&th, NULL, stop_thread, &st), 0);
  assert_int_equal(acct_run(a, 30000), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  acct_totals(a, &tot);
  print_totals("stop under load", &tot);
  print_message("netfw_server_stop returned %d after %lu ms\n", st.rc,
                (unsigned long)st.took_ms);
  assert_int_equal(st.rc, 0);
  for (i = 0; i < NCLIENTS; i++) {
    acct_conn_stats(a, i, &s);
    assert_int_equal(acct_end(a, i), ACCT_EOF); /* not a reset */
    assert_prefix(&s);
    assert_true(s.received > 0);
  }
  assert_prefix(&tot);
  assert_int_equal(atomic_load(&r->b->send_fails), 0);
  assert_int_equal(atomic_load(&r->b->echoed), tot.received);
  assert_int_equal(atomic_load(&r->b->messages), tot.received);
  assert_int_equal(atomic_load(&r->b->destroys), 2);
  assert_int_equal(rb_children(getpid(), workers, 2), 0);
  acct_free(a);
}

static void test_fault_stop_while_streaming(void **state) {
  stop_while_streaming(*state, false);
}

static void test_fault_stop_while_streaming_reuseport(void **state) {
  stop_while_streaming(*state, true);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_fault_kill_worker_while_streaming,
                                      rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(
          test_fault_kill_worker_while_streaming_reuseport, rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_kill_parent, rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_stop_while_streaming, rb_setup,
                                      rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_stop_while_streaming_reuseport,
                                      rb_setup, rb_teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  return cmocka_run_group_tests_name("robust_faults", tests, NULL, NULL);
}
