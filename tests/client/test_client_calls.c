/* Calls on the blocking client (netfw_client_call) against a fake server
 * (call_peer.c) that answers requests in order: replies matched first in
 * first out, pushes to the inbox and never to a call, 8 threads pipelining
 * on one connection, deadlines and late replies, a reply that answers
 * another request (NETFW_EPROTO), a connection lost during a call, a plain
 * send of a request next to calls, and misuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "call_peer.h"
#include "client_kit.h"
#include "netfw/netfw.h"
#include "peer.h"

/* A client with test_calls_desc as its protocol, connected to port. */
static netfw_client *call_client(uint16_t port) {
  netfw_client *c = client_new();

  assert_non_null(c);
  assert_int_equal(netfw_client_set_protocol(c, &test_calls_desc), 0);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port), 0);
  return c;
}

/* Calls id with text and checks the reply is rid with the same text. */
static void call_text(netfw_client *c, uint16_t id, const char *text,
                      uint16_t rid) {
  netfw_msg *req = msg_text(id, text), *reply = NULL;

  assert_int_equal(netfw_client_call(c, req, &reply, WAIT_MS), 0);
  assert_non_null(reply);
  assert_int_equal(netfw_msg_id(reply), rid);
  assert_int_equal(netfw_msg_size(reply), strlen(text));
  assert_memory_equal(netfw_msg_payload(reply), text, strlen(text));
  netfw_msg_free(reply);
  netfw_msg_free(req);
}

/* Shuts c down gracefully, frees it and joins the peer. */
static void finish(netfw_client *c, call_peer *p) {
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  call_peer_join(p);
}

/* A push sent before each reply goes to the inbox, in order; the calls
 * get their replies; a reply with no request pending goes to the inbox. */
static void test_call_matches_and_pushes_go_to_inbox(void **state) {
  call_peer p = {.push_every = 1, .unsolicited = 1};
  netfw_client *c;

  (void)state;
  c = call_client(call_peer_start(&p, CP_ANSWER));
  expect_text(c, M_GETRESP, "u"); /* no request was pending: the inbox */
  call_text(c, M_GET, "one", M_GETRESP);
  call_text(c, M_LIST, "two", M_LISTRESP);
  call_text(c, M_GET, "", M_GETRESP);
  for (int i = 0; i < 3; i++)
    expect_text(c, M_LINE, "push");
  netfw_msg *m = NULL;
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  assert_int_equal(netfw_client_late_replies(c), 0);
  finish(c, &p);
  assert_int_equal(p.frames, 3);
}

enum { CALLERS = 8, CALLS_EACH = 500, PUSH_EVERY = 7 };

typedef struct caller_arg {
  netfw_client *c;
  uint32_t tag;
  int bad; /* calls that failed or got another call's reply */
} caller_arg;

/* CALLS_EACH calls whose payload (tag, seq) must come back in the reply. */
static void *caller_main(void *arg) {
  caller_arg *a = arg;

  for (uint32_t i = 0; i < CALLS_EACH; i++) {
    uint32_t body[2] = {a->tag, i};
    netfw_msg *req = netfw_msg_new(M_GET), *reply = NULL;
    if (req == NULL || netfw_msg_append(req, body, sizeof(body)) != 0 ||
        netfw_client_call(a->c, req, &reply, WAIT_MS) != 0 ||
        netfw_msg_id(reply) != M_GETRESP ||
        netfw_msg_size(reply) != sizeof(body) ||
        memcmp(netfw_msg_payload(reply), body, sizeof(body)) != 0)
      a->bad++;
    netfw_msg_free(reply);
    netfw_msg_free(req);
  }
  return NULL;
}

/* 8 threads x 500 calls on one connection, with a push before every 7th
 * reply: every reply answers its own request, every push reaches recv. */
static void test_call_pipelined_threads(void **state) {
  call_peer p = {.push_every = PUSH_EVERY};
  caller_arg a[CALLERS];
  pthread_t t[CALLERS];
  netfw_client *c;
  netfw_msg *m = NULL;

  (void)state;
  c = call_client(call_peer_start(&p, CP_ANSWER));
  for (uint32_t i = 0; i < CALLERS; i++) {
    a[i] = (caller_arg){.c = c, .tag = i};
    assert_int_equal(pthread_create(&t[i], NULL, caller_main, &a[i]), 0);
  }
  for (int i = 0; i < CALLERS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(a[i].bad, 0);
  }
  for (int i = 0; i < CALLERS * CALLS_EACH / PUSH_EVERY; i++)
    expect_text(c, M_LINE, "push");
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  finish(c, &p);
  assert_int_equal(p.frames, CALLERS * CALLS_EACH);
  assert_int_equal(p.pushes, CALLERS * CALLS_EACH / PUSH_EVERY);
}

