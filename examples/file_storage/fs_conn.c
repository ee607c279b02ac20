/* A connection's queue of requests and its state's lifetime: see
 * fs_server.h. Everything here runs on the worker's loop thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_server.h"

/* Frees a request's ADD copy and gives its bytes back to the worker. */
static void req_clear(fs_worker *w, fs_req *r) {
  if (r->data != NULL) {
    w->add_bytes -= r->size;
    free(r->data);
    r->data = NULL;
  }
}

/* Frees what the current request's job holds. */
static void job_clear(fs_conn *fc) {
  req_clear(fc->w, &fc->cur);
  fs_listing_free(&fc->list);
  if (fc->get.fd >= 0)
    fs_close_fd(fc->loop, fc->get.fd);
  free(fc->get.buf);
  memset(&fc->get, 0, sizeof(fc->get));
  fc->get.fd = -1;
}

/* Releases one hold; the last one frees fc. */
static void release(fs_conn *fc) {
  if (--fc->holds > 0)
    return;
  job_clear(fc);
  free(fc);
}

static void after_close_fd(uv_fs_t *req) {
  uv_fs_req_cleanup(req);
  free(req);
}

void fs_close_fd(uv_loop_t *loop, int fd) {
  uv_fs_t *req = malloc(sizeof(*req));

  if (req == NULL || uv_fs_close(loop, req, fd, after_close_fd) != 0) {
    free(req);
    close(fd); /* out of memory: a read-only descriptor, closed here */
  }
}

/* Returns conn's state, created on its first request (NULL: no memory). */
static fs_conn *conn_state(fs_worker *w, netfw_conn *conn) {
  fs_conn *fc = netfw_conn_data(conn);

  if (fc != NULL)
    return fc;
  if ((fc = calloc(1, sizeof(*fc))) == NULL)
    return NULL;
  fc->w = w;
  fc->loop = netfw_conn_loop(conn);
  fc->conn = conn;
  fc->holds = 1; /* the connection's, released by fs_conn_closed */
  fc->get.fd = -1;
  netfw_conn_set_data(conn, fc);
  return fc;
}

void fs_stop(fs_conn *fc) {
  if (fc->stopped)
    return;
  fc->stopped = true;
  netfw_conn_shutdown(fc->conn);
}

void fs_ack(fs_conn *fc, file_storage_Rc rc) {
  file_storage_Ack a = {.rc = rc};

  if (file_storage_server_send_Ack(fc->conn, &a) != 0)
    fs_stop(fc);
}

static void on_pace(uv_timer_t *t);

void fs_pace(fs_conn *fc) {
  if (!fc->timer_open) {
    uv_timer_init(fc->loop, &fc->timer);
    fc->timer.data = fc;
    fc->timer_open = true;
    fc->holds++; /* released once the handle is closed */
  }
  if (!uv_is_active((uv_handle_t *)&fc->timer))
    uv_timer_start(&fc->timer, on_pace, FS_PACE_MS, 0);
}

/* Starts the next queued request while none is being answered and the
 * peer reads its replies. */
static void kick(fs_conn *fc) {
  while (!fc->busy && !fc->stopped && fc->count > 0) {
    if (netfw_conn_queued(fc->conn) > FS_QUEUED_HIGH) {
      fs_pace(fc);
      return;
    }
    fc->cur = fc->queue[fc->head];
    fc->head = (fc->head + 1) % FS_QUEUE_MAX;
    fc->count--;
    fc->busy = true;
    fs_start(fc);
  }
}

static void on_pace(uv_timer_t *t) {
  fs_conn *fc = t->data;

  if (fc->stopped)
    return;
  if (fc->busy)
    fs_get_next(fc); /* only a GET waits while busy */
  else
    kick(fc);
}

void fs_finish(fs_conn *fc) {
  job_clear(fc);
  fc->busy = false;
  kick(fc);
}

/* Copies an ADD's bytes within the worker's cap; false: refuse it. */
static bool copy_add(fs_worker *w, fs_req *r, const uint8_t *data,
                     uint32_t size) {
  if (size > w->add_cap - w->add_bytes) {
    netfw_log(NETFW_LOG_WARN,
              "ADD of %u bytes refused: %zu bytes of ADDs already held by "
              "this worker (cap %zu)",
              (unsigned)size, w->add_bytes, w->add_cap);
    return false;
  }
  if ((r->data = malloc(size > 0 ? size : 1)) == NULL)
    return false;
  if (size > 0)
    memcpy(r->data, data, size);
  r->size = size;
  w->add_bytes += size;
  return true;
}

void fs_submit(fs_worker *w, netfw_conn *conn, fs_kind kind, const char *name,
               size_t name_len, const uint8_t *data, uint32_t size) {
  fs_conn *fc = w != NULL ? conn_state(w, conn) : NULL;
  fs_req *r;

  if (fc == NULL) { /* w NULL: the worker could not open the directory */
    netfw_log(NETFW_LOG_ERROR, "cannot take a request (out of memory, or no "
                               "directory); closing the connection");
    netfw_conn_shutdown(conn);
    return;
  }
  if (fc->stopped)
    return;
  if (fc->count == FS_QUEUE_MAX) {
    netfw_log(NETFW_LOG_WARN,
              "a client has %d requests pending (the limit); closing it",
              FS_QUEUE_MAX);
    fs_stop(fc);
    return;
  }
  r = &fc->queue[(fc->head + fc->count) % FS_QUEUE_MAX];
  r->kind = kind;
  r->data = NULL;
  r->size = 0;
  r->name_len = (uint8_t)name_len; /* a u8 on the wire */
  memcpy(r->name, name, name_len);
  if (kind == FS_ADD && !copy_add(w, r, data, size))
    r->kind = FS_REFUSE;
  fc->count++;
  kick(fc);
}

static void after_timer_closed(uv_handle_t *h) {
  release(h->data);
}

void fs_conn_closed(netfw_conn *conn) {
  fs_conn *fc = netfw_conn_data(conn);

  if (fc == NULL)
    return;
  netfw_conn_set_data(conn, NULL);
  fc->conn = NULL;
  fc->stopped = true;
  for (; fc->count > 0; fc->count--, fc->head = (fc->head + 1) % FS_QUEUE_MAX)
    req_clear(fc->w, &fc->queue[fc->head]);
  if (fc->timer_open)
    uv_close((uv_handle_t *)&fc->timer, after_timer_closed);
  release(fc);
}

/* The job finished on the pool: answer, unless the connection is gone (or
 * stopping), then drop the job's hold (which may free fc). */
static void after_work(uv_work_t *req, int status) {
  fs_conn *fc = req->data;

  if (!fc->stopped && status == 0)
    fc->done(fc);
  release(fc);
}

int fs_run(fs_conn *fc, uv_work_cb work, fs_done_fn done) {
  int err;

  fc->work.data = fc;
  fc->done = done;
  err = uv_queue_work(fc->loop, &fc->work, work, after_work);
  if (err == 0)
    fc->holds++;
  return err;
}

file_storage_Rc fs_rc(store_rc rc) {
  switch (rc) {
  case STORE_OK:
    return FILE_STORAGE_RC_OK;
  case STORE_EXISTS:
    return FILE_STORAGE_RC_FILE_EXISTS;
  case STORE_NOT_FOUND:
  case STORE_NOT_REGULAR: /* not listed by LIST either: not a stored file */
    return FILE_STORAGE_RC_FILE_NOT_FOUND;
  default: /* bad name, too big for a message, over quota, I/O error */
    return FILE_STORAGE_RC_NONE;
  }
}
