/* Kit of test_bus_redis, the client side in the test process: the env
 * (Redis, two servers), poll-driven connections that count what every
 * subscriber receives, publishing, rounds, marks and fences. The app each
 * worker runs is in bus_redis_app.c. */
#include "bus_redis_kit.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

/* ---- the client side, in the test process ---- */

/* Milliseconds on the monotonic clock. */
uint64_t kit_now_ms(void) {
  return wire_now_ms();
}

/* A zeroed env with every fd -1; NULL when out of memory. */
kenv *kit_new(void) {
  kenv *e = calloc(1, sizeof(*e));
  int i;

  if (e == NULL)
    return NULL;
  for (i = 0; i < KIT_MAXSUB; i++)
    e->subs[i].fd = -1;
  for (i = 0; i < KIT_NPUB; i++)
    e->pubs[i].fd = -1;
  return e;
}

/* Closes a connection and frees its input buffer. */
static void conn_close(kconn *c) {
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  free(c->in);
  c->in = NULL;
}

/* Closes the connections, stops/frees both servers, stops Redis. */
void kit_free(kenv *e) {
  int i;

  if (e == NULL)
    return;
  for (i = 0; i < e->nsubs; i++)
    conn_close(&e->subs[i]);
  for (i = 0; i < e->npubs; i++)
    conn_close(&e->pubs[i]);
  for (i = 0; i < 2; i++)
    if (e->srv[i] != NULL) {
      netfw_server_stop(e->srv[i], 5000);
      netfw_server_free(e->srv[i]);
    }
  redis_fixture_stop(&e->redis);
  free(e);
}

/* e->url = redis://127.0.0.1:port. */
void kit_set_url(kenv *e, uint16_t port) {
  snprintf(e->url, sizeof(e->url), "redis://127.0.0.1:%u", (unsigned)port);
}

/* Starts server i with the test app; netfw_server_start's code. */
int kit_server_start(kenv *e, int i) {
  netfw_config cfg;
  int rc;

  netfw_config_init(&cfg, &kit_app);
  cfg.ip = "127.0.0.1";
  cfg.port = 0;
  cfg.worker_num = 2;
  cfg.bus_url = e->url;
  e->srv[i] = netfw_server_new(&cfg);
  if (e->srv[i] == NULL)
    return NETFW_ENOMEM;
  rc = netfw_server_start(e->srv[i]);
  e->port[i] = netfw_server_port(e->srv[i]);
  return rc;
}

/* Reads a little-endian u32. */
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* Counts one delivered body on subscriber c. */
static void on_delivery(kconn *c, const uint8_t *p, uint32_t n) {
  uint32_t pub, seq, kind, tag;

  if (n != 16 + KIT_PAD || (pub = rd32(p)) >= KIT_NPUB) {
    c->bad++;
    return;
  }
  seq = rd32(p + 4);
  kind = rd32(p + 8);
  tag = rd32(p + 12);
  if (kind == KIND_PROBE) {
    c->probe[pub] = tag;
  } else if (kind == KIND_FENCE) {
    c->fence[pub] = tag;
  } else if (seq + 1 <= c->last[pub]) { /* duplicate or out of order */
    c->bad++;
  } else {
    c->last[pub] = seq + 1;
    c->got[pub]++;
  }
}

/* Handles one frame that arrived on c. */
static void on_frame(kconn *c, uint16_t id, const uint8_t *p, uint32_t n) {
  if (id == K_BUSMSG)
    on_delivery(c, p, n);
  else if (id == K_RC && n == 4 && (int32_t)rd32(p) == NETFW_ENOTCONN)
    c->rcs++;
  else if (id == K_PONG)
    c->pongs++;
  else
    c->rc_other++;
}

