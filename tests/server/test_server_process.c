/* The worker processes as processes: they survive peers that vanish, leave
 * the caller's children alone, die with their parent and do not keep the
 * caller's descriptors open. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>

#include <uv.h>

#include "fixture.h"


/* Gone, or a zombie nobody reaped yet: either way not running. */
static int process_gone(pid_t pid) {
  char path[64], buf[256], *state;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
  f = fopen(path, "r");
  if (f == NULL)
    return 1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  state = strrchr(buf, ')');
  return state != NULL && (state[2] == 'Z' || state[2] == 'X');
}

/* A peer that resets while the worker writes 8 MiB to it costs only that
 * connection: no SIGPIPE, no respawn. */
static void test_server_peer_vanishes_during_write(void **state) {
  fx *f = *state;
  uint32_t n = 8u * 1024 * 1024;
  uint32_t pid;
  int i, fd;

  fx_start(f);
  fd = fx_connect(f);
  pid = fx_worker_pid(fd);
  close(fd);
  for (i = 0; i < 5; i++) {
    fd = fx_connect(f);
    assert_int_equal(wire_send(fd, T_BIG, &n, 4), 0);
    assert_int_equal(board_wait(&f->b->big_sent, 1, 10000), 1);
    atomic_store(&f->b->big_sent, 0);
    wire_close_rst(fd);
  }
  fd = fx_connect(f);
  expect_echo(fd, 0xff, "hello", 5);
  assert_int_equal(fx_worker_pid(fd), pid);
  close(fd);
  assert_int_equal(atomic_load(&f->b->creates), 1);
  /* the pid probe, 5 resets and the last echo: all peer-side closes */
  assert_int_equal(board_wait(&f->b->disconnects, 7, 10000), 7);
}

/* The supervisor reaps only its own workers: a child of the caller keeps its
 * exit status for the caller, through a respawn and a stop. */
static void test_server_leaves_callers_children_alone(void **state) {
  fx *f = *state;
  int status = 0, fd;
  pid_t mine = fork();

  assert_true(mine >= 0);
  if (mine == 0) {
    sleep_ms(300);
    _exit(7);
  }
  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send(fd, T_ABORT, NULL, 0), 0);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  close(fd);
  assert_int_equal(board_wait(&f->b->creates, 2, 10000), 2);
  sleep_ms(500); /* the child has exited by now */
  assert_int_equal(netfw_server_stop(f->s, 5000), 0);
  assert_int_equal(waitpid(mine, &status, 0), mine);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 7);
}

/* A parent that dies takes its workers with it: nobody keeps the port. */
static void test_server_workers_die_with_parent(void **state) {
  fx *f = *state;
  int pipefd[2], fd, status;
  uint16_t port = 0;
  uint32_t wpid;
  uint64_t deadline;
  pid_t parent;

  assert_int_equal(pipe(pipefd), 0);
  parent = fork();
  assert_true(parent >= 0);
  if (parent == 0) {
    netfw_server *s = netfw_server_new(&f->cfg);
    if (s == NULL || netfw_server_start(s) != 0)
      _exit(1);
    port = netfw_server_port(s);
    if (write(pipefd[1], &port, sizeof(port)) != sizeof(port))
      _exit(1);
    pause(); /* until the test kills us */
    _exit(0);
  }
  close(pipefd[1]);
  assert_int_equal(read(pipefd[0], &port, sizeof(port)), (ssize_t)sizeof(port));
  close(pipefd[0]);
  f->port = port;
  fd = fx_connect(f);
  wpid = fx_worker_pid(fd);
  kill(parent, SIGKILL);
  assert_int_equal(waitpid(parent, &status, 0), parent);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0); /* the worker went too */
  close(fd);
  deadline = wire_now_ms() + 10000;
  while (!process_gone((pid_t)wpid) && wire_now_ms() < deadline)
    sleep_ms(10);
  assert_true(process_gone((pid_t)wpid));
  assert_int_equal(wire_connect(port), -1);
}

/* A socket the caller opened (close-on-exec) before start() is not held
 * open by the workers: closing it still reaches its peer. */
static void test_server_workers_drop_cloexec_fds(void **state) {
  fx *f = *state;
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int lst, cli, srv;
  char c;

  lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lst, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(lst, 4), 0);
  assert_int_equal(getsockname(lst, (struct sockaddr *)&sa, &len), 0);
  cli = wire_connect(ntohs(sa.sin_port));
  assert_true(cli >= 0);
  srv = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
  assert_true(srv >= 0);
  f->cfg.worker_num = 2;
  fx_start(f); /* the workers are forked while cli is open */
  close(cli);
  assert_int_equal(wire_wait_eof(srv, 5000, NULL), 0);
  assert_int_equal(recv(srv, &c, 1, MSG_DONTWAIT), 0);
  close(srv);
  close(lst);
}

/* ip NULL binds to this host's address by its name, as netframe does. */
static void test_server_default_ip_is_host_address(void **state) {
  fx *f = *state;
  struct addrinfo hints, *res;
  struct sockaddr_in sa;
  char name[256];
  int fd;

  assert_int_equal(gethostname(name, sizeof(name)), 0);
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(name, NULL, &hints, &res) != 0)
    skip(); /* this host's name does not resolve */
  memcpy(&sa, res->ai_addr, sizeof(sa));
  freeaddrinfo(res);
  f->cfg.ip = NULL;
  fx_start(f);
  sa.sin_port = htons(f->port);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  expect_echo(fd, 0xff, "hello", 5);
  close(fd);
}

/* A program that used libuv before starting a server (a client, a loop of
 * its own) still gets working workers: libuv's signal pipe, recreated in the
 * child at fork, must survive the worker's clean-up of inherited fds. */
static void on_usr2(uv_signal_t *h, int signum) {
  (void)h;
  (void)signum;
}

static void test_server_starts_after_caller_used_libuv(void **state) {
  fx *f = *state;
  uv_loop_t loop;
  uv_signal_t sig;
  int fd;

  assert_int_equal(uv_loop_init(&loop), 0);
  assert_int_equal(uv_signal_init(&loop, &sig), 0);
  assert_int_equal(uv_signal_start(&sig, on_usr2, SIGUSR2), 0);
  uv_close((uv_handle_t *)&sig, NULL);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
  assert_int_equal(uv_loop_close(&loop), 0);
  f->cfg.worker_num = 2;
  fx_start(f);
  fd = fx_connect(f);
  expect_echo(fd, 0xff, "hello", 5);
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_server_peer_vanishes_during_write),
      T(test_server_leaves_callers_children_alone),
      T(test_server_workers_die_with_parent),
      T(test_server_workers_drop_cloexec_fds),
      T(test_server_default_ip_is_host_address),
      T(test_server_starts_after_caller_used_libuv),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
