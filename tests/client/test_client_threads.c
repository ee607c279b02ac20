/* Client runtime against a scripted peer (peer.c), used from several
 * threads: send and recv in two threads, two senders keep their order, two
 * receivers split the messages, shutdown wakes a blocked recv. Moved out
 * of test_client.c (round trips, timeouts, losses, misuse). */
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

static void test_client_send_and_recv_in_two_threads(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));
  sender_arg a = {.c = c, .n = 20000};
  pthread_t t;

  assert_int_equal(pthread_create(&t, NULL, sender_main, &a), 0);
  for (uint32_t i = 0; i < a.n; i++)
    expect_seq(c, i);
  pthread_join(t, NULL);
  assert_int_equal(a.failures, 0);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
}

/* Two threads sending at once: every message arrives once, and each
 * sender's messages in its own order. Message id = sender, payload = seq. */
typedef struct tagged_sender {
  netfw_client *c;
  uint16_t tag;
  uint32_t n;
  int failures;
} tagged_sender;

static void *tagged_sender_main(void *arg) {
  tagged_sender *a = arg;
  for (uint32_t i = 0; i < a->n; i++) {
    netfw_msg m;
    netfw_msg_init(&m, a->tag);
    if (netfw_msg_append(&m, &i, 4) != 0 || netfw_client_send(a->c, &m) != 0)
      a->failures++;
    netfw_msg_release(&m);
  }
  return NULL;
}

static void test_client_two_senders_keep_their_order(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));
  tagged_sender a[2] = {{.c = c, .tag = 0, .n = 10000},
                        {.c = c, .tag = 1, .n = 10000}};
  uint32_t next[2] = {0, 0};
  pthread_t t[2];

  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, tagged_sender_main, &a[i]), 0);
  for (uint32_t k = 0; k < a[0].n + a[1].n; k++) {
    netfw_msg *m = NULL;
    uint32_t seq;
    assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), 0);
    assert_true(netfw_msg_id(m) < 2);
    assert_int_equal(netfw_msg_pop(m, &seq, 4), 0);
    assert_int_equal(seq, next[netfw_msg_id(m)]);
    next[netfw_msg_id(m)]++;
    netfw_msg_free(m);
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(a[i].failures, 0);
  }
  assert_int_equal(next[0], a[0].n);
  assert_int_equal(next[1], a[1].n);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
}

/* Two threads receiving at once: each message goes to exactly one. */
enum { SPLIT_N = 20000 };
typedef struct split_receiver {
  netfw_client *c;
  uint8_t *seen;   /* shared; each receiver marks what it got */
  uint32_t *total; /* shared; messages taken by both */
  uint32_t got;
  int failures;
} split_receiver;

static void *split_receiver_main(void *arg) {
  split_receiver *r = arg;
  int64_t deadline = peer_now_ms() + WAIT_MS;

  while (__atomic_load_n(r->total, __ATOMIC_RELAXED) < SPLIT_N &&
         peer_now_ms() < deadline) {
    netfw_msg *m = NULL;
    uint32_t seq;
    int rc = netfw_client_recv(r->c, &m, 50);
    if (rc == NETFW_ETIMEDOUT)
      continue; /* maybe the other one took the rest: look at total */
    if (rc != 0 || netfw_msg_pop(m, &seq, 4) != 0 || seq >= SPLIT_N ||
        __atomic_fetch_add(&r->seen[seq], 1, __ATOMIC_RELAXED) != 0)
      r->failures++;
    r->got++;
    __atomic_fetch_add(r->total, 1, __ATOMIC_RELAXED);
    netfw_msg_free(m);
  }
  return NULL;
}

static void test_client_two_receivers_split_the_messages(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_ECHO));
  uint8_t *seen = calloc(SPLIT_N, 1);
  uint32_t total = 0;
  split_receiver r[2] = {{.c = c, .seen = seen, .total = &total},
                         {.c = c, .seen = seen, .total = &total}};
  pthread_t t[2];
  netfw_msg *m;

  assert_non_null(seen);
  for (uint32_t i = 0; i < SPLIT_N; i++) {
    m = msg_seq(i);
    assert_int_equal(netfw_client_send(c, m), 0);
    netfw_msg_free(m);
  }
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, split_receiver_main, &r[i]),
                     0);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(r[0].failures + r[1].failures, 0);
  assert_int_equal(r[0].got + r[1].got, SPLIT_N);
  for (uint32_t i = 0; i < SPLIT_N; i++)
    assert_int_equal(seen[i], 1);
  free(seen);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  peer_join(&p);
}

typedef struct recv_arg {
  netfw_client *c;
  int rc;
} recv_arg;

static void *blocked_recv_main(void *arg) {
  recv_arg *a = arg;
  netfw_msg *m = NULL;
  a->rc = netfw_client_recv(a->c, &m, -1);
  netfw_msg_free(m);
  return NULL;
}

static void test_client_shutdown_wakes_blocked_recv(void **state) {
  test_peer p = {0};
  netfw_client *c = connect_to(peer_start(&p, PEER_COUNT));
  recv_arg a = {.c = c, .rc = 1};
  pthread_t t;

  assert_int_equal(pthread_create(&t, NULL, blocked_recv_main, &a), 0);
  usleep(100000);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  pthread_join(t, NULL);
  assert_int_equal(a.rc, NETFW_ESTATE);
  netfw_client_free(c);
  peer_join(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_send_and_recv_in_two_threads),
      cmocka_unit_test(test_client_two_senders_keep_their_order),
      cmocka_unit_test(test_client_two_receivers_split_the_messages),
      cmocka_unit_test(test_client_shutdown_wakes_blocked_recv),
  };
  return cmocka_run_group_tests_name("client_threads", tests, NULL, NULL);
}
