#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greeter.netfw.h"

static void show(const greeter_Greeting *g) {
  printf("%.*s (visitor %u%s", (int)g->text.len, g->text.ptr, g->visitor,
         g->kind == GREETER_KIND_AGAIN ? ", again" : "");
  for (uint32_t i = 0; i < g->recent_count; i++) /* arrays: in the arena */
    printf("%s%.*s", i == 0 ? "; before you: " : ", ",
           (int)g->recent[i].name.len, g->recent[i].name.ptr);
  printf(")\n");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: greeter_client PORT NAME...\n");
    return 2;
  }
  netfw_client *c = greeter_client_new(); /* knows Hello returns Greeting */
  int err = netfw_client_connect(c, "127.0.0.1", (uint16_t)atoi(argv[1]));
  if (err != 0) {
    fprintf(stderr, "connect: %s\n", netfw_strerror(err));
    return 1;
  }
  netfw_arena arena; /* where the reply's arrays live; reset per call */
  netfw_arena_init(&arena);
  for (int i = 2; i < argc && err == 0; i++) { /* one connection: one worker */
    greeter_Hello hello = {.name = {argv[i], (uint32_t)strlen(argv[i])}};
    greeter_Hello_reply reply;
    /* send Hello and wait up to 5 s for its reply */
    err = greeter_call_Hello(c, &hello, &reply, &arena, 5000);
    if (err == 0)
      show(&reply.as.Greeting); /* Hello's one reply */
  }
  if (err != 0)
    fprintf(stderr, "error: %s\n", netfw_strerror(err));
  netfw_client_shutdown(c, 1000);
  netfw_client_free(c);
  netfw_arena_free(&arena);
  return err == 0 ? 0 : 1;
}
