/* The bus in a worker: the worker module that owns the link to the relay,
 * and the public netfw_bus_* calls (netfw/bus.h).
 *
 * Publishes are appended to the link's queue and written once per loop
 * iteration with the connections' output (prepare and check phases); the
 * relay's MSG frames are handed to the app's on_bus as they are read, as a
 * view into the read buffer. The worker keeps its own set of channels so
 * that subscribing is idempotent, an unsubscribe takes effect at once
 * (frames already on their way are not delivered) and the per-worker bound
 * holds without asking the relay.
 *
 * Each SUB carries a token that the relay sends back (SUBACK) once the
 * subscription took effect; until the latest SUB of a channel is
 * acknowledged, MSG frames for it are older than the subscription (sent
 * under an earlier one, before an unsubscribe) and are dropped. */
#include <string.h>

#include "bus.h"
#include "message_internal.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"

typedef struct endpoint {
  netfw__stream s; /* first: the stream's events hand us &s */
  netfw__stream_ctx ctx;
  uv_prepare_t prepare;
  uv_check_t check;
  netfw__chanmap subs; /* value: sub_value(token, acknowledged)  */
  uint32_t token;      /* the last SUB's token                   */
  netfw__worker *w;
  bool open;       /* publishes and subscriptions are taken  */
  bool has_broker; /* bus_url names a broker                 */
  netfw_bus_stats stats;
} endpoint;

/* One per worker process. */
static endpoint ep;

/* The endpoint of this worker, or NULL (not a worker, no link, closed). */
static endpoint *self(void) {
  return ep.open && ep.w != NULL ? &ep : NULL;
}

/* The length of a valid channel name, or 0. */
static size_t channel_len(const char *channel) {
  size_t n;

  if (channel == NULL)
    return 0;
  n = strnlen(channel, NETFW_BUS_CHANNEL_MAX + 1);
  return n <= NETFW_BUS_CHANNEL_MAX ? n : 0;
}

/* A channel's entry in e->subs: its latest SUB's token (never 0) and
 * whether the relay acknowledged it. */
static void *sub_value(uint32_t token, bool acked) {
  return (void *)(((uintptr_t)token << 1) | (acked ? 1u : 0u));
}

static bool sub_acked(const void *v) {
  return ((uintptr_t)v & 1u) != 0;
}

static uint32_t sub_token(const void *v) {
  return (uint32_t)((uintptr_t)v >> 1);
}

/* ---- the public calls ---- */

/* Queues a frame of op with payload head[0..head_len) name[0..len). */
static int send_sub(endpoint *e, uint16_t op, const uint8_t *head,
                    size_t head_len, const char *name, size_t len) {
  uint8_t buf[NETFW__BUS_TOKEN + NETFW_BUS_CHANNEL_MAX];
  bool broken = false;
  int rc;

  if (head_len > 0)
    memcpy(buf, head, head_len);
  memcpy(buf + head_len, name, len);
  rc = netfw__stream_send(&e->s, op, buf, (uint32_t)(head_len + len), &broken);
  if (broken)
    netfw__stream_close(&e->s, false);
  return rc;
}

int netfw_bus_subscribe(const char *channel) {
  endpoint *e = self();
  size_t len = channel_len(channel);
  int rc;

  if (e == NULL)
    return NETFW_ESTATE;
  if (len == 0)
    return NETFW_EINVAL;
  if (netfw__chanmap_get(&e->subs, (const uint8_t *)channel, len) != NULL)
    return 0;
  if (e->subs.count >= NETFW_BUS_SUBSCRIPTIONS_MAX)
    return NETFW_E2BIG;
  if (++e->token == 0 || e->token > UINT32_MAX / 2)
    e->token = 1;
  rc = netfw__chanmap_put(&e->subs, (const uint8_t *)channel, len,
                          sub_value(e->token, false));
  if (rc == 0) {
    uint8_t t[NETFW__BUS_TOKEN] = {
        (uint8_t)e->token, (uint8_t)(e->token >> 8),
        (uint8_t)(e->token >> 16), (uint8_t)(e->token >> 24)};
    if ((rc = send_sub(e, NETFW__BUS_SUB, t, sizeof(t), channel, len)) != 0)
      netfw__chanmap_del(&e->subs, (const uint8_t *)channel, len);
  }
  return rc;
}

int netfw_bus_unsubscribe(const char *channel) {
  endpoint *e = self();
  size_t len = channel_len(channel);

  if (e == NULL)
    return NETFW_ESTATE;
  if (len == 0)
    return NETFW_EINVAL;
  if (netfw__chanmap_del(&e->subs, (const uint8_t *)channel, len) == NULL)
    return 0;
  return send_sub(e, NETFW__BUS_UNSUB, NULL, 0, channel, len);
}

