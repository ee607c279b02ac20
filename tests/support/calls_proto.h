/* The protocol the calls tests share, built by hand from netfw/desc.h so
 * that they need no generated code: Get(3) returns GetResp(40) | Ack(7);
 * List(5) returns ListResp(6); Line(9) is a push; Say(2) is one-way. */
#ifndef NETFW_TEST_CALLS_PROTO_H
#define NETFW_TEST_CALLS_PROTO_H

#include "netfw/desc.h"

enum {
  TP_SAY = 2,
  TP_GET = 3,
  TP_LIST = 5,
  TP_LISTRESP = 6,
  TP_ACK = 7,
  TP_LINE = 9,
  TP_GETRESP = 40
};

extern const netfw_desc test_calls_desc;

#endif
