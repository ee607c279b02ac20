/* The bus tests' kit: the worker side (busapp) and the blocking client. */
#include "bus_kit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
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
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

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
  if (id >= BUS_ID0 && id < BUS_ID0 + BUS_IDS)
    atomic_fetch_add(&a->slot->by_id[id - BUS_ID0], 1);
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

static void on_try(netfw_conn *c, netfw_msg *m) {
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
    on_try(s->c, m);
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

/* ---- the client side ---- */

int kc_open(kconn *c, uint16_t port) {
  struct sockaddr_in sa;
  int one = 1;

  memset(c, 0, sizeof(*c));
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -1;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->cap = 1 << 16;
  if ((c->buf = malloc(c->cap)) == NULL) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  return 0;
}

void kc_close(kconn *c) {
  if (c->fd >= 0)
    close(c->fd);
  free(c->buf);
  memset(c, 0, sizeof(*c));
  c->fd = -1;
}

int kc_send(kconn *c, uint16_t id, const void *p, uint32_t n) {
  uint8_t hdr[6];
  struct iovec iov[2] = {{hdr, 6}, {(void *)p, n}};
  size_t left = 6 + (size_t)n;
  struct msghdr mh;

  put16(hdr, id);
  put32(hdr + 2, n);
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = iov;
  mh.msg_iovlen = n > 0 ? 2 : 1;
  while (left > 0) {
    ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    left -= (size_t)w;
    while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov[0].iov_len) {
      w -= (ssize_t)mh.msg_iov[0].iov_len;
      mh.msg_iov++;
      mh.msg_iovlen--;
    }
    if (mh.msg_iovlen > 0) {
      mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + w;
      mh.msg_iov[0].iov_len -= (size_t)w;
    }
  }
  return 0;
}

int kc_recv(kconn *c, kframe *f, int timeout_ms) {
  uint64_t deadline = kit_ms() + (uint64_t)timeout_ms;

  for (;;) {
    size_t have = c->len - c->off;
    if (have >= 6) {
      uint32_t size = get32(c->buf + c->off + 2);
      if (have >= 6 + (size_t)size) {
        f->id = get16(c->buf + c->off);
        f->size = size;
        f->p = c->buf + c->off + 6;
        c->off += 6 + (size_t)size;
        return 1;
      }
      if (6 + (size_t)size > c->cap) {
        size_t cap = 6 + (size_t)size;
        uint8_t *nb = malloc(cap);
        if (nb == NULL)
          return -2;
        memcpy(nb, c->buf + c->off, have);
        free(c->buf);
        c->buf = nb;
        c->cap = cap;
        c->off = 0;
        c->len = have;
      }
    }
    if (c->off > 0 && (c->cap - c->len < 4096 || c->off == c->len)) {
      memmove(c->buf, c->buf + c->off, c->len - c->off);
      c->len -= c->off;
      c->off = 0;
    }
    uint64_t now = kit_ms();
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int left = now >= deadline ? 0 : (int)(deadline - now);
    int pr = poll(&pfd, 1, left);
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr == 0)
      return -1;
    if (pr < 0)
      return -2;
    ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      return c->len == c->off ? 0 : -2;
    if (r < 0)
      return -2;
    c->len += (size_t)r;
  }
}

int kc_expect(kconn *c, uint16_t id, kframe *f, int timeout_ms, int *skipped) {
  uint64_t deadline = kit_ms() + (uint64_t)timeout_ms;

  for (;;) {
    uint64_t now = kit_ms();
    int rc = kc_recv(c, f, now >= deadline ? 0 : (int)(deadline - now));
    if (rc != 1)
      return rc;
    if (f->id == id)
      return 1;
    if (f->id != B_MSG || skipped == NULL)
      return -3;
    (*skipped)++;
  }
}

int kc_who(kconn *c) {
  kframe f;

  if (kc_send(c, B_WHO, NULL, 0) != 0 || kc_expect(c, B_WHO, &f, 10000, NULL) != 1 ||
      f.size != 8)
    return -1;
  c->pid = get32(f.p);
  c->slot = get32(f.p + 4);
  return 0;
}

int kc_sub(kconn *c, const char *channel) {
  kframe f;

  if (kc_send(c, B_SUB, channel, (uint32_t)strlen(channel)) != 0 ||
      kc_expect(c, B_SUB, &f, 10000, NULL) != 1 || f.size != 12)
    return -100;
  c->pid = get32(f.p);
  c->slot = get32(f.p + 8);
  return (int)get32(f.p + 4);
}

