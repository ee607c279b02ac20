/* chat_server's configuration: what main() prepares before the workers
 * fork (the shared member table, or Redis's numeric address and this
 * server's id), and how each worker opens its membership store from it. */
#ifndef CHAT_CONFIG_H
#define CHAT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "chat_store.h"

#define CHAT_MAX_MEMBERS 10000 /* default of --max-members */

typedef struct chat_config {
  chat_store_table *table; /* --bus local */
  char redis_ip[64];       /* --bus redis:// (numeric) */
  uint16_t redis_port;
  char server_id[33];
  uint32_t max_members;
} chat_config;

/* Takes "--max-members N" (or "=N") out of argv and *argc (the examples'
 * common parser does not know it) into *out (CHAT_MAX_MEMBERS when not
 * given). false, with a message on stderr, on a bad value. */
bool chat_config_take_max_members(int *argc, char **argv, uint32_t *out);

/* Fills c from --bus (NULL: local): creates the shared table, or resolves
 * Redis's host (here, before the fork: workers never resolve) and draws
 * this server's id. c->max_members must be set. false, with a message on
 * stderr, on failure. */
bool chat_config_setup(const char *bus, chat_config *c);

/* Opens this worker's store as c says (chat_store_local_open or
 * chat_store_redis_open); NULL on failure. */
chat_store *chat_config_open_store(const chat_config *c, uv_loop_t *loop,
                                   const chat_store_events *ev, void *ctx);

#endif /* CHAT_CONFIG_H */
