/* A seeded random mix of everything a peer can do, on many connections at
 * once, against two workers with small limits: resets, half-closes, closes
 * with replies in flight, oversized headers, floods past the output limit,
 * server-side shutdowns. Afterwards no worker may have died (under ASan a
 * memory error kills the worker, which the create count would show) and the
 * server still serves. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "fixture.h"
#include "frame.h"
#include "rng.h"

enum { SLOTS = 48, STEPS = 3000 };

/* Reads whatever is there without waiting; closes the socket at EOF. */
static void drain_some(int *fd) {
  static uint8_t buf[65536];
  ssize_t n = recv(*fd, buf, sizeof(buf), MSG_DONTWAIT);

  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    close(*fd);
    *fd = -1;
  }
}

static void random_step(fx *f, test_rng *r, int *fds, uint8_t *payload) {
  int i = (int)test_rng_range(r, 0, SLOTS - 1);
  uint16_t id;
  uint32_t n;

  if (fds[i] < 0) {
    fds[i] = wire_connect(f->port);
    return;
  }
  switch (test_rng_range(r, 0, 11)) {
  case 0: /* reset */
    wire_close_rst(fds[i]);
    fds[i] = -1;
    break;
  case 1: /* plain close, maybe with replies still coming */
    close(fds[i]);
    fds[i] = -1;
    break;
  case 2: /* half-close: replies keep coming, then EOF */
    shutdown(fds[i], SHUT_WR);
    break;
  case 3:
    wire_send(fds[i], T_SHUTDOWN3, NULL, 0);
    break;
  case 4: /* a header over max_payload (64 KiB here) */
    wire_send_hdr(fds[i], 0x55, 70000);
    break;
  case 5:
    n = 65536;
    wire_send(fds[i], T_FLOOD, &n, 4);
    break;
  case 6: /* half a frame */
    wire_send_hdr(fds[i], 0x56, 100);
    break;
  default: /* echoes of random sizes, mostly small */
    n = test_rng_range(r, 0, 9) == 0 ? (uint32_t)test_rng_range(r, 0, 65536)
                                     : (uint32_t)test_rng_range(r, 0, 300);
    id = (uint16_t)test_rng_next(r);
    if (id >= T_SHUTDOWN3 && id <= T_SHUTDOWN)
      id = 0x42; /* a plain echo, not one of the test app's commands */
    wire_send(fds[i], id, payload, n);
    break;
  }
  if (fds[i] >= 0 && test_rng_range(r, 0, 1) == 0)
    drain_some(&fds[i]);
}

static void test_server_stress_random_peers(void **state) {
  fx *f = *state;
  uint8_t *payload = calloc(1, 65536);
  int fds[SLOTS], i, fd, steps;
  test_rng r;

  assert_non_null(payload);
  for (i = 0; i < SLOTS; i++)
    fds[i] = -1;
  test_rng_seed(&r, 2024);
  f->cfg.worker_num = 2;
  f->cfg.max_payload = 65536;
  f->cfg.max_output = 256 * 1024;
  f->cfg.drain_timeout_ms = 300;
  f->cfg.idle_timeout_ms = 2000;
  fx_start(f);
  steps = getenv("NETFW_STRESS_STEPS") != NULL
              ? atoi(getenv("NETFW_STRESS_STEPS"))
              : STEPS;
  for (i = 0; i < steps; i++)
    random_step(f, &r, fds, payload);
  for (i = 0; i < SLOTS; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(payload);
  fd = fx_connect(f);
  expect_echo(fd, 0xff, "hello", 5);
  close(fd);
  sleep_ms(500); /* let the workers finish the closes */
  fd = fx_connect(f);
  expect_echo(fd, 0xff, "still", 5);
  close(fd);
  print_message("%d connects, %d messages, %d disconnects, %d flood "
                "refusals\n",
                atomic_load(&f->b->connects), atomic_load(&f->b->messages),
                atomic_load(&f->b->disconnects),
                atomic_load(&f->b->flood_rc) != 0);
  if (atomic_load(&f->b->creates) != 2)
    print_message("log:\n%.*s\n", (int)atomic_load(&f->b->log_len), f->b->log);
  assert_int_equal(atomic_load(&f->b->create_calls), 2);
  assert_int_equal(netfw_server_stop(f->s, 10000), 0);
  assert_int_equal(atomic_load(&f->b->destroys), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_server_stress_random_peers, fx_setup,
                                      fx_teardown),
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