int kc_unsub(kconn *c, const char *channel, int *still) {
  kframe f;
  int skipped = 0;

  if (kc_send(c, B_UNSUB, channel, (uint32_t)strlen(channel)) != 0 ||
      kc_expect(c, B_UNSUB, &f, 10000, &skipped) != 1 || f.size != 5)
    return -100;
  if (still != NULL)
    *still = f.p[4];
  return (int)get32(f.p);
}

int kc_pub_send(kconn *c, const char *channel, unsigned flags, uint16_t busid,
                uint32_t pub, uint32_t seq, uint32_t pad, uint32_t count) {
  uint8_t req[PUB_REQ_HDR + 255];
  size_t len = strlen(channel);

  if (len > 255)
    return -1;
  req[0] = (uint8_t)flags;
  req[1] = (uint8_t)len;
  put16(req + 2, busid);
  put32(req + 4, pub);
  put32(req + 8, seq);
  put32(req + 12, pad);
  put32(req + 16, count);
  memcpy(req + PUB_REQ_HDR, channel, len);
  return kc_send(c, B_PUB, req, (uint32_t)(PUB_REQ_HDR + len));
}

int kc_try(kconn *c, int op, const char *channel, unsigned flags,
           uint32_t size) {
  uint8_t req[10 + 1024];
  size_t len = channel != NULL ? strlen(channel) : 0;
  kframe f;

  if (len > 1000)
    return -100;
  req[0] = (uint8_t)op;
  req[1] = channel == NULL;
  put32(req + 2, flags);
  put32(req + 6, size);
  if (len > 0)
    memcpy(req + 10, channel, len);
  if (kc_send(c, B_TRY, req, (uint32_t)(10 + len)) != 0 ||
      kc_expect(c, B_TRY, &f, 10000, NULL) != 1 || f.size != 4)
    return -100;
  return (int)get32(f.p);
}

int kc_stats(kconn *c, netfw_bus_stats *st) {
  kframe f;
  int skipped = 0;

  if (kc_send(c, B_STATS, NULL, 0) != 0 ||
      kc_expect(c, B_STATS, &f, 10000, &skipped) != 1 || f.size != 44)
    return -100;
  memset(st, 0, sizeof(*st));
  st->published = get64(f.p + 4);
  st->delivered = get64(f.p + 12);
  st->dropped_out = get64(f.p + 20);
  st->dropped_in = get64(f.p + 28);
  st->broker_failed = get64(f.p + 36);
  return (int)get32(f.p);
}

int kc_decode(const kframe *f, kmsg *m) {
  uint32_t i, chlen;
  const uint8_t *p;

  if (f->id != B_MSG || f->size < 3)
    return -1;
  m->busid = get16(f->p);
  chlen = f->p[2];
  if (f->size < 3 + chlen + BUS_HDR)
    return -1;
  memcpy(m->channel, f->p + 3, chlen);
  m->channel[chlen] = '\0';
  p = f->p + 3 + chlen;
  m->pub = get32(p);
  m->seq = get32(p + 4);
  m->ns = get64(p + 8);
  m->pad = f->size - 3 - chlen - BUS_HDR;
  m->pad_ok = 1;
  for (i = 0; i < m->pad; i++)
    if (p[BUS_HDR + i] != (uint8_t)(m->seq + i)) {
      m->pad_ok = 0;
      break;
    }
  return 0;
}

int kc_spread(uint16_t port, int workers, int per_worker, kconn *out,
              int max_tries) {
  kconn *extra = calloc((size_t)max_tries, sizeof(*extra));
  uint32_t pids[64];
  int counts[64] = {0}, npids = 0, nextra = 0, kept = 0, tries = 0, i, w;
  int rc = -1;

  if (extra == NULL || workers > 64)
    goto out;
  while (kept < workers * per_worker && tries < max_tries) {
    kconn c;
    if (kc_open(&c, port) != 0 || kc_who(&c) != 0) {
      kc_close(&c);
      goto out;
    }
    tries++;
    for (w = 0; w < npids && pids[w] != c.pid; w++)
      ;
    if (w == npids) {
      if (npids == workers) { /* more workers than expected */
        kc_close(&c);
        goto out;
      }
      pids[npids++] = c.pid;
    }
    if (counts[w] < per_worker) {
      out[w * per_worker + counts[w]++] = c;
      kept++;
    } else {
      extra[nextra++] = c; /* held open: it keeps that worker busier */
    }
  }
  rc = kept == workers * per_worker ? 0 : -1;
  if (rc != 0) {
    fprintf(stderr, "kc_spread: %d connections, %d kept over %d workers\n",
            tries, kept, npids);
    for (w = 0; w < npids; w++)
      for (i = 0; i < counts[w]; i++)
        kc_close(&out[w * per_worker + i]);
  }
out:
  for (i = 0; i < nextra; i++)
    kc_close(&extra[i]);
  free(extra);
  return rc;
}
