/* The broker: this server's side of Redis pub/sub (redis.c, on hiredis and
 * its libuv adapter). The bus relay (relay.c, on the supervisor's loop)
 * owns one broker when netfw_config.bus_url is set: it publishes what this
 * server's workers publish, and hands back what the other servers publish
 * on the channels this server's workers subscribed to.
 *
 * On Redis, a bus channel C is the Redis channel NETFW__BROKER_PREFIX C and
 * a message is NETFW__BROKER_MAGIC, the origin (u64, little-endian: a
 * random number per server start), the message id (u16 LE) and the
 * payload. A server drops the messages of its own origin: its workers got
 * them from the relay already (each message reaches a worker once).
 *
 * Connections: one for PUBLISH, one for SUBSCRIBE. Down at start or lost
 * later, they are retried with backoff (1 s, doubling up to 30 s; back to
 * 1 s once connected); a connection not up within 2 s is dropped and
 * retried the same way; on reconnect every channel is subscribed again.
 * A connection is up once Redis answered the PING sent first on it and,
 * for the SUBSCRIBE one, every SUBSCRIBE sent while connecting: when the
 * broker reports up, the channels subscribed so far receive what is
 * published from then on. Both sockets are FD_CLOEXEC.
 *
 * Everything runs on the loop given to netfw__broker_new, on its thread,
 * which must not die of SIGPIPE (hiredis writes with write(2)): block it
 * on that thread, as the supervisor thread does, or ignore it. Events come
 * from the loop only, never from inside a netfw__broker_* call; an event
 * may call any netfw__broker_* function, netfw__broker_free included.
 * Logs: "bus: redis HOST:PORT connected", "... connection lost (why)",
 * "... unreachable (why); retrying in N s" (once per delay until up
 * again), and dropped messages (one line per kind per 10 s, counted). */
#ifndef NETFW_RUNTIME_BUS_BROKER_H
#define NETFW_RUNTIME_BUS_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define NETFW__BROKER_PREFIX "netfw:bus:"
#define NETFW__BROKER_MAGIC "NFB1"
#define NETFW__BROKER_HDR (4 + 8 + 2) /* magic, origin, id */

typedef struct netfw__broker netfw__broker;

/* A message as it travels on Redis, taken apart (views into the bytes). */
typedef struct netfw__broker_msg {
  uint64_t origin;
  uint16_t id;
  const uint8_t *payload;
  uint32_t size;
} netfw__broker_msg;

/* Writes the NETFW__BROKER_HDR bytes that start a message (link.c). */
void netfw__broker_hdr_pack(uint8_t out[NETFW__BROKER_HDR], uint64_t origin,
                            uint16_t id);

/* Parses a message of len bytes from Redis: 0 and *out, NETFW_ERANGE (shorter
 * than its header), NETFW_EPROTO (not ours: bad magic) or NETFW_E2BIG
 * (payload over max_payload). Fuzzed by tests/fuzz/fuzz_bus.c (link.c). */
int netfw__broker_msg_parse(const uint8_t *p, size_t len, uint32_t max_payload,
                            netfw__broker_msg *out);

/* What the broker tells its owner (on the loop's thread). */
typedef struct netfw__broker_events {
  /* A message another server published on a subscribed channel (payload
   * and chan valid during the call only). */
  void (*message)(void *arg, const uint8_t *chan, size_t chan_len,
                  uint16_t id, const uint8_t *payload, uint32_t size);
  /* Both connections are up (true), or one was lost (false). */
  void (*state)(void *arg, bool up);
} netfw__broker_events;

/* Parses "redis://HOST:PORT" (HOST a name, an IPv4 address or a bracketed
 * IPv6 one; PORT 1..65535, default 6379 when ":PORT" is left out) into host
 * (NUL-terminated) and *port. Returns 0 or NETFW_EINVAL. */
int netfw__broker_parse_url(const char *url, char *host, size_t host_len,
                            uint16_t *port);

/* Creates a broker on loop for the Redis at ip:port (a numeric address,
 * IPv4 or IPv6) and starts connecting (no event before the loop runs).
 * origin: this server's origin. max_pending: bound on the bytes of PUBLISH
 * commands sent and not yet answered (over it, publish returns
 * NETFW_EAGAIN). max_payload: larger messages from Redis are dropped
 * (logged, rate-limited). Returns NULL when out of memory. */
netfw__broker *netfw__broker_new(uv_loop_t *loop, const char *ip,
                                 uint16_t port, uint64_t origin,
                                 size_t max_pending, uint32_t max_payload,
                                 const netfw__broker_events *ev, void *arg);

/* Subscribes to channel chan[0..len) on Redis (now, or on connect). A
 * set, not a count: subscribing twice is a no-op, one unsubscribe ends it.
 * Messages already on their way are not delivered before Redis processed
 * the SUBSCRIBE. Out of memory: logged, not subscribed. */
void netfw__broker_subscribe(netfw__broker *b, const uint8_t *chan,
                             size_t len);

/* Unsubscribes (a channel not subscribed is a no-op). No message of the
 * channel is delivered after this returns. */
void netfw__broker_unsubscribe(netfw__broker *b, const uint8_t *chan,
                               size_t len);

/* Publishes (id, payload) on chan for the other servers. Returns 0,
 * NETFW_ENOTCONN (not up: the message is dropped), NETFW_EAGAIN (over
 * max_pending: dropped) or NETFW_ENOMEM. A message counts
 * strlen(NETFW__BROKER_PREFIX) + chan_len + NETFW__BROKER_HDR + size bytes
 * against max_pending until Redis answers its PUBLISH (or its connection
 * is lost); it is refused when it would take the count over max_pending. */
int netfw__broker_publish(netfw__broker *b, const uint8_t *chan,
                          size_t chan_len, uint16_t id, const uint8_t *payload,
                          uint32_t size);

/* True while both connections are up. */
bool netfw__broker_up(const netfw__broker *b);

/* Disconnects and frees the broker; its handles finish closing on the loop
 * (run it until it has no more handles: the memory goes with the last
 * one). No event is called afterwards. May be called from an event. NULL
 * is a no-op. */
void netfw__broker_free(netfw__broker *b);

#endif /* NETFW_RUNTIME_BUS_BROKER_H */
