/* The bus relay: on the supervisor's loop in the parent, one link per
 * worker (bus.h). It keeps who subscribed to what, copies every published
 * message to the links of the channel's subscribers (never back to the
 * publisher unless it asked for NETFW_BUS_ECHO), and with a broker
 * publishes there too and hands the other servers' messages to its own
 * subscribers.
 *
 * Order: a link's frames are handled in the order they arrive and each
 * copy is appended to the receiver's queue at once, so a publisher's
 * messages reach every receiver in the order it sent them. Bounds: each
 * link's queue holds at most queue_max bytes; a message that does not fit
 * is dropped for that receiver only, counted (on_drop) and reported: a
 * timer runs while there are drops and logs, once a second, how many each
 * worker (and the broker) lost since the last line. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "bus.h"
#include "clock.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "stream.h"

typedef struct rlink rlink;

/* A channel some link subscribed to: its subscribers. */
typedef struct chan {
  rlink **subs;
  int n, cap;
} chan;

struct rlink {
  netfw__stream s; /* first: the stream's events hand us &s */
  netfw__relay *r;
  int slot;
  netfw__chanmap subs; /* this link's channels (value: the chan)     */
  uint64_t dropped;    /* dropped for it since the last log line     */
  rlink *prev, *next;
};

struct netfw__relay {
  uv_loop_t *loop;
  netfw__stream_ctx ctx;
  uv_prepare_t prepare; /* flush before the loop blocks          */
  uv_check_t check;     /* flush after the I/O callbacks         */
  uv_timer_t report;    /* logs the drop counts, once a second   */
  netfw__chanmap chans; /* channel name -> chan                  */
  rlink *links;
  netfw__broker *broker;
  bool broker_up;
  uint32_t max_payload;
  size_t queue_max;
  netfw__relay_drop_fn on_drop;
  void *drop_arg;
  uint64_t broker_dropped; /* not published: the broker's queue full */
  bool closing;
  int open; /* handles and links not yet closed        */
};

static const netfw__stream_events link_events;

/* ---- subscriptions ---- */

/* Adds l to the channel's subscribers (creating the channel: then the
 * broker subscribes too). Returns 0 or NETFW_ENOMEM. */
static int subscribe(rlink *l, const uint8_t *name, size_t len) {
  netfw__relay *r = l->r;
  chan *c = netfw__chanmap_get(&r->chans, name, len);

  if (netfw__chanmap_get(&l->subs, name, len) != NULL)
    return 0;
  if (l->subs.count >= NETFW_BUS_SUBSCRIPTIONS_MAX)
    return NETFW_E2BIG;
  if (c == NULL) {
    c = calloc(1, sizeof(*c));
    if (c == NULL || netfw__chanmap_put(&r->chans, name, len, c) != 0) {
      free(c);
      return NETFW_ENOMEM;
    }
    if (r->broker != NULL)
      netfw__broker_subscribe(r->broker, name, len);
  }
  if (c->n == c->cap) {
    int cap = c->cap ? c->cap * 2 : 4;
    rlink **subs = realloc(c->subs, sizeof(*subs) * (size_t)cap);
    if (subs == NULL)
      return NETFW_ENOMEM; /* an empty new chan stays: harmless */
    c->subs = subs;
    c->cap = cap;
  }
  if (netfw__chanmap_put(&l->subs, name, len, c) != 0)
    return NETFW_ENOMEM;
  c->subs[c->n++] = l;
  return 0;
}

/* Takes l out of c; frees c (and unsubscribes the broker) once empty. */
static void leave(rlink *l, chan *c, const uint8_t *name, size_t len) {
  netfw__relay *r = l->r;
  int i;

  for (i = 0; i < c->n; i++)
    if (c->subs[i] == l) {
      memmove(&c->subs[i], &c->subs[i + 1], sizeof(rlink *) * (size_t)(c->n - i - 1));
      c->n--;
      break;
    }
  if (c->n > 0)
    return;
  netfw__chanmap_del(&r->chans, name, len);
  if (r->broker != NULL)
    netfw__broker_unsubscribe(r->broker, name, len);
  free(c->subs);
  free(c);
}

static void unsubscribe(rlink *l, const uint8_t *name, size_t len) {
  chan *c = netfw__chanmap_del(&l->subs, name, len);

  if (c != NULL)
    leave(l, c, name, len);
}

