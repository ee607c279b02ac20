/* Load with accounting (ctest label "load").
 *
 * 200 connections x 5000 messages through an echo server with 2 workers, all
 * driven by one epoll thread (accounting.c): 0 lost, 0 corrupted, 0
 * duplicated, 0 reordered on every connection, and the workers saw each
 * message exactly once.
 *
 * Size budget: payloads follow ACCT_SIZES_MIXED (70 % 0-255 B, 25 %
 * 256 B-4 KiB, 4.5 % 4-32 KiB, 0.5 % 32-64 KiB, plus one 0 B and one 64 KiB
 * message in every 1000): about 1.7 KiB on average, so 1 000 000 messages
 * are about 1.7 GiB each way; on the 2-core development machine the run takes
 * about 9 s when idle. The bound (ctest TIMEOUT 300) leaves room for a
 * shared machine.
 *
 * Soak: NETFW_SOAK_SECONDS=N runs the same for N seconds instead, replacing
 * every connection that finished its 5000 messages by a new one (ctest does
 * not set it):
 *   NETFW_SOAK_SECONDS=600 build/bin/test_robust_load '*accounting*'
 *
 * A third case checks the checker: an echo app that drops, duplicates,
 * swaps and corrupts chosen messages must be caught with exact counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accounting.h"
#include "robust.h"


static void print_totals(const char *what, const acct_stats *s, double secs) {
  char line[512];

  acct_format(s, line, sizeof(line));
  print_message("%s: %s; %.2f s\n", what, line, secs);
}

static void assert_clean(const acct_stats *s, long conns) {
  assert_int_equal(s->lost, 0);
  assert_int_equal(s->corrupted, 0);
  assert_int_equal(s->duplicated, 0);
  assert_int_equal(s->reordered, 0);
  assert_int_equal(s->unanswered, 0);
  assert_int_equal(s->conns_eof + s->conns_reset + s->conns_failed, 0);
  assert_int_equal(s->conns_done, conns);
  assert_int_equal(s->received, s->sent);
  assert_int_equal(s->ok, s->sent);
}

/* 200 x 5000 (or the soak) through echo with 2 workers. */
static void test_load_accounting_200x5000(void **state) {
  rb_server *r = *state;
  const char *soak = getenv("NETFW_SOAK_SECONDS");
  acct_cfg cfg = {.conns = 200,
                  .msgs = 5000,
                  .window = 16,
                  .sizes = ACCT_SIZES_MIXED,
                  .seed = 20261126};
  accounting *a;
  acct_stats s;
  uint64_t t0;
  int left;

  if (soak != NULL && atoi(soak) > 0)
    cfg.soak_ms = atoi(soak) * 1000;
  r->cfg.worker_num = 2;
  assert_int_equal(rb_server_start(r), 0);
  cfg.port = r->port;
  a = acct_new(&cfg);
  assert_non_null(a);
  assert_int_equal(acct_open(a), 0);
  t0 = wire_now_ms();
  left = acct_run(a, cfg.soak_ms + 250000);
  acct_totals(a, &s);
  print_totals(cfg.soak_ms > 0 ? "soak" : "200 x 5000", &s,
               (double)(wire_now_ms() - t0) / 1000.0);
  acct_free(a);
  assert_int_equal(left, 0);
  if (cfg.soak_ms == 0) {
    assert_int_equal(s.sent, 200L * 5000);
    assert_clean(&s, 200);
  } else {
    assert_true(s.sent > 0);
    assert_clean(&s, s.conns_done);
  }
  /* the workers saw every message exactly once and echoed each */
  assert_int_equal(rb_wait_atleast(&r->b->messages, s.sent, 10000), s.sent);
  assert_int_equal(atomic_load(&r->b->echoed), s.sent);
  assert_int_equal(atomic_load(&r->b->send_fails), 0);
  assert_int_equal(atomic_load(&r->b->creates), 2);
}

/* ---- checking the checker ---- */

/* Per connection, by message index k (0-based): k 10 dropped, k 20 echoed
 * twice, k 31 echoed before k 30, one byte of k 40 flipped. */
static void faulty_message(void *app, netfw_owned_msg *om) {
  static __thread netfw_msg held;
  long k = (long)(intptr_t)netfw_conn_data(om->owner);
  netfw_msg copy;

  (void)app;
  netfw_conn_set_data(om->owner, (void *)(intptr_t)(k + 1));
  if (k == 10)
    return;
  if (k == 30) { /* hold until k 31 went out */
    netfw_msg_init(&held, netfw_msg_id(om->msg));
    netfw_msg_append(&held, netfw_msg_payload(om->msg),
                     netfw_msg_size(om->msg));
    return;
  }
  if (k == 40 && netfw_msg_size(om->msg) > 0) {
    netfw_msg_init(&copy, netfw_msg_id(om->msg));
    netfw_msg_append(&copy, netfw_msg_payload(om->msg),
                     netfw_msg_size(om->msg));
    netfw_msg_set_id(&copy, netfw_msg_id(om->msg));
    ((uint8_t *)(uintptr_t)netfw_msg_payload(
        &copy))[netfw_msg_size(&copy) - 1] ^= 0x01;
    netfw_conn_send(om->owner, &copy);
    netfw_msg_release(&copy);
    return;
  }
  netfw_conn_send(om->owner, om->msg);
  if (k == 20)
    netfw_conn_send(om->owner, om->msg);
  if (k == 31) {
    netfw_conn_send(om->owner, &held);
    netfw_msg_release(&held);
  }
}

static const netfw_app faulty_app = {.on_message = faulty_message};

/* One worker, one connection of 100 small messages (message 40 must not be
 * empty for the flip: asserted through the corrupted count). */
static void test_load_checker_catches_faults(void **state) {
  rb_server *r = *state;
  acct_cfg cfg = {.conns = 1,
                  .msgs = 100,
                  .window = 8,
                  .sizes = ACCT_SIZES_SMALL,
                  .seed = 7};
  accounting *a;
  acct_stats s;
  int left;

  r->cfg.app = &faulty_app;
  assert_int_equal(rb_server_start(r), 0);
  cfg.port = r->port;
  a = acct_new(&cfg);
  assert_non_null(a);
  assert_int_equal(acct_open(a), 0);
  left = acct_run(a, 1500); /* k 10 and k 40 are never answered right */
  acct_totals(a, &s);
  print_totals("faulty echo", &s, 1.5);
  acct_free(a);
  assert_int_equal(left, 1);
  assert_int_equal(s.sent, 100);
  assert_int_equal(s.received, 100); /* 99 echoes + 1 duplicate */
  assert_int_equal(s.lost, 2);       /* k 10 dropped, k 40 never intact */
  assert_int_equal(s.corrupted, 1);
  assert_int_equal(s.duplicated, 1);
  assert_int_equal(s.reordered, 1);
  assert_int_equal(s.ok, 97);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_load_checker_catches_faults, rb_setup,
                                      rb_teardown),
      cmocka_unit_test_setup_teardown(test_load_accounting_200x5000, rb_setup,
                                      rb_teardown),
  };

  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  return cmocka_run_group_tests_name("robust_load", tests, NULL, NULL);
}
