/* The client's I/O thread: a libuv loop that owns the connection, a stream
 * (runtime/stream) over the plain TCP transport. The application threads
 * never touch the socket: send appends frames to the output buffer under
 * the lock and wakes this thread when the buffer was empty; the wake hands
 * the whole buffer to the stream (its memory moves, no copy) and writes it
 * in the same loop iteration (try_write, then a queued write of the rest).
 * Frames sent while that write is in flight collect in the output buffer
 * and leave together when it completes.
 *
 * It reads frames into the inbox and carries out shutdown: flush, FIN,
 * discard input until EOF, close. The loop keeps running after the
 * connection ends, until shutdown is asked for, so that the wake handle
 * stays valid for every call the application may still make. */
#include <errno.h>
#include <stdio.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "tls.h"

/* Buffers (of at most 1 MiB) the stream keeps for reuse: the read buffer
 * and the two output buffers that take turns. */
enum { CLIENT_CACHE = 4 };

static netfw_client *client_of(const netfw__stream *s) {
  return (netfw_client *)(void *)((char *)(uintptr_t)s -
                                  offsetof(netfw_client, s));
}

static void on_handle_close(uv_handle_t *h) {
  (void)h;
}

/* Finishes when shutdown was asked for and the connection is closed:
 * publishes the result, then closes the loop's own handles, which lets
 * uv_run return. */
static void maybe_finish(netfw_client *c) {
  bool done = false;

  pthread_mutex_lock(&c->lock);
  if (c->shutdown_req && c->s_closed && !c->finished) {
    c->finished = true;
    c->result = c->aborted ? NETFW_ETIMEDOUT : c->lost ? NETFW_ECONNRESET : 0;
    pthread_cond_broadcast(&c->finished_cv);
    done = true;
  }
  pthread_mutex_unlock(&c->lock);
  if (done) {
    uv_close((uv_handle_t *)&c->wake, on_handle_close);
    uv_close((uv_handle_t *)&c->flush, on_handle_close);
    uv_close((uv_handle_t *)&c->redial, on_handle_close);
    netfw__client_link_report(c, NETFW_LINK_CLOSED, 0);
  }
}

/* The stream is gone: with reconnect on (and no shutdown asked for) the
 * next dial follows its backoff (link.c). */
static void on_closed(netfw__stream *s) {
  netfw_client *c = client_of(s);
  bool shut;

  c->s_closed = true;
  pthread_mutex_lock(&c->lock);
  shut = c->shutdown_req;
  pthread_mutex_unlock(&c->lock);
  if (c->io_running && !shut) {
    if (NETFW__RECONNECT_ON(c))
      netfw__client_link_down(c);
    else
      netfw__client_link_report(c, NETFW_LINK_DOWN, netfw_client_loss(c));
  }
  maybe_finish(c);
}

/* The connection ended without a shutdown completing it: recv and send
 * report NETFW_ECONNRESET from now on (after the messages already queued),
 * netfw_client_loss says why (loss) and netfw_client_error in words (why),
 * unless TLS said more already. */
static void mark_lost(netfw_client *c, int loss, const char *why) {
  if (NETFW__RECONNECT_ON(c)) {
    if (c->up) /* recv reports it once; a failed redial is not one */
      c->loss_unreported = true;
    c->up = false;
    netfw__outbuf_consumed(&c->out); /* the next connection starts empty */
    atomic_store(&c->out_ready, false);
    atomic_store(&c->stream_bytes, 0);
  }
  c->lost = true;
  c->loss = loss;
  if (c->error[0] == '\0')
    snprintf(c->error, sizeof(c->error), "%s", why);
  netfw__calls_fail_all(&c->calls, NETFW_ECONNRESET);
  pthread_cond_broadcast(&c->readable);
}

/* mark_lost under the lock, then closes the stream; calls waiting for a
 * reply fail with NETFW_ECONNRESET. */
static void conn_lost(netfw_client *c, int loss, const char *why) {
  if (c->s.flags & NETFW__S_CLOSING)
    return;
  netfw_log(NETFW_LOG_DEBUG, "client: connection lost: %s", why);
  pthread_mutex_lock(&c->lock);
  mark_lost(c, loss, why);
  pthread_mutex_unlock(&c->lock);
  netfw__stream_close(&c->s, false);
}