static void leave_one(void *arg, const uint8_t *name, size_t len, void *c) {
  leave(arg, c, name, len);
}

/* The link is gone: it leaves every channel. */
static void unsubscribe_all(rlink *l) {
  netfw__chanmap_each(&l->subs, leave_one, l);
  netfw__chanmap_free(&l->subs);
}

/* ---- delivery ---- */

/* Logs the drops counted for l since its last line. Returns true when
 * there were any. */
static bool report_link(rlink *l) {
  if (l->dropped == 0)
    return false;
  netfw_log(NETFW_LOG_WARN,
            "bus: worker %d is not keeping up: %llu message(s) dropped for "
            "it (its queue of %zu bytes is full)",
            l->slot, (unsigned long long)l->dropped, l->r->queue_max);
  l->dropped = 0;
  return true;
}

/* Logs the drops counted since the last report; stops the timer once a
 * report found none. */
static void on_report(uv_timer_t *t) {
  netfw__relay *r = t->data;
  bool any = false;
  rlink *l;

  for (l = r->links; l != NULL; l = l->next)
    any |= report_link(l);
  if (r->broker_dropped > 0) {
    any = true;
    netfw_log(NETFW_LOG_WARN,
              "bus: redis is not keeping up: %llu message(s) not published to "
              "the other servers (%zu bytes in flight)",
              (unsigned long long)r->broker_dropped, r->queue_max);
    r->broker_dropped = 0;
  }
  if (!any)
    uv_timer_stop(t);
}

/* Makes sure the drops just counted get reported (at once if the timer is
 * idle, so a first drop is seen without delay). */
static void report_soon(netfw__relay *r) {
  if (r->closing || uv_is_active((uv_handle_t *)&r->report))
    return;
  uv_timer_start(&r->report, on_report, 0, 1000);
}

/* Counts a message dropped for d. */
static void dropped(rlink *d) {
  netfw__relay *r = d->r;

  d->dropped++;
  if (r->on_drop != NULL)
    r->on_drop(r->drop_arg, d->slot, 1);
  report_soon(r);
}

/* Counts a message the broker could not take (its queue is full). */
static void broker_dropped(netfw__relay *r) {
  r->broker_dropped++;
  report_soon(r);
}

/* True when d can take a frame of size payload bytes now. */
static bool room_for(const rlink *d, size_t size) {
  return !(d->s.flags & NETFW__S_STOPPED) &&
         netfw__stream_queued(&d->s) + size + NETFW_FRAME_HDR_SIZE <=
             d->r->queue_max;
}

/* Queues a MSG frame whose payload is body[0..size) (a PUB's payload). */
static void deliver(rlink *d, const uint8_t *body, uint32_t size) {
  bool broken = false;

  if (!room_for(d, size)) {
    dropped(d);
    return;
  }
  if (netfw__stream_send(&d->s, NETFW__BUS_MSG, body, size, &broken) != 0) {
    dropped(d);
    if (broken)
      netfw__stream_close(&d->s, false);
  }
}

/* A worker published: every other subscriber (and the publisher with
 * ECHO) gets it, then the broker. */
static void publish(rlink *from, const uint8_t *body, uint32_t size) {
  netfw__relay *r = from->r;
  netfw__bus_pub p;
  chan *c;
  int i;

  if (!netfw__bus_pub_parse(body, size, &p))
    return;
  c = netfw__chanmap_get(&r->chans, p.chan, p.chan_len);
  for (i = 0; c != NULL && i < c->n; i++)
    if (c->subs[i] != from || (p.flags & NETFW_BUS_ECHO))
      deliver(c->subs[i], body, size);
  if (r->broker != NULL && r->broker_up &&
      netfw__broker_publish(r->broker, p.chan, p.chan_len, p.id, p.payload,
                            p.size) == NETFW_EAGAIN)
    broker_dropped(r);
}

