/* Per-test fixture of the server tests: a board, a config on 127.0.0.1 port
 * 0 running the test app (over TLS in a _tls variant: tls_kit.h), the
 * server once started, and small helpers. */
#ifndef NETFW_TEST_FIXTURE_H
#define NETFW_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testapp.h"
#include "tls_kit.h"
#include "wire.h"

#include <sys/mman.h>

typedef struct fx {
  board *b;
  netfw_config cfg;
  netfw_server *s;
  uint16_t port;
} fx;

static inline int fx_setup(void **state) {
  fx *f = calloc(1, sizeof(*f));

  if (f == NULL || (f->b = board_new()) == NULL)
    return -1;
  board_capture_log(f->b);
  netfw_config_init(&f->cfg, &testapp);
  f->cfg.ip = "127.0.0.1";
  f->cfg.port = 0;
  f->cfg.context = f->b;
  tls_kit_server_config(&f->cfg); /* the _tls variant: TLS on */
  *state = f;
  return 0;
}

/* fx_setup for a test that steers its workers: the app is testapp with
 * create replaced (kept in *app, which must outlive the server) and a
 * zeroed block of size bytes shared with the workers (MAP_SHARED) comes
 * back in *shared (munmap it in the teardown). Returns 0 or -1. */
static inline int fx_setup_steered(void **state, netfw_app *app,
                                   void *(*create)(void *context),
                                   void **shared, size_t size) {
  fx *f;

  *shared = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (*shared == MAP_FAILED || fx_setup(state) != 0)
    return -1;
  f = *state;
  *app = testapp;
  app->create = create;
  f->cfg.app = app;
  return 0;
}

static inline int fx_teardown(void **state) {
  fx *f = *state;

  if (f->s != NULL) {
    netfw_server_stop(f->s, 3000);
    netfw_server_free(f->s);
  }
  netfw_log_set_sink(NULL, NULL);
  board_free(f->b);
  free(f);
  return 0;
}

/* Starts the server with f->cfg; fails the test if it does not start. */
static inline void fx_start(fx *f) {
  f->s = netfw_server_new(&f->cfg);
  assert_non_null(f->s);
  assert_int_equal(netfw_server_start(f->s), 0);
  f->port = netfw_server_port(f->s);
  assert_int_not_equal(f->port, 0);
}

static inline int fx_connect(fx *f) {
  int fd = wire_connect(f->port);
  assert_true(fd >= 0);
  return fd;
}

/* Expects one frame with exactly this id and payload. */
static inline void expect_frame(int fd, uint16_t id, const void *payload,
                                uint32_t size) {
  uint16_t got_id = 0;
  uint8_t *got = NULL;
  uint32_t got_size = 0;

  assert_int_equal(wire_recv(fd, &got_id, &got, &got_size, 10000), 1);
  assert_int_equal(got_id, id);
  assert_int_equal(got_size, size);
  if (size > 0)
    assert_memory_equal(got, payload, size);
  free(got);
}

/* Sends id/payload and expects it echoed. */
static inline void expect_echo(int fd, uint16_t id, const void *payload,
                               uint32_t size) {
  assert_int_equal(wire_send(fd, id, payload, size), 0);
  expect_frame(fd, id, payload, size);
}

static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* on_message calls fx_sync() causes. */
#define FX_SYNC_MESSAGES 2

/* Makes sure the (single) worker has handled everything sent before: a round
 * trip on a new connection, after a pause for the kernel to deliver. */
static inline void fx_sync(fx *f) {
  int fd;

  sleep_ms(50);
  fd = fx_connect(f);
  expect_echo(fd, 0x1, "sync", 4);
  /* a server-side close, so on_client_disconnect is not involved */
  assert_int_equal(wire_send(fd, T_SHUTDOWN, NULL, 0), 0);
  assert_int_equal(wire_wait_eof(fd, 10000, NULL), 0);
  wire_close(fd);
  sleep_ms(50);
}

/* The pid of the worker serving fd (a T_PID round trip). */
static inline uint32_t fx_worker_pid(int fd) {
  uint16_t id = 0;
  uint8_t *p = NULL;
  uint32_t n = 0, pid = 0;

  assert_int_equal(wire_send(fd, T_PID, NULL, 0), 0);
  assert_int_equal(wire_recv(fd, &id, &p, &n, 10000), 1);
  assert_int_equal(id, T_PID);
  assert_int_equal(n, 4);
  memcpy(&pid, p, 4);
  free(p);
  return pid;
}

#endif /* NETFW_TEST_FIXTURE_H */