/* An end-of-stream from the peer counts as a loss too (the client does not
 * keep writing to a half-closed connection); only the EOF that ends a
 * shutdown's drain does not, and the stream does not report that one.
 * The three ways a server ends a connection are told apart: an orderly
 * close (FIN: EOF here), a reset (RST: ECONNRESET, or EPIPE on a write),
 * and a network that stopped answering (ETIMEDOUT). */
static void on_lost(netfw__stream *s, int status) {
  netfw_client *c = client_of(s);
  char why[160];
  int loss;

  if (!c->established) /* the handshake failed: connect says why */
    c->hs_status = status;
  if (netfw__tls_failure(s)[0] != '\0') {
    pthread_mutex_lock(&c->lock); /* read by netfw_client_error */
    snprintf(c->error, sizeof(c->error), "%s", netfw__tls_failure(s));
    pthread_mutex_unlock(&c->lock);
  }
  if (status == UV_EOF) {
    loss = NETFW_ECLOSED;
    snprintf(why, sizeof(why), "closed by the server");
  } else if (status == UV_ETIMEDOUT) {
    loss = NETFW_ETIMEDOUT;
    snprintf(why, sizeof(why), "timed out: the server stopped answering");
  } else {
    loss = netfw__tls_failure(s)[0] != '\0' ? NETFW_ETLS : NETFW_ECONNRESET;
    snprintf(why, sizeof(why), "reset (%s)", uv_strerror(status));
  }
  conn_lost(c, loss, why);
}

/* Hands a batch to the inbox and the calls (lock held): with a protocol,
 * each reply goes to the oldest pending request (netfw__client_route).
 * Returns the inbox bytes added; *called is set when a waiting call got
 * its reply; *proto is set, and the connection marked lost, when a reply
 * answers not that request (the rest is dropped). */
static size_t route_batch(netfw_client *c, netfw__inbox *batch, bool *proto,
                          bool *called) {
  netfw_msg *m;
  char why[300];
  size_t bytes = 0;

  while ((m = netfw__inbox_pop(batch)) != NULL) {
    int r = netfw__client_route(c, m, why, sizeof(why));
    *called |= r == NETFW__ROUTE_CALL;
    if (r == NETFW__ROUTE_INBOX) {
      netfw__inbox_push(&c->inbox, (netfw__inbox_entry *)(void *)m);
      bytes += NETFW__INBOX_COST(netfw_msg_size(m));
    } else if (r == NETFW__ROUTE_MISMATCH) {
      netfw_log(NETFW_LOG_WARN, "client: %s", why);
      netfw__inbox_clear(batch);
      mark_lost(c, NETFW_EPROTO, why);
      *proto = true;
    }
  }
  return bytes;
}

/* Turns every complete frame in the read buffer into an inbox entry and
 * hands them over under one lock (replies to their calls); stops reading
 * when the inbox is over max_inbox (recv asks for more, see pump).
 * Returns 0, NETFW_E2BIG, NETFW_ENOMEM or NETFW_EPROTO (a reply to no
 * call: the connection was marked lost, the stream must be closed). */
static int deliver_frames(netfw_client *c, bool *waited) {
  netfw__inbox batch;
  netfw_frame f;
  size_t bytes = 0;
  bool pause = false, proto = false, called = false;
  int rc;

  netfw__inbox_init(&batch);
  while ((rc = netfw__stream_next(&c->s, &f)) == 1) {
    netfw__inbox_entry *e = netfw__inbox_entry_new(f.id, f.payload, f.size);
    if (e == NULL) {
      rc = NETFW_ENOMEM;
      break;
    }
    netfw__inbox_push(&batch, e);
    bytes += NETFW__INBOX_COST(f.size);
  }
  if (batch.head != NULL) {
    pthread_mutex_lock(&c->lock);
    if (c->calltab != NULL)
      bytes = route_batch(c, &batch, &proto, &called);
    else
      netfw__inbox_splice(&c->inbox, &batch);
    c->inbox_bytes += bytes;
    if (proto)
      rc = NETFW_EPROTO;
    if (c->max_inbox > 0 && c->inbox_bytes > c->max_inbox && rc == 0)
      pause = c->read_paused = true;
    *waited = c->recv_waiting > 0 || called; /* it will send again soon */
    pthread_cond_broadcast(&c->readable);
    pthread_mutex_unlock(&c->lock);
  }
  if (pause)
    netfw__stream_read_pause(&c->s);
  return rc;
}

