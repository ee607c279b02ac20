/* An in-loop fake server for the async client's tests: a uv_tcp listener
 * on 127.0.0.1 (port 0, or a given port with SO_REUSEADDR) on the test's
 * own loop, answering each request frame in order with a scripted reply. */
#ifndef NETFW_TEST_FAKE_SERVER_H
#define NETFW_TEST_FAKE_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "calls_proto.h"

#include <uv.h>

#include "frame.h"

/* The test protocol: Get(3) -> GetResp(40) | Ack(7); List(5) -> ListResp(6);
 * Line(9) is a push; Say(2) is one-way. */
enum {
  ID_SAY = TP_SAY,
  ID_GET = TP_GET,
  ID_LIST = TP_LIST,
  ID_LISTRESP = TP_LISTRESP,
  ID_ACK = TP_ACK,
  ID_LINE = TP_LINE,
  ID_GETRESP = TP_GETRESP
};

typedef struct fake_conn fake_conn;

typedef struct fake_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uint16_t port;
  bool listening;
  /* the script */
  int push_every;    /* > 0: a Line push before every n-th reply         */
  int hold_first_ms; /* > 0: the first reply (and those behind it) wait
                        this long                                       */
  bool silent;       /* never answer                                    */
  bool wrong;        /* answer Get with ListResp                        */
  /* what happened */
  int accepted;
  int requests;
  int replies;
  int pushes;
  int open_conns;
  fake_conn *conns; /* open connections                                */
} fake_server;

/* Starts listening on port (0: any; the chosen one in s->port). */
void fake_start(fake_server *s, uv_loop_t *loop, uint16_t port);

/* Stops listening and resets the open connections (the listener's and
 * the connections' close callbacks follow from the loop). */
void fake_stop(fake_server *s);

#endif /* NETFW_TEST_FAKE_SERVER_H */
