/* The client's I/O thread: a libuv loop that owns the socket (send may only
 * write to it directly while this thread has nothing to write; see
 * client.c).
 *
 * It reads frames into the inbox, writes whatever send put in the output
 * buffer (one write per batch: the buffer is swapped out whole while the
 * application keeps appending to the other one), and carries out shutdown:
 * flush, FIN, discard input until EOF, close. The loop keeps running after
 * the connection ends, until shutdown is asked for, so that the wake handle
 * stays valid for every call the application may still make. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"

/* A read buffer larger than this is freed when nothing is pending in it. */
enum { RBUF_KEEP = 4 * NETFW_FRAMEBUF_CHUNK };

static void pump(netfw_client *c);

static void on_async_close(uv_handle_t *h) {
  (void)h;
}

/* Finishes when shutdown was asked for and the socket is closed: publishes
 * the result, then closes the wake handle, which lets uv_run return. */
static void maybe_finish(netfw_client *c) {
  bool done = false;

  pthread_mutex_lock(&c->lock);
  if (c->shutdown_req && c->tcp_closed && !c->finished) {
    c->finished = true;
    c->result = c->aborted ? NETFW_ETIMEDOUT : c->lost ? NETFW_ECONNRESET : 0;
    pthread_cond_broadcast(&c->finished_cv);
    done = true;
  }
  pthread_mutex_unlock(&c->lock);
  if (done)
    uv_close((uv_handle_t *)&c->wake, on_async_close);
}

static void on_tcp_close(uv_handle_t *h) {
  netfw_client *c = h->data;

  c->tcp_closed = true;
  netfw__framebuf_free(&c->rbuf);
  netfw__outbuf_free(&c->wbuf);
  maybe_finish(c);
}

static void close_tcp(netfw_client *c) {
  if (c->tcp_closing)
    return;
  c->tcp_closing = true;
  pthread_mutex_lock(&c->lock);
  c->sock_open = false; /* from now on send only queues */
  pthread_mutex_unlock(&c->lock);
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_close((uv_handle_t *)&c->tcp, on_tcp_close);
}

/* The connection ended without a shutdown completing it: recv and send
 * report NETFW_ECONNRESET from now on (after the messages already queued). */
static void conn_lost(netfw_client *c, const char *why) {
  if (c->tcp_closing)
    return;
  netfw_log(NETFW_LOG_DEBUG, "client: connection lost: %s", why);
  pthread_mutex_lock(&c->lock);
  c->lost = true;
  pthread_cond_broadcast(&c->readable);
  pthread_mutex_unlock(&c->lock);
  close_tcp(c);
}

/* Resets the connection (RST, nothing more delivered) at the timeout. */
static void conn_abort(netfw_client *c) {
  uv_os_fd_t fd;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};

  if (c->tcp_closing)
    return;
  c->aborted = true;
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close_tcp(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  netfw_client *c = h->data;
  size_t avail = 0;
  uint8_t *p;

  (void)hint;
  if (c->fin_started)
    c->rbuf.start = c->rbuf.end; /* draining: reuse the space, keep nothing */
  p = netfw__framebuf_space(&c->rbuf, &avail);
  buf->base = (char *)p; /* NULL with 0: libuv reports UV_ENOBUFS */
  buf->len = p == NULL ? 0 : avail;
}

/* Turns every complete frame in the read buffer into an inbox entry and
 * hands them over under one lock; stops reading when the inbox is over
 * max_inbox (recv asks for more, see pump). Returns 0, NETFW_E2BIG or
 * NETFW_ENOMEM. */
static int deliver_frames(netfw_client *c) {
  netfw__inbox batch;
  netfw_frame f;
  size_t bytes = 0;
  bool pause = false;
  int rc;

  netfw__inbox_init(&batch);
  while ((rc = netfw__framebuf_next(&c->rbuf, &f)) == 1) {
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
    netfw__inbox_splice(&c->inbox, &batch);
    c->inbox_bytes += bytes;
    if (c->max_inbox > 0 && c->inbox_bytes > c->max_inbox && rc == 0)
      pause = c->read_paused = true;
    pthread_cond_broadcast(&c->readable);
    pthread_mutex_unlock(&c->lock);
  }
  if (pause)
    uv_read_stop((uv_stream_t *)&c->tcp);
  if (c->rbuf.cap > RBUF_KEEP)
    netfw__framebuf_trim(&c->rbuf);
  return rc;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  netfw_client *c = s->data;
  int rc;

  (void)buf;
  if (nread < 0) {
    if (nread == UV_EOF && c->fin_started)
      close_tcp(c); /* the graceful end of a shutdown */
    else
      conn_lost(c, nread == UV_EOF ? "closed by the peer"
                                   : uv_strerror((int)nread));
    return;
  }
  netfw__framebuf_commit(&c->rbuf, (size_t)nread);
  if (c->fin_started)
    return; /* draining: the bytes are dropped by the next alloc_cb */
  rc = deliver_frames(c);
  if (rc == NETFW_E2BIG)
    netfw_log(NETFW_LOG_WARN,
              "client: the peer sent a frame over max_payload (%u bytes); "
              "dropping the connection",
              (unsigned)c->max_payload);
  if (rc < 0)
    conn_lost(c, netfw_strerror(rc));
}

/* Marks the write in flight as done (under the lock: send reads it). */
static void write_done(netfw_client *c) {
  pthread_mutex_lock(&c->lock);
  c->writing = false;
  pthread_mutex_unlock(&c->lock);
  netfw__outbuf_consumed(&c->wbuf);
}

