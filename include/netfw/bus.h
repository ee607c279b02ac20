/* netfw — the message bus: publish/subscribe between the workers of a
 * server, and between servers through Redis (docs/bus.md).
 *
 * A worker subscribes to named channels and publishes netfw_msg values on
 * them; every worker that subscribed to the channel, on this server or on
 * any server sharing the same Redis (netfw_config.bus_url), receives each
 * message once, in its app's on_bus callback, on its own loop. The bus of
 * one server is always there (no configuration); bus_url adds the servers
 * of other machines.
 *
 * Semantics: at most once; the messages of one publishing worker reach
 * every receiver in the order they were published; nothing is lost while
 * every process (and the broker) stays up and no queue overflows. Queues
 * are bounded (netfw_config.bus_queue): an overflow drops the message for
 * the slow receiver, counts it and logs it.
 *
 * Every function here is for a worker process, on its loop thread: from
 * the app's create() on, in any of its callbacks. Elsewhere they return
 * NETFW_ESTATE. */
#ifndef NETFW_BUS_H
#define NETFW_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "netfw/export.h"
#include "netfw/message.h"

/* A channel name is 1 to NETFW_BUS_CHANNEL_MAX bytes, NUL-terminated. */
#define NETFW_BUS_CHANNEL_MAX 200

/* At most this many channels per worker (subscribe returns NETFW_E2BIG). */
#define NETFW_BUS_SUBSCRIPTIONS_MAX 4096

/* Publish flags. */
enum {
  /* Deliver to the publishing worker too, when it subscribed to the
   * channel (by default the publisher never receives its own message). */
  NETFW_BUS_ECHO = 1u << 0
};

/* Starts delivering the channel's messages to this worker (idempotent).
 * Messages published before the subscription took effect are not
 * delivered. Returns 0, NETFW_EINVAL (bad name), NETFW_E2BIG (too many
 * subscriptions), NETFW_ENOMEM or NETFW_ESTATE (not in a worker). */
NETFW_EXTERN int netfw_bus_subscribe(const char *channel);

/* Stops delivering the channel's messages (a channel not subscribed is a
 * no-op). Returns 0, NETFW_EINVAL or NETFW_ESTATE. */
NETFW_EXTERN int netfw_bus_unsubscribe(const char *channel);

/* Returns true when this worker subscribed to channel. */
NETFW_EXTERN bool netfw_bus_subscribed(const char *channel);

/* Publishes a copy of m (its id and whole payload) on channel; flags is 0
 * or NETFW_BUS_ECHO. Returns 0 once it is queued for every subscribed
 * worker, or: NETFW_EINVAL (bad name or flags), NETFW_E2BIG (payload over
 * the config's max_payload), NETFW_EAGAIN (this worker's bus queue is full:
 * dropped, counted), NETFW_ENOTCONN (bus_url is set and the broker is
 * unreachable: delivered to this server's workers only, counted),
 * NETFW_ENOMEM or NETFW_ESTATE (not in a worker, or stopped). */
NETFW_EXTERN int netfw_bus_publish(const char *channel, const netfw_msg *m,
                                   unsigned flags);

/* As netfw_bus_publish, from an id and a payload of size bytes. */
NETFW_EXTERN int netfw_bus_publish_bytes(const char *channel, uint16_t id,
                                         const void *payload, uint32_t size,
                                         unsigned flags);

/* What the bus did for this worker since it started. */
typedef struct netfw_bus_stats {
  uint64_t published;     /* publishes queued (including ENOTCONN ones)   */
  uint64_t delivered;     /* messages handed to on_bus                    */
  uint64_t dropped_out;   /* publishes refused with NETFW_EAGAIN          */
  uint64_t dropped_in;    /* messages for this worker dropped because its
                             queue was full (counted by the relay)        */
  uint64_t broker_failed; /* publishes that did not reach the broker      */
  bool broker_up;         /* bus_url set and the broker reachable         */
} netfw_bus_stats;

/* Fills *out. Returns 0, NETFW_EINVAL (NULL) or NETFW_ESTATE. */
NETFW_EXTERN int netfw_bus_stats_get(netfw_bus_stats *out);

#endif /* NETFW_BUS_H */
