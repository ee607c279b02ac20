/* The bus tests' kit, client side: a buffered blocking connection speaking
 * the test app's protocol. */
#include "bus_kit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

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
