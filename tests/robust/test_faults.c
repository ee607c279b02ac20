/* Faults (ctest label "fault"): workers and parents killed with SIGKILL,
 * netfw_server_stop under load, and a netfw_client whose server vanishes.
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

/* ---- a netfw_client whose server vanishes ---- */

/* A worker queued 100 frames for the client, then is killed: recv returns
 * the 100, then NETFW_ECONNRESET (not a timeout), and keeps returning it;
 * send and shutdown report the loss; free does not hang. */
static void test_fault_client_worker_killed(void **state) {
  rb_server *r = *state;
  netfw_client *c;
  netfw_msg *req, *m = NULL;
  pid_t worker;
  uint64_t t0;
  int i, rc;

  assert_int_equal(rb_server_start(r), 0);
  assert_int_equal(rb_wait_children(getpid(), 1, &worker, 5000), 1);
  c = netfw_client_new();
  assert_non_null(c);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", r->port), 0);
  req = netfw_msg_new(RB_FLOOD);
  assert_int_equal(netfw_msg_append(req, "\x64\x00\x00\x00\x64\x00\x00\x00", 8),
                   0); /* 100 frames of 100 bytes */
  assert_int_equal(netfw_client_send(c, req), 0);
  assert_int_equal(rb_wait_atleast(&r->b->messages, 1, 10000), 1);
  rb_sleep_ms(300); /* the frames reach the client's inbox over loopback */
  assert_int_equal(kill(worker, SIGKILL), 0);
  t0 = wire_now_ms();
  for (i = 0; i < 100; i++) {
    assert_int_equal(netfw_client_recv(c, &m, 5000), 0);
    assert_int_equal(netfw_msg_id(m), RB_FLOOD);
    assert_int_equal(netfw_msg_size(m), 100);
    assert_int_equal(netfw_msg_payload(m)[0], 0x5a);
    assert_int_equal(netfw_msg_payload(m)[99], 0x5a);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, 5000), NETFW_ECONNRESET);
  assert_null(m);
  assert_true(wire_now_ms() - t0 < 5000);
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_recv(c, &m, -1), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_send(c, req), NETFW_ECONNRESET);
  rc = netfw_client_shutdown(c, 5000);
  assert_int_equal(rc, NETFW_ECONNRESET);
  netfw_client_free(c);
  netfw_msg_free(req);
}

/* A raw peer in a child process: accepts one connection, sends frames
 * [u32 seq][60 x seq&0xff] as fast as it can until it is killed. */
static void raw_streamer(int lfd) {
  uint8_t f[RB_HDR + 64];
  uint32_t seq;
  int fd = accept(lfd, NULL, NULL);

  if (fd < 0)
    _exit(1);
  for (seq = 0;; seq++) {
    rb_hdr_pack(f, 0x0a, 64);
    f[RB_HDR] = (uint8_t)seq;
    f[RB_HDR + 1] = (uint8_t)(seq >> 8);
    f[RB_HDR + 2] = (uint8_t)(seq >> 16);
    f[RB_HDR + 3] = (uint8_t)(seq >> 24);
    memset(f + RB_HDR + 4, (int)(seq & 0xff), 60);
    if (wire_send_all(fd, f, sizeof(f)) != 0)
      _exit(0);
  }
}

/* Raw peers: a listening socket, a child that serves one connection with
 * fn, and its port. */
static pid_t raw_peer(void (*fn)(int), uint16_t *port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  pid_t pid;

  assert_true(lfd >= 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(lfd, 4), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
  *port = ntohs(sa.sin_port);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    fn(lfd); /* never returns */
  close(lfd);
  return pid;
}

/* The peer vanishes (SIGKILL) in the middle of a fast stream: recv returns
 * frames with consecutive sequence numbers 0, 1, 2, ... and intact bodies,
 * then NETFW_ECONNRESET within a bounded time. */
static void test_fault_client_server_vanishes_mid_stream(void **state) {
  netfw_client *c = netfw_client_new();
  netfw_msg *m = NULL;
  uint16_t port;
  uint32_t want = 0;
  uint64_t t0 = 0;
  pid_t peer;
  int rc;

  (void)state;
  assert_non_null(c);
  peer = raw_peer(raw_streamer, &port);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  for (;;) {
    const uint8_t *p;
    uint32_t seq, k;
    if (want == 2000) {
      assert_int_equal(kill(peer, SIGKILL), 0);
      assert_int_equal(waitpid(peer, NULL, 0), peer);
      t0 = wire_now_ms();
    }
    rc = netfw_client_recv(c, &m, 10000);
    if (rc != 0)
      break;
    assert_int_equal(netfw_msg_id(m), 0x0a);
    assert_int_equal(netfw_msg_size(m), 64);
    p = netfw_msg_payload(m);
    seq = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
          (uint32_t)p[3] << 24;
    assert_int_equal(seq, want);
    for (k = 4; k < 64; k++)
      assert_int_equal(p[k], seq & 0xff);
    want++;
    netfw_msg_free(m);
  }
  print_message("%u frames received in order, then %s after %lu ms\n", want,
                netfw_strerror(rc), (unsigned long)(wire_now_ms() - t0));
  assert_int_equal(rc, NETFW_ECONNRESET);
  assert_true(want >= 2000);
  assert_true(wire_now_ms() - t0 < 10000);
  assert_int_equal(netfw_client_recv(c, &m, 100), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, 5000), NETFW_ECONNRESET);
  netfw_client_free(c);
}

