/* file_storage_server: netframe's file-storage example on netfw. Clients
 * store (ADD), fetch (GET), delete (DEL) and list (LIST) files kept in one
 * directory. The handlers below receive decoded structs from the code
 * netfw-gen generates from protocols/file_storage.netproto; nothing here
 * packs bytes by hand. Safe with any number of workers: see store.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example.h"
#include "file_storage.netfw.h"
#include "store.h"

/* GET_RESP carries u8 name length, name, u32 file length, file. */
#define GET_RESP_OVERHEAD (1 + STORE_NAME_MAX + 4)
/* LIST_RESP's count is a u16. */
#define LIST_MAX 65535

typedef struct server_opts {
  const char *dir;
  uint32_t max_payload;
} server_opts;

/* Per-worker state: each worker opens the directory for itself. */
typedef struct worker_state {
  store st;
  uint32_t max_payload;
} worker_state;

static void *create(void *context) {
  const server_opts *o = context;
  worker_state *w = calloc(1, sizeof(*w));

  if (w == NULL)
    return NULL;
  if (store_open(&w->st, o->dir) != STORE_OK) {
    netfw_log(NETFW_LOG_ERROR, "cannot open directory '%s'", o->dir);
    free(w);
    return NULL;
  }
  w->max_payload = o->max_payload;
  return w;
}

static void destroy(void *app) {
  worker_state *w = app;
  if (w == NULL)
    return;
  store_close(&w->st);
  free(w);
}

static void ack(netfw_conn *conn, file_storage_Rc rc) {
  file_storage_Ack a = {.rc = rc};
  if (file_storage_send_Ack(conn, &a) != 0)
    netfw_conn_shutdown(conn);
}

/* Answer for names the store refuses or failures it reports: the protocol
 * has no error code of its own for them, so they get ACK NONE. */
static file_storage_Rc rc_of(store_rc rc) {
  switch (rc) {
  case STORE_OK:
    return FILE_STORAGE_RC_OK;
  case STORE_EXISTS:
    return FILE_STORAGE_RC_FILE_EXISTS;
  case STORE_NOT_FOUND:
    return FILE_STORAGE_RC_FILE_NOT_FOUND;
  default:
    return FILE_STORAGE_RC_NONE;
  }
}

static void on_add(void *app, netfw_conn *conn, const file_storage_Add *m) {
  worker_state *w = app;
  store_rc rc = store_add(&w->st, m->filename.ptr, m->filename.len,
                          m->file.ptr, m->file.len);
  ack(conn, rc_of(rc));
}

static void on_del(void *app, netfw_conn *conn, const file_storage_Del *m) {
  worker_state *w = app;
  ack(conn, rc_of(store_del(&w->st, m->filename.ptr, m->filename.len)));
}

static void on_get(void *app, netfw_conn *conn, const file_storage_Get *m) {
  worker_state *w = app;
  file_storage_GetResp resp;
  uint8_t *data = NULL;
  size_t size = 0;
  store_rc rc = store_get(&w->st, m->filename.ptr, m->filename.len,
                          w->max_payload - GET_RESP_OVERHEAD, &data, &size);

  if (rc != STORE_OK) {
    ack(conn, rc_of(rc));
    return;
  }
  resp.filename = m->filename;
  resp.file.ptr = data;
  resp.file.len = (uint32_t)size;
  if (file_storage_send_GetResp(conn, &resp) != 0)
    netfw_conn_shutdown(conn);
  free(data);
}

/* The listing is gathered first (names are copied: the store's buffer is
 * gone once store_list returns), then encoded in one message. */
typedef struct listing {
  file_storage_FileEntry *entries;
  char **names;
  uint32_t count;
  size_t bytes; /* encoded size so far */
  uint32_t budget;
  bool failed;
} listing;

static void add_entry(const char *name, uint64_t size, void *arg) {
  listing *l = arg;
  size_t len = strlen(name);

  /* Skip what the protocol cannot carry: non-UTF-8 names put there by hand,
   * files over 4 GiB, and whatever would overflow the message. */
  if (l->failed || !netfw_utf8_valid(name, len) || size > UINT32_MAX ||
      l->bytes + 1 + len + 4 > l->budget)
    return;
  l->names[l->count] = strdup(name);
  if (l->names[l->count] == NULL) {
    l->failed = true;
    return;
  }
  l->entries[l->count].name.ptr = l->names[l->count];
  l->entries[l->count].name.len = (uint32_t)len;
  l->entries[l->count].size = (uint32_t)size;
  l->count++;
  l->bytes += 1 + len + 4;
}

static void on_list(void *app, netfw_conn *conn, const file_storage_List *m) {
  worker_state *w = app;
  listing l = {0};
  file_storage_ListResp resp;
  (void)m;

  l.entries = calloc(LIST_MAX, sizeof(*l.entries));
  l.names = calloc(LIST_MAX, sizeof(*l.names));
  l.bytes = 2;
  l.budget = w->max_payload;
  if (l.entries == NULL || l.names == NULL ||
      store_list(&w->st, LIST_MAX, add_entry, &l) != STORE_OK || l.failed) {
    netfw_log(NETFW_LOG_ERROR, "LIST failed");
    ack(conn, FILE_STORAGE_RC_NONE);
  } else {
    resp.files = l.entries;
    resp.files_count = l.count;
    if (file_storage_send_ListResp(conn, &resp) != 0)
      netfw_conn_shutdown(conn);
  }
  for (uint32_t i = 0; i < l.count; i++)
    free(l.names[i]);
  free(l.names);
  free(l.entries);
}

static const file_storage_server_handlers handlers = {
    .on_Add = on_add,
    .on_Del = on_del,
    .on_Get = on_get,
    .on_List = on_list,
    /* unknown ids and malformed payloads: the generated defaults log the
     * peer and shut the connection down */
};

int main(int argc, char **argv) {
  example_server_opts opts;
  server_opts so = {NULL, 0};
  file_storage_server_app app = {.handlers = &handlers,
                                 .create = create,
                                 .destroy = destroy,
                                 .context = &so};
  netfw_config cfg;
  store probe;
  int status = example_server_args(
      argc, argv, "file_storage_server",
      "Keeps files in DIR for file_storage clients (netframe's protocol).\n",
      &opts, &so.dir);

  if (status >= 0)
    return status;
  if (store_open(&probe, so.dir) != STORE_OK) {
    fprintf(stderr, "error: cannot open directory '%s': %s\n", so.dir,
            strerror(errno));
    return 1;
  }
  store_close(&probe);
  file_storage_server_config_init(&cfg, &app);
  so.max_payload = cfg.max_payload;
  return example_serve(&opts, &cfg);
}
