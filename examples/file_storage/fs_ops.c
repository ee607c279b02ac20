/* ADD, DEL and LIST, each a store call on the thread pool answered from the
 * loop. The *_work functions run on the pool: they touch only their job's
 * fields in fs_conn and the worker's read-only settings.
 *
 * Answers beyond the protocol's own codes (it has none for them), all ACK
 * NONE: a name the store refuses (empty, '/', "." or "..", ours), a GET of a
 * file too large for one message (max_payload), an ADD over the quota or
 * over the worker's cap on ADD bytes held, an I/O error. A GET of what is
 * not a regular file (FIFO, device, directory, symlink) answers
 * FILE_NOT_FOUND: LIST does not show such names either. */
#include <stdlib.h>
#include <string.h>

#include "fs_server.h"

/* LIST_RESP's count is a u16. */
#define LIST_MAX 65535

static fs_conn *job_of(uv_work_t *req) {
  return req->data;
}

static void add_work(uv_work_t *req) {
  fs_conn *fc = job_of(req);

  fc->rc = store_add_quota(&fc->w->st, fc->cur.name, fc->cur.name_len,
                           fc->cur.data, fc->cur.size, fc->w->quota);
}

static void del_work(uv_work_t *req) {
  fs_conn *fc = job_of(req);

  fc->rc = store_del(&fc->w->st, fc->cur.name, fc->cur.name_len);
}

/* ADD and DEL: the store's result as an ACK. */
static void ack_done(fs_conn *fc) {
  if (fc->cur.kind == FS_ADD && fc->rc == STORE_QUOTA)
    netfw_log(NETFW_LOG_INFO, "ADD of %u bytes refused: over the quota",
              (unsigned)fc->cur.size);
  fs_ack(fc, fs_rc(fc->rc));
  fs_finish(fc);
}

/* Adds one file to the listing, skipping what the protocol cannot carry:
 * non-UTF-8 names put there by hand, files over 4 GiB, and whatever would
 * overflow the message. */
static void add_entry(const char *name, uint64_t size, void *arg) {
  fs_listing *l = arg;
  size_t len = strlen(name);

  if (l->failed || !netfw_utf8_valid(name, len) || size > UINT32_MAX ||
      l->bytes + 1 + len + 4 > l->budget)
    return;
  if ((l->names[l->count] = strdup(name)) == NULL) {
    l->failed = true;
    return;
  }
  l->entries[l->count].name.ptr = l->names[l->count];
  l->entries[l->count].name.len = (uint32_t)len;
  l->entries[l->count].size = (uint32_t)size;
  l->count++;
  l->bytes += 1 + len + 4;
}

void fs_listing_free(fs_listing *l) {
  for (uint32_t i = 0; i < l->count; i++)
    free(l->names[i]);
  free(l->names);
  free(l->entries);
  memset(l, 0, sizeof(*l));
}

/* Gathers the listing (names copied: the store's are gone after the call). */
static void list_work(uv_work_t *req) {
  fs_listing *l = &job_of(req)->list;

  l->entries = calloc(LIST_MAX, sizeof(*l->entries));
  l->names = calloc(LIST_MAX, sizeof(*l->names));
  l->bytes = 2;
  l->budget = job_of(req)->w->max_payload;
  if (l->entries == NULL || l->names == NULL ||
      store_list(&job_of(req)->w->st, LIST_MAX, add_entry, l) != STORE_OK)
    l->failed = true;
}

static void list_done(fs_conn *fc) {
  file_storage_ListResp resp = {.files = fc->list.entries,
                                .files_count = fc->list.count};

  if (fc->list.failed) {
    netfw_log(NETFW_LOG_ERROR, "LIST failed");
    fs_ack(fc, FILE_STORAGE_RC_NONE);
  } else if (file_storage_server_send_ListResp(fc->conn, &resp) != 0) {
    fs_stop(fc);
  }
  fs_finish(fc);
}

void fs_start(fs_conn *fc) {
  int err = 0;

  switch (fc->cur.kind) {
  case FS_ADD:
    err = fs_run(fc, add_work, ack_done);
    break;
  case FS_DEL:
    err = fs_run(fc, del_work, ack_done);
    break;
  case FS_LIST:
    err = fs_run(fc, list_work, list_done);
    break;
  case FS_GET:
    fs_get_start(fc);
    return;
  case FS_REFUSE:
    fs_ack(fc, FILE_STORAGE_RC_NONE);
    fs_finish(fc);
    return;
  }
  if (err != 0) {
    netfw_log(NETFW_LOG_ERROR, "cannot queue disk work: %s", uv_strerror(err));
    fs_ack(fc, FILE_STORAGE_RC_NONE);
    fs_finish(fc);
  }
}
