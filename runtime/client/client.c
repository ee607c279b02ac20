/* The client's API edge: argument and state checks, then the handoff queues.
 * The I/O thread (io.c) does the networking; see client.h for the rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calltab.h"
#include "client_internal.h"
#include "clock.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "tls.h"

netfw_client *netfw_client_new(void) {
  netfw_client *c = calloc(1, sizeof(*c));

  if (c == NULL)
    return NULL;
  if (pthread_mutex_init(&c->lock, NULL) != 0)
    goto failed_lock;
  if (netfw__cond_init_monotonic(&c->readable) != 0)
    goto failed_readable;
  if (netfw__cond_init_monotonic(&c->finished_cv) != 0)
    goto failed_finished;
  c->max_payload = NETFW_CLIENT_DEFAULT_MAX_PAYLOAD;
  c->max_inbox = NETFW_CLIENT_DEFAULT_MAX_INBOX;
  c->connect_timeout_ms = NETFW_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  c->max_output = NETFW_CLIENT_DEFAULT_MAX_OUTPUT;
  netfw__calls_init(&c->calls);
  c->state = NETFW__CLIENT_NEW;
  netfw__outbuf_init(&c->out);
  netfw__inbox_init(&c->inbox);
  return c;

failed_finished:
  pthread_cond_destroy(&c->readable);
failed_readable:
  pthread_mutex_destroy(&c->lock);
failed_lock:
  free(c);
  return NULL;
}

int netfw_client_set_max_payload(netfw_client *c, uint32_t max) {
  if (c == NULL)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->max_payload = max;
  return 0;
}

int netfw_client_set_max_inbox(netfw_client *c, size_t max) {
  if (c == NULL)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->max_inbox = max;
  return 0;
}

int netfw_client_set_max_output(netfw_client *c, size_t max) {
  if (c == NULL)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->max_output = max;
  return 0;
}

int netfw_client_set_reconnect(netfw_client *c, const netfw_reconnect *r) {
  static const netfw_reconnect off = {0};

  if (c == NULL || (r != NULL && (r->initial_ms < 0 || r->max_ms < 0 ||
                                  r->max_attempts < 0)))
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->reconnect = r != NULL ? *r : off;
  return 0;
}

int netfw_client_set_link_cb(netfw_client *c, netfw_link_cb cb, void *user) {
  if (c == NULL)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->link_cb = cb;
  c->link_user = cb != NULL ? user : NULL;
  return 0;
}

int netfw_client_set_connect_timeout(netfw_client *c, int timeout_ms) {
  if (c == NULL || timeout_ms < -1)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->connect_timeout_ms = timeout_ms;
  return 0;
}

/* Clears what one connection left behind (a shut-down client's flags,
 * counters and loss), so that the next connect starts as on a new client.
 * The queues were emptied by shutdown and the I/O thread was joined. */
static void reset_connection_state(netfw_client *c) {
  pthread_mutex_lock(&c->lock);
  c->lost = c->shutdown_req = c->abort_req = c->finished = false;
  c->read_paused = c->resume_req = false;
  c->loss = c->result = 0;
  c->inbox_bytes = 0;
  c->late_replies = 0;
  c->up = c->loss_unreported = c->gave_up = false;
  atomic_store(&c->stream_bytes, 0);
  atomic_store(&c->io_spinning, false);
  atomic_store(&c->out_ready, false);
  memset(&c->peer, 0, sizeof(c->peer));
  c->error[0] = '\0';
  pthread_mutex_unlock(&c->lock);
}

/* Keeps where connect dials, for the redials of reconnect (link.c), and
 * the name TLS verifies. Returns 0 or NETFW_ENOMEM. */
static int remember_peer(netfw_client *c, const char *ip, uint16_t port) {
  const char *sn = c->tls_cfg != NULL && c->tls_cfg->server_name != NULL
                       ? c->tls_cfg->server_name
                       : ip;
  char *host = strdup(ip), *name = strdup(sn);

  if (host == NULL || name == NULL) {
    free(host);
    free(name);
    return NETFW_ENOMEM;
  }
  free(c->host);
  free(c->server_name);
  c->host = host;
  c->server_name = name;
  c->port = port;
  return 0;
}

int netfw_client_connect(netfw_client *c, const char *ip, uint16_t port) {
  int fd, rc;

  if (c == NULL)
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  if (ip == NULL || port == 0)
    return NETFW_EINVAL;
  reset_connection_state(c);
  if ((rc = remember_peer(c, ip, port)) != 0)
    return rc;
  rc = netfw__client_dial(ip, port, c->connect_timeout_ms, &fd);
  if (rc == NETFW_ECONNRESET)
    snprintf(c->error, sizeof(c->error), "reset while connecting");
  if (rc != 0)
    return rc;
  rc = netfw__client_io_start(c, fd, c->server_name);
  if (rc != 0) { /* the client stays as it was: connect may be retried */
    pthread_mutex_lock(&c->lock);
    c->lost = false;
    pthread_mutex_unlock(&c->lock);
    return rc;
  }
  pthread_mutex_lock(&c->lock);
  c->state = NETFW__CLIENT_CONNECTED;
  pthread_mutex_unlock(&c->lock);
  return 0;
}