static void pump(netfw_client *c);

/* Waiting for the next send. A recv was blocked on what was just
 * delivered: its thread will most likely send again within microseconds
 * (request, reply, request). Staying awake for that while, instead of
 * sleeping in epoll, spares the send a wake-up of this thread (an eventfd
 * write and a scheduler round trip: the price of application threads never
 * touching the socket; a wake costs tens of microseconds on a busy VM).
 * Bounded by SPIN_NS (200 us) per delivered reply, and
 * yielding, so an application thread on the same core gets to run. send
 * skips the wake while io_spinning is set; out_ready tells the spin that
 * output came, and pump then takes it under the lock, which also covers a
 * send that saw io_spinning just before it was cleared. */
#define SPIN_NS 200000
static void wait_for_send(netfw_client *c) {
  uint64_t end = uv_hrtime() + SPIN_NS;

  atomic_store(&c->io_spinning, true);
  while (!atomic_load(&c->out_ready) && uv_hrtime() < end)
    sched_yield();
  atomic_store(&c->io_spinning, false);
  pump(c);
}

static void on_readable(netfw__stream *s) {
  netfw_client *c = client_of(s);
  bool waited = false;
  int rc = deliver_frames(c, &waited);
  char why[160];

  if (rc == NETFW_E2BIG) {
    snprintf(why, sizeof(why),
             "dropped by this client: the server sent a frame over "
             "max_payload (%u bytes)",
             (unsigned)c->max_payload);
    netfw_log(NETFW_LOG_WARN, "client: %s", why);
    conn_lost(c, rc, why);
  } else if (rc == NETFW_EPROTO) {
    if (!(c->s.flags & NETFW__S_CLOSING))
      netfw__stream_close(&c->s, false); /* mark_lost said why */
  } else if (rc < 0)
    conn_lost(c, rc, netfw_strerror(rc));
  else if (waited && !(c->s.flags & NETFW__S_CLOSING))
    wait_for_send(c);
}

static void on_established(netfw__stream *s) {
  netfw_client *c = client_of(s);

  c->established = true;
  c->read_rc = netfw__stream_read_start(s);
  if (!c->redialing)
    return;
  if (c->read_rc < 0)
    conn_lost(c, NETFW_ECONNRESET, uv_strerror(c->read_rc));
  else
    netfw__client_link_up(c);
}

/* A write completed: what was sent meanwhile goes next. */
static void on_written(netfw__stream *s) {
  pump(client_of(s));
}

static const netfw__stream_events client_events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .written = on_written,
    .closed = on_closed,
};

/* Hands the output buffer to the stream when no write is in flight (lock
 * held); the buffer then gets a cached one in exchange. Returns true when
 * something was handed over; *rest says whether bytes stay behind. */
static bool take_output(netfw_client *c, bool *rest) {
  bool took = false;

  if (c->out.len > 0 && !netfw__stream_has_output(&c->s) &&
      netfw__stream_put_buf(&c->s, &c->out.base, &c->out.len, &c->out.cap) ==
          0) {
    took = true;
    if (c->out.base == NULL)
      c->out.base = netfw__stream_buf_take(&c->sctx, 0, &c->out.cap);
    atomic_store(&c->stream_bytes, netfw__stream_queued(&c->s));
  }
  *rest = c->out.len > 0;
  if (!*rest)
    atomic_store(&c->out_ready, false);
  return took;
}

/* Moves the state forward: hands what was sent to the stream and writes it
 * at once, resets on abort, reads again after a pause, and starts the FIN
 * once everything sent before shutdown is in the stream. */
