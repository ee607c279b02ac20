/* Accounting streamer (see accounting.h). One thread, epoll, level
 * triggered; each connection has one output buffer that is refilled only
 * when it has been written out entirely, and one input buffer that holds at
 * most one partial frame after parsing. */
#include "accounting.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 6
#define META 16
#define MAX_MSG 65536u
#define POOL_SIZE (1u << 20)
#define OUT_CAP (256u * 1024)
#define IN_CAP (2u * (MAX_MSG + HDR))
#define MAX_BATCH 64 /* frames per output buffer */

typedef struct conn {
  int fd;
  int end;
  bool polled;   /* in the epoll set */
  bool want_out; /* EPOLLOUT requested */
  uint32_t uid;
  long gen;      /* messages generated (next seq)                */
  long answered; /* distinct messages answered                   */
  long hi;       /* highest seq answered, -1 before the first    */
  uint8_t *seen; /* bitmap of answered seqs                      */
  long seen_bits;
  uint8_t *out;
  size_t out_len, out_off;
  size_t ends[MAX_BATCH]; /* end offset of each frame in out     */
  int nends, ends_done;
  uint8_t *in;
  size_t in_len;
  acct_stats st;
} conn;

struct accounting {
  acct_cfg cfg;
  conn *c;
  int epfd;
  bool stopping;
  bool started;
  uint64_t soak_end;
  uint32_t next_uid;
  uint8_t *pool;      /* POOL_SIZE + MAX_MSG random bytes */
  acct_stats retired; /* connections replaced in soak mode */
};

