/* file_storage_server's insides: the worker's state, each connection's queue
 * of requests, and the jobs that answer them without blocking the loop.
 *
 * Disk work never runs on the event loop: every store call runs on libuv's
 * thread pool (uv_queue_work), and its completion continues on the loop.
 * A connection's requests are answered one at a time, in the order they
 * arrived (clients pipeline). A connection that goes away (on_closed) has
 * its pending requests dropped; the job in flight, if any, finishes on the
 * pool and its completion sees the connection gone and touches nothing but
 * its own state (fs_conn outlives its netfw_conn until then).
 *
 * Bounds, per connection: FS_QUEUE_MAX pending requests (more: the
 * connection is shut down), one FS_CHUNK read buffer; while over
 * FS_QUEUED_HIGH bytes wait for the socket (the peer is not reading), no
 * GET piece is read and no next request started. Per worker:
 * the ADD payload copies held, at most add_cap bytes (more: ACK NONE). */
#ifndef FILE_STORAGE_FS_SERVER_H
#define FILE_STORAGE_FS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "file_storage.netfw.h"
#include "store.h"

#define FS_QUEUE_MAX 16               /* pending requests per connection */
#define FS_CHUNK ((size_t)256 * 1024) /* GET bytes per off-loop read */
#define FS_QUEUED_HIGH                                                         \
  ((size_t)1024 * 1024) /* no next read while more unsent */
#define FS_PACE_MS 5    /* re-check of the above */
#define FS_ADD_BYTES_MIN ((size_t)64 * 1024 * 1024) /* add_cap's floor */
/* GET_RESP's payload before the file's bytes: u8 name length, name, u32
 * file length. */
#define FS_GET_PREFIX_MAX (1 + STORE_NAME_MAX + 4)

/* One worker's state (each worker opens the directory for itself). */
typedef struct fs_worker {
  store st;
  uint32_t max_payload; /* the largest GET_RESP or LIST_RESP payload sent */
  uint64_t quota;       /* STORE_NO_QUOTA: none */
  size_t add_bytes;     /* ADD payload copies held by this worker */
  size_t add_cap;       /* bound on add_bytes */
} fs_worker;

typedef enum fs_kind { FS_ADD, FS_DEL, FS_GET, FS_LIST, FS_REFUSE } fs_kind;

/* A request copied out of its message (which is gone once the handler
 * returns). FS_REFUSE is an ADD already answered NONE, kept for the order. */
typedef struct fs_req {
  fs_kind kind;
  uint8_t name_len;
  char name[STORE_NAME_MAX];
  uint8_t *data; /* FS_ADD: the file's bytes, counted in add_bytes */
  uint32_t size;
} fs_req;

/* LIST's answer, gathered on the pool. */
typedef struct fs_listing {
  file_storage_FileEntry *entries;
  char **names;
  uint32_t count;
  size_t bytes;    /* encoded size so far */
  uint32_t budget; /* max_payload */
  bool failed;
} fs_listing;

/* A GET_RESP being streamed. */
typedef struct fs_get {
  int fd;        /* -1: none */
  uint64_t size; /* the length announced (fstat at open) */
  uint64_t off;  /* file bytes sent so far */
  uint8_t *buf;  /* FS_CHUNK bytes */
  long got;      /* the last read's count, -1 on error */
} fs_get;

typedef struct fs_conn fs_conn;
typedef void (*fs_done_fn)(fs_conn *fc);

/* A connection's state, attached with netfw_conn_set_data on its first
 * request. Freed when its holds (the connection until on_closed, the job in
 * flight, the pacing timer's handle) are all released. */
struct fs_conn {
  fs_worker *w;
  uv_loop_t *loop;
  netfw_conn *conn; /* NULL once closed: never touched after on_closed */
  bool stopped;     /* shut down or closed: nothing more is answered */
  bool busy;        /* cur is being answered */
  unsigned holds;
  fs_req queue[FS_QUEUE_MAX];
  unsigned head, count;
  /* the request being answered and its job's state */
  fs_req cur;
  uv_work_t work;
  fs_done_fn done;
  store_rc rc;
  fs_listing list;
  fs_get get;
  uv_timer_t timer;
  bool timer_open;
};

/* fs_conn.c: the queue and the connection's lifetime. */

/* Queues a request (name and data copied); answers in order. kind is
 * FS_ADD, FS_DEL, FS_GET or FS_LIST. */
void fs_submit(fs_worker *w, netfw_conn *conn, fs_kind kind, const char *name,
               size_t name_len, const uint8_t *data, uint32_t size);

/* on_closed: drops the connection's pending requests and forgets conn. */
void fs_conn_closed(netfw_conn *conn);

/* Runs work on the thread pool, then done on the loop (unless the
 * connection stopped meanwhile). Returns 0 or a libuv error. */
int fs_run(fs_conn *fc, uv_work_cb work, fs_done_fn done);

/* The current request is answered: frees its job, starts the next one. */
void fs_finish(fs_conn *fc);

/* Answers the current request with ACK rc (shuts down if it cannot). */
void fs_ack(fs_conn *fc, file_storage_Rc rc);

/* Shuts the connection down; nothing more is answered on it. */
void fs_stop(fs_conn *fc);

/* The ACK code for a store result (see fs_ops.c for the choices). */
file_storage_Rc fs_rc(store_rc rc);

/* Waits FS_PACE_MS, then goes on: the GET being streamed (fs_get_next)
 * or the next request. */
void fs_pace(fs_conn *fc);

/* Closes fd off the loop (uv_fs_close). */
void fs_close_fd(uv_loop_t *loop, int fd);

/* fs_ops.c: ADD, DEL and LIST. */

/* Starts answering fc->cur. */
void fs_start(fs_conn *fc);

/* Frees what LIST gathered. */
void fs_listing_free(fs_listing *l);

/* fs_get.c: GET, streamed. */

/* Starts answering the GET in fc->cur. */
void fs_get_start(fs_conn *fc);

/* Reads and sends the GET's next piece, or waits (fs_pace) while the
 * socket has not taken enough. */
void fs_get_next(fs_conn *fc);

/* Writes GET_RESP's payload prefix for name[0..len) and a file of size
 * bytes into out; returns its length (the file's bytes follow it). */
size_t fs_get_prefix(uint8_t out[FS_GET_PREFIX_MAX], const char *name,
                     uint8_t len, uint32_t size);

#endif /* FILE_STORAGE_FS_SERVER_H */
