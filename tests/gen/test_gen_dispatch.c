/* Generated dispatch: handler tables called directly (right handler, right
 * struct, unknown-id and malformed hooks), then the generated netfw_app glue,
 * typed send helpers and client receive against a real server on port 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "file_storage.netfw.h"
#include "netfw/netfw.h"

#define LOCALHOST "127.0.0.1"
#define WAIT_MS 20000

static netfw_str str(const char *s) {
  netfw_str r = {s, (uint32_t)strlen(s)};
  return r;
}

static bool str_eq(netfw_str a, const char *s) {
  return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

/* ---- direct calls ------------------------------------------------------ */

typedef struct seen {
  int add, list, unknown, malformed, list_resp, ack;
  int err;
  uint16_t id;
  void *app;
  netfw_conn *conn;
  char name[64];
  uint8_t file[8];
  uint32_t file_len;
  uint32_t entries;
} seen;

static void on_add(void *app, netfw_conn *conn, const file_storage_Add *m) {
  seen *s = app;
  s->add++;
  s->app = app;
  s->conn = conn;
  memcpy(s->name, m->filename.ptr, m->filename.len);
  s->name[m->filename.len] = '\0';
  memcpy(s->file, m->file.ptr, m->file.len);
  s->file_len = m->file.len;
}

static void on_list(void *app, netfw_conn *conn, const file_storage_List *m) {
  ((seen *)app)->list++;
}

static void on_unknown(void *app, netfw_conn *conn, netfw_msg *msg) {
  seen *s = app;
  s->unknown++;
  s->id = netfw_msg_id(msg);
  s->conn = conn;
}

static void on_malformed(void *app, netfw_conn *conn, netfw_msg *msg, int err) {
  seen *s = app;
  s->malformed++;
  s->err = err;
  s->id = netfw_msg_id(msg);
}

static const file_storage_server_handlers server_handlers = {
    .on_Add = on_add,
    .on_List = on_list,
    .on_unknown = on_unknown,
    .on_malformed = on_malformed};

static netfw_msg *raw(uint16_t id, const void *bytes, size_t n) {
  netfw_msg *m = netfw_msg_new(id);
  assert_non_null(m);
  assert_int_equal(netfw_msg_append(m, bytes, n), 0);
  return m;
}

static void test_dispatch_server_calls_the_right_handler(void **state) {
  static const uint8_t add[] = {0x05, 'a', '.', 't', 'x', 't', 3, 0, 0, 0,
                                1,    2,   3};
  netfw_conn *conn = (netfw_conn *)&conn; /* opaque: only passed through */
  seen s = {0};
  netfw_arena arena;
  netfw_msg *m;

  netfw_arena_init(&arena);
  m = raw(FILE_STORAGE_ADD_ID, add, sizeof(add));
  assert_int_equal(
      file_storage_server_dispatch(&server_handlers, &s, conn, m, &arena), 0);
  assert_int_equal(s.add, 1);
  assert_ptr_equal(s.app, &s);
  assert_ptr_equal(s.conn, conn);
  assert_string_equal(s.name, "a.txt");
  assert_int_equal(s.file_len, 3);
  assert_int_equal(s.file[2], 3);
  assert_int_equal(s.unknown + s.malformed + s.list, 0);
  netfw_msg_free(m);

  m = netfw_msg_new(FILE_STORAGE_LIST_ID);
  assert_int_equal(
      file_storage_server_dispatch(&server_handlers, &s, conn, m, &arena), 0);
  assert_int_equal(s.list, 1);
  assert_int_equal(s.add, 1);
  netfw_msg_free(m);
  netfw_arena_free(&arena);
}

