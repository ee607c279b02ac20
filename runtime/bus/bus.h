/* The message bus inside netfw (docs/bus.md): what the worker side
 * (endpoint.c), the relay (relay.c) and the channel table (chanmap.c)
 * share, and how the server wires them in.
 *
 * Shape. Every worker has one link to the relay: an AF_UNIX socketpair
 * made by the supervisor for each fork, carrying netfw frames (the stream
 * layer on both ends). The relay runs on the supervisor's loop in the
 * parent; it knows which worker subscribed to which channel and copies each
 * published message to the links of the subscribers. With a broker
 * (broker.h: Redis) it also publishes there and hands what other servers
 * publish to its own subscribers.
 *
 * Link frames (the frame id is the operation; integers little-endian):
 *   SUB    worker -> relay   token u32, channel bytes
 *   SUBACK relay -> worker   the SUB's token and channel, once it took
 *                            effect: MSG frames for the channel that arrive
 *                            before it were sent before the subscription
 *                            (the worker drops them)
 *   UNSUB  worker -> relay   channel bytes
 *   PUB    worker -> relay   flags u8, channel length u8, message id u16,
 *                            channel, payload
 *   MSG    relay -> worker   as PUB (flags 0)
 *   STATE  relay -> worker   u8: 1 broker up, 0 down (only with a broker) */
#ifndef NETFW_RUNTIME_BUS_H
#define NETFW_RUNTIME_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "netfw/bus.h"

enum {
  NETFW__BUS_SUB = 1,
  NETFW__BUS_UNSUB = 2,
  NETFW__BUS_PUB = 3,
  NETFW__BUS_MSG = 4,
  NETFW__BUS_STATE = 5,
  NETFW__BUS_SUBACK = 6
};

/* Bytes of the token before the channel in SUB and SUBACK. */
#define NETFW__BUS_TOKEN 4

/* Bytes before the channel in a PUB or MSG payload. */
#define NETFW__BUS_META 4

/* A PUB or MSG payload taken apart (views into the frame). */
typedef struct netfw__bus_pub {
  uint8_t flags;
  uint16_t id;
  const uint8_t *chan;
  size_t chan_len;
  const uint8_t *payload;
  uint32_t size;
} netfw__bus_pub;

/* Parses a PUB or MSG payload of len bytes. Returns false when it is
 * malformed (channel length 0 or over NETFW_BUS_CHANNEL_MAX, or longer than
 * the frame). */
bool netfw__bus_pub_parse(const uint8_t *p, uint32_t len, netfw__bus_pub *out);

/* Writes the NETFW__BUS_META bytes that start a PUB or MSG payload. */
void netfw__bus_meta_pack(uint8_t out[NETFW__BUS_META], uint8_t flags,
                          size_t chan_len, uint16_t id);

/* The largest link frame payload for messages of max_payload bytes. */
uint32_t netfw__bus_frame_max(uint32_t max_payload);

/* ---- channel table: byte-string keys to pointers (chanmap.c) ---- */

typedef struct netfw__chan_slot netfw__chan_slot;

typedef struct netfw__chanmap {
  netfw__chan_slot *slots; /* open addressing, linear probing           */
  size_t cap;              /* a power of two, or 0 before the first put */
  size_t count;
} netfw__chanmap;

/* An empty table (allocates on the first put). */
void netfw__chanmap_init(netfw__chanmap *m);

/* Frees the table and its keys (not the values). */
void netfw__chanmap_free(netfw__chanmap *m);

/* Returns the value stored for key[0..len), or NULL. */
void *netfw__chanmap_get(const netfw__chanmap *m, const uint8_t *key,
                         size_t len);

/* Stores value (not NULL) for key, replacing any. Returns 0 or
 * NETFW_ENOMEM. */
int netfw__chanmap_put(netfw__chanmap *m, const uint8_t *key, size_t len,
                       void *value);

/* Removes key; returns its value, or NULL when absent. */
void *netfw__chanmap_del(netfw__chanmap *m, const uint8_t *key, size_t len);

/* Calls fn(arg, key, len, value) for every entry; fn must not change m. */
void netfw__chanmap_each(const netfw__chanmap *m,
                         void (*fn)(void *arg, const uint8_t *key, size_t len,
                                    void *value),
                         void *arg);

/* ---- the relay (relay.c): on the supervisor's loop, in the parent ---- */

typedef struct netfw__relay netfw__relay;

/* Where the relay counts the messages it dropped for slot i's worker. */
typedef void (*netfw__relay_drop_fn)(void *arg, int slot, uint64_t n);

/* Creates the relay on loop. broker_ip/port: the Redis to join (ip NULL:
 * none). queue_max bounds each link's queued bytes; origin names this
 * server on the broker. Returns NULL when out of memory. */
netfw__relay *netfw__relay_new(uv_loop_t *loop, uint32_t max_payload,
                               size_t queue_max, const char *broker_ip,
                               uint16_t broker_port, uint64_t origin,
                               netfw__relay_drop_fn on_drop, void *drop_arg);

/* Takes the parent's end of a new worker's link (slot: for the drop
 * counts). Closes fd on failure (the worker then sees its bus closed). */
void netfw__relay_attach(netfw__relay *r, int fd, int slot);

/* Closes every link and the broker, and frees the relay once its handles
 * are closed (the loop must run on). */
void netfw__relay_close(netfw__relay *r);

/* ---- the worker side (endpoint.c) ---- */

struct netfw__worker;

/* The bus worker module: init opens the link on the fd the worker got
 * (netfw__worker_bus_fd), close flushes it and closes it. */
extern const struct netfw__module netfw__bus_module;

#endif /* NETFW_RUNTIME_BUS_H */
