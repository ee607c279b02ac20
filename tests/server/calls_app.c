/* The calls tests' app and protocol (calls_app.h). Runs in the worker. */
#include "calls_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <uv.h>

#include "wire.h"

/* ---- the protocol, as netfw-gen would describe it ---- */

/* ---- helpers ---- */

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

void calls_get_payload(uint8_t p[9], int mode, uint32_t tag, uint32_t arg) {
  p[0] = (uint8_t)mode;
  put_u32(p + 1, tag);
  put_u32(p + 5, arg);
}

/* A GetResp {tag} (or another id) in *m; release it after. */
static void reply_msg(netfw_msg *m, uint16_t id, uint32_t tag) {
  uint8_t p[4];

  put_u32(p, tag);
  netfw_msg_init(m, id);
  netfw_msg_append(m, p, 4);
}

static int send_tagged(netfw_conn *c, uint16_t id, uint32_t tag) {
  netfw_msg m;
  int rc;

  reply_msg(&m, id, tag);
  rc = netfw_conn_send(c, &m);
  netfw_msg_release(&m);
  return rc;
}

static int reply_tagged(netfw_reply r, uint16_t id, uint32_t tag) {
  netfw_msg m;
  int rc;

  reply_msg(&m, id, tag);
  rc = netfw_reply_send(r, &m);
  netfw_msg_release(&m);
  return rc;
}

static void set_rc(cboard *b, uint32_t tag, int i, int rc) {
  if (tag < CB_TAGS)
    atomic_store(&b->rc[tag][i], rc);
}

/* ---- deferred answers: one timer per request ---- */

typedef struct later {
  uv_timer_t t;
  cboard *b;
  netfw_reply r;
  uint32_t tag;
  int mode;
} later;

static void later_free(uv_handle_t *h) {
  free(h->data);
}

static void on_later(uv_timer_t *t) {
  later *l = t->data;
  cboard *b = l->b;

  if (l->tag < CB_TAGS)
    atomic_store(&b->answered_ms[l->tag], (long long)wire_now_ms());
  if (l->mode == M_WRONG) {
    set_rc(b, l->tag, 0, reply_tagged(l->r, ID_LISTRESP, l->tag));
    set_rc(b, l->tag, 1, netfw_reply_send(l->r, NULL));
    set_rc(b, l->tag, 2, reply_tagged(l->r, ID_GETRESP, l->tag));
    set_rc(b, l->tag, 3, reply_tagged(l->r, ID_GETRESP, l->tag));
    l->r.seq += 100;
    set_rc(b, l->tag, 4, reply_tagged(l->r, ID_GETRESP, l->tag));
    l->r.conn += 1000;
    set_rc(b, l->tag, 5, reply_tagged(l->r, ID_GETRESP, l->tag));
  } else {
    set_rc(b, l->tag, 1, reply_tagged(l->r, ID_GETRESP, l->tag));
  }
  uv_close((uv_handle_t *)t, later_free);
}

/* Defers the current request of c; answers it after ms. */
static void defer(cboard *b, netfw_conn *c, int mode, uint32_t tag,
                  uint32_t ms) {
  later *l = calloc(1, sizeof(*l));
  int rc;

  if (l == NULL)
    abort();
  rc = netfw_conn_defer(c, &l->r);
  set_rc(b, tag, 0, rc);
  if (rc != 0 || mode == M_HOLD) {
    free(l);
    return;
  }
  l->b = b;
  l->tag = tag;
  l->mode = mode;
  uv_timer_init(netfw_conn_loop(c), &l->t);
  l->t.data = l;
  uv_timer_start(&l->t, on_later, ms, 0);
}

/* ---- the handlers ---- */

static void stream_reply(cboard *b, netfw_conn *c, uint32_t tag) {
  uint8_t p[4];

  put_u32(p, tag);
  set_rc(b, tag, 0, netfw_conn_send_begin(c, ID_GETRESP, 4));
  set_rc(b, tag, 1, netfw_conn_send_more(c, p, 1));
  set_rc(b, tag, 2, netfw_conn_send_more(c, p + 1, 3));
}

static void big_reply(cboard *b, netfw_conn *c, uint32_t tag, uint32_t n) {
  netfw_msg m;
  uint8_t *p;

  netfw_msg_init(&m, ID_ACK);
  p = netfw_msg_append_space(&m, n);
  if (p != NULL)
    memset(p, 0xab, n);
  set_rc(b, tag, 0, netfw_conn_send(c, &m));
  netfw_msg_release(&m);
}

static void twice(cboard *b, netfw_conn *c, uint32_t tag) {
  netfw_reply r;

  set_rc(b, tag, 0, send_tagged(c, ID_GETRESP, tag));
  set_rc(b, tag, 1, send_tagged(c, ID_GETRESP, tag));
  set_rc(b, tag, 2, netfw_conn_defer(c, &r));
  set_rc(b, tag, 3, send_tagged(c, ID_ACK, tag));
}

