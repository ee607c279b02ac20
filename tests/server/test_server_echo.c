/* An echo server on this runtime serves netframe-style frames: any id,
 * payloads from 0 B to the 16 MiB default limit; one byte more is refused. */
#include <signal.h>
#include <stdio.h>

#include "fixture.h"
#include "rng.h"

static void echo_random(int fd, test_rng *r, uint16_t id, uint32_t size) {
  uint8_t *p = malloc(size > 0 ? size : 1);

  assert_non_null(p);
  test_rng_fill(r, p, size);
  expect_echo(fd, id, p, size);
  free(p);
}

static void test_server_echo_sizes_and_ids(void **state) {
  static const uint32_t sizes[] = {
      0, 1, 5, 6, 255, 4096, 65535, 65536, 65537, 1u << 20, 3000001, 16u << 20};
  static const uint16_t ids[] = {0, 1, 0xff, 0x1234, 0x7fff, 0xffff};
  fx *f = *state;
  test_rng r;
  size_t i;
  int fd;

  test_rng_seed(&r, 3);
  fx_start(f);
  fd = fx_connect(f);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    echo_random(fd, &r, ids[i % 6], sizes[i]);
  for (i = 0; i < 6; i++)
    echo_random(fd, &r, ids[i], 3);
  wire_close(fd);
}

/* Many frames in flight at once come back in order. */
static void test_server_echo_pipelined(void **state) {
  fx *f = *state;
  uint32_t i;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  for (i = 0; i < 2000; i++)
    assert_int_equal(wire_send(fd, (uint16_t)i, &i, 4), 0);
  for (i = 0; i < 2000; i++)
    expect_frame(fd, (uint16_t)i, &i, 4);
  wire_close(fd);
}

/* Small and large frames mixed, pipelined to a peer that reads only after
 * sending everything: the server's writes go partly direct, partly queued,
 * partly after EAGAIN; every frame must come back whole and in order. */
static void test_server_echo_mixed_sizes_slow_reader(void **state) {
  enum { N = 60 };
  fx *f = *state;
  uint8_t *frames[N];
  uint32_t sizes[N];
  test_rng r;
  int i, fd;

  test_rng_seed(&r, 11);
  fx_start(f);
  fd = fx_connect(f);
  for (i = 0; i < N; i++) {
    sizes[i] = i % 3 == 0   ? (uint32_t)test_rng_range(&r, 65530, 400000)
               : i % 3 == 1 ? (uint32_t)test_rng_range(&r, 0, 100)
                            : (uint32_t)test_rng_range(&r, 1000, 70000);
    frames[i] = malloc(sizes[i] + 1);
    assert_non_null(frames[i]);
    test_rng_fill(&r, frames[i], sizes[i]);
    assert_int_equal(wire_send(fd, (uint16_t)(i + 1), frames[i], sizes[i]), 0);
  }
  for (i = 0; i < N; i++) {
    expect_frame(fd, (uint16_t)(i + 1), frames[i], sizes[i]);
    free(frames[i]);
  }
  wire_close(fd);
}

static void test_server_echo_over_default_limit(void **state) {
  fx *f = *state;
  int fd;

  fx_start(f);
  fd = fx_connect(f);
  assert_int_equal(wire_send_hdr(fd, 0xff, (16u << 20) + 1), 0);
  assert_true(wire_wait_eof(fd, 10000, NULL) >= 0);
  wire_close(fd);
  assert_true(board_log_has(f->b, "max_payload", "16777217"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
      T(test_server_echo_sizes_and_ids),
      T(test_server_echo_pipelined),
      T(test_server_echo_mixed_sizes_slow_reader),
      T(test_server_echo_over_default_limit),
#undef T
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