static void test_dispatch_server_unknown_and_malformed_hooks(void **state) {
  static const uint8_t short_add[] = {0x05, 'a'};
  netfw_conn *conn = (netfw_conn *)&conn;
  seen s = {0};
  netfw_arena arena;
  netfw_msg *m;

  netfw_arena_init(&arena);
  m = netfw_msg_new(99); /* not in the schema */
  assert_int_equal(
      file_storage_server_dispatch(&server_handlers, &s, conn, m, &arena),
      NETFW_EPROTO);
  assert_int_equal(s.unknown, 1);
  assert_int_equal(s.id, 99);
  assert_ptr_equal(s.conn, conn);
  netfw_msg_free(m);

  m = raw(FILE_STORAGE_ACK_ID, "\x01", 1); /* -> client: not for the server */
  assert_int_equal(
      file_storage_server_dispatch(&server_handlers, &s, conn, m, &arena),
      NETFW_EPROTO);
  assert_int_equal(s.unknown, 2);
  assert_int_equal(s.id, FILE_STORAGE_ACK_ID);
  netfw_msg_free(m);

  m = raw(FILE_STORAGE_DEL_ID, "\x01x", 2); /* NULL handler */
  assert_int_equal(
      file_storage_server_dispatch(&server_handlers, &s, conn, m, &arena),
      NETFW_ENOSYS);
  assert_int_equal(s.unknown, 3);
  assert_int_equal(s.id, FILE_STORAGE_DEL_ID);
  netfw_msg_free(m);

  m = raw(FILE_STORAGE_ADD_ID, short_add, sizeof(short_add));
  assert_int_equal(
      file_storage_server_dispatch(&server_handlers, &s, conn, m, &arena),
      NETFW_EPROTO);
  assert_int_equal(s.malformed, 1);
  assert_int_equal(s.err, NETFW_EPROTO);
  assert_int_equal(s.id, FILE_STORAGE_ADD_ID);
  assert_int_equal(s.add, 0);
  netfw_msg_free(m);

  assert_int_equal(file_storage_server_dispatch(NULL, &s, conn, NULL, &arena),
                   NETFW_EINVAL);
  netfw_arena_free(&arena);
}

static void c_on_list_resp(void *user, const file_storage_ListResp *m) {
  seen *s = user;
  s->list_resp++;
  s->entries = m->files_count;
  memcpy(s->name, m->files[1].name.ptr, m->files[1].name.len);
  s->name[m->files[1].name.len] = '\0';
}

static void c_on_ack(void *user, const file_storage_Ack *m) {
  seen *s = user;
  s->ack++;
  s->err = (int)m->rc;
}

static void c_on_unknown(void *user, netfw_msg *msg) {
  seen *s = user;
  s->unknown++;
  s->id = netfw_msg_id(msg);
}

static void c_on_malformed(void *user, netfw_msg *msg, int err) {
  seen *s = user;
  s->malformed++;
  s->err = err;
}

static const file_storage_client_handlers client_handlers = {
    .on_ListResp = c_on_list_resp,
    .on_Ack = c_on_ack,
    .on_unknown = c_on_unknown,
    .on_malformed = c_on_malformed};

static void test_dispatch_client_side(void **state) {
  file_storage_FileEntry e[2] = {{str("one"), 1}, {str("two"), 2}};
  file_storage_ListResp lr = {e, 2};
  seen s = {0};
  netfw_arena arena;
  netfw_msg m, *r;

  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  assert_int_equal(file_storage_ListResp_encode(&lr, &m), 0);
  assert_int_equal(file_storage_client_dispatch(&client_handlers, &s, &m, &arena),
                   0);
  assert_int_equal(s.list_resp, 1);
  assert_int_equal(s.entries, 2);
  assert_string_equal(s.name, "two");
  netfw_msg_release(&m);

  r = raw(FILE_STORAGE_ADD_ID, "\x00\x00\x00\x00\x00", 5); /* -> server */
  assert_int_equal(file_storage_client_dispatch(&client_handlers, &s, r, &arena),
                   NETFW_EPROTO);
  assert_int_equal(s.unknown, 1);
  assert_int_equal(s.id, FILE_STORAGE_ADD_ID);
  netfw_msg_free(r);

  r = raw(FILE_STORAGE_ACK_ID, "\x09", 1); /* no such Rc */
  assert_int_equal(file_storage_client_dispatch(&client_handlers, &s, r, &arena),
                   NETFW_EPROTO);
  assert_int_equal(s.malformed, 1);
  assert_int_equal(s.err, NETFW_EPROTO);
  assert_int_equal(s.ack, 0);
  netfw_msg_free(r);
  netfw_arena_free(&arena);
}

