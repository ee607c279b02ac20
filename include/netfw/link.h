/* netfw — what both clients share about their connection: its state as a
 * callback reports it, and automatic reconnection with backoff.
 *
 * Reconnecting is off by default. When on, a client whose connection is
 * lost (or whose dial failed) waits, then dials again: the n-th wait in a
 * row (n from 0) is a uniformly random time in [d/2, d], d = min(max_ms,
 * initial_ms * 2^n) ("equal jitter": clients that lost one server do not
 * all come back at once). A successful connect starts the count again.
 * Calls in flight when a connection drops fail with NETFW_ECONNRESET; they
 * are never sent again by netfw. Calls and sends while it is down fail at
 * once with NETFW_ENOTCONN (docs/calls.md, "Reconnect"). */
#ifndef NETFW_LINK_H
#define NETFW_LINK_H

#include <stdint.h>

#include "netfw/export.h"

/* A client's connection, as its state callback reports it. */
typedef enum netfw_link_state {
  NETFW_LINK_CONNECTING = 0, /* dialing: name lookup, TCP, TLS handshake  */
  NETFW_LINK_UP = 1,         /* connected: sends and calls go out         */
  NETFW_LINK_DOWN = 2,       /* lost, or a dial failed: err says why; with
                                reconnect on, the next dial follows its
                                backoff                                   */
  NETFW_LINK_CLOSED = 3      /* closed by the application: last report    */
} netfw_link_state;

/* Returns the state's name: "connecting", "up", "down", "closed"
 * ("unknown" when out of range). */
NETFW_EXTERN const char *netfw_link_state_name(netfw_link_state s);

/* Reports a state change with the NETFW_E* code behind it (0 for
 * CONNECTING, UP and CLOSED; for DOWN the loss or dial error:
 * NETFW_ECLOSED, NETFW_ECONNRESET, NETFW_ECONNREFUSED, NETFW_ETIMEDOUT,
 * ...). */
typedef void (*netfw_link_cb)(void *user, netfw_link_state state, int err);

typedef struct netfw_reconnect {
  int initial_ms;   /* first wait; 0 = reconnect off (the default)         */
  int max_ms;       /* bound on a wait (default 10000 when 0)              */
  int max_attempts; /* dials in a row before staying DOWN; 0 = no limit    */
} netfw_reconnect;

#endif /* NETFW_LINK_H */
