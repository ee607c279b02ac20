/* Generated bus code on a real server (two workers, port 0): a handler
 * publishes with file_storage_publish_<Message> (NETFW_BUS_ECHO), the
 * worker's bus delivers it to the generated glue's on_bus, and the typed bus
 * handler, or the app's on_bus, answers the client whose message started
 * it. Malformed payloads of a known id never reach a handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "file_storage.netfw.h"
#include "netfw/bus.h"
#include "netfw/netfw.h"

#define LOCALHOST "127.0.0.1"
#define WAIT_MS 20000
#define CHANNEL "fs/events"
#define RAW_ID 999 /* not in the schema */

static netfw_str str(const char *s) {
  netfw_str r = {s, (uint32_t)strlen(s)};
  return r;
}

static bool str_eq(netfw_str a, const char *s) {
  return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

/* ---- the server: every request goes round the bus --------------------- */

/* A worker's state: the connection waiting for its bus round trip. */
typedef struct worker_state {
  netfw_conn *waiting;
} worker_state;

static void *srv_create(void *context) {
  worker_state *w = calloc(1, sizeof(*w));
  (void)context;
  if (w != NULL && netfw_bus_subscribe(CHANNEL) != 0) {
    free(w);
    return NULL;
  }
  return w;
}

static void srv_destroy(void *app) {
  free(app);
}

static void srv_closed(void *app, netfw_conn *conn, netfw_close_reason why) {
  worker_state *w = app;
  (void)why;
  if (w != NULL && w->waiting == conn)
    w->waiting = NULL;
}

/* Answers the waiting client (only the worker that has it does). */
static void answer_ack(worker_state *w, file_storage_Rc rc) {
  file_storage_Ack ack = {rc};
  if (w->waiting != NULL)
    (void)file_storage_server_send_Ack(w->waiting, &ack);
}

/* A failed publish is answered at once, with NONE. */
static void published(worker_state *w, int rc) {
  if (rc != 0)
    answer_ack(w, FILE_STORAGE_RC_NONE);
}

/* Add: published typed; its bus handler answers GetResp with its fields. */
static void srv_on_add(void *app, netfw_conn *conn, const file_storage_Add *m) {
  worker_state *w = app;
  w->waiting = conn;
  published(w, file_storage_publish_Add(CHANNEL, m, NETFW_BUS_ECHO));
}

/* Del: an id the schema does not have, published raw: on_bus answers OK. */
static void srv_on_del(void *app, netfw_conn *conn, const file_storage_Del *m) {
  worker_state *w = app;
  w->waiting = conn;
  published(w, netfw_bus_publish_bytes(CHANNEL, RAW_ID, m->filename.ptr,
                                       m->filename.len, NETFW_BUS_ECHO));
}

/* Get: published typed, but no bus handler takes Get: on_bus answers
 * FILE_NOT_FOUND. */
static void srv_on_get(void *app, netfw_conn *conn, const file_storage_Get *m) {
  worker_state *w = app;
  w->waiting = conn;
  published(w, file_storage_publish_Get(CHANNEL, m, NETFW_BUS_ECHO));
}

/* List: a truncated Add (dropped by the dispatch), then a List whose bus
 * handler answers OK: the client must see that Ack first. */
static void srv_on_list(void *app, netfw_conn *conn,
                        const file_storage_List *m) {
  static const uint8_t truncated_add[] = {5, 'a'};
  worker_state *w = app;
  w->waiting = conn;
  published(w,
            netfw_bus_publish_bytes(CHANNEL, FILE_STORAGE_ADD_ID, truncated_add,
                                    sizeof(truncated_add), NETFW_BUS_ECHO));
  published(w, file_storage_publish_List(CHANNEL, m, NETFW_BUS_ECHO));
}

static void bus_on_add(void *app, const char *channel,
                       const file_storage_Add *m) {
  worker_state *w = app;
  file_storage_GetResp r = {m->filename, m->file};
  if (w->waiting == NULL)
    return;
  if (strcmp(channel, CHANNEL) != 0)
    r.filename = str("wrong channel");
  (void)file_storage_server_send_GetResp(w->waiting, &r);
}

static void bus_on_list(void *app, const char *channel,
                        const file_storage_List *m) {
  (void)channel;
  (void)m;
  answer_ack(app, FILE_STORAGE_RC_OK);
}

static void bus_untyped(void *app, const char *channel, netfw_msg *msg) {
  worker_state *w = app;
  (void)channel;
  if (netfw_msg_id(msg) == RAW_ID && netfw_msg_size(msg) == 3 &&
      memcmp(netfw_msg_payload(msg), "raw", 3) == 0)
    answer_ack(w, FILE_STORAGE_RC_OK);
  else if (netfw_msg_id(msg) == FILE_STORAGE_GET_ID)
    answer_ack(w, FILE_STORAGE_RC_FILE_NOT_FOUND);
  else
    answer_ack(w, FILE_STORAGE_RC_FILE_EXISTS); /* should not happen */
}

static const file_storage_server_handlers srv_handlers = {.on_Add = srv_on_add,
                                                          .on_Del = srv_on_del,
                                                          .on_Get = srv_on_get,
                                                          .on_List =
                                                              srv_on_list};
static const file_storage_bus_handlers srv_bus = {.on_Add = bus_on_add,
                                                  .on_List = bus_on_list};
static const file_storage_server_app srv_app = {.handlers = &srv_handlers,
                                                .create = srv_create,
                                                .destroy = srv_destroy,
                                                .on_closed = srv_closed,
                                                .bus_handlers = &srv_bus,
                                                .on_bus = bus_untyped};

static netfw_server *server;
static uint16_t port;

static int server_setup(void **state) {
  netfw_config cfg;
  (void)state;
  netfw_log_set_level(NETFW_LOG_ERROR); /* the malformed Add's warning */
  file_storage_server_config_init(&cfg, &srv_app);
  /* Every request here is answered after its on_message has returned (round
   * the bus), without netfw_conn_defer: the test is about the bus, so the
   * runtime's reply ordering (docs/calls.md) stays off. */
  cfg.protocol = NULL;
  cfg.ip = LOCALHOST;
  cfg.port = 0;
  cfg.worker_num = 2;
  server = netfw_server_new(&cfg);
  if (server == NULL || netfw_server_start(server) != 0)
    return -1;
  port = netfw_server_port(server);
  return 0;
}

static int server_teardown(void **state) {
  int rc = netfw_server_stop(server, WAIT_MS);
  (void)state;
  netfw_server_free(server);
  return rc == 0 ? 0 : -1;
}

/* ---- the client ------------------------------------------------------- */

typedef struct replies {
  int acks, get_resps;
  file_storage_Rc rc;
  char filename[32];
  char file[32];
} replies;

static void copy_out(char *dst, size_t cap, const void *src, uint32_t len) {
  assert_true(len < cap);
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static void cl_on_ack(void *user, const file_storage_Ack *m) {
  replies *r = user;
  r->acks++;
  r->rc = m->rc;
}

static void cl_on_get_resp(void *user, const file_storage_GetResp *m) {
  replies *r = user;
  r->get_resps++;
  copy_out(r->filename, sizeof(r->filename), m->filename.ptr, m->filename.len);
  copy_out(r->file, sizeof(r->file), m->file.ptr, m->file.len);
}

static const file_storage_client_handlers cl_handlers = {
    .on_Ack = cl_on_ack, .on_GetResp = cl_on_get_resp};

/* Receives the one reply to the request just sent. */
static replies next_reply(netfw_client *c, netfw_arena *arena) {
  replies r = {0};
  assert_int_equal(
      file_storage_client_recv(c, &cl_handlers, &r, arena, WAIT_MS), 0);
  assert_int_equal(r.acks + r.get_resps, 1);
  return r;
}

static void test_bus_live_round_trips(void **state) {
  static const uint8_t blob[] = {'a', 0, 'c', 0xff};
  file_storage_Add add = {str("notes.txt"), {blob, sizeof(blob)}};
  file_storage_Del del = {str("raw")};
  file_storage_Get get = {str("g")};
  file_storage_List list = {0};
  netfw_client *c = netfw_client_new();
  netfw_arena arena;
  replies r;

  (void)state;
  assert_non_null(c);
  netfw_arena_init(&arena);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port), 0);

  /* typed: Add round the bus into bus_on_add, fields intact */
  assert_int_equal(file_storage_client_send_Add(c, &add), 0);
  r = next_reply(c, &arena);
  assert_int_equal(r.get_resps, 1);
  assert_string_equal(r.filename, "notes.txt");
  assert_memory_equal(r.file, blob, sizeof(blob));

  /* an id not in the schema: on_bus, same id and bytes */
  assert_int_equal(file_storage_client_send_Del(c, &del), 0);
  r = next_reply(c, &arena);
  assert_int_equal(r.acks, 1);
  assert_int_equal(r.rc, FILE_STORAGE_RC_OK);

  /* a known id without a typed handler: on_bus */
  assert_int_equal(file_storage_client_send_Get(c, &get), 0);
  r = next_reply(c, &arena);
  assert_int_equal(r.acks, 1);
  assert_int_equal(r.rc, FILE_STORAGE_RC_FILE_NOT_FOUND);

  /* a malformed Add is dropped: the List published after it answers */
  assert_int_equal(file_storage_client_send_List(c, &list), 0);
  r = next_reply(c, &arena);
  assert_int_equal(r.acks, 1);
  assert_int_equal(r.rc, FILE_STORAGE_RC_OK);

  /* and the connection still works: nothing else was queued for it */
  add.filename = str("again");
  assert_int_equal(file_storage_client_send_Add(c, &add), 0);
  r = next_reply(c, &arena);
  assert_true(str_eq(str(r.filename), "again"));

  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  netfw_arena_free(&arena);
}

int main(void) {
  const struct CMUnitTest live[] = {
      cmocka_unit_test(test_bus_live_round_trips),
  };
  return cmocka_run_group_tests_name("bus live", live, server_setup,
                                     server_teardown);
}