/* ---- a real server built from the generated glue ------------------------ */

#define APP_MAGIC 0x5eed

typedef struct app_state {
  int magic;
  int adds;
} app_state;

static void *srv_create(void *context) {
  app_state *a = calloc(1, sizeof(*a));
  if (a != NULL)
    a->magic = *(const int *)context;
  return a;
}

static void srv_destroy(void *app) { free(app); }

static void srv_on_add(void *app, netfw_conn *conn, const file_storage_Add *m) {
  app_state *a = app;
  file_storage_Ack ack = {FILE_STORAGE_RC_OK};
  if (a->magic != APP_MAGIC)
    ack.rc = FILE_STORAGE_RC_NONE;
  else if (str_eq(m->filename, "dup"))
    ack.rc = FILE_STORAGE_RC_FILE_EXISTS;
  a->adds++;
  (void)file_storage_server_send_Ack(conn, &ack);
}

static void srv_on_list(void *app, netfw_conn *conn,
                        const file_storage_List *m) {
  file_storage_FileEntry e[2] = {{str("a.txt"), 3}, {str("bb"), 258}};
  file_storage_ListResp lr = {e, 2};
  (void)file_storage_server_send_ListResp(conn, &lr);
}

static void srv_on_get(void *app, netfw_conn *conn, const file_storage_Get *m) {
  file_storage_GetResp r = {m->filename, {(const uint8_t *)"xyz", 3}};
  (void)file_storage_server_send_GetResp(conn, &r);
}

static const file_storage_server_handlers srv_handlers = {
    .on_Add = srv_on_add, .on_List = srv_on_list, .on_Get = srv_on_get};
static const int magic = APP_MAGIC;
static const file_storage_server_app srv_app = {.handlers = &srv_handlers,
                                                .create = srv_create,
                                                .destroy = srv_destroy,
                                                .context = (void *)&magic};

typedef struct replies {
  int acks, list_resps, get_resps;
  file_storage_Rc last_rc;
  uint32_t entries;
  char first[16];
  char got[8];
} replies;

static void cl_on_ack(void *user, const file_storage_Ack *m) {
  replies *r = user;
  r->acks++;
  r->last_rc = m->rc;
}

static void cl_on_list_resp(void *user, const file_storage_ListResp *m) {
  replies *r = user;
  r->list_resps++;
  r->entries = m->files_count;
  if (m->files_count > 0 && m->files[0].name.len < sizeof(r->first)) {
    memcpy(r->first, m->files[0].name.ptr, m->files[0].name.len);
    r->first[m->files[0].name.len] = '\0';
  }
}

static void cl_on_get_resp(void *user, const file_storage_GetResp *m) {
  replies *r = user;
  r->get_resps++;
  if (m->file.len < sizeof(r->got)) {
    memcpy(r->got, m->file.ptr, m->file.len);
    r->got[m->file.len] = '\0';
  }
}

static const file_storage_client_handlers cl_handlers = {
    .on_Ack = cl_on_ack,
    .on_ListResp = cl_on_list_resp,
    .on_GetResp = cl_on_get_resp};

static netfw_server *server;
static uint16_t port;

static int server_setup(void **state) {
  netfw_config cfg;
  file_storage_server_config_init(&cfg, &srv_app);
  cfg.ip = LOCALHOST;
  cfg.port = 0;
  cfg.worker_num = 2;
  server = netfw_server_new(&cfg);
  if (server == NULL || netfw_server_start(server) != 0)
    return -1;
  port = netfw_server_port(server);
  netfw_log_set_level(NETFW_LOG_ERROR); /* the default hooks' warnings */
  return 0;
}

static int server_teardown(void **state) {
  int rc = netfw_server_stop(server, WAIT_MS);
  netfw_server_free(server);
  return rc == 0 ? 0 : -1;
}

