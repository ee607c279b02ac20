/* The async client (issue 21): 10 000 calls pipelined on one connection
 * from the test's own loop, every reply matched and every push delivered;
 * and the async client inside a server worker (netfw_worker_loop): 2
 * workers each make 100 concurrent calls to another netfw server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "calls_kit.h"

#define CALLS 10000
#define WORKERS 2
#define WORKER_CALLS 100

/* ---- 1 connection x 10 000 pipelined calls ------------------------------ */

typedef struct run {
  uint64_t done, bad, pushes, bad_push;
  int first_err;
  bool up, down, closed, finished;
  uint64_t seqs[CALLS];
} run;

static run pipe_run; /* the test's state (callbacks reach it) */

/* Records the states the client went through. */
static void on_state(void *user, netfw_link_state st, int err) {
  run *r = user;

  (void)err;
  r->up |= st == NETFW_LINK_UP;
  r->down |= st == NETFW_LINK_DOWN;
  r->closed |= st == NETFW_LINK_CLOSED;
}

/* Counts pushes; one out of order or not a Push is bad. */
static void on_push(void *user, netfw_msg *m) {
  run *r = user;

  if (netfw_msg_id(m) == CALLS_PUSH && calls_seq_of(m) == r->pushes + 1)
    r->pushes++;
  else
    r->bad_push++;
}

/* arg points at the seq the reply must carry (in r->seqs). */
static void on_reply(void *arg, int status, netfw_msg *reply) {
  uint64_t *seq = arg;
  run *r = &pipe_run;

  if (status != 0 || reply == NULL || netfw_msg_id(reply) != CALLS_RESP ||
      calls_seq_of(reply) != *seq) {
    r->bad++;
    if (status != 0 && r->first_err == 0)
      r->first_err = status;
  }
  if (++r->done == CALLS && r->pushes == CALLS / CALLS_PUSH_EVERY)
    r->finished = true;
}

/* 10 000 calls sent at once, answered after random delays, all matched. */
static void test_calls_async_pipelined(void **state) {
  (void)state;
  calls_server_opts opts = {.pushes = true};
  netfw_server *s = calls_server_start(1, 0, &opts);
  run *const rp = &pipe_run;
  uv_loop_t loop;
  netfw_aclient_config cfg;
  netfw_aclient *a;
  double t0;

  memset(rp, 0, sizeof(*rp));
  assert_non_null(s);
  assert_int_equal(uv_loop_init(&loop), 0);
  netfw_aclient_config_init(&cfg);
  cfg.protocol = calls_desc();
  cfg.on_push = on_push;
  cfg.on_state = on_state;
  cfg.user = rp;
  assert_non_null(a = netfw_aclient_new(&loop, &cfg));
  assert_int_equal(netfw_aclient_connect(a, "127.0.0.1", netfw_server_port(s)),
                   0);
  assert_true(calls_run_until(&loop, &rp->up, 5000));
  t0 = calls_now_ms();
  for (uint64_t i = 0; i < CALLS; i++) {
    netfw_msg *req;

    rp->seqs[i] = 0x5a00000000ull | i;
    req = calls_req(rp->seqs[i], CALLS_RANDOM);
    assert_int_equal(netfw_aclient_call(a, req, 20000, on_reply, &rp->seqs[i]),
                     0);
    netfw_msg_free(req);
  }
  assert_int_equal(rp->done, 0); /* never from inside the call */
  calls_run_until(&loop, &rp->finished, 30000);
  /* The last pushes may trail the last reply by a turn of the loop. */
  if (rp->done == CALLS)
    for (int i = 0; i < 100 && rp->pushes < CALLS / CALLS_PUSH_EVERY; i++)
      uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
  printf("async: %d pipelined calls in %.0f ms\n", CALLS, calls_now_ms() - t0);
  assert_int_equal(rp->first_err, 0);
  assert_int_equal(rp->done, CALLS);
  assert_int_equal(rp->bad, 0);
  assert_int_equal(rp->bad_push, 0);
  assert_int_equal(rp->pushes, CALLS / CALLS_PUSH_EVERY);
  assert_int_equal(netfw_aclient_late_replies(a), 0);
  netfw_aclient_close(a);
  assert_true(calls_run_until(&loop, &rp->closed, 5000));
  calls_loop_close(&loop);
  calls_server_stop(s);
}

/* ---- the async client inside server workers ----------------------------- */

/* Shared with the front server's workers (MAP_SHARED, before the fork). */
typedef struct board {
  uint16_t backend_port;
  int claimed;       /* slots taken by workers */
  int done[WORKERS]; /* the worker's calls all ended */
  int ok[WORKERS], bad[WORKERS], first_err[WORKERS];
  int pid[WORKERS];
} board;

