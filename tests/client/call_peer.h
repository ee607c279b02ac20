/* A fake server for call tests: a thread with blocking sockets (TLS in a
 * _tls variant: tls_kit.h) on 127.0.0.1:0 that accepts one connection and
 * answers the requests of test_calls_desc in order, or misbehaves as its mode
 * says. */
#ifndef NETFW_TEST_CALL_PEER_H
#define NETFW_TEST_CALL_PEER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "calls_proto.h"
#include "netfw/desc.h"

/* test_calls_desc: Get(3) returns GetResp(40) | Ack(7); List(5) returns
 * ListResp(6); Line(9) is a push; Say(2) is one-way. */
enum {
  M_SAY = TP_SAY,
  M_GET = TP_GET,
  M_LIST = TP_LIST,
  M_LISTRESP = TP_LISTRESP,
  M_ACK = TP_ACK,
  M_LINE = TP_LINE,
  M_GETRESP = TP_GETRESP
};

typedef enum call_peer_mode {
  CP_ANSWER,     /* Get -> GetResp, List -> ListResp (payload echoed),
                    anything else unanswered; until EOF                  */
  CP_HOLD_FIRST, /* as ANSWER, but the first reply waits for release     */
  CP_WRONG,      /* answers Get with ListResp                            */
  CP_CLOSE,      /* reads one frame, then closes (FIN)                   */
  CP_NOREAD      /* reads nothing until release, then counts frames     */
} call_peer_mode;

typedef struct call_peer {
  call_peer_mode mode;
  int push_every;  /* a push Line "push" before every n-th reply; 0: none */
  int unsolicited; /* sends GetResp "u" right after accept               */
  int rcvbuf;      /* > 0: SO_RCVBUF of the accepted socket               */
  int listen_fd;
  int release[2];
  uint16_t port; /* set before start: listen there again (a restart)  */
  pthread_t thread;
  size_t frames; /* frames received (valid after call_peer_join)          */
  size_t pushes; /* pushes sent                                           */
} call_peer;

/* Listens (on p->port when set, else on a free port) and starts the
 * thread; returns the port. */
uint16_t call_peer_start(call_peer *p, call_peer_mode mode);

/* Lets a HOLD_FIRST or NOREAD peer go on. */
void call_peer_release(call_peer *p);

/* Waits for the thread (which ends at the client's EOF) and cleans up. */
void call_peer_join(call_peer *p);

#endif /* NETFW_TEST_CALL_PEER_H */
