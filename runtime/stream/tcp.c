/* The plain TCP transport: a uv_tcp_t, the only code that touches the
 * socket (see stream.h, "transport"). Established as soon as it starts. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stream.h"

static netfw__tcp_transport *tcp_of(const void *handle) {
  return (netfw__tcp_transport *)(void *)((char *)(uintptr_t)handle -
                                          offsetof(netfw__tcp_transport, tcp));
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  netfw__tcp_transport *tt = tcp_of(h);

  (void)hint;
  tt->t.ev->alloc(tt->t.up, buf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  netfw__tcp_transport *tt = tcp_of(st);

  (void)buf;
  if (nread != 0)
    tt->t.ev->read(tt->t.up, nread);
}

static void on_write(uv_write_t *req, int status) {
  netfw__tcp_transport *tt = req->data;

  tt->t.ev->written(tt->t.up, req, status);
}

static void on_close(uv_handle_t *h) {
  netfw__tcp_transport *tt = tcp_of(h);

  tt->t.ev->closed(tt->t.up);
}

static void tcp_start(netfw__transport *t) {
  t->ev->established(t->up);
}

static int tcp_read_start(netfw__transport *t) {
  netfw__tcp_transport *tt = (netfw__tcp_transport *)t;

  return uv_read_start((uv_stream_t *)&tt->tcp, on_alloc, on_read);
}

static void tcp_read_stop(netfw__transport *t) {
  netfw__tcp_transport *tt = (netfw__tcp_transport *)t;

  uv_read_stop((uv_stream_t *)&tt->tcp);
}

static int tcp_try_write(netfw__transport *t, const uv_buf_t *bufs,
                         unsigned n) {
  netfw__tcp_transport *tt = (netfw__tcp_transport *)t;

  return uv_try_write((uv_stream_t *)&tt->tcp, bufs, n);
}

static int tcp_write(netfw__transport *t, uv_write_t *req, const uv_buf_t *bufs,
                     unsigned n) {
  netfw__tcp_transport *tt = (netfw__tcp_transport *)t;

  req->data = tt;
  return uv_write(req, (uv_stream_t *)&tt->tcp, bufs, n, on_write);
}

static size_t tcp_write_queued(const netfw__transport *t) {
  const netfw__tcp_transport *tt = (const netfw__tcp_transport *)t;

  return uv_stream_get_write_queue_size((const uv_stream_t *)&tt->tcp);
}

static int tcp_shutdown_write(netfw__transport *t) {
  netfw__tcp_transport *tt = (netfw__tcp_transport *)t;
  uv_os_fd_t fd;
  int err = uv_fileno((uv_handle_t *)&tt->tcp, &fd);

  if (err != 0)
    return err;
  return shutdown(fd, SHUT_WR) == 0 ? 0 : uv_translate_sys_error(errno);
}

static void tcp_close(netfw__transport *t, bool reset) {
  netfw__tcp_transport *tt = (netfw__tcp_transport *)t;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  uv_os_fd_t fd;

  if (uv_is_closing((uv_handle_t *)&tt->tcp))
    return;
  if (reset && uv_fileno((uv_handle_t *)&tt->tcp, &fd) == 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  uv_read_stop((uv_stream_t *)&tt->tcp);
  uv_close((uv_handle_t *)&tt->tcp, on_close);
}

static int tcp_peer(const netfw__transport *t, struct sockaddr_storage *ss) {
  const netfw__tcp_transport *tt = (const netfw__tcp_transport *)t;
  int len = (int)sizeof(*ss);

  return uv_tcp_getpeername(&tt->tcp, (struct sockaddr *)ss, &len);
}

static const netfw__transport_ops tcp_ops = {
    .start = tcp_start,
    .read_start = tcp_read_start,
    .read_stop = tcp_read_stop,
    .try_write = tcp_try_write,
    .write = tcp_write,
    .write_queued = tcp_write_queued,
    .shutdown_write = tcp_shutdown_write,
    .close = tcp_close,
    .peer = tcp_peer,
};

int netfw__tcp_transport_init(netfw__tcp_transport *tt, uv_loop_t *loop,
                              const netfw__transport_events *ev, void *up) {
  tt->t.ops = &tcp_ops;
  tt->t.ev = ev;
  tt->t.up = up;
  return uv_tcp_init(loop, &tt->tcp);
}

int netfw__tcp_transport_open(netfw__tcp_transport *tt, int fd) {
  int err = uv_tcp_open(&tt->tcp, fd);

  if (err == 0)
    uv_tcp_nodelay(&tt->tcp, 1);
  return err;
}
