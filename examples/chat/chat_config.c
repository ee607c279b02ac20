/* chat_server's configuration (chat_config.h). */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "chat_config.h"
#include "example.h"

bool chat_config_setup(const char *bus, chat_config *ctx) {
  char host[256];
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
  uint8_t id[16];
  int err;

  if (!example_parse_bus(bus != NULL ? bus : "local", host, sizeof(host),
                         &ctx->redis_port))
    return false;
  if (host[0] == '\0') {
    ctx->table = chat_store_table_new(ctx->max_members);
    if (ctx->table == NULL)
      perror("error: cannot create the member table");
    return ctx->table != NULL;
  }
  if ((err = getaddrinfo(host, NULL, &hints, &ai)) != 0) {
    fprintf(stderr, "error: cannot resolve %s: %s\n", host, gai_strerror(err));
    return false;
  }
  err = getnameinfo(ai->ai_addr, ai->ai_addrlen, ctx->redis_ip,
                    sizeof(ctx->redis_ip), NULL, 0, NI_NUMERICHOST);
  freeaddrinfo(ai);
  if (err != 0 || getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
    fprintf(stderr, "error: cannot set up the Redis store\n");
    return false;
  }
  for (size_t i = 0; i < sizeof(id); i++)
    snprintf(ctx->server_id + 2 * i, 3, "%02x", id[i]);
  return true;
}

bool chat_config_take_max_members(int *argc, char **argv, uint32_t *out) {
  long v;

  *out = CHAT_MAX_MEMBERS;
  for (int i = 1; i < *argc; i++) {
    const char *val = NULL;
    int n = 1;
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strncmp(argv[i], "--max-members=", 14) == 0)
      val = argv[i] + 14;
    else if (strcmp(argv[i], "--max-members") == 0 && i + 1 < *argc) {
      val = argv[i + 1];
      n = 2;
    } else
      continue;
    if (!example_parse_int("--max-members", val, 1, UINT16_MAX, &v))
      return false;
    *out = (uint32_t)v;
    memmove(&argv[i], &argv[i + n],
            (size_t)(*argc - i - n + 1) * sizeof(*argv));
    *argc -= n;
    i--;
  }
  return true;
}

chat_store *chat_config_open_store(const chat_config *c, uv_loop_t *loop,
                                   const chat_store_events *ev, void *ctx) {
  if (c->table != NULL)
    return chat_store_local_open(c->table, loop, ev, ctx);
  return chat_store_redis_open(c->redis_ip, c->redis_port, c->server_id,
                               c->max_members, loop, ev, ctx);
}