/* Queues a MSG frame built from its parts (a message from the broker). */
static void deliver_parts(rlink *d, const uint8_t *chan_name, size_t chan_len,
                          uint16_t id, const uint8_t *payload, uint32_t size) {
  uint8_t head[NETFW_FRAME_HDR_SIZE + NETFW__BUS_META];
  uint32_t body = (uint32_t)(NETFW__BUS_META + chan_len + size);

  if (!room_for(d, body)) {
    dropped(d);
    return;
  }
  netfw__frame_hdr_pack(head, NETFW__BUS_MSG, body);
  netfw__bus_meta_pack(head + NETFW_FRAME_HDR_SIZE, 0, chan_len, id);
  if (netfw__stream_put(&d->s, head, sizeof(head)) != 0) {
    dropped(d);
    return;
  }
  if (netfw__stream_put(&d->s, chan_name, chan_len) != 0 ||
      netfw__stream_put(&d->s, payload, size) != 0) {
    dropped(d);
    netfw__stream_close(&d->s, false); /* half a frame left */
  }
}

static void on_broker_message(void *arg, const uint8_t *name, size_t len,
                              uint16_t id, const uint8_t *payload,
                              uint32_t size) {
  netfw__relay *r = arg;
  chan *c = netfw__chanmap_get(&r->chans, name, len);
  int i;

  if (len == 0 || len > NETFW_BUS_CHANNEL_MAX || size > r->max_payload)
    return;
  for (i = 0; c != NULL && i < c->n; i++)
    deliver_parts(c->subs[i], name, len, id, payload, size);
}

/* Tells l whether the broker is up. */
static void send_state(rlink *l) {
  uint8_t up = l->r->broker_up ? 1 : 0;
  bool broken = false;

  if (!(l->s.flags & NETFW__S_STOPPED))
    (void)netfw__stream_send(&l->s, NETFW__BUS_STATE, &up, 1, &broken);
}

static void on_broker_state(void *arg, bool up) {
  netfw__relay *r = arg;
  rlink *l;

  r->broker_up = up;
  for (l = r->links; l != NULL; l = l->next)
    send_state(l);
}

static const netfw__broker_events broker_events = {
    .message = on_broker_message, .state = on_broker_state};

/* ---- links ---- */

/* Answers a SUB with its token and channel: from here on, l's MSG frames
 * for the channel were sent under this subscription. */
static void send_ack(rlink *l, const netfw_frame *sub) {
  bool broken = false;

  if (!(l->s.flags & NETFW__S_STOPPED) &&
      netfw__stream_send(&l->s, NETFW__BUS_SUBACK, sub->payload, sub->size,
                         &broken) != 0 &&
      broken)
    netfw__stream_close(&l->s, false);
}

/* Handles one frame from a worker. Returns false for a malformed one. */
static bool handle(rlink *l, const netfw_frame *f) {
  switch (f->id) {
  case NETFW__BUS_SUB:
    if (f->size <= NETFW__BUS_TOKEN ||
        f->size > NETFW__BUS_TOKEN + NETFW_BUS_CHANNEL_MAX)
      return false;
    if (subscribe(l, f->payload + NETFW__BUS_TOKEN,
                  f->size - NETFW__BUS_TOKEN) != 0)
      netfw_log(NETFW_LOG_WARN, "bus: a subscription of worker %d failed",
                l->slot);
    send_ack(l, f);
    return true;
  case NETFW__BUS_UNSUB:
    if (f->size == 0 || f->size > NETFW_BUS_CHANNEL_MAX)
      return false;
    unsubscribe(l, f->payload, f->size);
    return true;
  case NETFW__BUS_PUB:
    publish(l, f->payload, f->size);
    return true;
  default:
    return false;
  }
}

static void on_readable(netfw__stream *s) {
  rlink *l = (rlink *)s;
  netfw_frame f;
  int rc;

  while ((rc = netfw__stream_next(s, &f)) == 1) {
    if (!handle(l, &f)) {
      rc = -1;
      break;
    }
  }
  if (rc < 0) {
    netfw_log(NETFW_LOG_ERROR, "bus: malformed frame from worker %d",
              l->slot);
    unsubscribe_all(l);
    netfw__stream_close(s, false);
  }
}

static void on_established(netfw__stream *s) {
  if (netfw__stream_read_start(s) != 0)
    netfw__stream_close(s, false);
}

/* The worker is gone (or its link broke): it leaves every channel. */
static void on_lost(netfw__stream *s, int status) {
  (void)status;
  unsubscribe_all((rlink *)s);
  netfw__stream_close(s, false);
}

static void relay_free_if_done(netfw__relay *r);

