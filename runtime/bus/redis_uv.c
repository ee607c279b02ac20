/* hiredis on a libuv loop (see redis_uv.h). */
#include <stdlib.h>

#include "redis_uv.h"

typedef struct poller {
  redisAsyncContext *ac; /* NULL once hiredis cleaned up */
  uv_poll_t handle;
  int events; /* UV_READABLE | UV_WRITABLE wanted by hiredis */
} poller;

/* Hands the socket's readiness to hiredis; an error status is passed on as
 * the events hiredis waits for (it then finds the socket error itself). */
static void on_poll(uv_poll_t *h, int status, int events) {
  poller *p = h->data;
  int ev = status < 0 ? p->events : events;

  if (p->ac != NULL && (ev & UV_READABLE))
    redisAsyncHandleRead(p->ac);
  if (p->ac != NULL && (ev & UV_WRITABLE))
    redisAsyncHandleWrite(p->ac);
}

/* Polls for p->events, or stops when there are none. */
static void update(poller *p) {
  if (p->events != 0)
    uv_poll_start(&p->handle, p->events, on_poll);
  else
    uv_poll_stop(&p->handle);
}

/* The hooks hiredis calls (idempotent). */
static void add_read(void *arg) {
  poller *p = arg;

  p->events |= UV_READABLE;
  update(p);
}

static void del_read(void *arg) {
  poller *p = arg;

  p->events &= ~UV_READABLE;
  update(p);
}

static void add_write(void *arg) {
  poller *p = arg;

  p->events |= UV_WRITABLE;
  update(p);
}

static void del_write(void *arg) {
  poller *p = arg;

  p->events &= ~UV_WRITABLE;
  update(p);
}

/* Frees the poller once its handle is closed. */
static void on_closed(uv_handle_t *h) {
  free(h->data);
}

/* hiredis frees the context: close the handle (before hiredis closes the
 * fd), free later. */
static void cleanup(void *arg) {
  poller *p = arg;

  p->ac = NULL;
  uv_close((uv_handle_t *)&p->handle, on_closed);
}

int netfw__redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop,
                           bool keep_alive) {
  poller *p;

  if (ac->ev.data != NULL || (p = calloc(1, sizeof(*p))) == NULL)
    return -1;
  if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
    free(p);
    return -1;
  }
  if (!keep_alive)
    uv_unref((uv_handle_t *)&p->handle);
  p->handle.data = p;
  p->ac = ac;
  ac->ev.data = p;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}