static void pump(netfw_client *c) {
  bool shut, abort_now, resume, took, rest = false;
  int rc;

  pthread_mutex_lock(&c->lock);
  shut = c->shutdown_req;
  abort_now = c->abort_req;
  resume = c->resume_req && !shut;
  if (resume || shut) /* a shutdown drains: the stream reads again */
    c->read_paused = c->resume_req = false;
  took = !(c->s.flags & NETFW__S_CLOSING) && take_output(c, &rest);
  pthread_mutex_unlock(&c->lock);

  if (abort_now && !(c->s.flags & NETFW__S_CLOSING)) {
    c->aborted = true;
    netfw__stream_close(&c->s, true); /* the peer sees a reset */
  }
  if (c->s.flags & NETFW__S_CLOSING) {
    maybe_finish(c);
    return;
  }
  if (resume && (rc = netfw__stream_read_resume(&c->s)) < 0) {
    conn_lost(c, NETFW_ECONNRESET, uv_strerror(rc));
    return;
  }
  if (took)
    netfw__stream_flush(&c->s); /* now, not after another iteration */
  atomic_store(&c->stream_bytes, netfw__stream_queued(&c->s)); /* max_output */
  if (shut && !rest && !(c->s.flags & (NETFW__S_FIN | NETFW__S_CLOSING)))
    netfw__stream_fin(&c->s, true);
}

static void on_wake(uv_async_t *h) {
  pump(h->data);
}

/* Writes what the iteration queued. Output that waited in the buffer
 * for the stream's last write goes first: with TLS, a try_write can leave
 * that write's ciphertext inside the transport, and its end comes as the
 * stream's `drained`, with no `written` for this client (the buffer then
 * stayed until the next send woke the thread). pump comes before the
 * flush, which also carries out the FIN pump may start. */
static void on_flush(uv_check_t *h) {
  netfw_client *c = h->data;

  if (atomic_load(&c->out_ready) && !(c->s.flags & NETFW__S_CLOSING) &&
      !netfw__stream_has_output(&c->s))
    pump(c);
  netfw__stream_ctx_flush(&c->sctx);
}

static void *thread_main(void *arg) {
  netfw_client *c = arg;

  (void)uv_timer_init(&c->loop, &c->redial); /* reconnect (link.c) */
  c->redial.data = c;
  c->io_running = true;
  netfw__client_link_report(c, NETFW_LINK_UP, 0);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  return NULL;
}

/* Starts the thread with every signal blocked, so that it inherits a full
 * mask: a write to a reset socket then cannot kill the process with SIGPIPE
 * (the signal stays pending on this thread and write returns EPIPE). */
static int start_thread(netfw_client *c) {
  sigset_t all, old;
  int rc;

  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(&c->thread, NULL, thread_main, c);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    errno = rc;
    return rc == EAGAIN ? NETFW_ENOMEM : NETFW_ESYS;
  }
  return 0;
}

/* A peer that resets (or closes) while connect sets up (seen when it
 * resets at accept) is a connection loss, not a system failure. */
static int uv_to_netfw(int rc) {
  if (rc == UV_ENOMEM)
    return NETFW_ENOMEM;
  if (rc == UV_ECONNRESET || rc == UV_EPIPE || rc == UV_ENOTCONN ||
      rc == UV_ECONNABORTED)
    return NETFW_ECONNRESET;
  errno = -rc;
  return NETFW_ESYS;
}

/* Closes the stream and whatever handles were initialised, runs the loop
 * once more so their close callbacks complete, then releases the loop. */
static void undo_setup(netfw_client *c, bool wake_inited, bool flush_inited) {
  if (wake_inited)
    uv_close((uv_handle_t *)&c->wake, NULL);
  if (flush_inited)
    uv_close((uv_handle_t *)&c->flush, NULL);
  netfw__stream_close(&c->s, false);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  uv_loop_close(&c->loop);
  netfw__stream_ctx_free(&c->sctx);
}

/* Runs the loop in the caller's thread until the TLS handshake is done
 * or failed (bounded by the handshake timeout). Returns 0 or a NETFW_E*
 * code. */
