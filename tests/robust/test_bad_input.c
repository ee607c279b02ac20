/* Bad input against a running server (ctest label "robust").
 *
 * Every case starts an echo server in this process (workers forked from it),
 * opens a well-behaved "witness" connection BEFORE the attack, attacks, and
 * then checks the same things:
 * - the worker processes are the same pids as before (none crashed and was
 *   respawned) and create() ran once per worker;
 * - the witness connection is still served (exact echoes, 0 B to 100 KiB);
 * - a fresh connection is served;
 * - the workers' open descriptors and the app's open-connection count are
 *   back where they were (nothing leaked for the attacking connections).
 *
 * This file holds the oversized headers and the garbage; slow and broken
 * peers, the idle timeout and a peer that never reads are in
 * test_bad_peers.c, the fixture and the checks in bad_kit.c. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "bad_kit.h"
#include "rng.h"
#include "robust.h"

/* ---- oversized headers ---- */

/* 64 connections each announce 4 GiB - 1 (u32 max) with the default 16 MiB
 * max_payload: every one is closed and the worker's RSS does not move by
 * more than a few MiB. */
static void test_bad_header_4gib(void **state) {
  bad *t = *state;
  long rss0, rss1;
  int i;

  start(t);
  rss0 = worker_rss(t);
  for (i = 0; i < 64; i++) {
    uint8_t hdr[RB_HDR];
    int fd = wire_connect(t->r.port);
    assert_true(fd >= 0);
    rb_hdr_pack(hdr, (uint16_t)i, 0xffffffffu);
    assert_int_equal(wire_send_all(fd, hdr, sizeof(hdr)), 0);
    assert_closed_by_server(fd);
    close(fd);
  }
  rss1 = worker_rss(t);
  print_message("worker VmRSS %ld KiB -> %ld KiB\n", rss0, rss1);
  assert_true(rss1 - rss0 < 3 * 1024 * RB_MEM_SLACK);
  assert_unaffected(t);
}

/* The same header with max_payload at its largest (u32 max), so the header
 * is legal: the server waits for the payload, but bytes announced and not
 * sent must cost no memory. 32 such connections (4 under ASan, which takes
 * about 0.6 s to poison the shadow of each freed 4 GiB reservation) send
 * 64 KiB each and hold. */
static void test_bad_header_4gib_accepted_costs_nothing(void **state) {
  enum { N = RB_SANITIZED ? 4 : 32 };
  bad *t = *state;
  static uint8_t chunk[65536];
  int fds[N], i;
  long rss0, rss1;

  if (rb_under_valgrind()) {
    print_message("skipped under valgrind (4 GiB reservations)\n");
    skip();
  }
  t->r.cfg.max_payload = 0xffffffffu;
  start(t);
  rss0 = worker_rss(t);
  memset(chunk, 0xa5, sizeof(chunk));
  for (i = 0; i < N; i++) {
    uint8_t hdr[RB_HDR];
    fds[i] = wire_connect(t->r.port);
    assert_true(fds[i] >= 0);
    rb_hdr_pack(hdr, 9, 0xffffffffu);
    assert_int_equal(wire_send_all(fds[i], hdr, sizeof(hdr)), 0);
    assert_int_equal(wire_send_all(fds[i], chunk, sizeof(chunk)), 0);
  }
  /* the witness round trip proves the worker has read what came before */
  assert_serves(t->witness);
  rss1 = worker_rss(t);
  print_message("worker VmRSS %ld KiB -> %ld KiB with %d x 64 KiB of %d x "
                "4 GiB announced\n",
                rss0, rss1, N, N);
  assert_true(rss1 - rss0 < (N * 64 + 4 * 1024) * RB_MEM_SLACK);
  for (i = 0; i < N; i++) {
    assert_true(rb_still_open(fds[i], 0));
    close(fds[i]);
  }
  assert_unaffected(t);
}

/* max_payload 4096: exactly 4096 is echoed; a header announcing 4097 closes
 * the connection, alone or after a good frame in the same write. */
static void test_bad_header_over_max_payload(void **state) {
  bad *t = *state;
  static uint8_t buf[4096 + 64];
  int fd;

  t->r.cfg.max_payload = 4096;
  start(t);
  memset(buf, 0x3c, sizeof(buf));
  fd = wire_connect(t->r.port);
  assert_true(rb_echo_ok(fd, 0x11, buf, 4096, IO_MS));
  assert_true(rb_echo_ok(fd, 0x11, buf, 4095, IO_MS));
  close(fd);

  fd = wire_connect(t->r.port);
  rb_hdr_pack(buf, 0x24, 4097);
  assert_int_equal(wire_send_all(fd, buf, RB_HDR), 0);
  assert_closed_by_server(fd);
  close(fd);

  fd = wire_connect(t->r.port);
  rb_hdr_pack(buf, 0x22, 10);
  memcpy(buf + RB_HDR, "0123456789", 10);
  rb_hdr_pack(buf + RB_HDR + 10, 0x23, 0x7fffffff);
  assert_int_equal(wire_send_all(fd, buf, RB_HDR * 2 + 10 + 100), 0);
  assert_closed_by_server(fd);
  close(fd);
  assert_unaffected(t);
}

