/* Helpers shared by the async client's tests on their own loop
 * (test_aclient.c, test_aclient_link.c): the test protocol's descriptor, a
 * world per test (loop, guard timer, fake server, client) and callbacks
 * that count. cmocka assertions inside. */
#ifndef NETFW_TEST_ACLIENT_KIT_H
#define NETFW_TEST_ACLIENT_KIT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "fake_server.h"
#include "netfw/netfw.h"

#define GUARD_MS 5000 /* a test's loop fails it after this */

/* One test's world. */
typedef struct tctx {
  uv_loop_t loop;
  uv_timer_t guard;
  uv_timer_t t1;
  fake_server srv;
  netfw_aclient *a;
  netfw_aclient_config cfg;
  int ncalls;     /* calls to make once UP                      */
  int timeout_ms; /* their deadline                             */
  int done;       /* call callbacks                             */
  int ok, timedout, reset, proto, other;
  uint32_t next_seq; /* the seq the next reply must carry          */
  int out_of_order;
  int pushes;
  int ups, downs, connectings, closed;
  int down_err[16];
  char why[256];    /* netfw_aclient_error when a test's on_state kept it */
  int after_closed; /* callbacks after CLOSED (must stay 0)       */
  int close_on;     /* which callback closes the client           */
  uint64_t t_start, t_end; /* ms                                         */
  uint64_t t_listen;       /* reconnect: when the listener came back      */
  uint64_t t_up2;          /* reconnect: the second UP                   */
  int fast_fail;           /* reconnect: calls refused while DOWN        */
} tctx;

enum { CLOSE_NONE, CLOSE_ON_PUSH, CLOSE_ON_LAST_CALL, CLOSE_ON_DOWN };

/* Counts a state change; CLOSED stops the server and the guard. */
void on_state(void *user, netfw_link_state st, int err);

/* Counts a push (checks a Line's payload); may close (CLOSE_ON_PUSH). */
void on_push(void *user, netfw_msg *m);

/* Counts a call's end, checks reply seqs follow each other; may close
 * (CLOSE_ON_LAST_CALL). */
void on_call(void *arg, int status, netfw_msg *reply);

/* Sends Get(seq) as a call with on_call (call) or as a plain send.
 * Returns what the API returned. */
int get(tctx *t, uint32_t seq, int timeout_ms, bool call);

/* Makes the loop, the guard, the fake server and the config. */
void setup_ctx(tctx *t, netfw_link_cb state_cb);

/* netfw_aclient_new of t->cfg (asserts). */
void new_client(tctx *t);

/* Runs the loop to its end; checks CLOSED came once, last, and the loop
 * closes. */
void run(tctx *t);

/* on_state, and at UP ncalls calls Get(0..ncalls-1). */
void calls_on_up(void *user, netfw_link_state st, int err);

#endif /* NETFW_TEST_ACLIENT_KIT_H */
