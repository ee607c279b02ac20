/* The worker's seams for parts that join its loop: the app reaches the
 * worker's libuv loop from create() on (netfw_worker_loop, the same loop as
 * netfw_conn_loop), and a descriptor netfw marked for the workers
 * (netfw__server_keep_fd) survives the fork while the caller's other
 * close-on-exec sockets are closed in the worker. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "netfw/netfw.h"
#include "server_internal.h"
#include "wire.h"

/* What the worker saw (shared with the test process). */
typedef struct seen {
  int kept_fd, other_fd;
  ino_t kept_ino, other_ino; /* what they are in the test process */
  int loop_in_create;        /* 1: netfw_worker_loop() was non-NULL in create */
  int kept_open;             /* 1: kept_fd open in the worker                 */
  int other_open;            /* 1: other_fd open in the worker                */
  int timer_fired;           /* a timer the app started in create() ran      */
} seen;

static void on_timer(uv_timer_t *t) {
  seen *s = t->data;

  s->timer_fired = 1;
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

/* True when fd is open and still the socket it was in the test process
 * (a closed number may have been reused by the worker's own loop). */
static int same_socket(int fd, ino_t ino) {
  struct stat st;

  return fstat(fd, &st) == 0 && st.st_ino == ino;
}

static ino_t ino_of(int fd) {
  struct stat st;

  assert_int_equal(fstat(fd, &st), 0);
  return st.st_ino;
}

static void *app_create(void *context) {
  seen *s = context;
  uv_loop_t *loop = netfw_worker_loop();
  uv_timer_t *t = malloc(sizeof(*t));

  s->loop_in_create = loop != NULL;
  s->kept_open = same_socket(s->kept_fd, s->kept_ino);
  s->other_open = same_socket(s->other_fd, s->other_ino);
  if (loop != NULL && t != NULL) {
    uv_timer_init(loop, t);
    t->data = s;
    uv_timer_start(t, on_timer, 1, 0);
  } else {
    free(t);
  }
  return s;
}

/* Replies 1 when the connection's loop is the worker's loop. */
static void app_message(void *app, netfw_owned_msg *om) {
  netfw_msg r;
  uint8_t same = netfw_conn_loop(om->owner) == netfw_worker_loop();

  (void)app;
  netfw_msg_init(&r, 1);
  netfw_msg_append(&r, &same, 1);
  netfw_conn_send(om->owner, &r);
  netfw_msg_release(&r);
}

static const netfw_app app = {.create = app_create, .on_message = app_message};

static void test_server_seams_loop_and_kept_fds(void **state) {
  seen *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int kept[2], other[2], fd;
  netfw_config cfg;
  netfw_server *srv;
  uint8_t *p = NULL;
  uint32_t n = 0;
  uint16_t id = 0;

  (void)state;
  assert_true(s != MAP_FAILED);
  assert_null(netfw_worker_loop()); /* not a worker */
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, kept), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, other),
                   0);
  s->kept_fd = kept[1];
  s->other_fd = other[1];
  s->kept_ino = ino_of(kept[1]);
  s->other_ino = ino_of(other[1]);
  netfw_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.context = s;
  srv = netfw_server_new(&cfg);
  assert_non_null(srv);
  assert_int_equal(netfw__server_keep_fd(srv, kept[1]), 0);
  assert_int_equal(netfw_server_start(srv), 0);

  fd = wire_connect(netfw_server_port(srv));
  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, 1, NULL, 0), 0);
  assert_int_equal(wire_recv(fd, &id, &p, &n, 5000), 1);
  assert_int_equal(n, 1);
  assert_int_equal(p[0], 1);
  free(p);
  close(fd);
  assert_int_equal(s->loop_in_create, 1);
  assert_int_equal(s->kept_open, 1);
  assert_int_equal(s->other_open, 0);
  for (int i = 0;
       i < 200 && !__atomic_load_n(&s->timer_fired, __ATOMIC_SEQ_CST); i++)
    usleep(10000); /* the timer is due 1 ms after create: give it 2 s */
  assert_int_equal(s->timer_fired, 1);

  assert_int_equal(netfw_server_stop(srv, 5000), 0);
  netfw_server_free(srv);
  close(kept[0]);
  close(kept[1]);
  close(other[0]);
  close(other[1]);
  munmap(s, sizeof(*s));
}

/* ---- a second SIGTERM while a worker ends ---- */

static char g_log[16384];
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

static void log_sink(netfw_log_level level, const char *line, void *arg) {
  (void)level;
  (void)arg;
  pthread_mutex_lock(&g_log_mu);
  if (strlen(g_log) + strlen(line) + 2 < sizeof(g_log)) {
    strcat(g_log, line);
    strcat(g_log, "\n");
  }
  pthread_mutex_unlock(&g_log_mu);
}

static bool log_has(const char *what) {
  bool has;

  pthread_mutex_lock(&g_log_mu);
  has = strstr(g_log, what) != NULL;
  pthread_mutex_unlock(&g_log_mu);
  return has;
}

static void slow_destroy(void *ctx) {
  (void)ctx;
  usleep(400000); /* the worker is ending: its SIGTERM handler is gone */
}

static void echo_message(void *ctx, netfw_owned_msg *om) {
  (void)ctx;
  netfw_conn_send(om->owner, om->msg);
}

static const netfw_app slow_end_app = {.on_message = echo_message,
                                       .destroy = slow_destroy};

/* SIGTERM starts a graceful stop; a second one that lands after the
 * worker's handler is closed (here: during a slow destroy) must not kill
 * it: it ends with status 0. (The parent's stop after a crash-loop stop
 * sent exactly that second SIGTERM and killed the surviving workers.) */
static void test_server_seams_second_sigterm_while_ending(void **state) {
  netfw_config cfg;
  netfw_server *srv;
  pid_t worker;
  char want[64];
  int fd;

  (void)state;
  netfw_log_set_sink(log_sink, NULL);
  netfw_config_init(&cfg, &slow_end_app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  srv = netfw_server_new(&cfg);
  assert_non_null(srv);
  assert_int_equal(netfw_server_start(srv), 0);
  fd = wire_connect(netfw_server_port(srv));
  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, 1, "x", 1), 0);
  close(fd);
  worker = atomic_load(&srv->load[0].pid);
  assert_true(worker > 0);
  assert_int_equal(kill(worker, SIGTERM), 0);
  usleep(150000); /* in destroy by now */
  assert_int_equal(kill(worker, SIGTERM), 0);
  snprintf(want, sizeof(want), "(pid %d) exited with status 0", (int)worker);
  for (int i = 0; i < 300 && !log_has(want) && !log_has("signal 15"); i++)
    usleep(10000);
  if (!log_has(want))
    print_message("log:\n%s", g_log);
  assert_false(log_has("signal 15"));
  assert_true(log_has(want));
  assert_int_equal(netfw_server_stop(srv, 5000), 0);
  netfw_server_free(srv);
  netfw_log_set_sink(NULL, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_server_seams_loop_and_kept_fds),
      cmocka_unit_test(test_server_seams_second_sigterm_while_ending),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
