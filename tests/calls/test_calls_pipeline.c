/* Calls pipelined by many threads over 4 blocking clients against a server
 * that answers every request after a random 0-5 ms (issue 21): every reply
 * matches its request's sequence number, and every push reaches recv,
 * counted exactly (the server pushes after every CALLS_PUSH_EVERY-th
 * request of a connection, numbered from 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "calls_kit.h"

#define CONNS 4
#define THREADS 8   /* per connection */
#define CALLS 10000 /* per connection */
#define CALL_TIMEOUT_MS 10000

typedef struct conn_run {
  netfw_client *c;
  int index;
  unsigned long bad_reply; /* reply with another seq, or an error */
  int first_err;
  unsigned long pushes;   /* taken by recv, each numbered in order */
  unsigned long bad_push; /* out of order, or not a push */
} conn_run;

typedef struct thread_run {
  conn_run *cr;
  int t;
} thread_run;

/* One thread's calls: seq = conn << 32 | thread << 24 | i. */
static void *caller(void *arg) {
  thread_run *tr = arg;
  conn_run *cr = tr->cr;

  for (uint64_t i = 0; i < CALLS / THREADS; i++) {
    uint64_t seq = (uint64_t)cr->index << 32 | (uint64_t)tr->t << 24 | i;
    netfw_msg *req = calls_req(seq, CALLS_RANDOM), *reply = NULL;
    int rc = netfw_client_call(cr->c, req, &reply, CALL_TIMEOUT_MS);

    if (rc != 0 || netfw_msg_id(reply) != CALLS_RESP ||
        calls_seq_of(reply) != seq) {
      __atomic_fetch_add(&cr->bad_reply, 1, __ATOMIC_RELAXED);
      if (rc != 0)
        __atomic_store_n(&cr->first_err, rc, __ATOMIC_RELAXED);
    }
    netfw_msg_free(reply);
    netfw_msg_free(req);
  }
  return NULL;
}

/* Takes pushes until the expected count is reached or 20 s pass. */
static void *receiver(void *arg) {
  conn_run *cr = arg;
  unsigned long want = CALLS / CALLS_PUSH_EVERY;
  double end = calls_now_ms() + 20000;

  while (cr->pushes + cr->bad_push < want && calls_now_ms() < end) {
    netfw_msg *m = NULL;

    if (netfw_client_recv(cr->c, &m, 100) != 0)
      continue;
    if (netfw_msg_id(m) == CALLS_PUSH && calls_seq_of(m) == cr->pushes + 1)
      cr->pushes++;
    else
      cr->bad_push++;
    netfw_msg_free(m);
  }
  return NULL;
}

/* 4 clients x 8 threads x 10 000 calls per client, a receiver each. */
static void test_calls_pipeline_matched(void **state) {
  (void)state;
  calls_server_opts opts = {.pushes = true};
  netfw_server *s = calls_server_start(2, 0, &opts);
  conn_run cr[CONNS];
  thread_run tr[CONNS][THREADS];
  pthread_t th[CONNS][THREADS], rx[CONNS];
  double t0 = calls_now_ms();

  assert_non_null(s);
  memset(cr, 0, sizeof(cr));
  for (int i = 0; i < CONNS; i++) {
    cr[i].index = i;
    assert_non_null(cr[i].c = netfw_client_new());
    assert_int_equal(netfw_client_set_protocol(cr[i].c, calls_desc()), 0);
    assert_int_equal(
        netfw_client_connect(cr[i].c, "127.0.0.1", netfw_server_port(s)), 0);
    assert_int_equal(pthread_create(&rx[i], NULL, receiver, &cr[i]), 0);
    for (int t = 0; t < THREADS; t++) {
      tr[i][t] = (thread_run){.cr = &cr[i], .t = t};
      assert_int_equal(pthread_create(&th[i][t], NULL, caller, &tr[i][t]), 0);
    }
  }
  for (int i = 0; i < CONNS; i++) {
    for (int t = 0; t < THREADS; t++)
      pthread_join(th[i][t], NULL);
    pthread_join(rx[i], NULL);
  }
  printf("pipeline: %d conns x %d calls in %.0f ms\n", CONNS, CALLS,
         calls_now_ms() - t0);
  for (int i = 0; i < CONNS; i++) {
    netfw_msg *extra = NULL;

    assert_int_equal(cr[i].first_err, 0);
    assert_int_equal(cr[i].bad_reply, 0);
    assert_int_equal(cr[i].bad_push, 0);
    assert_int_equal(cr[i].pushes, CALLS / CALLS_PUSH_EVERY);
    /* Nothing else came: no reply leaked to the inbox. */
    assert_int_equal(netfw_client_recv(cr[i].c, &extra, 50), NETFW_ETIMEDOUT);
    assert_int_equal(netfw_client_late_replies(cr[i].c), 0);
    assert_int_equal(netfw_client_shutdown(cr[i].c, 3000), 0);
    netfw_client_free(cr[i].c);
  }
  calls_server_stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_pipeline_matched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
