/* A program outside the netfw tree: a server and a client from its own
 * schema, in one process (the server's workers are forked). Prints
 * "pong 42 hello consumer" and exits 0 when the exchange worked. */
#include <stdio.h>
#include <string.h>

#include "ping.netfw.h"

static void on_ping(void *app, netfw_conn *conn, const ping_Ping *msg) {
  char text[64];
  int n = snprintf(text, sizeof(text), "hello %.*s", (int)msg->who.len,
                   msg->who.ptr);
  ping_Pong pong = {.n = msg->n + 1, .greeting = {text, (uint32_t)n}};
  (void)app;
  ping_server_send_Pong(conn, &pong);
}

static void on_pong(void *user, const ping_Pong *msg) {
  (void)user;
  printf("pong %u %.*s\n", msg->n, (int)msg->greeting.len, msg->greeting.ptr);
}

static const ping_server_handlers server_handlers = {.on_Ping = on_ping};
static const ping_client_handlers client_handlers = {.on_Pong = on_pong};

int main(void) {
  ping_server_app app = {.handlers = &server_handlers};
  ping_Ping ping = {.n = 41, .who = {"consumer", 8}};
  netfw_config cfg;
  netfw_server *s;
  netfw_client *c;
  netfw_arena arena;
  int err;

  printf("netfw %s\n", netfw_version());
  ping_server_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  s = netfw_server_new(&cfg);
  if (s == NULL || (err = netfw_server_start(s)) != 0) {
    fprintf(stderr, "server: %s\n", s ? netfw_strerror(err) : "bad config");
    return 1;
  }
  c = netfw_client_new();
  netfw_arena_init(&arena);
  err = netfw_client_connect(c, "127.0.0.1", netfw_server_port(s));
  if (err == 0)
    err = ping_client_send_Ping(c, &ping);
  if (err == 0)
    err = ping_client_recv(c, &client_handlers, NULL, &arena, 5000);
  if (err != 0)
    fprintf(stderr, "client: %s\n", netfw_strerror(err));
  netfw_client_free(c);
  netfw_arena_free(&arena);
  netfw_server_stop(s, 5000);
  netfw_server_free(s);
  return err == 0 ? 0 : 1;
}