/* A server that holds its first reply: the call times out at its deadline
 * (measured on the monotonic clock), the reply that comes later is dropped
 * and counted, and the next call gets its own reply. */
static void test_call_timeout_then_late_reply_dropped(void **state) {
  enum { DEADLINE = 200, SLACK = 150 };
  call_peer p = {0};
  netfw_client *c;
  netfw_msg *req = msg_text(M_GET, "first"), *reply = NULL, *m = NULL;
  int64_t t0, took;

  (void)state;
  c = call_client(call_peer_start(&p, CP_HOLD_FIRST));
  t0 = peer_now_ms();
  assert_int_equal(netfw_client_call(c, req, &reply, DEADLINE),
                   NETFW_ETIMEDOUT);
  took = peer_now_ms() - t0;
  assert_null(reply);
  assert_in_range(took, DEADLINE, DEADLINE + SLACK);
  assert_int_equal(netfw_client_late_replies(c), 0);
  call_peer_release(&p); /* "first" is answered now, late */
  call_text(c, M_GET, "second", M_GETRESP);
  assert_int_equal(netfw_client_late_replies(c), 1);
  assert_int_equal(netfw_client_recv(c, &m, 0), NETFW_ETIMEDOUT);
  assert_null(m);
  netfw_msg_free(req);
  finish(c, &p);
}

/* Get answered with ListResp: the call fails NETFW_EPROTO, the client
 * drops the connection (loss NETFW_EPROTO, the error names both). */
static void test_call_wrong_reply_is_eproto(void **state) {
  call_peer p = {0};
  netfw_client *c;
  netfw_msg *req = msg_text(M_GET, "x"), *reply = NULL, *m = NULL;

  (void)state;
  c = call_client(call_peer_start(&p, CP_WRONG));
  assert_int_equal(netfw_client_call(c, req, &reply, WAIT_MS), NETFW_EPROTO);
  assert_null(reply);
  assert_int_equal(netfw_client_loss(c), NETFW_EPROTO);
  assert_non_null(strstr(netfw_client_error(c), "Get (id 3)"));
  assert_non_null(strstr(netfw_client_error(c), "ListResp (id 6)"));
  assert_int_equal(netfw_client_call(c, req, &reply, WAIT_MS),
                   NETFW_ECONNRESET);
  assert_int_equal(netfw_client_send(c, req), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_recv(c, &m, WAIT_MS), NETFW_ECONNRESET);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  call_peer_join(&p);
  netfw_msg_free(req);
}

/* The server closes while a call waits (no deadline): NETFW_ECONNRESET,
 * and the loss says how. */
static void test_call_connection_lost(void **state) {
  call_peer p = {0};
  netfw_client *c;
  netfw_msg *req = msg_text(M_GET, "x"), *reply = NULL;

  (void)state;
  c = call_client(call_peer_start(&p, CP_CLOSE));
  assert_int_equal(netfw_client_call(c, req, &reply, -1), NETFW_ECONNRESET);
  assert_null(reply);
  assert_int_equal(netfw_client_loss(c), NETFW_ECLOSED);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), NETFW_ECONNRESET);
  netfw_client_free(c);
  call_peer_join(&p);
  netfw_msg_free(req);
}

enum { MIXED = 300 };

/* MIXED plain sends of Get, each followed by a recv of its reply. */
static void *plain_sender_main(void *arg) {
  caller_arg *a = arg;
  char text[32];

  for (int i = 0; i < MIXED; i++) {
    netfw_msg *m = NULL;
    snprintf(text, sizeof(text), "send %d", i);
    send_text(a->c, M_GET, text);
    if (netfw_client_recv(a->c, &m, WAIT_MS) != 0 ||
        netfw_msg_id(m) != M_GETRESP || netfw_msg_size(m) != strlen(text) ||
        memcmp(netfw_msg_payload(m), text, strlen(text)) != 0)
      a->bad++;
    netfw_msg_free(m);
  }
  return NULL;
}