bool netfw_bus_subscribed(const char *channel) {
  endpoint *e = self();
  size_t len = channel_len(channel);

  return e != NULL && len > 0 &&
         netfw__chanmap_get(&e->subs, (const uint8_t *)channel, len) != NULL;
}

/* Queues the PUB frame: header, meta and channel in one piece, then the
 * payload. */
static int queue_pub(endpoint *e, const char *channel, size_t len, uint16_t id,
                     const void *payload, uint32_t size, unsigned flags) {
  uint8_t head[NETFW_FRAME_HDR_SIZE + NETFW__BUS_META + NETFW_BUS_CHANNEL_MAX];
  size_t n = NETFW_FRAME_HDR_SIZE + NETFW__BUS_META + len;

  netfw__frame_hdr_pack(head, NETFW__BUS_PUB,
                        (uint32_t)(NETFW__BUS_META + len + size));
  netfw__bus_meta_pack(head + NETFW_FRAME_HDR_SIZE, (uint8_t)flags, len, id);
  memcpy(head + NETFW_FRAME_HDR_SIZE + NETFW__BUS_META, channel, len);
  if (netfw__stream_put(&e->s, head, n) != 0)
    return NETFW_ENOMEM;
  if (size > 0 && netfw__stream_put(&e->s, payload, size) != 0) {
    netfw__stream_close(&e->s, false); /* half a frame: the link is gone */
    e->open = false;
    return NETFW_ENOMEM;
  }
  return 0;
}

int netfw_bus_publish_bytes(const char *channel, uint16_t id,
                            const void *payload, uint32_t size,
                            unsigned flags) {
  endpoint *e = self();
  size_t len = channel_len(channel);
  int rc;

  if (e == NULL)
    return NETFW_ESTATE;
  if (len == 0 || (flags & ~(unsigned)NETFW_BUS_ECHO) != 0 ||
      (payload == NULL && size > 0))
    return NETFW_EINVAL;
  if (size > e->w->cfg->max_payload)
    return NETFW_E2BIG;
  if (netfw__stream_queued(&e->s) + size > e->w->cfg->bus_queue) {
    e->stats.dropped_out++;
    netfw__ctr_add(&e->w->ctr->bus_dropped_out, 1);
    return NETFW_EAGAIN;
  }
  rc = queue_pub(e, channel, len, id, payload, size, flags);
  if (rc != 0)
    return rc;
  e->stats.published++;
  netfw__ctr_add(&e->w->ctr->bus_published, 1);
  if (e->has_broker && !e->stats.broker_up) {
    e->stats.broker_failed++;
    return NETFW_ENOTCONN;
  }
  return 0;
}

int netfw_bus_publish(const char *channel, const netfw_msg *m,
                      unsigned flags) {
  if (m == NULL)
    return NETFW_EINVAL;
  return netfw_bus_publish_bytes(channel, netfw_msg_id(m),
                                 netfw_msg_payload(m), netfw_msg_size(m),
                                 flags);
}

int netfw_bus_stats_get(netfw_bus_stats *out) {
  endpoint *e = ep.w != NULL ? &ep : NULL;

  if (out == NULL)
    return NETFW_EINVAL;
  if (e == NULL)
    return NETFW_ESTATE;
  *out = e->stats;
  out->dropped_in = atomic_load(&e->w->load[e->w->slot].bus_dropped);
  return 0;
}

/* ---- the link ---- */

/* Hands one MSG frame to the app, if the channel is still subscribed. */
static void deliver(endpoint *e, const netfw_frame *f) {
  char name[NETFW_BUS_CHANNEL_MAX + 1];
  netfw__bus_pub p;
  netfw_msg msg;

  if (!netfw__bus_pub_parse(f->payload, f->size, &p) ||
      !sub_acked(netfw__chanmap_get(&e->subs, p.chan, p.chan_len)))
    return;
  memcpy(name, p.chan, p.chan_len);
  name[p.chan_len] = '\0';
  netfw__msg_borrow(&msg, p.id, p.payload, p.size);
  e->stats.delivered++;
  netfw__ctr_add(&e->w->ctr->bus_delivered, 1);
  if (e->w->cfg->app->on_bus != NULL)
    e->w->cfg->app->on_bus(e->w->app, name, &msg);
  netfw_msg_release(&msg);
}

/* The relay took a SUB: if it is the channel's latest, its messages
 * count from here on. */