/* A good frame and an oversized header arrive in one read: the reply the app
 * queued for the good frame is delivered, then the connection closes. (Was
 * a bug: the immediate close dropped the reply; fixed in 09bdb96.) */
static void test_bad_oversize_keeps_queued_reply(void **state) {
  bad *t = *state;
  static uint8_t buf[4096 + 64];
  uint8_t *p = NULL;
  uint16_t id = 0;
  uint32_t size = 0;
  int fd;

  t->r.cfg.max_payload = 4096;
  start(t);
  memset(buf, 0x3c, sizeof(buf));
  fd = wire_connect(t->r.port);
  rb_hdr_pack(buf, 0x22, 10);
  memcpy(buf + RB_HDR, "0123456789", 10);
  rb_hdr_pack(buf + RB_HDR + 10, 0x23, 4097);
  assert_int_equal(wire_send_all(fd, buf, RB_HDR * 2 + 10 + 100), 0);
  assert_int_equal(wire_recv(fd, &id, &p, &size, IO_MS), 1);
  assert_int_equal(id, 0x22);
  assert_int_equal(size, 10);
  assert_memory_equal(p, "0123456789", 10);
  free(p);
  assert_closed_by_server(fd);
  close(fd);
  assert_unaffected(t);
}

/* 100 connections announce max_payload (16 MiB) and send nothing more:
 * the worker reserves no memory it would have to touch for them. */
static void test_bad_many_announce_max_payload(void **state) {
  bad *t = *state;
  int fds[100], i;
  long rss0, rss1;

  start(t);
  rss0 = worker_rss(t);
  for (i = 0; i < 100; i++) {
    uint8_t hdr[RB_HDR];
    fds[i] = wire_connect(t->r.port);
    assert_true(fds[i] >= 0);
    rb_hdr_pack(hdr, 5, NETFW_DEFAULT_MAX_PAYLOAD);
    assert_int_equal(wire_send_all(fds[i], hdr, sizeof(hdr)), 0);
  }
  assert_serves(t->witness);
  rss1 = worker_rss(t);
  print_message("worker VmRSS %ld KiB -> %ld KiB with 100 x 16 MiB "
                "announced\n",
                rss0, rss1);
  assert_true(rss1 - rss0 < 4 * 1024 * RB_MEM_SLACK);
  for (i = 0; i < 100; i++)
    close(fds[i]);
  assert_unaffected(t);
}

/* ---- garbage ---- */

/* Writes len bytes, giving up quietly when the server closed. */
static void spray(int fd, const uint8_t *p, size_t len, test_rng *rng) {
  while (len > 0) {
    size_t n = (size_t)test_rng_range(rng, 1, 4096);
    if (n > len)
      n = len;
    if (wire_send_all(fd, p, n) != 0)
      return;
    p += n;
    len -= n;
  }
}

/* 60 connections with a max_payload of 64 KiB: pure random bytes, random
 * frames (random ids, sizes 0..2000) with random cut points, and a mix of
 * both; each ends with a FIN, a reset, or waits for the server's close. */
static void test_bad_random_garbage(void **state) {
  bad *t = *state;
  static uint8_t buf[65536];
  test_rng rng;
  int i;

  t->r.cfg.max_payload = 65536;
  start(t);
  test_rng_seed(&rng, 0x6a7ba6e);
  for (i = 0; i < 60; i++) {
    size_t len = (size_t)test_rng_range(&rng, 1, sizeof(buf)), off = 0;
    struct timeval tv = {5, 0};
    int fd = wire_connect(t->r.port), kind = i % 3;
    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    test_rng_fill(&rng, buf, len);
    if (kind >= 1) { /* lay plausible frames over part or all of it */
      while (off + RB_HDR < len && (kind == 1 || off < len / 2)) {
        uint32_t n = (uint32_t)test_rng_range(&rng, 0, 2000);
        rb_hdr_pack(buf + off, (uint16_t)test_rng_next(&rng), n);
        off += RB_HDR + n;
      }
    }
    spray(fd, buf, len, &rng);
    switch (test_rng_range(&rng, 0, 2)) {
    case 0:
      close(fd);
      break;
    case 1:
      wire_close_rst(fd);
      break;
    default:
      /* the server answered or closed by now; drop what it sent */
      wire_wait_eof(fd, 50, NULL);
      wire_close_rst(fd);
      break;
    }
  }
  assert_unaffected(t);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bad_header_4gib, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_bad_header_4gib_accepted_costs_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_header_over_max_payload, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_oversize_keeps_queued_reply,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_many_announce_max_payload, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_bad_random_garbage, setup, teardown),
  };

  if (argc > 1)
    cmocka_set_test_filter(argv[1]); /* e.g. "*4gib*" */
  return cmocka_run_group_tests_name("robust_bad_input", tests, NULL, NULL);
}