/* 10 frames, then half a frame, then a reset (SO_LINGER 0) or a FIN. */
static void send_ten_and_half(int lfd, bool rst) {
  uint8_t f[RB_HDR + 8];
  int fd = accept(lfd, NULL, NULL), i;

  if (fd < 0)
    _exit(1);
  for (i = 0; i < 10; i++) {
    rb_hdr_pack(f, (uint16_t)(100 + i), 8);
    memset(f + RB_HDR, i, 8);
    if (wire_send_all(fd, f, sizeof(f)) != 0)
      _exit(2);
  }
  rb_hdr_pack(f, 0x0b, 1000);
  if (wire_send_all(fd, f, sizeof(f)) != 0)
    _exit(2);
  rb_sleep_ms(300); /* let the client read the complete frames first */
  if (rst)
    wire_close_rst(fd);
  else
    close(fd);
  _exit(0);
}

static void peer_ten_rst(int lfd) {
  send_ten_and_half(lfd, true);
}
static void peer_ten_fin(int lfd) {
  send_ten_and_half(lfd, false);
}

static void expect_ten_then_reset(void (*fn)(int)) {
  netfw_client *c = netfw_client_new();
  netfw_msg *m = NULL;
  uint16_t port;
  pid_t peer;
  int i, status;

  assert_non_null(c);
  peer = raw_peer(fn, &port);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  for (i = 0; i < 10; i++) {
    uint8_t want[8];
    assert_int_equal(netfw_client_recv(c, &m, 10000), 0);
    assert_int_equal(netfw_msg_id(m), 100 + i);
    assert_int_equal(netfw_msg_size(m), 8);
    memset(want, i, 8);
    assert_memory_equal(netfw_msg_payload(m), want, 8);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, 10000), NETFW_ECONNRESET);
  assert_null(m);
  assert_int_equal(netfw_client_shutdown(c, 5000), NETFW_ECONNRESET);
  netfw_client_free(c);
  assert_int_equal(waitpid(peer, &status, 0), peer);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The peer resets (or closes) in the middle of a frame: the complete frames
 * before it are returned, the partial one is not, then NETFW_ECONNRESET. */
static void test_fault_client_peer_resets_mid_frame(void **state) {
  (void)state;
  expect_ten_then_reset(peer_ten_rst);
  expect_ten_then_reset(peer_ten_fin);
}

/* Two good frames, then a header announcing 4 GiB - 1, then silence. */
static void peer_huge_header(int lfd) {
  uint8_t f[RB_HDR + 4];
  int fd = accept(lfd, NULL, NULL), i;

  if (fd < 0)
    _exit(1);
  for (i = 0; i < 2; i++) {
    rb_hdr_pack(f, (uint16_t)(200 + i), 4);
    memcpy(f + RB_HDR, "good", 4);
    if (wire_send_all(fd, f, sizeof(f)) != 0)
      _exit(2);
  }
  rb_hdr_pack(f, 0x0c, 0xffffffffu);
  if (wire_send_all(fd, f, RB_HDR) != 0)
    _exit(2);
  rb_sleep_ms(5000); /* the client must not wait for a close from here */
  _exit(0);
}

/* A netfw_client whose peer announces 4 GiB: the two frames before are
 * returned, then NETFW_ECONNRESET well before the peer would close, and the
 * client process's RSS does not grow by more than a few MiB. */
static void test_fault_client_peer_announces_4gib(void **state) {
  netfw_client *c = netfw_client_new();
  netfw_msg *m = NULL;
  long rss0, rss1;
  uint64_t t0;
  uint16_t port;
  pid_t peer;
  int i;

  (void)state;
  assert_non_null(c);
  rss0 = rb_vm_kib(getpid(), "VmRSS:");
  peer = raw_peer(peer_huge_header, &port);
  t0 = wire_now_ms();
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  for (i = 0; i < 2; i++) {
    assert_int_equal(netfw_client_recv(c, &m, 10000), 0);
    assert_int_equal(netfw_msg_id(m), 200 + i);
    assert_int_equal(netfw_msg_size(m), 4);
    assert_memory_equal(netfw_msg_payload(m), "good", 4);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, 10000), NETFW_ECONNRESET);
  assert_true(wire_now_ms() - t0 < 4000);
  rss1 = rb_vm_kib(getpid(), "VmRSS:");
  print_message("client VmRSS %ld KiB -> %ld KiB\n", rss0, rss1);
  assert_true(rss1 - rss0 < 8 * 1024 * RB_MEM_SLACK);
  assert_int_equal(netfw_client_shutdown(c, 5000), NETFW_ECONNRESET);
  netfw_client_free(c);
  kill(peer, SIGKILL);
  assert_int_equal(waitpid(peer, NULL, 0), peer);
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
      cmocka_unit_test_setup_teardown(test_fault_client_worker_killed, rb_setup,
                                      rb_teardown),
      cmocka_unit_test_setup_teardown(
          test_fault_client_server_vanishes_mid_stream, rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_client_peer_resets_mid_frame,
                                      rb_setup, rb_teardown),
      cmocka_unit_test_setup_teardown(test_fault_client_peer_announces_4gib,
                                      rb_setup, rb_teardown),
  };

  signal(SIGPIPE, SIG_IGN);
  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  return cmocka_run_group_tests_name("robust_faults", tests, NULL, NULL);
}
