/* The app of test_bus_redis (kit_app, bus_redis_kit.h), run by each worker:
 * raw frames, no generated code. A connection subscribes to a channel,
 * publishes on the bus, pings; bus messages go to the local subscribers of
 * their channel. The test client side is in bus_redis_kit.c. */
#include "bus_redis_kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the app, in each worker ---- */

/* A local subscriber connection of one channel. */
typedef struct ksub {
  netfw_conn *c;
  char ch[NETFW_BUS_CHANNEL_MAX + 1];
  struct ksub *next;
} ksub;

typedef struct kapp {
  ksub *subs;
} kapp;

/* Allocates the worker's app state. */
static void *app_create(void *ctx) {
  (void)ctx;
  return calloc(1, sizeof(kapp));
}

/* Frees the subscribers left (on_client_closed normally removed them). */
static void app_destroy(void *p) {
  kapp *a = p;

  while (a->subs != NULL) {
    ksub *s = a->subs;
    a->subs = s->next;
    free(s);
  }
  free(a);
}

/* True when some local connection subscribed to ch. */
static bool app_has_channel(const kapp *a, const char *ch) {
  const ksub *s;

  for (s = a->subs; s != NULL; s = s->next)
    if (strcmp(s->ch, ch) == 0)
      return true;
  return false;
}

/* Sends a frame of id with a 4- or 8-byte payload of u32/i32 words. */
static void app_reply(netfw_conn *c, uint16_t id, const void *p, size_t n) {
  netfw_msg m;

  netfw_msg_init(&m, id);
  if (netfw_msg_append(&m, p, n) == 0)
    (void)netfw_conn_send(c, &m);
  netfw_msg_release(&m);
}

/* K_SUB: registers the connection, subscribes the worker on its first
 * local subscriber of the channel, replies K_ACK(pid, code). */
static void app_sub(kapp *a, netfw_conn *c, const uint8_t *p, uint32_t n) {
  ksub *s;
  int32_t w[2] = {(int32_t)getpid(), 0};

  if (n == 0 || n > NETFW_BUS_CHANNEL_MAX || netfw_conn_data(c) != NULL ||
      (s = calloc(1, sizeof(*s))) == NULL) {
    w[1] = NETFW_EINVAL;
    app_reply(c, K_ACK, w, sizeof(w));
    return;
  }
  memcpy(s->ch, p, n);
  s->c = c;
  if (!app_has_channel(a, s->ch))
    w[1] = netfw_bus_subscribe(s->ch);
  s->next = a->subs;
  a->subs = s;
  netfw_conn_set_data(c, s);
  app_reply(c, K_ACK, w, sizeof(w));
}

/* K_PUB: publishes the body with NETFW_BUS_ECHO; a non-zero code goes back
 * to the publisher as K_RC. */
static void app_pub(netfw_conn *c, const uint8_t *p, uint32_t n) {
  char ch[NETFW_BUS_CHANNEL_MAX + 1];
  netfw_msg m;
  int32_t rc;

  if (n < 1 || p[0] == 0 || (uint32_t)p[0] + 1 > n) {
    rc = NETFW_EINVAL;
    app_reply(c, K_RC, &rc, sizeof(rc));
    return;
  }
  memcpy(ch, p + 1, p[0]);
  ch[p[0]] = '\0';
  netfw_msg_init(&m, K_BUSMSG);
  rc = netfw_msg_append(&m, p + 1 + p[0], n - 1 - p[0]);
  if (rc == 0)
    rc = netfw_bus_publish(ch, &m, NETFW_BUS_ECHO);
  netfw_msg_release(&m);
  if (rc != 0)
    app_reply(c, K_RC, &rc, sizeof(rc));
}

/* Dispatches the client's frames. */
static void app_message(void *app, netfw_owned_msg *om) {
  netfw_msg *m = om->msg;
  netfw_bus_stats st = {0};
  uint32_t pong[2] = {(uint32_t)getpid(), 0};

  switch (netfw_msg_id(m)) {
  case K_SUB:
    app_sub(app, om->owner, netfw_msg_payload(m), netfw_msg_size(m));
    break;
  case K_PUB:
    app_pub(om->owner, netfw_msg_payload(m), netfw_msg_size(m));
    break;
  case K_PING:
    pong[1] = netfw_bus_stats_get(&st) == 0 && st.broker_up;
    app_reply(om->owner, K_PONG, pong, sizeof(pong));
    break;
  default:
    netfw_conn_shutdown_for(om->owner, NETFW_CLOSE_PROTOCOL);
  }
}

/* Forwards a bus message to every local subscriber of its channel. */
static void app_bus(void *app, const char *channel, netfw_msg *msg) {
  kapp *a = app;
  ksub *s;

  for (s = a->subs; s != NULL; s = s->next)
    if (strcmp(s->ch, channel) == 0)
      (void)netfw_conn_send(s->c, msg);
}

/* Drops a closed subscriber; unsubscribes the worker after its last one. */
static void app_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  kapp *a = app;
  ksub **pp, *s = netfw_conn_data(c);

  (void)why;
  if (s == NULL)
    return;
  for (pp = &a->subs; *pp != NULL; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  if (!app_has_channel(a, s->ch))
    (void)netfw_bus_unsubscribe(s->ch);
  free(s);
}

const netfw_app kit_app = {
    .create = app_create,
    .on_message = app_message,
    .destroy = app_destroy,
    .on_client_closed = app_closed,
    .on_bus = app_bus,
};
