#define _POSIX_C_SOURCE 200809L /* sigset_t, sigwait: POSIX, not plain C11 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "greeter.netfw.h"

typedef struct state {
  uint32_t visitors;
} state;

static void *create(void *context) {
  (void)context; /* what netfw_config.context held; unused here */
  return calloc(1, sizeof(state));
}
static void destroy(void *app) { free(app); }

static void on_hello(void *app, netfw_conn *conn, const greeter_Hello *msg) {
  state *st = app;
  char text[300];
  int n = snprintf(text, sizeof(text), "Hello, %.*s!", (int)msg->name.len,
                   msg->name.ptr);
  greeter_Greeting reply = {.text = {text, (uint32_t)n},
                            .visitor = ++st->visitors};
  greeter_server_send_Greeting(conn, &reply);
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