static void on_write(uv_write_t *req, int status) {
  netfw_client *c = req->data;

  write_done(c);
  if (status < 0) {
    conn_lost(c, uv_strerror(status));
    return;
  }
  pump(c);
}

static void on_fin(uv_shutdown_t *req, int status) {
  netfw_client *c = req->data;

  if (status < 0)
    conn_lost(c, uv_strerror(status));
}

static void start_write(netfw_client *c) {
  uv_buf_t b;
  int rc;

  /* On Unix uv_buf_t.len is a size_t: the whole batch goes in one request
   * (uv_buf_init would truncate it to unsigned int). */
  b.base = (char *)c->wbuf.base;
  b.len = c->wbuf.len;
  c->write_req.data = c;
  rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
  if (rc < 0) {
    write_done(c);
    conn_lost(c, uv_strerror(rc));
  }
}

/* Starts reading again after a pause. */
static void resume_reading(netfw_client *c) {
  int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
  if (rc < 0)
    conn_lost(c, uv_strerror(rc));
}

static void start_fin(netfw_client *c) {
  bool paused;
  int rc;

  /* Draining needs reading, whatever the inbox holds (it is discarded). */
  pthread_mutex_lock(&c->lock);
  paused = c->read_paused;
  c->read_paused = c->resume_req = false;
  pthread_mutex_unlock(&c->lock);
  if (paused)
    resume_reading(c);
  if (c->tcp_closing)
    return;
  c->fin_started = true;
  c->shutdown_uv.data = c;
  rc = uv_shutdown(&c->shutdown_uv, (uv_stream_t *)&c->tcp, on_fin);
  if (rc < 0)
    conn_lost(c, uv_strerror(rc));
}

/* Moves the state forward: starts the next write when none is in flight,
 * or the FIN once everything sent before shutdown has been written.
 * writing is set under the lock together with the swap, so send never
 * writes directly while this thread has bytes to write. */
static void pump(netfw_client *c) {
  bool shut, abort_now, broken, resume, start = false;

  pthread_mutex_lock(&c->lock);
  shut = c->shutdown_req;
  abort_now = c->abort_req;
  broken = c->lost; /* send gave up mid-frame (see netfw_client_send) */
  resume = c->resume_req && !shut;
  if (resume)
    c->read_paused = c->resume_req = false;
  if (!c->writing && !c->tcp_closing && c->out.len > 0) {
    netfw__outbuf_swap(&c->out, &c->wbuf);
    c->writing = start = true;
  }
  pthread_mutex_unlock(&c->lock);

  if (abort_now)
    conn_abort(c);
  else if (broken)
    conn_lost(c, "a send could not queue the rest of its frame");
  if (c->tcp_closing) {
    if (start)
      write_done(c);
    maybe_finish(c);
    return;
  }
  if (resume)
    resume_reading(c);
  if (start && !c->tcp_closing)
    start_write(c);
  else if (start)
    write_done(c);
  else if (!c->writing && shut && !c->fin_started)
    start_fin(c);
}

static void on_wake(uv_async_t *h) {
  pump(h->data);
}

static void *thread_main(void *arg) {
  netfw_client *c = arg;

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

static int uv_to_netfw(int rc) {
  if (rc == UV_ENOMEM)
    return NETFW_ENOMEM;
  errno = -rc;
  return NETFW_ESYS;
}

/* Closes whatever handles were initialised and runs the loop once more so
 * their close callbacks complete, then releases the loop. */
static void undo_setup(netfw_client *c, bool tcp_inited, bool wake_inited) {
  if (wake_inited)
    uv_close((uv_handle_t *)&c->wake, NULL);
  if (tcp_inited)
    uv_close((uv_handle_t *)&c->tcp, NULL);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  uv_loop_close(&c->loop);
  netfw__framebuf_free(&c->rbuf);
}

int netfw__client_io_start(netfw_client *c, int fd) {
  int rc;

  c->writing = c->fin_started = false;
  c->tcp_closing = c->tcp_closed = c->aborted = false;
  c->sock_open = false;
  c->fd = fd;
  netfw__framebuf_init(&c->rbuf, c->max_payload);
  netfw__outbuf_init(&c->wbuf);
  c->tcp.data = c->wake.data = c;
  if ((rc = uv_loop_init(&c->loop)) < 0)
    goto failed_loop;
  if ((rc = uv_tcp_init(&c->loop, &c->tcp)) < 0)
    goto failed_tcp;
  if ((rc = uv_tcp_open(&c->tcp, fd)) < 0)
    goto failed_open; /* fd is still ours */
  /* From here closing the tcp handle closes fd. */
  if ((rc = uv_async_init(&c->loop, &c->wake, on_wake)) < 0)
    goto failed_wake;
  if ((rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read)) < 0)
    goto failed_read;
  c->sock_open = true;
  if ((rc = start_thread(c)) < 0)
    goto failed_thread;
  return 0;

failed_thread:
  undo_setup(c, true, true);
  return rc;
failed_read:
  undo_setup(c, true, true);
  return uv_to_netfw(rc);
failed_wake:
  undo_setup(c, true, false);
  return uv_to_netfw(rc);
failed_open:
  undo_setup(c, true, false);
  close(fd);
  return uv_to_netfw(rc);
failed_tcp:
  uv_loop_close(&c->loop);
failed_loop:
  close(fd);
  return uv_to_netfw(rc);
}

void netfw__client_io_wake(netfw_client *c) {
  if (!c->finished)
    uv_async_send(&c->wake);
}

void netfw__client_io_join(netfw_client *c) {
  pthread_join(c->thread, NULL);
  uv_loop_close(&c->loop);
  netfw__framebuf_free(&c->rbuf);
  netfw__outbuf_free(&c->wbuf);
}
