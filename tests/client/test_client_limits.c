/* Client runtime against a scripted peer (peer.c), its inbound limits: an
 * oversized frame drops the connection, a huge header is refused without
 * allocating, a full inbox holds the peer back, shutdown with a full inbox
 * and a shutdown timeout that aborts. Moved out of test_client.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfw/netfw.h"
#include "client_kit.h"
#include "peer.h"

static void test_client_oversized_frame_drops_connection(void **state) {
  test_peer p = {0};
  netfw_client *c = client_new();
  netfw_msg *m;

  p.oversize = 1001;
  assert_int_equal(netfw_client_set_max_payload(c, 1000), 0);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, peer_start(&p, PEER_OVERSIZE)), 0);
  expect_text(c, 7, "ok");
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  peer_join(&p);
}

/* 4 GiB announced with the default 16 MiB limit: refused from the header. */
static void test_client_huge_header_refused_without_allocating(void **state) {
  test_peer p = {0};
  netfw_client *c;
  netfw_msg *m;

  p.oversize = 0xffffffffu;
  c = connect_to(peer_start(&p, PEER_OVERSIZE));
  expect_text(c, 7, "ok");
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  peer_join(&p);
}

/* A peer that sends faster than the application receives: past max_inbox
 * the client stops reading and TCP holds the peer back; recv resumes it and
 * every frame still arrives, in order, then the loss. */
static void test_client_inbox_limit_holds_the_peer_back(void **state) {
  enum { FRAMES = 1000 }; /* 64 KiB each: 62.5 MiB */
  test_peer p = {0};
  netfw_client *c = client_new();
  netfw_msg *m = NULL;
  uint32_t sent;

  p.flood_frames = FRAMES;
  assert_int_equal(netfw_client_set_max_inbox(c, 1024 * 1024), 0);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, peer_start(&p, PEER_FLOOD)), 0);
  assert_int_equal(netfw_client_set_max_inbox(c, 0), NETFW_ESTATE);
  usleep(500000);
  sent = __atomic_load_n(&p.flood_sent, __ATOMIC_RELAXED);
  print_message("peer got %u of %u frames out while the client held 1 MiB\n",
                sent, (unsigned)FRAMES);
  /* 1 MiB of inbox plus what the kernel buffers on loopback (a few MiB) */
  assert_true(sent > 0);
  assert_true(sent < 320);
  for (uint32_t i = 0; i < FRAMES; i++) {
    uint32_t seq = ~i;
    assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), 0);
    assert_int_equal(netfw_msg_id(m), (uint16_t)i);
    assert_int_equal(netfw_msg_size(m), 64 * 1024);
    assert_int_equal(netfw_msg_pop(m, &seq, 4), 0);
    assert_int_equal(seq, i);
    netfw_msg_free(m);
  }
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.flood_sent, FRAMES);
}

/* Shutdown while reading is paused on a full inbox must still drain. */
static void test_client_shutdown_with_full_inbox(void **state) {
  test_peer p = {0};
  netfw_client *c = client_new();

  p.flood_frames = 400;
  assert_int_equal(netfw_client_set_max_inbox(c, 256 * 1024), 0);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, peer_start(&p, PEER_FLOOD)), 0);
  usleep(200000);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.flood_sent, 400);
}

static void test_client_shutdown_timeout_aborts(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_HOLD));
  int64_t t0, elapsed;

  send_text(c, 5, "held");
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_shutdown(c, 200), NETFW_ETIMEDOUT);
  elapsed = peer_now_ms() - t0;
  assert_true(elapsed >= 200);
  assert_true(elapsed < 5000);
  netfw_client_free(c);
  peer_join(&p);
  assert_int_equal(p.frames, 1);
  assert_true(p.saw_eof); /* the FIN went out before the reset */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_oversized_frame_drops_connection),
      cmocka_unit_test(test_client_huge_header_refused_without_allocating),
      cmocka_unit_test(test_client_inbox_limit_holds_the_peer_back),
      cmocka_unit_test(test_client_shutdown_with_full_inbox),
      cmocka_unit_test(test_client_shutdown_timeout_aborts),
  };
  return cmocka_run_group_tests_name("client_limits", tests, NULL, NULL);
}
