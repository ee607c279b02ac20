#define _POSIX_C_SOURCE 200809L /* sigset_t, sigwait: POSIX, not plain C11 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greeter.netfw.h"

#define RECENT 4 /* visitors remembered per worker: a fixed bound */

typedef struct visit {
  char name[256]; /* a string<u8> is at most 255 bytes */
  uint32_t len;
  uint32_t visitor;
} visit;

typedef struct state {
  uint32_t visitors;
  visit recent[RECENT]; /* newest first */
} state;

static void *create(void *context) {
  (void)context; /* what netfw_config.context held; unused here */
  return calloc(1, sizeof(state));
}
static void destroy(void *app) { free(app); }

static bool seen(const state *st, netfw_str name) {
  for (int i = 0; i < RECENT && i < (int)st->visitors; i++)
    if (st->recent[i].len == name.len &&
        memcmp(st->recent[i].name, name.ptr, name.len) == 0)
      return true;
  return false;
}

static void remember(state *st, netfw_str name) {
  memmove(&st->recent[1], &st->recent[0], (RECENT - 1) * sizeof(visit));
  memcpy(st->recent[0].name, name.ptr, name.len);
  st->recent[0].len = name.len;
  st->recent[0].visitor = st->visitors;
}

static void on_hello(void *app, netfw_conn *conn, const greeter_Hello *msg) {
  state *st = app;
  greeter_Visit before[RECENT];
  uint32_t n = st->visitors < RECENT ? st->visitors : RECENT;
  bool again = seen(st, msg->name);
  char text[300];
  int len = snprintf(text, sizeof(text), "%s, %.*s!",
                     again ? "Welcome back" : "Hello", (int)msg->name.len,
                     msg->name.ptr);

  for (uint32_t i = 0; i < n; i++)
    before[i] = (greeter_Visit){{st->recent[i].name, st->recent[i].len},
                                st->recent[i].visitor};
  greeter_Greeting reply = {.text = {text, (uint32_t)len},
                            .visitor = ++st->visitors,
                            .kind = again ? GREETER_KIND_AGAIN
                                          : GREETER_KIND_FIRST,
                            .recent = before,
                            .recent_count = n};
  greeter_server_send_Greeting(conn, &reply); /* copies what it sends */
  remember(st, msg->name);
}

static const greeter_server_handlers handlers = {.on_Hello = on_hello};

int main(void) {
  greeter_server_app app = {
      .handlers = &handlers, .create = create, .destroy = destroy};
  netfw_config cfg;
  sigset_t stop;
  int sig;

  greeter_server_config_init(&cfg, &app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;        /* any free port */
  cfg.worker_num = 2;  /* two worker processes */

  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL); /* taken by sigwait below */

  netfw_server *server = netfw_server_new(&cfg);
  if (server == NULL || netfw_server_start(server) != 0)
    return 1;
  printf("listening on 127.0.0.1:%u\n", netfw_server_port(server));
  fflush(stdout);
  sigwait(&stop, &sig);
  netfw_server_stop(server, 5000); /* graceful: queued replies delivered */
  netfw_server_free(server);
  return 0;
}
