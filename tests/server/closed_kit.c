/* The checks shared by test_server_closed.c and test_server_closed_limits.c:
 * a socket's local port, the exact callback sequence of a connection, its
 * on_client_closed (reason, data, address, sends refused), a sync
 * connection and the worker's on_client_closed totals. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "closed_kit.h"
#include "fixture.h"
#include "frame.h"

/* The local port of a connected socket: the port the server sees. */
int local_port(int fd) {
  struct sockaddr_in me;
  socklen_t len = sizeof(me);

  assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
  return ntohs(me.sin_port);
}

/* Fails unless the events from port are exactly kinds[0..n-1], in order. */
void expect_events(board *b, int port, const int *kinds, int n) {
  int i, j = 0, total = atomic_load(&b->nevents);

  assert_true(total <= BOARD_EVENTS);
  for (i = 0; i < total; i++) {
    const tevent *e = &b->events[i];
    if (!atomic_load(&e->ready) || e->port != port)
      continue;
    if (j >= n || e->kind != kinds[j])
      print_message("port %d: event %d is kind %d, wanted %d\n", port, j,
                    e->kind, j < n ? kinds[j] : -1);
    assert_true(j < n);
    assert_int_equal(e->kind, kinds[j]);
    j++;
  }
  assert_int_equal(j, n);
}

/* Waits for port's on_client_closed and checks what the connection looked
 * like during it: the reason, its data, its address (127.0.0.1 and the
 * port), sends refused. Returns the event. */
const tevent *expect_closed(board *b, int port, netfw_close_reason why,
                            long long data) {
  int i = board_wait_event(b, EV_CLOSED, port, WAIT_MS);
  const tevent *e;

  assert_true(i >= 0);
  e = &b->events[i];
  assert_string_equal(netfw_close_reason_name((netfw_close_reason)e->reason),
                      netfw_close_reason_name(why));
  assert_int_equal(e->reason, why);
  assert_int_equal(e->addr_rc, 0);
  assert_string_equal(e->ip, "127.0.0.1");
  assert_int_equal(e->port, port);
  assert_int_equal(e->data, data);
  assert_int_equal(e->send_rc, NETFW_ESTATE);
  assert_int_equal(e->begin_rc, NETFW_ESTATE);
  return e;
}

/* Makes sure the worker has handled everything before: a connection the
 * app shuts down, up to its on_client_closed. Returns its port. */
int closed_sync(fx *f) {
  int fd = fx_connect(f), port = local_port(fd);

  expect_echo(fd, 0x1, "sync", 4);
  assert_int_equal(wire_send(fd, T_SHUTDOWN, NULL, 0), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  expect_closed(f->b, port, NETFW_CLOSE_SHUTDOWN, 0);
  return port;
}

const int CONNECT_CLOSED[2] = {EV_CONNECT, EV_CLOSED};
const int CONNECT_DISCONNECT_CLOSED[3] = {EV_CONNECT, EV_DISCONNECT,
                                          EV_CLOSED};

/* After a sync: port got exactly these callbacks; the worker called
 * on_client_closed `closes` times in all, once per reason as counted. */
void expect_totals(fx *f, int closes, int peer, int shutdown) {
  assert_int_equal(atomic_load(&f->b->closes), closes);
  assert_int_equal(board_count_events(f->b, EV_CLOSED, -1), closes);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_PEER]), peer);
  assert_int_equal(atomic_load(&f->b->closed_by[NETFW_CLOSE_SHUTDOWN]),
                   shutdown);
}
