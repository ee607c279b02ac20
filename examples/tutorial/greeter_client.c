#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greeter.netfw.h"

static void on_greeting(void *user, const greeter_Greeting *msg) {
  (void)user; /* the pointer given to greeter_client_recv */
  printf("%.*s (visitor %u%s", (int)msg->text.len, msg->text.ptr, msg->visitor,
         msg->kind == GREETER_KIND_AGAIN ? ", again" : "");
  for (uint32_t i = 0; i < msg->recent_count; i++) /* arrays: in the arena */
    printf("%s%.*s", i == 0 ? "; before you: " : ", ",
           (int)msg->recent[i].name.len, msg->recent[i].name.ptr);
  printf(")\n");
}

static const greeter_client_handlers handlers = {.on_Greeting = on_greeting};

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: greeter_client PORT NAME...\n");
    return 2;
  }
  netfw_client *c = netfw_client_new();
  int err = netfw_client_connect(c, "127.0.0.1", (uint16_t)atoi(argv[1]));
  if (err != 0) {
    fprintf(stderr, "connect: %s\n", netfw_strerror(err));
    return 1;
  }
  netfw_arena arena; /* where decoded arrays live; reset per message */
  netfw_arena_init(&arena);
  for (int i = 2; i < argc && err == 0; i++) { /* one connection: one worker */
    greeter_Hello hello = {.name = {argv[i], (uint32_t)strlen(argv[i])}};
    err = greeter_client_send_Hello(c, &hello);
    if (err == 0) /* wait up to 5 s for the reply, then dispatch it */
      err = greeter_client_recv(c, &handlers, NULL, &arena, 5000);
  }
  if (err != 0)
    fprintf(stderr, "error: %s\n", netfw_strerror(err));
  netfw_client_shutdown(c, 1000);
  netfw_client_free(c);
  netfw_arena_free(&arena);
  return err == 0 ? 0 : 1;
}
