/* The on_client_closed checks shared by test_server_closed.c and
 * test_server_closed_limits.c (closed_kit.c): the exact callback sequence
 * of a connection, its on_client_closed, a sync connection, the totals. */
#ifndef NETFW_TEST_CLOSED_KIT_H
#define NETFW_TEST_CLOSED_KIT_H

#include "fixture.h"

#define WAIT_MS 10000

/* The callback sequences of a connection the app accepted. */
extern const int CONNECT_CLOSED[2];
extern const int CONNECT_DISCONNECT_CLOSED[3];

/* The local port of a connected socket: the port the server sees. */
int local_port(int fd);

/* Fails unless the events from port are exactly kinds[0..n-1], in order. */
void expect_events(board *b, int port, const int *kinds, int n);

/* Waits for port's on_client_closed and checks the connection during it;
 * returns the event. */
const tevent *expect_closed(board *b, int port, netfw_close_reason why,
                            long long data);

/* A connection the app shuts down, up to its on_client_closed: everything
 * before it was handled. Returns its port. */
int closed_sync(fx *f);

/* After a sync: the worker's on_client_closed totals, by reason. */
void expect_totals(fx *f, int closes, int peer, int shutdown);

#endif