/* Reads what c has and handles its complete frames; false on EOF/error. */
static bool conn_read(kconn *c) {
  size_t at = 0;
  ssize_t r;

  if (c->cap - c->len < 65536) {
    uint8_t *in = realloc(c->in, c->cap + 65536);
    if (in == NULL)
      return false;
    c->in = in;
    c->cap += 65536;
  }
  r = recv(c->fd, c->in + c->len, c->cap - c->len, MSG_DONTWAIT);
  if (r < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (r <= 0)
    return false;
  c->len += (size_t)r;
  while (c->len - at >= 6) {
    uint16_t id = (uint16_t)(c->in[at] | c->in[at + 1] << 8);
    uint32_t n = rd32(c->in + at + 2);
    if (c->len - at - 6 < n)
      break;
    on_frame(c, id, c->in + at + 6, n);
    at += 6 + (size_t)n;
  }
  memmove(c->in, c->in + at, c->len - at);
  c->len -= at;
  return true;
}

/* One poll over every connection (timeout_ms), then reads what came. */
void kit_pump(kenv *e, int timeout_ms) {
  struct pollfd pfd[KIT_MAXSUB + KIT_NPUB];
  kconn *who[KIT_MAXSUB + KIT_NPUB];
  int n = 0, i;

  for (i = 0; i < e->nsubs; i++)
    if (e->subs[i].fd >= 0) {
      who[n] = &e->subs[i];
      pfd[n++] = (struct pollfd){.fd = e->subs[i].fd, .events = POLLIN};
    }
  for (i = 0; i < e->npubs; i++)
    if (e->pubs[i].fd >= 0) {
      who[n] = &e->pubs[i];
      pfd[n++] = (struct pollfd){.fd = e->pubs[i].fd, .events = POLLIN};
    }
  if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
    return;
  for (i = 0; i < n; i++)
    if (pfd[i].revents != 0 && !conn_read(who[i])) {
      who[i]->bad++; /* a connection the server dropped */
      conn_close(who[i]);
    }
}

/* Pumps in 50 ms slices until pred holds or the deadline passes. */
bool kit_wait(kenv *e, bool (*pred)(kenv *, const void *), const void *arg,
              int timeout_ms) {
  uint64_t end = kit_now_ms() + (uint64_t)timeout_ms;

  while (!pred(e, arg)) {
    uint64_t now = kit_now_ms();
    if (now >= end)
      return false;
    kit_pump(e, (int)(end - now < 50 ? end - now : 50));
  }
  return true;
}

/* One blocking request on a fresh kconn: sends id/payload, reads frames
 * until one of want_id arrives (5 s); returns its first u32 or 0. */
static uint32_t conn_call(kconn *c, uint16_t id, const void *p, uint32_t n,
                          uint16_t want_id, int32_t *second) {
  uint16_t got_id = 0;
  uint8_t *in = NULL;
  uint32_t size = 0, v = 0;

  if (wire_send(c->fd, id, p, n) != 0 ||
      wire_recv(c->fd, &got_id, &in, &size, 5000) != 1 || got_id != want_id ||
      size < 4) {
    free(in);
    return 0;
  }
  v = rd32(in);
  if (second != NULL)
    *second = size >= 8 ? (int32_t)rd32(in + 4) : -1;
  free(in);
  return v;
}

/* Remembers pid as one of server i's workers; false for a third pid. */
static bool note_worker(kenv *e, int i, uint32_t pid) {
  int w;

  for (w = 0; w < 2; w++) {
    if (e->wpid[i][w] == pid)
      return true;
    if (e->wpid[i][w] == 0) {
      e->wpid[i][w] = pid;
      return true;
    }
  }
  return false;
}

/* Number of subscribers of server i served by worker pid. */
int kit_subs_on(const kenv *e, int i, uint32_t pid) {
  int k, n = 0;

  for (k = 0; k < e->nsubs; k++)
    if (e->subs[k].srv == i && e->subs[k].pid == pid)
      n++;
  return n;
}

/* Subscribes new connections until both of i's workers hold >= min. */
bool kit_add_subscribers(kenv *e, int i, int min) {
  int tries;

  for (tries = 0; tries < 40 && e->nsubs < KIT_MAXSUB; tries++) {
    kconn *c = &e->subs[e->nsubs];
    int32_t code = -1;

    if (e->wpid[i][1] != 0 && kit_subs_on(e, i, e->wpid[i][0]) >= min &&
        kit_subs_on(e, i, e->wpid[i][1]) >= min)
      return true;
    if ((c->fd = wire_connect(e->port[i])) < 0)
      return false;
    c->srv = i;
    e->nsubs++;
    c->pid = conn_call(c, K_SUB, KIT_CHANNEL, sizeof(KIT_CHANNEL) - 1, K_ACK,
                       &code);
    if (c->pid == 0 || code != 0 || !note_worker(e, i, c->pid))
      return false;
    if (tries > 0 && tries % 4 == 0)
      usleep(10000); /* pacing: lets the other worker win an accept */
  }
  return false;
}

/* One more publisher on server i, on an unused worker if one comes. */
bool kit_add_publisher(kenv *e, int i) {
  kconn *c = &e->pubs[e->npubs];
  int tries, k;

  for (tries = 0; tries < 20; tries++) {
    bool taken = false;

    if ((c->fd = wire_connect(e->port[i])) < 0)
      return false;
    c->srv = i;
    c->pid = conn_call(c, K_PING, NULL, 0, K_PONG, NULL);
    if (c->pid == 0)
      return false;
    for (k = 0; k < e->npubs; k++)
      taken = taken || (e->pubs[k].srv == i && e->pubs[k].pid == c->pid);
    if (!taken || tries == 19)
      break;
    close(c->fd);
    usleep(10000); /* pacing, as in kit_add_subscribers */
  }
  e->npubs++;
  return note_worker(e, i, c->pid);
}

/* Polls server i until a worker reports its broker up (bounded). */
bool kit_wait_broker(kenv *e, int i, int timeout_ms) {
  uint64_t end = kit_now_ms() + (uint64_t)timeout_ms;
  kconn c = {.fd = wire_connect(e->port[i])};
  int32_t up = 0;

  while (c.fd >= 0 && kit_now_ms() < end &&
         conn_call(&c, K_PING, NULL, 0, K_PONG, &up) != 0 && up != 1)
    usleep(20000); /* the poll period of this wait */
  if (c.fd >= 0)
    close(c.fd);
  return up == 1;
}

/* Writes a little-endian u32. */
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* Sends one K_PUB of the kind from publisher p (data: next seq). */
void kit_publish(kenv *e, int p, uint32_t kind, uint32_t tag) {
  uint8_t f[1 + sizeof(KIT_CHANNEL) - 1 + 16 + KIT_PAD];
  kconn *c = &e->pubs[p];
  uint8_t *b = f + sizeof(KIT_CHANNEL);

  memset(f, 0xab, sizeof(f));
  f[0] = (uint8_t)(sizeof(KIT_CHANNEL) - 1);
  memcpy(f + 1, KIT_CHANNEL, sizeof(KIT_CHANNEL) - 1);
  wr32(b, (uint32_t)p);
  wr32(b + 4, kind == KIND_DATA ? c->seq++ : 0);
  wr32(b + 8, kind);
  wr32(b + 12, tag);
  if (c->fd < 0 || wire_send(c->fd, K_PUB, f, sizeof(f)) != 0)
    c->rc_other++;
}

/* n data messages from each publisher in mask, interleaved. */
void kit_publish_round(kenv *e, unsigned mask, uint32_t n) {
  uint32_t i;
  int p;

  for (i = 0; i < n; i++) {
    for (p = 0; p < e->npubs; p++)
      if (mask & (1u << p))
        kit_publish(e, p, KIND_DATA, 0);
    if (i % 64 == 63)
      kit_pump(e, 0);
  }
}

/* True when every publisher answered the PINGs counted in arg. */
static bool pongs_in(kenv *e, const void *arg) {
  const uint32_t *want = arg;
  int p;

  for (p = 0; p < e->npubs; p++)
    if (e->pubs[p].pongs < want[p])
      return false;
  return true;
}

/* PING/PONG on every publisher: its earlier replies are then counted. */
bool kit_sync_pubs(kenv *e, int timeout_ms) {
  uint32_t want[KIT_NPUB];
  int p;

  for (p = 0; p < e->npubs; p++) {
    want[p] = e->pubs[p].pongs + 1;
    if (e->pubs[p].fd < 0 || wire_send(e->pubs[p].fd, K_PING, NULL, 0) != 0)
      return false;
  }
  return kit_wait(e, pongs_in, want, timeout_ms);
}

/* base[] = got[] on every subscriber. */
void kit_mark(kenv *e) {
  int i;

  for (i = 0; i < e->nsubs; i++)
    memcpy(e->subs[i].base, e->subs[i].got, sizeof(e->subs[i].got));
}

/* Arguments of round_done. */
typedef struct round_arg {
  int srv;
  unsigned mask;
  uint64_t n;
} round_arg;

/* True when the subscribers in a->srv got a->n from every publisher. */
static bool round_done(kenv *e, const void *arg) {
  const round_arg *a = arg;
  int i, p;

  for (i = 0; i < e->nsubs; i++)
    for (p = 0; p < e->npubs; p++)
      if ((a->srv < 0 || e->subs[i].srv == a->srv) && (a->mask & (1u << p)) &&
          e->subs[i].got[p] - e->subs[i].base[p] < a->n)
        return false;
  return true;
}

/* Waits until the round of n from mask reached server srv's subscribers. */
bool kit_wait_round(kenv *e, int srv, unsigned mask, uint64_t n, int ms) {
  round_arg a = {srv, mask, n};

  return kit_wait(e, round_done, &a, ms);
}

/* Arguments of marks_seen: which publishers, which tag, probe or fence. */
typedef struct mark_arg {
  unsigned mask;
  uint32_t tag;
  bool fence;
} mark_arg;

/* True when every subscriber saw tag from every publisher in the mask. */
static bool marks_seen(kenv *e, const void *arg) {
  const mark_arg *a = arg;
  int i, p;

  for (i = 0; i < e->nsubs; i++)
    for (p = 0; p < e->npubs; p++)
      if ((a->mask & (1u << p)) &&
          (a->fence ? e->subs[i].fence[p] : e->subs[i].probe[p]) != a->tag)
        return false;
  return true;
}

/* Probes until every path delivers and no code comes back. */
bool kit_warmup(kenv *e, int timeout_ms) {
  uint64_t end = kit_now_ms() + (uint64_t)timeout_ms;
  mark_arg a = {(1u << e->npubs) - 1, 0, false};
  int p;

  while (kit_now_ms() < end) {
    uint32_t rcs = 0;

    a.tag = ++e->tag;
    for (p = 0; p < e->npubs; p++) {
      rcs += e->pubs[p].rcs;
      kit_publish(e, p, KIND_PROBE, a.tag);
    }
    if (!kit_sync_pubs(e, 2000))
      return false;
    for (p = 0; p < e->npubs; p++)
      rcs -= e->pubs[p].rcs;
    if (kit_wait(e, marks_seen, &a, 100) && rcs == 0) {
      for (p = 0; p < e->npubs; p++)
        e->pubs[p].rcs = 0;
      return true;
    }
  }
  return false;
}

/* Fences A, B, A through Redis; false when one does not arrive. */
bool kit_fence(kenv *e, int timeout_ms) {
  int order[3] = {-1, -1, -1}, k;
  mark_arg a = {0, 0, true};

  for (k = e->npubs - 1; k >= 0; k--)
    order[e->pubs[k].srv] = k; /* the first publisher of each server */
  order[2] = order[0];
  for (k = 0; k < 3; k++) {
    if (order[k] < 0)
      return false;
    a.mask = 1u << order[k];
    a.tag = ++e->tag;
    kit_publish(e, order[k], KIND_FENCE, a.tag);
    if (!kit_wait(e, marks_seen, &a, timeout_ms))
      return false;
  }
  return true;
}
