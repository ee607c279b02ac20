/* The bus tests' kit, worker side: the test app (busapp) and the board. */
#include "bus_kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "netfw/bus.h"

#define MAX_CHANS 4
#define CHAN_BUF (NETFW_BUS_CHANNEL_MAX + 1)

uint64_t kit_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t kit_ms(void) { return kit_ns() / 1000000u; }

long kit_rss_kib(int pid) {
  char path[64], line[256];
  long kib = 0;
  FILE *f;

  if (pid == 0)
    snprintf(path, sizeof(path), "/proc/self/status");
  else
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
  if ((f = fopen(path, "r")) == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  fclose(f);
  return kib;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* ---- the board ---- */

bboard *bboard_new(void) {
  void *p = mmap(NULL, sizeof(bboard), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void bboard_free(bboard *b) {
  if (b != NULL)
    munmap(b, sizeof(*b));
}

wslot *bboard_find(bboard *b, int pid) {
  int i, n = atomic_load(&b->nslots);

  for (i = 0; i < n && i < BOARD_SLOTS; i++)
    if (atomic_load(&b->slot[i].pid) == pid)
      return &b->slot[i];
  return NULL;
}

/* ---- the worker side ---- */

typedef struct kapp kapp;
typedef struct kjob kjob;

/* One client connection and the channels it subscribed to. */
typedef struct kcs {
  netfw_conn *c;
  kapp *app;
  char ch[MAX_CHANS][CHAN_BUF];
  int nch;
  kjob *job;
  struct kcs *prev, *next;
} kcs;

/* A B_PUB with count > 1, published over loop iterations. */
struct kjob {
  uv_idle_t idle;
  kcs *owner;
  char channel[CHAN_BUF];
  unsigned flags;
  uint16_t busid;
  uint32_t pub, seq, pad, left, done, eagain;
  uint64_t t0;
  uint8_t *buf;
};

struct kapp {
  bboard *b;
  wslot *slot;
  uint32_t slot_idx;
  kcs *conns;
  netfw_msg out;     /* B_MSG being forwarded */
  uint8_t *scratch;  /* a bus payload being built */
  size_t scratch_cap;
};

static uint8_t *scratch(kapp *a, size_t n) {
  if (n > a->scratch_cap) {
    uint8_t *p = realloc(a->scratch, n);
    if (p == NULL)
      return NULL;
    a->scratch = p;
    a->scratch_cap = n;
  }
  return a->scratch;
}

static void fill_payload(uint8_t *p, uint32_t pub, uint32_t seq,
                         uint32_t pad) {
  uint32_t i;

  put32(p, pub);
  put32(p + 4, seq);
  put64(p + 8, kit_ns());
  for (i = 0; i < pad; i++)
    p[BUS_HDR + i] = (uint8_t)(seq + i);
}

static void reply(netfw_conn *c, uint16_t id, const void *p, uint32_t n) {
  netfw_msg m;

  netfw_msg_init(&m, id);
  if (n == 0 || netfw_msg_append(&m, p, n) == 0)
    netfw_conn_send(c, &m);
  netfw_msg_release(&m);
}

static void *kapp_create(void *context) {
  kapp *a = calloc(1, sizeof(*a));
  bboard *b = context;
  int i;

  if (a == NULL)
    abort();
  a->b = b;
  netfw_msg_init(&a->out, B_MSG);
  i = atomic_fetch_add(&b->nslots, 1);
  if (i >= BOARD_SLOTS)
    abort();
  a->slot_idx = (uint32_t)i;
  a->slot = &b->slot[i];
  if (b->create_channel[0] != '\0')
    atomic_store(&a->slot->create_sub_rc,
                 netfw_bus_subscribe(b->create_channel));
  atomic_store(&a->slot->pid, (int)getpid());
  atomic_fetch_add(&b->creates, 1);
  return a;
}

static void kapp_destroy(void *app) {
  kapp *a = app;

  atomic_fetch_add(&a->b->destroys, 1);
  netfw_msg_release(&a->out);
  free(a->scratch);
  free(a);
}

/* Local subscribers of channel in this worker. */
static int local_subs(kapp *a, const char *channel) {
  int n = 0, i;
  kcs *s;

  for (s = a->conns; s != NULL; s = s->next)
    for (i = 0; i < s->nch; i++)
      n += strcmp(s->ch[i], channel) == 0;
  return n;
}

static bool kapp_connect(void *app, netfw_conn *c) {
  kapp *a = app;
  kcs *s = calloc(1, sizeof(*s));

  if (s == NULL)
    return false;
  s->c = c;
  s->app = a;
  s->next = a->conns;
  if (a->conns != NULL)
    a->conns->prev = s;
  a->conns = s;
  netfw_conn_set_data(c, s);
  return true;
}

static void job_closed(uv_handle_t *h) {
  kjob *j = h->data;
  free(j->buf);
  free(j);
}

static void job_end(kjob *j) {
  if (j->owner != NULL)
    j->owner->job = NULL;
  j->owner = NULL;
  uv_idle_stop(&j->idle);
  uv_close((uv_handle_t *)&j->idle, job_closed);
}

static void kapp_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  kapp *a = app;
  kcs *s = netfw_conn_data(c);
  char ch[MAX_CHANS][CHAN_BUF];
  int i, n;

  (void)why;
  if (s == NULL)
    return;
  if (s->job != NULL)
    job_end(s->job);
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    a->conns = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
  n = s->nch;
  memcpy(ch, s->ch, sizeof(ch));
  free(s);
  for (i = 0; i < n; i++)
    if (local_subs(a, ch[i]) == 0)
      netfw_bus_unsubscribe(ch[i]);
}

static void kapp_on_bus(void *app, const char *channel, netfw_msg *m) {
  kapp *a = app;
  uint16_t id = netfw_msg_id(m);
  size_t chlen = strlen(channel);
  uint8_t hdr[3];
  kcs *s;
  int i;

  atomic_fetch_add(&a->slot->on_bus, 1);
  if (!netfw_bus_subscribed(channel))
    atomic_fetch_add(&a->b->unsubscribed_calls, 1);
  if (id >= BUS_ID0 && id < BUS_ID0 + BUS_IDS)
    atomic_fetch_add(&a->slot->by_id[id - BUS_ID0], 1);
  if (id == BUS_ID0 + 1 && netfw_msg_size(m) >= 8) {
    uint32_t seq;
    memcpy(&seq, netfw_msg_payload(m) + 4, 4);
    atomic_store(&a->slot->last_probe, (long long)seq + 1);
  }
  for (s = a->conns; s != NULL; s = s->next)
    for (i = 0; i < s->nch; i++) {
      if (strcmp(s->ch[i], channel) != 0)
        continue;
      if (netfw_msg_size(&a->out) == 0) {
        put16(hdr, id);
        hdr[2] = (uint8_t)chlen;
        if (netfw_msg_append(&a->out, hdr, 3) != 0 ||
            netfw_msg_append(&a->out, channel, chlen) != 0 ||
            netfw_msg_append(&a->out, netfw_msg_payload(m),
                             netfw_msg_size(m)) != 0)
          abort();
      }
      if (netfw_conn_send(s->c, &a->out) != 0)
        atomic_fetch_add(&a->b->forward_errors, 1);
    }
  netfw_msg_clear(&a->out);
}

/* Publishes a batch per loop iteration; EAGAIN retries on the next one. */
static void job_tick(uv_idle_t *h) {
  kjob *j = h->data;
  int batch = atomic_load(&j->owner->app->b->pub_batch), k, rc;
  uint8_t r[16];

  if (batch <= 0)
    batch = 64;
  for (k = 0; k < batch && j->left > 0; k++) {
    fill_payload(j->buf, j->pub, j->seq, j->pad);
    rc = netfw_bus_publish_bytes(j->channel, j->busid, j->buf,
                                 BUS_HDR + j->pad, j->flags);
    if (rc == NETFW_EAGAIN) {
      j->eagain++;
      return;
    }
    if (rc != 0)
      break; /* reported as published < count */
    j->seq++;
    j->done++;
    j->left--;
  }
  if (j->left > 0 && k == batch)
    return;
  put32(r, j->done);
  put32(r + 4, j->eagain);
  put64(r + 8, kit_ns() - j->t0);
  reply(j->owner->c, B_PUB, r, 16);
  job_end(j);
}

static void on_pub(kapp *a, kcs *s, netfw_msg *m) {
  const uint8_t *p = netfw_msg_payload(m);
  uint32_t n = netfw_msg_size(m), pad, count, seq, pub;
  char channel[CHAN_BUF];
  unsigned flags;
  uint16_t busid;
  uint8_t r[8], *buf;
  int rc;

  if (n < PUB_REQ_HDR || n - PUB_REQ_HDR != p[1] || s->job != NULL) {
    netfw_conn_shutdown_for(s->c, NETFW_CLOSE_PROTOCOL);
    return;
  }
  flags = p[0];
  busid = get16(p + 2);
  pub = get32(p + 4);
  seq = get32(p + 8);
  pad = get32(p + 12);
  count = get32(p + 16);
  memcpy(channel, p + PUB_REQ_HDR, p[1]);
  channel[p[1]] = '\0';
  if (count <= 1) {
    if ((buf = scratch(a, BUS_HDR + (size_t)pad)) == NULL)
      abort();
    fill_payload(buf, pub, seq, pad);
    rc = netfw_bus_publish_bytes(channel, busid, buf, BUS_HDR + pad, flags);
    put32(r, seq);
    put32(r + 4, (uint32_t)rc);
    reply(s->c, B_PUB, r, 8);
    return;
  }
  kjob *j = calloc(1, sizeof(*j));
  if (j == NULL || (j->buf = malloc(BUS_HDR + (size_t)pad)) == NULL)
    abort();
  j->owner = s;
  memcpy(j->channel, channel, sizeof(channel));
  j->flags = flags;
  j->busid = busid;
  j->pub = pub;
  j->seq = seq;
  j->pad = pad;
  j->left = count;
  j->t0 = kit_ns();
  j->idle.data = j;
  uv_idle_init(netfw_worker_loop(), &j->idle);
  uv_idle_start(&j->idle, job_tick);
  s->job = j;
}

static void on_try(kapp *a, netfw_conn *c, netfw_msg *m) {
  const uint8_t *p = netfw_msg_payload(m);
  uint32_t n = netfw_msg_size(m), size, flags;
  char channel[1024];
  uint8_t *buf = NULL;
  int rc = -100;

  if (n < 10 || n - 10 >= sizeof(channel)) {
    netfw_conn_shutdown_for(c, NETFW_CLOSE_PROTOCOL);
    return;
  }
  flags = get32(p + 2);
  size = get32(p + 6);
  memcpy(channel, p + 10, n - 10);
  channel[n - 10] = '\0';
  const char *ch = p[1] ? NULL : channel;
  switch (p[0]) {
  case TRY_PUBLISH:
    if ((buf = calloc(1, size + 1)) == NULL)
      abort();
    rc = netfw_bus_publish_bytes(ch, BUS_ID0 + 7, buf, size, flags);
    free(buf);
    break;
  case TRY_SUBSCRIBE:
    rc = netfw_bus_subscribe(ch);
    break;
  case TRY_UNSUBSCRIBE:
    rc = netfw_bus_unsubscribe(ch);
    break;
  case TRY_STATS_NULL:
    rc = netfw_bus_stats_get(NULL);
    break;
  case TRY_SUBSCRIBED:
    rc = netfw_bus_subscribed(ch);
    break;
  case TRY_RESUBSCRIBE:
    atomic_store(&a->slot->mark, atomic_load(&a->slot->by_id[0]));
    rc = netfw_bus_unsubscribe(ch);
    if (rc == 0)
      rc = netfw_bus_subscribe(ch);
    break;
  case TRY_SUBSCRIBE_N:
  case TRY_UNSUBSCRIBE_N:
    rc = 0;
    for (uint32_t i = 0; i < size && rc == 0 && n - 10 < 1000; i++) {
      snprintf(channel + (n - 10), sizeof(channel) - (n - 10), "%u", i);
      rc = p[0] == TRY_SUBSCRIBE_N ? netfw_bus_subscribe(channel)
                                   : netfw_bus_unsubscribe(channel);
    }
    break;
  }
  reply(c, B_TRY, &rc, 4);
}

static void kapp_on_message(void *app, netfw_owned_msg *om) {
  kapp *a = app;
  kcs *s = netfw_conn_data(om->owner);
  netfw_msg *m = om->msg;
  const uint8_t *p = netfw_msg_payload(m);
  uint32_t n = netfw_msg_size(m), ms;
  char channel[CHAN_BUF];
  uint8_t r[48];
  netfw_bus_stats st;
  int rc, i;

  switch (netfw_msg_id(m)) {
  case B_WHO:
    put32(r, (uint32_t)getpid());
    put32(r + 4, a->slot_idx);
    reply(s->c, B_WHO, r, 8);
    return;
  case B_SUB:
  case B_UNSUB:
    if (n == 0 || n > NETFW_BUS_CHANNEL_MAX)
      break;
    memcpy(channel, p, n);
    channel[n] = '\0';
    if (netfw_msg_id(m) == B_SUB) {
      rc = 0;
      if (local_subs(a, channel) == 0)
        rc = netfw_bus_subscribe(channel);
      if (rc == 0 && s->nch < MAX_CHANS)
        memcpy(s->ch[s->nch++], channel, n + 1);
      put32(r, (uint32_t)getpid());
      put32(r + 4, (uint32_t)rc);
      put32(r + 8, a->slot_idx);
      reply(s->c, B_SUB, r, 12);
    } else {
      for (i = 0; i < s->nch && strcmp(s->ch[i], channel) != 0; i++)
        ;
      if (i < s->nch)
        memmove(s->ch[i], s->ch[i + 1], (size_t)(s->nch-- - i - 1) * CHAN_BUF);
      rc = 0;
      if (local_subs(a, channel) == 0)
        rc = netfw_bus_unsubscribe(channel);
      put32(r, (uint32_t)rc);
      r[4] = netfw_bus_subscribed(channel);
      reply(s->c, B_UNSUB, r, 5);
    }
    return;
  case B_PUB:
    on_pub(a, s, m);
    return;
  case B_TRY:
    on_try(a, s->c, m);
    return;
  case B_STATS:
    memset(&st, 0, sizeof(st));
    rc = netfw_bus_stats_get(&st);
    put32(r, (uint32_t)rc);
    put64(r + 4, st.published);
    put64(r + 12, st.delivered);
    put64(r + 20, st.dropped_out);
    put64(r + 28, st.dropped_in);
    put64(r + 36, st.broker_failed);
    reply(s->c, B_STATS, r, 44);
    return;
  case B_BLOCK: {
    uint64_t t0 = kit_ms();
    if (n != 4)
      break;
    ms = get32(p);
    atomic_store(&a->b->blocked, 1);
    while (!atomic_load(&a->b->release) && kit_ms() - t0 < ms)
      usleep(1000);
    atomic_store(&a->b->blocked, 0);
    put32(r, (uint32_t)(kit_ms() - t0));
    reply(s->c, B_BLOCK, r, 4);
    return;
  }
  }
  netfw_conn_shutdown_for(s->c, NETFW_CLOSE_PROTOCOL);
}

const netfw_app busapp = {
    .create = kapp_create,
    .on_client_connect = kapp_connect,
    .on_message = kapp_on_message,
    .destroy = kapp_destroy,
    .on_client_closed = kapp_closed,
    .on_bus = kapp_on_bus,
};