static void defer_twice(cboard *b, netfw_conn *c, uint32_t tag) {
  netfw_reply r, r2;

  set_rc(b, tag, 0, netfw_conn_defer(c, &r));
  set_rc(b, tag, 1, netfw_conn_defer(c, &r2));
  set_rc(b, tag, 2, reply_tagged(r, ID_GETRESP, tag));
}

static void on_get(cboard *b, netfw_conn *c, const uint8_t *p) {
  int mode = p[0];
  uint32_t tag = get_u32(p + 1), arg = get_u32(p + 5);
  int n = atomic_fetch_add(&b->requests, 1);

  if (n < CB_TAGS)
    atomic_store(&b->order[n], (int)tag);
  if (tag < CB_TAGS)
    atomic_store(&b->handled_ms[tag], (long long)wire_now_ms());
  switch (mode) {
  case M_NOW:
    set_rc(b, tag, 0, send_tagged(c, ID_GETRESP, tag));
    break;
  case M_PUSH:
    set_rc(b, tag, 2, send_tagged(c, ID_LINE, tag));
    /* fall through */
  case M_DEFER:
  case M_WRONG:
  case M_HOLD:
    defer(b, c, mode, tag, arg);
    break;
  case M_TWICE:
    twice(b, c, tag);
    break;
  case M_STREAM:
    stream_reply(b, c, tag);
    break;
  case M_BIG:
    big_reply(b, c, tag, arg);
    break;
  case M_DEFER_TWICE:
    defer_twice(b, c, tag);
    break;
  case M_STRAY:
    set_rc(b, tag, 0, send_tagged(c, ID_LISTRESP, tag));
    set_rc(b, tag, 1, send_tagged(c, ID_GETRESP, tag));
    break;
  default: /* M_NONE */
    break;
  }
}

static void on_message(void *app, netfw_owned_msg *om) {
  cboard *b = app;
  netfw_msg *m = om->msg;

  if (netfw_msg_id(m) == ID_GET && netfw_msg_size(m) == 9)
    on_get(b, om->owner, netfw_msg_payload(m));
  else {
    if (netfw_msg_id(m) == ID_SAY) /* a reply from a one-way handler */
      set_rc(b, CB_SAY, 0, send_tagged(om->owner, ID_ACK, 0));
    atomic_fetch_add(&b->others, 1);
  }
}

static void on_closed(void *app, netfw_conn *c, netfw_close_reason why) {
  cboard *b = app;

  (void)c;
  if ((unsigned)why < NETFW_CLOSE_REASON_COUNT)
    atomic_fetch_add(&b->closed_by[why], 1);
  atomic_fetch_add(&b->closes, 1);
}

static void *create(void *context) {
  return context;
}

const netfw_app calls_app = {
    .create = create, .on_message = on_message, .on_client_closed = on_closed};

/* ---- the board ---- */

static void sink(netfw_log_level level, const char *line, void *arg) {
  cboard *b = arg;
  size_t n = strlen(line) + 1, at;

  (void)level;
  if (getenv("NETFW_TEST_VERBOSE") != NULL)
    fprintf(stderr, "%s\n", line);
  at = atomic_fetch_add(&b->log_len, n);
  if (at + n >= sizeof(b->log))
    return;
  memcpy(b->log + at, line, n - 1);
  b->log[at + n - 1] = '\n';
}

cboard *cboard_new(void) {
  cboard *b = mmap(NULL, sizeof(cboard), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int i, k;

  if (b == MAP_FAILED)
    return NULL;
  for (i = 0; i < CB_TAGS; i++)
    for (k = 0; k < 6; k++)
      atomic_store(&b->rc[i][k], CB_UNSET);
  netfw_log_set_sink(sink, b);
  return b;
}

void cboard_free(cboard *b) {
  netfw_log_set_sink(NULL, NULL);
  if (b != NULL)
    munmap(b, sizeof(cboard));
}

int cboard_log_has(cboard *b, const char *s1, const char *s2) {
  size_t len = atomic_load(&b->log_len);
  char *copy, *line, *save = NULL;
  int found = 0;

  if (len > sizeof(b->log))
    len = sizeof(b->log);
  if ((copy = malloc(len + 1)) == NULL)
    return 0;
  memcpy(copy, b->log, len);
  copy[len] = '\0';
  for (line = strtok_r(copy, "\n", &save); line != NULL && !found;
       line = strtok_r(NULL, "\n", &save))
    found = strstr(line, s1) != NULL && (s2 == NULL || strstr(line, s2));
  free(copy);
  return found;
}

int cboard_wait(atomic_int *v, int want, int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  int x;

  while ((x = atomic_load(v)) < want && wire_now_ms() < deadline) {
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return x;
}