static void acknowledge(endpoint *e, const netfw_frame *f) {
  const uint8_t *t = f->payload;
  uint32_t token;
  void *v;

  if (f->size <= NETFW__BUS_TOKEN)
    return;
  token = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
          (uint32_t)t[3] << 24;
  v = netfw__chanmap_get(&e->subs, t + NETFW__BUS_TOKEN,
                         f->size - NETFW__BUS_TOKEN);
  if (v != NULL && sub_token(v) == token)
    (void)netfw__chanmap_put(&e->subs, t + NETFW__BUS_TOKEN,
                             f->size - NETFW__BUS_TOKEN, sub_value(token, true));
}

static void on_readable(netfw__stream *s) {
  endpoint *e = (endpoint *)s;
  netfw_frame f;
  int rc;

  while ((rc = netfw__stream_next(s, &f)) == 1) {
    if (f.id == NETFW__BUS_MSG)
      deliver(e, &f);
    else if (f.id == NETFW__BUS_SUBACK)
      acknowledge(e, &f);
    else if (f.id == NETFW__BUS_STATE && f.size == 1)
      e->stats.broker_up = f.payload[0] != 0;
    if (s->flags & NETFW__S_CLOSING)
      return;
  }
  if (rc < 0) {
    netfw_log(NETFW_LOG_ERROR, "bus: malformed frame from the relay");
    e->open = false;
    netfw__stream_close(s, false);
  }
}

static void on_established(netfw__stream *s) {
  if (netfw__stream_read_start(s) != 0)
    netfw__stream_close(s, false);
}

static void on_lost(netfw__stream *s, int status) {
  endpoint *e = (endpoint *)s;

  if (!e->w->stopping)
    netfw_log(NETFW_LOG_WARN, "bus: the link to the relay was lost (%s)",
              uv_strerror(status));
  e->open = false;
  netfw__stream_close(s, false);
}

static void on_closed(netfw__stream *s) {
  endpoint *e = (endpoint *)s;

  e->open = false;
  netfw__chanmap_free(&e->subs);
  netfw__stream_ctx_free(&e->ctx);
}

static const netfw__stream_events link_events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .closed = on_closed};

/* ---- the module ---- */

static void on_flush(uv_handle_t *h) {
  (void)h;
  netfw__stream_ctx_flush(&ep.ctx);
}

static void on_prepare(uv_prepare_t *h) {
  on_flush((uv_handle_t *)h);
}

static void on_check(uv_check_t *h) {
  on_flush((uv_handle_t *)h);
}

/* Opens the link on the descriptor the supervisor made for this worker. A
 * worker without one (its socketpair failed) runs without a bus. */
static int bus_init(netfw__worker *w) {
  int err;

  memset(&ep, 0, sizeof(ep));
  if (w->bus_fd < 0)
    return 0;
  ep.w = w;
  ep.has_broker = w->cfg->bus_url != NULL &&
                  strncmp(w->cfg->bus_url, "redis://", 8) == 0;
  netfw__chanmap_init(&ep.subs);
  netfw__stream_ctx_init(&ep.ctx, &w->loop, &link_events, 2);
  err = netfw__stream_init(&ep.s, &ep.ctx,
                           netfw__bus_frame_max(w->cfg->max_payload));
  if (err != 0)
    return err;
  if ((err = netfw__stream_open(&ep.s, w->bus_fd)) != 0) {
    netfw__stream_close(&ep.s, false);
    return err;
  }
  w->bus_fd = -1;
  uv_prepare_init(&w->loop, &ep.prepare);
  uv_check_init(&w->loop, &ep.check);
  uv_prepare_start(&ep.prepare, on_prepare);
  uv_check_start(&ep.check, on_check);
  uv_unref((uv_handle_t *)&ep.prepare);
  uv_unref((uv_handle_t *)&ep.check);
  ep.open = true;
  netfw__stream_start(&ep.s);
  return 0;
}

/* Every connection is gone: what is queued is written, then the link
 * closes (after the connections' last publishes, e.g. a chat's "left"). */
static void bus_close(netfw__worker *w) {
  (void)w;
  if (ep.w == NULL)
    return;
  ep.open = false;
  netfw__stream_fin(&ep.s, false);
  netfw__stream_ctx_flush(&ep.ctx);
  netfw__close_handle((uv_handle_t *)&ep.prepare);
  netfw__close_handle((uv_handle_t *)&ep.check);
}

const netfw__module netfw__bus_module = {
    .name = "bus", .init = bus_init, .close = bus_close};