/* One front worker's client (each worker is its own process). */
static struct {
  board *b;
  int slot;
  netfw_aclient *a;
  int ended;
  bool started;
  uint64_t seqs[WORKER_CALLS];
} wk;

/* A worker's call ended: counted in its slot of the shared board. */
static void wk_reply(void *arg, int status, netfw_msg *reply) {
  uint64_t *seq = arg;

  if (status == 0 && calls_seq_of(reply) == *seq)
    __atomic_fetch_add(&wk.b->ok[wk.slot], 1, __ATOMIC_SEQ_CST);
  else {
    __atomic_fetch_add(&wk.b->bad[wk.slot], 1, __ATOMIC_SEQ_CST);
    if (status != 0)
      __atomic_store_n(&wk.b->first_err[wk.slot], status, __ATOMIC_SEQ_CST);
  }
  if (++wk.ended < WORKER_CALLS)
    return;
  __atomic_store_n(&wk.b->done[wk.slot], 1, __ATOMIC_SEQ_CST);
  /* Closed once its calls ended; destroy closes it otherwise (the worker
   * runs its loop after destroy until the close finishes). */
  netfw_aclient_close(wk.a);
}

/* Once up: 100 calls at once, each answered after a random 0-5 ms;
 * CLOSED: the client is gone. */
static void wk_state(void *user, netfw_link_state st, int err) {
  (void)user;
  (void)err;
  if (st == NETFW_LINK_CLOSED)
    wk.a = NULL;
  if (st != NETFW_LINK_UP || wk.started)
    return;
  wk.started = true;
  for (int i = 0; i < WORKER_CALLS; i++) {
    netfw_msg *req;

    wk.seqs[i] = (uint64_t)(wk.slot + 1) << 32 | (uint64_t)i;
    req = calls_req(wk.seqs[i], CALLS_RANDOM);
    if (netfw_aclient_call(wk.a, req, 5000, wk_reply, &wk.seqs[i]) != 0)
      wk_reply(&wk.seqs[i], NETFW_EINVAL, NULL);
    netfw_msg_free(req);
  }
}

/* In each front worker: takes a slot, dials the backend on the worker's
 * loop. */
static void wk_create(void *user, uv_loop_t *loop) {
  netfw_aclient_config cfg;

  wk.b = user;
  wk.slot = __atomic_fetch_add(&wk.b->claimed, 1, __ATOMIC_SEQ_CST);
  if (wk.slot >= WORKERS || loop == NULL)
    return;
  wk.b->pid[wk.slot] = (int)getpid();
  netfw_aclient_config_init(&cfg);
  cfg.protocol = calls_desc();
  cfg.on_state = wk_state;
  wk.a = netfw_aclient_new(loop, &cfg);
  if (wk.a != NULL)
    (void)netfw_aclient_connect(wk.a, "127.0.0.1", wk.b->backend_port);
}

/* A client still open (its calls did not all end) is closed. */
static void wk_destroy(void *user) {
  (void)user;
  netfw_aclient_close(wk.a);
  wk.a = NULL;
}

/* 2 front workers x 100 concurrent calls to a backend, all matched. */
static void test_calls_async_in_worker(void **state) {
  (void)state;
  calls_server_opts back_opts = {0};
  netfw_server *back = calls_server_start(1, 0, &back_opts);
  board *b = mmap(NULL, sizeof(board), PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  calls_server_opts front_opts = {.on_create = wk_create,
                                  .on_destroy = wk_destroy};
  netfw_server *front;
  double end = calls_now_ms() + 15000;
  int all;

  assert_non_null(back);
  assert_true(b != MAP_FAILED);
  memset(b, 0, sizeof(*b));
  b->backend_port = netfw_server_port(back);
  front_opts.user = b;
  assert_non_null(front = calls_server_start(WORKERS, 0, &front_opts));
  do {
    usleep(10000);
    all = __atomic_load_n(&b->done[0], __ATOMIC_SEQ_CST) &&
          __atomic_load_n(&b->done[1], __ATOMIC_SEQ_CST);
  } while (!all && calls_now_ms() < end);
  calls_server_stop(front);
  calls_server_stop(back);
  assert_int_equal(b->claimed, WORKERS);
  assert_int_not_equal(b->pid[0], b->pid[1]);
  for (int i = 0; i < WORKERS; i++) {
    printf("worker %d (pid %d): %d ok, %d bad\n", i, b->pid[i], b->ok[i],
           b->bad[i]);
    assert_int_equal(b->first_err[i], 0);
    assert_int_equal(b->done[i], 1);
    assert_int_equal(b->ok[i], WORKER_CALLS);
    assert_int_equal(b->bad[i], 0);
  }
  munmap(b, sizeof(*b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_async_pipelined),
      cmocka_unit_test(test_calls_async_in_worker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