static void on_link_closed(netfw__stream *s) {
  rlink *l = (rlink *)s;
  netfw__relay *r = l->r;

  report_link(l); /* its last drops */
  unsubscribe_all(l);
  if (l->prev != NULL)
    l->prev->next = l->next;
  else
    r->links = l->next;
  if (l->next != NULL)
    l->next->prev = l->prev;
  free(l);
  r->open--;
  relay_free_if_done(r);
}

static const netfw__stream_events link_events = {
    .established = on_established,
    .readable = on_readable,
    .lost = on_lost,
    .closed = on_link_closed};

void netfw__relay_attach(netfw__relay *r, int fd, int slot) {
  rlink *l = calloc(1, sizeof(*l));

  if (l == NULL || r->closing ||
      netfw__stream_init(&l->s, &r->ctx,
                         netfw__bus_frame_max(r->max_payload)) != 0) {
    netfw_log(NETFW_LOG_ERROR, "bus: cannot attach worker %d", slot);
    free(l);
    close(fd);
    return;
  }
  l->r = r;
  l->slot = slot;
  netfw__chanmap_init(&l->subs);
  l->next = r->links;
  if (r->links != NULL)
    r->links->prev = l;
  r->links = l;
  r->open++;
  if (netfw__stream_open(&l->s, fd) != 0) {
    close(fd);
    netfw__stream_close(&l->s, false);
    return;
  }
  netfw__stream_start(&l->s);
  if (r->broker != NULL)
    send_state(l);
}

/* ---- the relay ---- */

static netfw__relay *relay_of(const uv_handle_t *h) {
  return h->data;
}

static void on_prepare(uv_prepare_t *h) {
  netfw__stream_ctx_flush(&relay_of((uv_handle_t *)h)->ctx);
}

static void on_check(uv_check_t *h) {
  netfw__stream_ctx_flush(&relay_of((uv_handle_t *)h)->ctx);
}

netfw__relay *netfw__relay_new(uv_loop_t *loop, uint32_t max_payload,
                               size_t queue_max, const char *broker_ip,
                               uint16_t broker_port, uint64_t origin,
                               netfw__relay_drop_fn on_drop, void *drop_arg) {
  netfw__relay *r = calloc(1, sizeof(*r));

  if (r == NULL)
    return NULL;
  r->loop = loop;
  r->max_payload = max_payload;
  r->queue_max = queue_max;
  r->on_drop = on_drop;
  r->drop_arg = drop_arg;
  netfw__chanmap_init(&r->chans);
  netfw__stream_ctx_init(&r->ctx, loop, &link_events, 4);
  if (broker_ip != NULL) {
    r->broker = netfw__broker_new(loop, broker_ip, broker_port, origin,
                                  queue_max, max_payload, &broker_events, r);
    if (r->broker == NULL) {
      free(r);
      return NULL;
    }
  }
  uv_prepare_init(loop, &r->prepare);
  uv_check_init(loop, &r->check);
  uv_timer_init(loop, &r->report);
  uv_unref((uv_handle_t *)&r->report);
  r->prepare.data = r->check.data = r->report.data = r;
  uv_prepare_start(&r->prepare, on_prepare);
  uv_check_start(&r->check, on_check);
  uv_unref((uv_handle_t *)&r->prepare);
  uv_unref((uv_handle_t *)&r->check);
  r->open = 3;
  return r;
}

static void relay_free_if_done(netfw__relay *r) {
  if (!r->closing || r->open > 0)
    return;
  netfw__stream_ctx_free(&r->ctx);
  netfw__chanmap_free(&r->chans);
  free(r);
}

static void on_handle_closed(uv_handle_t *h) {
  netfw__relay *r = relay_of(h);

  r->open--;
  relay_free_if_done(r);
}

void netfw__relay_close(netfw__relay *r) {
  rlink *l, *next;

  if (r == NULL || r->closing)
    return;
  r->closing = true;
  if (r->broker != NULL)
    netfw__broker_free(r->broker);
  r->broker = NULL;
  for (l = r->links; l != NULL; l = next) {
    next = l->next;
    unsubscribe_all(l);
    netfw__stream_close(&l->s, false);
  }
  if (uv_is_active((uv_handle_t *)&r->report))
    on_report(&r->report); /* the last counts */
  uv_close((uv_handle_t *)&r->prepare, on_handle_closed);
  uv_close((uv_handle_t *)&r->check, on_handle_closed);
  uv_close((uv_handle_t *)&r->report, on_handle_closed);
}
