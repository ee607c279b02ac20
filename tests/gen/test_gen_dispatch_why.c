/* Generated dispatch says why a message went unhandled: an id not in the
 * schema, the other side's message, a NULL handler (NETFW_ENOSYS) and a
 * NULL arena (NETFW_EINVAL, before decoding) each get their own code and
 * log line; a server app without handlers is refused at netfw_server_new.
 * Client-side hooks run in-process; the server's default hooks run in a
 * real worker whose log lines reach this process through a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_storage.netfw.h"
#include "netfw/netfw.h"

#define WAIT_MS 20000

static char logged[4096]; /* the lines of the current test, '\n'-joined */

static void keep_line(netfw_log_level level, const char *line, void *arg) {
  size_t n = strlen(logged);
  (void)level;
  (void)arg;
  snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

static void pipe_line(netfw_log_level level, const char *line, void *arg) {
  int fd = *(int *)arg;
  char buf[512];
  int n = snprintf(buf, sizeof(buf), "%s\n", line);
  (void)level;
  if (n > 0 && write(fd, buf, (size_t)n) < 0)
    abort();
}

static int calls;
static void count_call(void *user, const file_storage_ListResp *m) {
  (void)user;
  (void)m;
  calls++;
}

static void count_malformed(void *user, netfw_msg *msg, int err) {
  (void)user;
  (void)msg;
  (void)err;
  calls += 100;
}

/* Dispatches a payload-less message id on the client with table h. */
static int client_dispatch(const file_storage_client_handlers *h, uint16_t id,
                           netfw_arena *arena) {
  netfw_msg m;
  int rc;
  netfw_msg_init(&m, id);
  logged[0] = '\0';
  rc = file_storage_client_dispatch(h, NULL, &m, arena);
  netfw_msg_release(&m);
  return rc;
}

static void test_client_default_hooks_name_the_cause(void **state) {
  static const file_storage_client_handlers none = {0};
  netfw_arena arena;
  (void)state;
  netfw_arena_init(&arena);
  netfw_log_set_sink(keep_line, NULL);
  assert_int_equal(client_dispatch(&none, 99, &arena), NETFW_EPROTO);
  assert_non_null(strstr(logged, "file_storage: from the server: unknown "
                                 "message id 99\n"));
  assert_int_equal(client_dispatch(&none, FILE_STORAGE_ADD_ID, &arena),
                   NETFW_EPROTO);
  assert_non_null(strstr(logged, "file_storage: from the server: Add (id 1), "
                                 "a message for the server\n"));
  assert_int_equal(client_dispatch(&none, FILE_STORAGE_ACK_ID, &arena),
                   NETFW_ENOSYS);
  assert_non_null(strstr(logged, "file_storage: from the server: no handler "
                                 "for Ack (id 7)\n"));
  netfw_log_set_sink(NULL, NULL);
  netfw_arena_free(&arena);
}

static void test_client_null_arena_is_refused_before_decoding(void **state) {
  static const file_storage_client_handlers h = {
      .on_ListResp = count_call, .on_malformed = count_malformed};
  file_storage_ListResp empty = {NULL, 0};
  netfw_msg m;
  (void)state;
  netfw_msg_init(&m, 0);
  assert_int_equal(file_storage_ListResp_encode(&empty, &m), 0);
  logged[0] = '\0';
  netfw_log_set_sink(keep_line, NULL);
  calls = 0;
  /* refused even with no entries, where decoding would not need it */
  assert_int_equal(file_storage_client_dispatch(&h, NULL, &m, NULL),
                   NETFW_EINVAL);
  assert_int_equal(calls, 0);
  assert_non_null(strstr(logged, "file_storage: dispatch needs an arena: "
                                 "ListResp (id 6) has arrays to decode, and "
                                 "arena is NULL\n"));
  netfw_log_set_sink(NULL, NULL);
  netfw_msg_release(&m);
}

static void test_app_without_handlers_is_refused(void **state) {
  static const file_storage_server_app no_handlers = {0};
  netfw_config cfg;
  (void)state;
  logged[0] = '\0';
  netfw_log_set_sink(keep_line, NULL);
  file_storage_server_config_init(&cfg, &no_handlers);
  assert_null(cfg.app);
  assert_non_null(strstr(logged, "file_storage_server_config_init: "
                                 "app->handlers is NULL, so every message "
                                 "would be dropped: netfw_server_new will "
                                 "refuse this config\n"));
  assert_null(netfw_server_new(&cfg));
  file_storage_server_config_init(&cfg, NULL);
  assert_null(cfg.app);
  assert_non_null(strstr(logged, "file_storage_server_config_init: app is "
                                 "NULL"));
  netfw_log_set_sink(NULL, NULL);
}

/* A server whose only handler is Add: Del (also -> server) has none. */
static void on_add(void *app, netfw_conn *conn, const file_storage_Add *m) {
  (void)app;
  (void)conn;
  (void)m;
}
static const file_storage_server_handlers only_add = {.on_Add = on_add};
static const file_storage_server_app add_app = {.handlers = &only_add};

/* Sends a payload-less frame of id; the server must close the connection. */
static void send_and_expect_close(uint16_t port, uint16_t id) {
  netfw_client *c = netfw_client_new();
  netfw_msg m, *got = NULL;
  assert_non_null(c);
  assert_int_equal(netfw_client_connect(c, "127.0.0.1", port), 0);
  netfw_msg_init(&m, id);
  assert_int_equal(netfw_client_send(c, &m), 0);
  assert_int_not_equal(netfw_client_recv(c, &got, WAIT_MS), 0);
  assert_int_not_equal(netfw_client_recv(c, &got, WAIT_MS), NETFW_ETIMEDOUT);
  netfw_msg_release(&m);
  netfw_client_free(c);
}

/* Reads what the worker logged until every want[] line came (or EOF). */
static void expect_lines(int fd, const char *const *want, size_t n) {
  char all[4096];
  size_t len = 0, found = 0;
  while (found < n && len + 1 < sizeof(all)) {
    ssize_t got = read(fd, all + len, sizeof(all) - 1 - len);
    if (got <= 0)
      break;
    len += (size_t)got;
    all[len] = '\0';
    found = 0;
    for (size_t i = 0; i < n; i++)
      found += strstr(all, want[i]) != NULL;
  }
  all[len] = '\0';
  for (size_t i = 0; i < n; i++)
    if (strstr(all, want[i]) == NULL)
      fail_msg("missing log line \"%s\" in:\n%s", want[i], all);
}

static void test_server_default_hooks_name_the_cause(void **state) {
  static const char *const want[] = {
      "file_storage: unknown message id 99, closing the connection",
      ("file_storage: Ack (id 7), a message for the client, closing the "
       "connection"),
      "file_storage: no handler for Del (id 2), closing the connection"};
  int fds[2];
  netfw_config cfg;
  netfw_server *s;
  (void)state;
  assert_int_equal(pipe(fds), 0);
  netfw_log_set_sink(pipe_line, &fds[1]); /* inherited by the worker */
  file_storage_server_config_init(&cfg, &add_app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = 1;
  s = netfw_server_new(&cfg);
  assert_non_null(s);
  assert_int_equal(netfw_server_start(s), 0);
  send_and_expect_close(netfw_server_port(s), 99);
  send_and_expect_close(netfw_server_port(s), FILE_STORAGE_ACK_ID);
  send_and_expect_close(netfw_server_port(s), FILE_STORAGE_DEL_ID);
  assert_int_equal(netfw_server_stop(s, WAIT_MS), 0);
  netfw_server_free(s);
  netfw_log_set_sink(NULL, NULL);
  close(fds[1]);
  expect_lines(fds[0], want, 3);
  close(fds[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_default_hooks_name_the_cause),
      cmocka_unit_test(test_client_null_arena_is_refused_before_decoding),
      cmocka_unit_test(test_app_without_handlers_is_refused),
      cmocka_unit_test(test_server_default_hooks_name_the_cause),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