/* A request sent with netfw_client_send takes its FIFO place: its reply
 * goes to recv while a concurrent caller gets its own replies. */
static void test_call_plain_send_next_to_calls(void **state) {
  call_peer p = {0};
  caller_arg s = {0};
  pthread_t t;
  netfw_client *c;
  char text[32];

  (void)state;
  c = call_client(call_peer_start(&p, CP_ANSWER));
  s.c = c;
  assert_int_equal(pthread_create(&t, NULL, plain_sender_main, &s), 0);
  for (int i = 0; i < MIXED; i++) {
    snprintf(text, sizeof(text), "call %d", i);
    call_text(c, M_GET, text, M_GETRESP);
  }
  pthread_join(t, NULL);
  assert_int_equal(s.bad, 0);
  finish(c, &p);
  assert_int_equal(p.frames, 2 * MIXED);
}

/* One call without a deadline; its code goes to a->bad. */
static void *blocked_call_main(void *arg) {
  caller_arg *a = arg;
  netfw_msg *req = msg_text(M_GET, "x"), *reply = NULL;

  a->bad = netfw_client_call(a->c, req, &reply, -1);
  netfw_msg_free(req);
  return NULL;
}

/* Shutdown wakes a call waiting for a reply that never comes. */
static void test_call_shutdown_wakes_call(void **state) {
  call_peer p = {0};
  caller_arg a = {0};
  pthread_t t;

  (void)state;
  a.c = call_client(call_peer_start(&p, CP_HOLD_FIRST));
  assert_int_equal(pthread_create(&t, NULL, blocked_call_main, &a), 0);
  while (p.frames == 0) /* the request arrived: the call waits */
    usleep(1000);
  assert_int_equal(netfw_client_shutdown(a.c, 100), NETFW_ETIMEDOUT);
  pthread_join(t, NULL);
  assert_int_equal(a.bad, NETFW_ESTATE);
  netfw_client_free(a.c);
  call_peer_release(&p);
  call_peer_join(&p);
}

/* Calls refused before anything is sent. */
static void test_call_misuse(void **state) {
  call_peer p = {0};
  netfw_client *c = client_new();
  netfw_msg *get = msg_text(M_GET, "x"), *say = msg_text(M_SAY, "x");
  netfw_msg *reply = (netfw_msg *)1;

  (void)state;
  assert_int_equal(netfw_client_call(c, get, &reply, 10), NETFW_ESTATE);
  assert_null(reply); /* no protocol */
  assert_int_equal(netfw_client_set_protocol(c, &test_calls_desc), 0);
  assert_int_equal(netfw_client_call(c, get, &reply, 10), NETFW_ESTATE);
  assert_int_equal(netfw_client_call(c, say, &reply, 10), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(c, get, &reply, -2), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(c, get, &reply, 0), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(c, NULL, &reply, 10), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(c, get, NULL, 10), NETFW_EINVAL);
  assert_int_equal(netfw_client_call(NULL, get, &reply, 10), NETFW_EINVAL);
  assert_int_equal(netfw_client_late_replies(NULL), 0);
  assert_int_equal(netfw_client_set_protocol(NULL, &test_calls_desc), NETFW_EINVAL);
  assert_int_equal(
      netfw_client_connect(c, LOCALHOST, call_peer_start(&p, CP_ANSWER)), 0);
  assert_int_equal(netfw_client_set_protocol(c, NULL), NETFW_ESTATE);
  call_text(c, M_GET, "ok", M_GETRESP);
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  assert_int_equal(netfw_client_set_protocol(c, NULL), 0);
  assert_int_equal(netfw_client_call(c, get, &reply, 10), NETFW_ESTATE);
  netfw_client_free(c);
  call_peer_join(&p);
  netfw_msg_free(get);
  netfw_msg_free(say);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_call_matches_and_pushes_go_to_inbox),
      cmocka_unit_test(test_call_pipelined_threads),
      cmocka_unit_test(test_call_timeout_then_late_reply_dropped),
      cmocka_unit_test(test_call_wrong_reply_is_eproto),
      cmocka_unit_test(test_call_connection_lost),
      cmocka_unit_test(test_call_plain_send_next_to_calls),
      cmocka_unit_test(test_call_shutdown_wakes_call),
      cmocka_unit_test(test_call_misuse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