static uint64_t now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mix(uint64_t x) { /* splitmix64 finaliser */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t key(const accounting *a, uint32_t uid, long seq,
                    uint64_t salt) {
  return mix(a->cfg.seed ^ mix(((uint64_t)uid << 32) ^ (uint64_t)seq ^ salt));
}

static uint32_t size_of(const accounting *a, uint32_t uid, long seq) {
  uint64_t h = key(a, uid, seq, 0x512e0);
  uint32_t r = (uint32_t)(h % 10000), v = (uint32_t)(h >> 32);

  if (a->cfg.sizes == ACCT_SIZES_SMALL)
    return r < 9000 ? v % 256 : 256 + v % (4096 - 256 + 1);
  if (seq % 1000 == 0)
    return 0;
  if (seq % 1000 == 1)
    return MAX_MSG;
  if (r < 7000)
    return v % 256;
  if (r < 9500)
    return 256 + v % (4096 - 256);
  if (r < 9950)
    return 4096 + v % (32768 - 4096);
  return 32768 + v % (MAX_MSG - 32768 + 1);
}

static const uint8_t *body_of(const accounting *a, uint32_t uid, long seq) {
  return a->pool + key(a, uid, seq, 0xb0d1) % POOL_SIZE;
}

/* Word-wise checksum of n bytes (unaligned loads through memcpy). */
static uint32_t checksum(const uint8_t *p, size_t n) {
  uint64_t h = 0x243f6a8885a308d3ull ^ n, w;
  size_t i;

  for (i = 0; i + 8 <= n; i += 8) {
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
  }
  for (; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return (uint32_t)(h ^ (h >> 32));
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

/* The 16 meta bytes of message (uid, seq) whose size is size. */
static void meta_of(const accounting *a, uint32_t uid, long seq, uint32_t size,
                    uint8_t meta[META]) {
  const uint8_t *body = body_of(a, uid, seq);

  put32(meta, uid);
  put32(meta + 4, (uint32_t)seq);
  put32(meta + 8, size);
  put32(meta + 12, size > META ? checksum(body, size - META) : 0);
}

/* True when (id, payload, size) is exactly message seq of uid. */
static bool matches(const accounting *a, uint32_t uid, long seq, uint16_t id,
                    const uint8_t *p, uint32_t size) {
  uint8_t meta[META];
  uint32_t head = size < META ? size : META;

  if (seq < 0 || id != (uint16_t)seq || size != size_of(a, uid, seq))
    return false;
  meta_of(a, uid, seq, size, meta);
  if (memcmp(p, meta, head) != 0)
    return false;
  if (size <= META)
    return true;
  return checksum(p + META, size - META) == get32(p + 12) &&
         memcmp(p + META, body_of(a, uid, seq), size - META) == 0;
}

/* ---- per connection ---- */

static bool seen_get(const conn *c, long seq) {
  return seq < c->seen_bits && (c->seen[seq >> 3] >> (seq & 7)) & 1;
}

static int seen_set(conn *c, long seq) {
  if (seq >= c->seen_bits) {
    long bits = c->seen_bits > 0 ? c->seen_bits : 4096;
    uint8_t *p;
    while (bits <= seq)
      bits *= 2;
    p = realloc(c->seen, (size_t)bits / 8);
    if (p == NULL)
      return -1;
    memset(p + c->seen_bits / 8, 0, (size_t)(bits - c->seen_bits) / 8);
    c->seen = p;
    c->seen_bits = bits;
  }
  c->seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
  return 0;
}

/* Checks one received frame against what conn c sent. The frame expected
 * is hi + 1 (the one after the highest answered so far); anything else is
 * identified by the uid/seq it carries (by its id alone when shorter than 8
 * bytes) and compared with that message: no match is a corruption, a
 * message answered before a duplicate, one below hi a late (reordered)
 * arrival. One above hi + 1 leaves a gap, which is a loss only if it is
 * never filled. */
static void check_frame(const accounting *a, conn *c, uint16_t id,
                        const uint8_t *p, uint32_t size) {
  long cand = c->hi + 1;

  c->st.received++;
  c->st.bytes_in += size;
  if (cand < c->gen && matches(a, c->uid, cand, id, p, size)) {
    c->st.ok++;
  } else {
    if (size >= 8)
      cand = get32(p) == c->uid ? (long)get32(p + 4) : -1;
    else /* only the id tells: the nearest seq that has it */
      cand = c->hi + 1 + (int16_t)(uint16_t)(id - (uint16_t)(c->hi + 1));
    if (cand < 0 || cand >= c->gen || !matches(a, c->uid, cand, id, p, size)) {
      c->st.corrupted++;
      return;
    }
    if (seen_get(c, cand)) {
      c->st.duplicated++;
      return;
    }
    if (cand < c->hi)
      c->st.reordered++;
    else
      c->st.ok++; /* in order, after a gap */
  }
  if (seen_set(c, cand) != 0) {
    c->st.corrupted++; /* out of memory: counted as a failure */
    return;
  }
  c->answered++;
  if (cand > c->hi)
    c->hi = cand;
}

static void conn_end(accounting *a, conn *c, int how) {
  if (c->end != ACCT_RUNNING)
    return;
  c->end = how;
  /* frames of a partly written buffer that did leave count as sent */
  while (c->ends_done < c->nends && c->ends[c->ends_done] <= c->out_off) {
    c->ends_done++;
    c->st.sent++;
  }
  if (how == ACCT_EOF || how == ACCT_RESET)
    c->st.unanswered = c->st.sent - c->answered;
  if (c->fd >= 0)
    close(c->fd); /* nothing unread is left unless it ended badly */
  c->fd = -1;
  (void)a;
}

/* Fills the empty output buffer with as many new frames as the window and
 * the buffer allow. */
static void fill(accounting *a, conn *c) {
  c->out_len = c->out_off = 0;
  c->nends = c->ends_done = 0;
  while (!a->stopping && (a->cfg.msgs == 0 || c->gen < a->cfg.msgs) &&
         c->gen - c->answered < a->cfg.window && c->nends < MAX_BATCH) {
    uint32_t size = size_of(a, c->uid, c->gen);
    uint8_t *f = c->out + c->out_len;
    uint8_t meta[META];
    if (c->out_len + HDR + size > OUT_CAP)
      break;
    f[0] = (uint8_t)c->gen;
    f[1] = (uint8_t)(c->gen >> 8);
    put32(f + 2, size);
    meta_of(a, c->uid, c->gen, size, meta);
    memcpy(f + HDR, meta, size < META ? size : META);
    if (size > META)
      memcpy(f + HDR + META, body_of(a, c->uid, c->gen), size - META);
    c->out_len += HDR + size;
    c->ends[c->nends++] = c->out_len;
    c->st.bytes_out += size;
    c->gen++;
  }
}

static void do_write(accounting *a, conn *c) {
  for (;;) {
    ssize_t n;
    if (c->out_off == c->out_len) {
      c->st.sent += c->nends - c->ends_done;
      c->nends = c->ends_done = 0;
      fill(a, c);
      if (c->out_len == 0)
        return;
    }
    n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      conn_end(a, c, ACCT_RESET);
      return;
    }
    c->out_off += (size_t)n;
  }
}

static void do_read(accounting *a, conn *c) {
  size_t off = 0;
  ssize_t n;

  do
    n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return;
  if (n <= 0) {
    conn_end(a, c, n == 0 ? ACCT_EOF : ACCT_RESET);
    return;
  }
  c->in_len += (size_t)n;
  while (c->in_len - off >= HDR) {
    const uint8_t *f = c->in + off;
    uint32_t size = get32(f + 2);
    if (size > MAX_MSG) { /* no echo of ours is that big */
      c->st.corrupted++;
      conn_end(a, c, ACCT_FAILED);
      return;
    }
    if (c->in_len - off < HDR + size)
      break;
    check_frame(a, c, (uint16_t)(f[0] | f[1] << 8), f + HDR, size);
    off += HDR + size;
  }
  memmove(c->in, c->in + off, c->in_len - off);
  c->in_len -= off;
}

/* Every message sent is answered and no more will be sent. */
static bool finished(const accounting *a, const conn *c) {
  bool no_more = a->stopping || (a->cfg.msgs > 0 && c->gen >= a->cfg.msgs);

  return no_more && c->out_off == c->out_len && c->answered == c->gen;
}

static int conn_connect(accounting *a, conn *c) {
  struct sockaddr_in sa;
  int one = 1;

  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(a->cfg.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -1;
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    int err = errno;
    close(c->fd);
    c->fd = -1;
    errno = err;
    return -1;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->uid = a->next_uid++;
  return 0;
}

static int conn_poll(accounting *a, conn *c) {
  struct epoll_event ev;

  ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0u);
  ev.data.ptr = c;
  if (!c->polled) {
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0 ||
        epoll_ctl(a->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
      return -1;
    c->polled = true;
    return 0;
  }
  return epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void add_stats(acct_stats *t, const acct_stats *s) {
  t->sent += s->sent;
  t->received += s->received;
  t->ok += s->ok;
  t->lost += s->lost;
  t->unanswered += s->unanswered;
  t->corrupted += s->corrupted;
  t->duplicated += s->duplicated;
  t->reordered += s->reordered;
  t->conns_done += s->conns_done;
  t->conns_eof += s->conns_eof;
  t->conns_reset += s->conns_reset;
  t->conns_failed += s->conns_failed;
  t->bytes_out += s->bytes_out;
  t->bytes_in += s->bytes_in;
}

/* Soak mode: a finished connection's counters go to the retired totals and
 * a new connection (new uid, seqs from 0) takes its place. */
static void replace(accounting *a, conn *c) {
  acct_stats s;

  acct_conn_stats(a, (int)(c - a->c), &s);
  add_stats(&a->retired, &s);
  memset(&c->st, 0, sizeof(c->st));
  c->end = ACCT_RUNNING;
  c->polled = c->want_out = false;
  c->gen = c->answered = 0;
  c->hi = -1;
  if (c->seen != NULL)
    memset(c->seen, 0, (size_t)c->seen_bits / 8);
  c->out_len = c->out_off = c->in_len = 0;
  c->nends = c->ends_done = 0;
  if (conn_connect(a, c) != 0 || conn_poll(a, c) != 0)
    conn_end(a, c, ACCT_FAILED);
}

/* After I/O on c: finish it, or keep writing and ask for EPOLLOUT only when
 * the socket refused bytes. */
static void settle(accounting *a, conn *c) {
  bool want;

  if (c->end == ACCT_RUNNING)
    do_write(a, c);
  if (c->end == ACCT_RUNNING && finished(a, c))
    conn_end(a, c, ACCT_DONE);
  if (c->end == ACCT_DONE && a->cfg.soak_ms > 0 && !a->stopping &&
      now_ms() < a->soak_end) {
    replace(a, c);
    if (c->end == ACCT_RUNNING)
      do_write(a, c);
  }
  if (c->end != ACCT_RUNNING)
    return;
  want = c->out_off < c->out_len;
  if (want != c->want_out) {
    c->want_out = want;
    if (conn_poll(a, c) != 0)
      conn_end(a, c, ACCT_FAILED);
  }
}

/* ---- public ---- */

accounting *acct_new(const acct_cfg *cfg) {
  accounting *a;
  uint64_t x;
  size_t i;
  int k;

  if (cfg->conns <= 0 || cfg->msgs < 0 || cfg->window < 0 || cfg->port == 0)
    return NULL;
  a = calloc(1, sizeof(*a));
  if (a == NULL)
    return NULL;
  a->cfg = *cfg;
  if (a->cfg.window == 0)
    a->cfg.window = 16;
  a->epfd = -1;
  a->next_uid = 1;
  a->c = calloc((size_t)cfg->conns, sizeof(*a->c));
  a->pool = malloc(POOL_SIZE + MAX_MSG);
  if (a->c == NULL || a->pool == NULL)
    goto failed;
  for (i = 0, x = cfg->seed; i < POOL_SIZE + MAX_MSG; i += 8) {
    x = mix(x);
    memcpy(a->pool + i, &x, 8);
  }
  for (k = 0; k < cfg->conns; k++) {
    a->c[k].fd = -1;
    a->c[k].hi = -1;
    a->c[k].out = malloc(OUT_CAP);
    a->c[k].in = malloc(IN_CAP);
    if (a->c[k].out == NULL || a->c[k].in == NULL)
      goto failed;
  }
  a->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (a->epfd < 0)
    goto failed;
  return a;

failed:
  acct_free(a);
  return NULL;
}

int acct_open(accounting *a) {
  int i;

  for (i = 0; i < a->cfg.conns; i++)
    if (conn_connect(a, &a->c[i]) != 0) {
      a->c[i].end = ACCT_FAILED;
      return -1;
    }
  return 0;
}

int acct_fd(const accounting *a, int i) {
  return a->c[i].fd;
}

int acct_run(accounting *a, int ms) {
  uint64_t deadline = ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)ms;
  struct epoll_event ev[256];
  int i, running;

  if (!a->started) {
    a->started = true;
    a->soak_end = now_ms() + (uint64_t)a->cfg.soak_ms;
    for (i = 0; i < a->cfg.conns; i++) {
      conn *c = &a->c[i];
      if (c->end != ACCT_RUNNING)
        continue;
      if (c->fd < 0 || conn_poll(a, c) != 0)
        conn_end(a, c, ACCT_FAILED);
      else
        settle(a, c);
    }
  }
  for (;;) {
    uint64_t now = now_ms();
    int n, wait;
    running = 0;
    for (i = 0; i < a->cfg.conns; i++)
      running += a->c[i].end == ACCT_RUNNING;
    if (running == 0 || now >= deadline)
      break;
    wait = deadline - now > 100 ? 100 : (int)(deadline - now);
    n = epoll_wait(a->epfd, ev, 256, wait);
    for (i = 0; i < n; i++) {
      conn *c = ev[i].data.ptr;
      if (c->end != ACCT_RUNNING)
        continue;
      if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        do_read(a, c);
      if (c->end == ACCT_RUNNING)
        settle(a, c);
    }
  }
  return running;
}

void acct_stop_sending(accounting *a) {
  int i;

  a->stopping = true;
  for (i = 0; i < a->cfg.conns; i++)
    if (a->c[i].end == ACCT_RUNNING && a->c[i].polled)
      settle(a, &a->c[i]);
}

int acct_end(const accounting *a, int i) {
  return a->c[i].end;
}

void acct_conn_stats(const accounting *a, int i, acct_stats *out) {
  const conn *c = &a->c[i];

  *out = c->st;
  if (c->end == ACCT_RUNNING || c->end == ACCT_DONE)
    out->lost = c->st.sent + (c->nends - c->ends_done) - c->answered;
  if (c->end == ACCT_RUNNING) /* still open: everything generated counts */
    out->sent += c->nends - c->ends_done;
  out->conns_done = c->end == ACCT_DONE;
  out->conns_eof = c->end == ACCT_EOF;
  out->conns_reset = c->end == ACCT_RESET;
  out->conns_failed = c->end == ACCT_FAILED;
}

void acct_totals(const accounting *a, acct_stats *out) {
  acct_stats s;
  int i;

  *out = a->retired;
  for (i = 0; i < a->cfg.conns; i++) {
    acct_conn_stats(a, i, &s);
    add_stats(out, &s);
  }
}

void acct_format(const acct_stats *s, char *buf, unsigned len) {
  snprintf(buf, len,
           "sent %ld received %ld ok %ld lost %ld unanswered %ld corrupted "
           "%ld duplicated %ld reordered %ld; connections done %ld eof %ld "
           "reset %ld failed %ld; payload out %.1f MiB in %.1f MiB",
           s->sent, s->received, s->ok, s->lost, s->unanswered, s->corrupted,
           s->duplicated, s->reordered, s->conns_done, s->conns_eof,
           s->conns_reset, s->conns_failed, (double)s->bytes_out / 1048576.0,
           (double)s->bytes_in / 1048576.0);
}

void acct_free(accounting *a) {
  int i;

  if (a == NULL)
    return;
  for (i = 0; a->c != NULL && i < a->cfg.conns; i++) {
    if (a->c[i].fd >= 0)
      close(a->c[i].fd);
    free(a->c[i].out);
    free(a->c[i].in);
    free(a->c[i].seen);
  }
  if (a->epfd >= 0)
    close(a->epfd);
  free(a->c);
  free(a->pool);
  free(a);
}