int netfw_client_set_tls(netfw_client *c, const netfw_tls_config *t) {
  netfw_tls_config *copy = NULL;
  netfw__tls_ctx *x = NULL;

  if (c == NULL || (t != NULL && t->size < sizeof(uint32_t)))
    return NETFW_EINVAL;
  if (c->state == NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  c->error[0] = '\0';
  if (t != NULL) {
    if ((copy = netfw__tls_config_dup(t)) == NULL)
      return NETFW_ENOMEM;
    if ((x = netfw__tls_ctx_new(copy, false, c->error)) == NULL) {
      netfw_log(NETFW_LOG_ERROR, "client: %s", c->error);
      netfw__tls_config_free(copy);
      return NETFW_ETLS;
    }
  }
  netfw__tls_ctx_unref(c->tls);
  netfw__tls_config_free(c->tls_cfg);
  c->tls = x;
  c->tls_cfg = copy;
  return 0;
}

const char *netfw_client_error(const netfw_client *c) {
  return c != NULL ? c->error : "";
}

int netfw_client_loss(const netfw_client *c) {
  netfw_client *m = (netfw_client *)(uintptr_t)c; /* for the lock */
  int loss;

  if (c == NULL)
    return NETFW_EINVAL;
  pthread_mutex_lock(&m->lock);
  loss = m->lost ? m->loss : 0;
  pthread_mutex_unlock(&m->lock);
  return loss;
}

int netfw_client_tls_peer(netfw_client *c, netfw_tls_peer *out) {
  int rc;

  if (c == NULL || out == NULL)
    return NETFW_EINVAL;
  pthread_mutex_lock(&c->lock);
  rc = c->state == NETFW__CLIENT_CONNECTED && c->tls != NULL ? 0
                                                              : NETFW_ESTATE;
  if (rc == 0)
    *out = c->peer;
  pthread_mutex_unlock(&c->lock);
  return rc;
}

/* Cost: one copy of the payload into the output buffer under the lock,
 * and a wake-up (one eventfd write) only when the buffer was empty: sends
 * made while the I/O thread is busy join its next write without waking it.
 * Only the I/O thread writes to the socket (io.c). */
int netfw__client_queue(netfw_client *c, const netfw_msg *m, netfw__call *k) {
  size_t frame = NETFW_FRAME_HDR_SIZE + (size_t)netfw_msg_size(m);
  bool was_empty;
  int rc;

  if (c->state != NETFW__CLIENT_CONNECTED)
    return NETFW_ESTATE;
  if (c->lost) /* reconnect: down until the next connection is up */
    return NETFW__RECONNECT_ON(c) ? NETFW_ENOTCONN : NETFW_ECONNRESET;
  if (c->max_output > 0 &&
      (frame > c->max_output ||
       c->out.len + atomic_load(&c->stream_bytes) > c->max_output - frame))
    return NETFW_EAGAIN;
  was_empty = c->out.len == 0;
  if ((rc = netfw__outbuf_put_frame(&c->out, m, 0)) != 0)
    return rc;
  if (k != NULL)
    netfw__calls_push(&c->calls, k); /* in the order of the frames */
  if (was_empty) {
    atomic_store(&c->out_ready, true);
    if (!atomic_load(&c->io_spinning)) /* else it sees out_ready */
      netfw__client_io_wake(c);
  }
  return 0;
}

/* A request (of the protocol set) takes its place in the FIFO of calls,
 * so that its reply, which goes to the inbox, is not taken for a call's. */
int netfw_client_send(netfw_client *c, const netfw_msg *m) {
  netfw__call *k = NULL;
  int rc;

  if (c == NULL || m == NULL)
    return NETFW_EINVAL;
  if (c->calltab != NULL &&
      netfw__calltab_is_request(c->calltab, netfw_msg_id(m)) &&
      (k = netfw__call_new(netfw_msg_id(m), false)) == NULL)
    return NETFW_ENOMEM;
  pthread_mutex_lock(&c->lock);
  rc = netfw__client_queue(c, m, k);
  pthread_mutex_unlock(&c->lock);
  if (rc != 0)
    netfw__call_free(k);
  return rc;
}

void netfw__deadline_after(struct timespec *ts, int timeout_ms) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += timeout_ms / 1000;
  ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* Accounts for a message taken from the inbox (lock held); once a paused
 * I/O thread has room again, asks it to resume reading. */
static void took_one(netfw_client *c, const netfw_msg *m) {
  c->inbox_bytes -= NETFW__INBOX_COST(netfw_msg_size(m));
  if (c->read_paused && !c->resume_req && c->inbox_bytes <= c->max_inbox / 2) {
    c->resume_req = true;
    netfw__client_io_wake(c);
  }
}

/* Whether recv reports a loss now (lock held, inbox empty): every time
 * without reconnect; with it, once per lost connection, then again only
 * when the dials gave up (max_attempts). */
static bool lost_now(netfw_client *c) {
  if (!NETFW__RECONNECT_ON(c))
    return c->lost;
  if (c->loss_unreported) {
    c->loss_unreported = false;
    return true;
  }
  return c->lost && c->gave_up;
}

/* The fast path takes a waiting message under the lock and returns: no
 * system call unless the lock is contended. Waits only on an empty inbox. */
int netfw_client_recv(netfw_client *c, netfw_msg **out, int timeout_ms) {
  struct timespec deadline;
  bool expired = timeout_ms == 0;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (c == NULL || out == NULL || timeout_ms < -1)
    return NETFW_EINVAL;
  if (timeout_ms > 0)
    netfw__deadline_after(&deadline, timeout_ms);
  pthread_mutex_lock(&c->lock);
  for (;;) {
    if (c->state != NETFW__CLIENT_CONNECTED) {
      rc = NETFW_ESTATE;
      break;
    }
    if ((*out = netfw__inbox_pop(&c->inbox)) != NULL) {
      took_one(c, *out);
      rc = 0;
      break;
    }
    if (lost_now(c)) {
      rc = NETFW_ECONNRESET;
      break;
    }
    if (expired) {
      rc = NETFW_ETIMEDOUT;
      break;
    }
    c->recv_waiting++;
    if (timeout_ms < 0)
      pthread_cond_wait(&c->readable, &c->lock);
    else if (pthread_cond_timedwait(&c->readable, &c->lock, &deadline) ==
             ETIMEDOUT)
      expired = true; /* look once more: something may have come meanwhile */
    c->recv_waiting--;
  }
  pthread_mutex_unlock(&c->lock);
  return rc;
}

/* Waits (lock held) until the I/O thread finishes or the deadline passes.
 * Returns false on timeout. */
static bool wait_finished(netfw_client *c, int timeout_ms) {
  struct timespec deadline;

  if (timeout_ms >= 0)
    netfw__deadline_after(&deadline, timeout_ms);
  while (!c->finished) {
    if (timeout_ms < 0)
      pthread_cond_wait(&c->finished_cv, &c->lock);
    else if (pthread_cond_timedwait(&c->finished_cv, &c->lock, &deadline) ==
             ETIMEDOUT)
      return c->finished;
  }
  return true;
}

int netfw_client_shutdown(netfw_client *c, int timeout_ms) {
  int rc;

  if (c == NULL || timeout_ms < -1)
    return NETFW_EINVAL;
  pthread_mutex_lock(&c->lock);
  if (c->state != NETFW__CLIENT_CONNECTED) {
    pthread_mutex_unlock(&c->lock);
    return NETFW_ESTATE;
  }
  c->state = NETFW__CLIENT_CLOSED;
  c->shutdown_req = true;
  netfw__calls_fail_all(&c->calls, NETFW_ESTATE); /* calls return now */
  netfw__client_io_wake(c);
  pthread_cond_broadcast(&c->readable); /* a blocked recv returns ESTATE */
  if (!wait_finished(c, timeout_ms)) {
    c->abort_req = true;
    netfw__client_io_wake(c);
    wait_finished(c, -1);
  }
  rc = c->result;
  pthread_mutex_unlock(&c->lock);

  netfw__client_io_join(c);
  pthread_mutex_lock(&c->lock);
  netfw__inbox_clear(&c->inbox);
  netfw__calls_fail_all(&c->calls, NETFW_ESTATE); /* abandoned, sends */
  c->inbox_bytes = 0;
  netfw__outbuf_free(&c->out);
  pthread_mutex_unlock(&c->lock);
  return rc;
}

void netfw_client_free(netfw_client *c) {
  if (c == NULL)
    return;
  if (c->state == NETFW__CLIENT_CONNECTED)
    (void)netfw_client_shutdown(c, -1);
  netfw__tls_ctx_unref(c->tls);
  netfw__tls_config_free(c->tls_cfg);
  netfw__calltab_free(c->calltab);
  free(c->host);
  free(c->server_name);
  pthread_cond_destroy(&c->finished_cv);
  pthread_cond_destroy(&c->readable);
  pthread_mutex_destroy(&c->lock);
  free(c);
}