static int handshake(netfw_client *c) {
  while (!c->established && !c->lost)
    uv_run(&c->loop, UV_RUN_ONCE);
  if (c->established)
    return netfw__tls_peer(&c->s, &c->peer) == 0 ? 0 : NETFW_ESTATE;
  if (c->hs_status == UV_ETIMEDOUT)
    return NETFW_ETIMEDOUT;
  return c->hs_status == UV_EPROTO ? NETFW_ETLS : NETFW_ECONNRESET;
}

int netfw__client_io_start(netfw_client *c, int fd, const char *server_name) {
  int rc;

  /* A reconnect after shutdown finds these as the last connection left
   * them: start from zero, as on a new client. */
  memset(&c->s, 0, sizeof(c->s));
  memset(&c->wake, 0, sizeof(c->wake));
  memset(&c->flush, 0, sizeof(c->flush));
  c->s_closed = c->aborted = c->established = false;
  c->io_running = c->redialing = false;
  c->attempt = 0;
  c->read_rc = c->hs_status = 0;
  c->wake.data = c->flush.data = c;
  if ((rc = uv_loop_init(&c->loop)) < 0)
    goto failed_loop;
  netfw__stream_ctx_init(&c->sctx, &c->loop, &client_events, CLIENT_CACHE);
  if ((rc = netfw__stream_init(&c->s, &c->sctx, c->max_payload)) < 0)
    goto failed_stream;
  if ((rc = netfw__stream_open(&c->s, fd)) < 0)
    goto failed_open; /* fd is still ours */
  if (c->tls != NULL && netfw__tls_wrap(&c->s, c->tls, server_name) != 0) {
    rc = UV_ENOMEM;
    goto failed_wake; /* closing the stream closes fd */
  }
  /* From here closing the stream closes fd. */
  if ((rc = uv_async_init(&c->loop, &c->wake, on_wake)) < 0)
    goto failed_wake;
  if ((rc = uv_check_init(&c->loop, &c->flush)) < 0)
    goto failed_flush;
  uv_check_start(&c->flush, on_flush);
  netfw__stream_start(&c->s); /* plain TCP: established, reading */
  if (c->tls != NULL && (rc = handshake(c)) != 0) {
    undo_setup(c, true, true);
    return rc;
  }
  if ((rc = c->read_rc) < 0)
    goto failed_read;
  c->up = true; /* before the thread: a loss is then reported */
  if ((rc = start_thread(c)) < 0)
    goto failed_thread;
  return 0;

failed_thread:
  undo_setup(c, true, true);
  return rc;
failed_read:
  undo_setup(c, true, true);
  return uv_to_netfw(rc);
failed_flush:
  undo_setup(c, true, false);
  return uv_to_netfw(rc);
failed_wake:
  undo_setup(c, false, false);
  return uv_to_netfw(rc);
failed_open:
  undo_setup(c, false, false);
  close(fd);
  return uv_to_netfw(rc);
failed_stream:
  uv_loop_close(&c->loop);
failed_loop:
  close(fd);
  return uv_to_netfw(rc);
}

void netfw__client_stream_restart(netfw_client *c, int fd) {
  int rc;

  memset(&c->s, 0, sizeof(c->s));
  c->s_closed = c->established = false;
  c->read_rc = c->hs_status = 0;
  if ((rc = netfw__stream_init(&c->s, &c->sctx, c->max_payload)) < 0) {
    (void)close(fd);
    c->s_closed = true;
    netfw__client_link_down(c);
    return;
  }
  if ((rc = netfw__stream_open(&c->s, fd)) < 0) {
    (void)close(fd);
    netfw__stream_close(&c->s, false); /* closed follows: down again */
    return;
  }
  if (c->tls != NULL && netfw__tls_wrap(&c->s, c->tls, c->server_name) != 0) {
    netfw__stream_close(&c->s, false);
    return;
  }
  netfw__stream_start(&c->s); /* established: up (link.c) */
}

void netfw__client_io_wake(netfw_client *c) {
  if (!c->finished)
    uv_async_send(&c->wake);
}

void netfw__client_io_join(netfw_client *c) {
  pthread_join(c->thread, NULL);
  uv_loop_close(&c->loop);
  netfw__stream_ctx_free(&c->sctx);
}