static netfw_client *connect_client(void) {
  netfw_client *c = netfw_client_new();
  assert_non_null(c);
  assert_int_equal(netfw_client_connect(c, LOCALHOST, port), 0);
  return c;
}

static void test_dispatch_end_to_end_typed_session(void **state) {
  netfw_client *c = connect_client();
  file_storage_Add add = {str("a.txt"), {(const uint8_t *)"abc", 3}};
  file_storage_List list = {0};
  file_storage_Get get = {str("a.txt")};
  replies r = {0};
  netfw_arena arena;

  netfw_arena_init(&arena);
  assert_int_equal(file_storage_client_send_Add(c, &add), 0);
  assert_int_equal(file_storage_client_recv(c, &cl_handlers, &r, &arena, WAIT_MS), 0);
  assert_int_equal(r.acks, 1);
  assert_int_equal(r.last_rc, FILE_STORAGE_RC_OK);
  add.filename = str("dup");
  assert_int_equal(file_storage_client_send_Add(c, &add), 0);
  assert_int_equal(file_storage_client_recv(c, &cl_handlers, &r, &arena, WAIT_MS), 0);
  assert_int_equal(r.last_rc, FILE_STORAGE_RC_FILE_EXISTS);
  assert_int_equal(file_storage_client_send_List(c, &list), 0);
  assert_int_equal(file_storage_client_recv(c, &cl_handlers, &r, &arena, WAIT_MS), 0);
  assert_int_equal(r.list_resps, 1);
  assert_int_equal(r.entries, 2);
  assert_string_equal(r.first, "a.txt");
  assert_int_equal(file_storage_client_send_Get(c, &get), 0);
  assert_int_equal(file_storage_client_recv(c, &cl_handlers, &r, &arena, WAIT_MS), 0);
  assert_int_equal(r.get_resps, 1);
  assert_string_equal(r.got, "xyz");
  assert_int_equal(netfw_client_shutdown(c, WAIT_MS), 0);
  netfw_client_free(c);
  netfw_arena_free(&arena);
}

/* The default hooks shut the connection down: the client sees it end. */
static void expect_closed_after(const netfw_msg *bad) {
  netfw_client *c = connect_client();
  replies r = {0};
  netfw_arena arena;
  netfw_arena_init(&arena);
  assert_int_equal(netfw_client_send(c, bad), 0);
  assert_int_equal(file_storage_client_recv(c, &cl_handlers, &r, &arena, WAIT_MS),
                   NETFW_ECONNRESET);
  assert_int_equal(r.acks + r.list_resps + r.get_resps, 0);
  netfw_client_free(c);
  netfw_arena_free(&arena);
}

static void test_dispatch_end_to_end_default_hooks_close(void **state) {
  netfw_msg m;
  netfw_msg_init(&m, 99); /* unknown id */
  expect_closed_after(&m);
  netfw_msg_set_id(&m, FILE_STORAGE_ADD_ID); /* truncated Add */
  assert_int_equal(netfw_msg_append(&m, "\x05" "ab", 3), 0);
  expect_closed_after(&m);
  netfw_msg_set_id(&m, FILE_STORAGE_DEL_ID); /* no handler */
  expect_closed_after(&m);
  netfw_msg_release(&m);
}

int main(void) {
  const struct CMUnitTest direct[] = {
      cmocka_unit_test(test_dispatch_server_calls_the_right_handler),
      cmocka_unit_test(test_dispatch_server_unknown_and_malformed_hooks),
      cmocka_unit_test(test_dispatch_client_side),
  };
  const struct CMUnitTest live[] = {
      cmocka_unit_test(test_dispatch_end_to_end_typed_session),
      cmocka_unit_test(test_dispatch_end_to_end_default_hooks_close),
  };
  int failed = cmocka_run_group_tests_name("direct", direct, NULL, NULL);
  failed += cmocka_run_group_tests_name("live", live, server_setup,
                                        server_teardown);
  return failed;
}
