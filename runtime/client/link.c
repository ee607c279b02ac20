/* Automatic reconnection of the blocking client (netfw/link.h). The I/O
 * thread is a background thread, so it redials itself: when a connection
 * it kept is lost (io.c reports it here once its stream is closed), it
 * reports DOWN, waits out the backoff on a libuv timer, reports
 * CONNECTING and dials (name lookup and TCP connect, blocking this thread
 * for at most the connect timeout), then opens a new stream on its loop;
 * once that stream is established (TLS: after the handshake) the client is
 * up again. Calls in flight at the loss failed with NETFW_ECONNRESET (io.c,
 * mark_lost); nothing is sent again. While down, send and call return
 * NETFW_ENOTCONN, and recv reports the loss once, then waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"

enum { DEFAULT_MAX_MS = 10000 };

uint64_t netfw__reconnect_delay(const netfw_reconnect *r, unsigned n,
                                uint64_t rnd) {
  uint64_t max = r->max_ms > 0 ? (uint64_t)r->max_ms : DEFAULT_MAX_MS;
  uint64_t d = (uint64_t)r->initial_ms, half;

  for (unsigned i = 0; i < n && d < max; i++)
    d *= 2;
  if (d > max)
    d = max;
  half = d / 2;
  return half + rnd % (d - half + 1);
}

void netfw__client_link_report(netfw_client *c, netfw_link_state st, int err) {
  netfw_log(NETFW_LOG_DEBUG, "client: link %s (%s)", netfw_link_state_name(st),
            err != 0 ? netfw_err_name(err) : "ok");
  if (c->link_cb != NULL)
    c->link_cb(c->link_user, st, err);
}

/* xorshift64: the jitter needs no more (one state per client). */
static uint64_t next_rnd(netfw_client *c) {
  uint64_t x = c->rnd != 0 ? c->rnd : (uv_hrtime() | 1);

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return c->rnd = x;
}

/* True when shutdown was asked for (the dialing stops). */
static bool closing(netfw_client *c) {
  bool shut;

  pthread_mutex_lock(&c->lock);
  shut = c->shutdown_req;
  pthread_mutex_unlock(&c->lock);
  return shut;
}

static void on_redial(uv_timer_t *t);

/* Waits before the next dial, or stays down after max_attempts. */
static void schedule(netfw_client *c) {
  uint64_t wait;

  if (c->reconnect.max_attempts > 0 &&
      c->attempt >= (unsigned)c->reconnect.max_attempts) {
    netfw_log(NETFW_LOG_WARN, "client: %u dials failed: staying down",
              c->attempt);
    pthread_mutex_lock(&c->lock);
    c->gave_up = true;
    pthread_cond_broadcast(&c->readable); /* recv: ECONNRESET now */
    pthread_mutex_unlock(&c->lock);
    return;
  }
  wait = netfw__reconnect_delay(&c->reconnect, c->attempt, next_rnd(c));
  (void)uv_timer_start(&c->redial, on_redial, wait, 0);
}

/* The backoff is over: dials, then opens a stream on the new socket. */
static void on_redial(uv_timer_t *t) {
  netfw_client *c = t->data;
  int fd, rc;

  if (closing(c))
    return;
  c->attempt++;
  netfw__client_link_report(c, NETFW_LINK_CONNECTING, 0);
  rc = netfw__client_dial(c->host, c->port, c->connect_timeout_ms, &fd);
  if (rc != 0) {
    netfw__client_link_report(c, NETFW_LINK_DOWN, rc);
    schedule(c);
    return;
  }
  if (closing(c)) { /* shutdown came during the dial */
    (void)close(fd);
    return;
  }
  c->redialing = true;
  netfw__client_stream_restart(c, fd);
}

void netfw__client_link_down(netfw_client *c) {
  int loss;

  pthread_mutex_lock(&c->lock);
  loss = c->loss != 0 ? c->loss : NETFW_ECONNRESET;
  pthread_mutex_unlock(&c->lock);
  c->redialing = false;
  netfw__client_link_report(c, NETFW_LINK_DOWN, loss);
  schedule(c);
}

void netfw__client_link_up(netfw_client *c) {
  c->redialing = false;
  c->attempt = 0;
  pthread_mutex_lock(&c->lock);
  c->lost = false;
  c->loss = 0;
  c->up = true;
  c->read_paused = c->resume_req = false; /* the new stream reads */
  c->error[0] = '\0';
  pthread_mutex_unlock(&c->lock);
  netfw__client_link_report(c, NETFW_LINK_UP, 0);
}
