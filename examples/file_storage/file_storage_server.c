/* file_storage_server: netframe's file-storage example on netfw. Clients
 * store (ADD), fetch (GET), delete (DEL) and list (LIST) files kept in one
 * directory. The handlers below receive decoded structs from the code
 * netfw-gen generates from protocols/file_storage.netproto and queue them
 * per connection; the disk work runs on libuv's thread pool, never on the
 * event loop (fs_server.h). Safe with any number of workers: see store.c.
 *
 * What each refusal answers: fs_ops.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"
#include "file_storage.netfw.h"
#include "fs_server.h"
#include "store.h"

/* What every worker starts from. */
typedef struct server_opts {
  const char *dir;
  uint32_t max_payload;
  uint64_t quota;
} server_opts;

/* A worker starting (a replacement, often: its predecessor may have been
 * killed mid-ADD) removes the temporary files of writers that are gone.
 * This runs before the worker serves anyone, so the scan blocks nobody;
 * files of live workers stay. */
static void sweep_dead_writers(store *st, const char *dir) {
  unsigned removed = 0;

  if (store_sweep_tmp(st, &removed) == STORE_OK && removed > 0)
    netfw_log(NETFW_LOG_INFO,
              "removed %u temporary file%s of dead writers from '%s'",
              removed, removed == 1 ? "" : "s", dir);
}

static void *create(void *context) {
  const server_opts *o = context;
  fs_worker *w = calloc(1, sizeof(*w));

  if (w == NULL)
    return NULL;
  if (store_open(&w->st, o->dir) != STORE_OK) {
    netfw_log(NETFW_LOG_ERROR, "cannot open directory '%s'", o->dir);
    free(w);
    return NULL;
  }
  sweep_dead_writers(&w->st, o->dir);
  w->max_payload = o->max_payload;
  w->quota = o->quota;
  w->add_cap =
      o->max_payload > FS_ADD_BYTES_MIN ? o->max_payload : FS_ADD_BYTES_MIN;
  return w;
}

static void destroy(void *app) {
  fs_worker *w = app;

  if (w == NULL)
    return;
  store_close(&w->st);
  free(w);
}

static void on_add(void *app, netfw_conn *conn, const file_storage_Add *m) {
  fs_submit(app, conn, FS_ADD, m->filename.ptr, m->filename.len, m->file.ptr,
            m->file.len);
}

static void on_del(void *app, netfw_conn *conn, const file_storage_Del *m) {
  fs_submit(app, conn, FS_DEL, m->filename.ptr, m->filename.len, NULL, 0);
}

static void on_get(void *app, netfw_conn *conn, const file_storage_Get *m) {
  fs_submit(app, conn, FS_GET, m->filename.ptr, m->filename.len, NULL, 0);
}

static void on_list(void *app, netfw_conn *conn, const file_storage_List *m) {
  (void)m;
  fs_submit(app, conn, FS_LIST, "", 0, NULL, 0);
}

/* The connection is gone: its pending requests are dropped, and the job in
 * flight (if any) will find it gone. */
static void on_closed(void *app, netfw_conn *conn, netfw_close_reason why) {
  (void)app;
  (void)why;
  fs_conn_closed(conn);
}

static const file_storage_server_handlers handlers = {
    .on_Add = on_add, .on_Del = on_del, .on_Get = on_get, .on_List = on_list,
    /* unknown ids and malformed payloads: the generated defaults log the
     * peer and shut the connection down */
};

/* Checks the directory and removes what writers killed mid-ADD left (once,
 * before the workers start). Returns 0 or the exit status. */
static int prepare_dir(const char *dir) {
  store probe;
  unsigned removed = 0;

  if (store_open(&probe, dir) != STORE_OK) {
    fprintf(stderr, "error: cannot open directory '%s': %s\n", dir,
            strerror(errno));
    return 1;
  }
  if (store_sweep_tmp(&probe, &removed) != STORE_OK)
    netfw_log(NETFW_LOG_WARN, "cannot scan '%s' for stale temporary files",
              dir);
  else
    netfw_log(NETFW_LOG_INFO, "removed %u stale temporary file%s from '%s'",
              removed, removed == 1 ? "" : "s", dir);
  store_close(&probe);
  return 0;
}

int main(int argc, char **argv) {
  example_server_opts opts;
  server_opts so = {NULL, 0, STORE_NO_QUOTA};
  file_storage_server_app app = {.handlers = &handlers,
                                 .create = create,
                                 .destroy = destroy,
                                 .on_closed = on_closed,
                                 .context = &so};
  netfw_config cfg;
  int status = example_server_args(
      argc, argv, "file_storage_server",
      "Keeps files in DIR for file_storage clients (netframe's protocol).\n",
      &opts, &so.dir);

  if (status >= 0)
    return status;
  if ((status = prepare_dir(so.dir)) != 0)
    return status;
  file_storage_server_config_init(&cfg, &app);
  /* This server orders its answers itself: a connection's requests wait in
   * its fs_conn queue and are answered one at a time, after on_message has
   * returned (the disk work runs on the thread pool), and a GetResp is
   * streamed with netfw_conn_send_begin/more. So it keeps the runtime's
   * reply ordering off (docs/calls.md, "A server that orders its own
   * replies"); the bytes on the wire are the same, and clients' calls
   * match them as they would any other server's. */
  cfg.protocol = NULL;
  example_apply_limits(&opts, &cfg);
  so.max_payload = cfg.max_payload;
  if (opts.quota >= 0)
    so.quota = (uint64_t)opts.quota;
  return example_serve(&opts, &cfg);
}
