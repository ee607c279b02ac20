/* GET, streamed: the file is opened on the thread pool (a FIFO or device is
 * refused without blocking: store_open_file), its size taken then, and the
 * GET_RESP frame announced with exactly that size. The file's bytes follow
 * in FS_CHUNK pieces, each read on the pool; no read starts while more
 * than FS_QUEUED_HIGH bytes wait for the socket (a timer re-checks). If the
 * file shrinks meanwhile the frame cannot be finished: the connection is
 * shut down (never a short frame); if it grows, the frame stops at the
 * announced size. */
#include <stdlib.h>
#include <string.h>

#include "fs_server.h"

size_t fs_get_prefix(uint8_t out[FS_GET_PREFIX_MAX], const char *name,
                     uint8_t len, uint32_t size) {
  /* GetResp { string<u8> filename; bytes<u32> file; }, little-endian (the
   * schema's option): the fields before the file's bytes, as
   * file_storage_GetResp_encode writes them (test_file_storage_server
   * compares the two byte for byte). */
  out[0] = len;
  memcpy(out + 1, name, len);
  for (int i = 0; i < 4; i++)
    out[1 + len + i] = (uint8_t)(size >> (8 * i));
  return 1 + (size_t)len + 4;
}

static fs_conn *job_of(uv_work_t *req) {
  return req->data;
}

/* Opens the file and sizes the reply (pool). */
static void open_work(uv_work_t *req) {
  fs_conn *fc = job_of(req);
  fs_get *g = &fc->get;
  uint64_t prefix = 1 + (uint64_t)fc->cur.name_len + 4;

  fc->rc = store_open_file(&fc->w->st, fc->cur.name, fc->cur.name_len, &g->fd,
                           &g->size);
  if (fc->rc == STORE_OK && prefix + g->size > fc->w->max_payload)
    fc->rc = STORE_TOO_BIG; /* the reply would exceed a message */
  if (fc->rc == STORE_OK && g->size > 0 &&
      (g->buf = malloc(g->size < FS_CHUNK ? (size_t)g->size : FS_CHUNK)) ==
          NULL)
    fc->rc = STORE_IO;
}

/* Reads the next piece (pool). */
static void read_work(uv_work_t *req) {
  fs_get *g = &job_of(req)->get;
  uint64_t left = g->size - g->off;

  g->got =
      store_read_at(g->fd, g->buf, left < FS_CHUNK ? left : FS_CHUNK, g->off);
}

static void read_done(fs_conn *fc);

void fs_get_next(fs_conn *fc) {
  int err;

  if (netfw_conn_queued(fc->conn) > FS_QUEUED_HIGH) {
    fs_pace(fc); /* calls fs_get_next again */
    return;
  }
  if ((err = fs_run(fc, read_work, read_done)) != 0) {
    netfw_log(NETFW_LOG_ERROR, "cannot queue a read: %s", uv_strerror(err));
    fs_stop(fc); /* the frame is begun: it cannot be answered otherwise */
  }
}

static void read_done(fs_conn *fc) {
  fs_get *g = &fc->get;

  if (g->got <= 0) {
    netfw_log(NETFW_LOG_WARN,
              "GET %.*s: %s after %llu of %llu bytes; closing the connection",
              (int)fc->cur.name_len, fc->cur.name,
              g->got < 0 ? "read error" : "the file shrank",
              (unsigned long long)g->off, (unsigned long long)g->size);
    fs_stop(fc);
    return;
  }
  if (netfw_conn_send_more(fc->conn, g->buf, (size_t)g->got) != 0) {
    fs_stop(fc);
    return;
  }
  g->off += (uint64_t)g->got;
  if (g->off == g->size)
    fs_finish(fc);
  else
    fs_get_next(fc);
}

/* The file is open (or refused): announce the frame and send its prefix. */
static void open_done(fs_conn *fc) {
  fs_get *g = &fc->get;
  uint8_t prefix[FS_GET_PREFIX_MAX];
  size_t n =
      fs_get_prefix(prefix, fc->cur.name, fc->cur.name_len, (uint32_t)g->size);

  if (fc->rc != STORE_OK) {
    fs_ack(fc, fs_rc(fc->rc));
    fs_finish(fc);
    return;
  }
  if (netfw_conn_send_begin(fc->conn, FILE_STORAGE_GET_RESP_ID,
                            (uint32_t)(n + g->size)) != 0 ||
      netfw_conn_send_more(fc->conn, prefix, n) != 0) {
    fs_stop(fc);
    return;
  }
  if (g->size == 0)
    fs_finish(fc);
  else
    fs_get_next(fc);
}

void fs_get_start(fs_conn *fc) {
  int err = fs_run(fc, open_work, open_done);

  if (err != 0) {
    netfw_log(NETFW_LOG_ERROR, "cannot queue disk work: %s", uv_strerror(err));
    fs_ack(fc, FILE_STORAGE_RC_NONE);
    fs_finish(fc);
  }
}
