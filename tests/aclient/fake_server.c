/* The in-loop fake server (fake_server.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "fake_server.h"

struct fake_conn {
  uv_tcp_t tcp;
  fake_server *s;
  fake_conn *next;
  netfw_framebuf in;
  uint8_t *held; /* replies waiting for hold_first_ms */
  size_t held_len;
  bool holding;
  uv_timer_t hold;
  int closes; /* handles still to close */
};

typedef struct wreq {
  uv_write_t req;
  uint8_t *buf;
} wreq;

static void on_written(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;

  (void)status;
  free(w->buf);
  free(w);
}

static void write_bytes(fake_conn *c, const uint8_t *data, size_t len) {
  wreq *w = malloc(sizeof(*w));
  uv_buf_t b;

  assert_non_null(w);
  w->buf = malloc(len);
  assert_non_null(w->buf);
  memcpy(w->buf, data, len);
  b = uv_buf_init((char *)w->buf, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
    free(w->buf);
    free(w);
  }
}

/* Queues (or holds) one frame. */
static void put_frame(fake_conn *c, uint16_t id, const uint8_t *p, uint32_t n) {
  uint8_t *frame = malloc(NETFW_FRAME_HDR_SIZE + n);

  assert_non_null(frame);
  netfw__frame_hdr_pack(frame, id, n);
  if (n > 0)
    memcpy(frame + NETFW_FRAME_HDR_SIZE, p, n);
  if (c->holding) {
    c->held = realloc(c->held, c->held_len + NETFW_FRAME_HDR_SIZE + n);
    assert_non_null(c->held);
    memcpy(c->held + c->held_len, frame, NETFW_FRAME_HDR_SIZE + n);
    c->held_len += NETFW_FRAME_HDR_SIZE + n;
  } else
    write_bytes(c, frame, NETFW_FRAME_HDR_SIZE + n);
  free(frame);
}

static void on_hold_done(uv_timer_t *t) {
  fake_conn *c = t->data;

  c->holding = false;
  if (c->held_len > 0)
    write_bytes(c, c->held, c->held_len);
  free(c->held);
  c->held = NULL;
  c->held_len = 0;
}

/* Answers one request frame as the script says. */
static void answer(fake_conn *c, const netfw_frame *f) {
  fake_server *s = c->s;
  static const uint8_t line[] = "line";

  if (f->id != ID_GET && f->id != ID_LIST)
    return;
  s->requests++;
  if (s->silent)
    return;
  if (s->requests == 1 && s->hold_first_ms > 0) {
    c->holding = true;
    uv_timer_start(&c->hold, on_hold_done, (uint64_t)s->hold_first_ms, 0);
  }
  if (s->push_every > 0 && s->requests % s->push_every == 0) {
    put_frame(c, ID_LINE, line, 4);
    s->pushes++;
  }
  if (f->id == ID_LIST || s->wrong)
    put_frame(c, ID_LISTRESP, f->payload, f->size);
  else
    put_frame(c, ID_GETRESP, f->payload, f->size);
  s->replies++;
}

static void on_conn_closed(uv_handle_t *h) {
  fake_conn *c = h->data;

  if (--c->closes > 0)
    return;
  netfw__framebuf_free(&c->in);
  free(c->held);
  free(c);
}

static void conn_close(fake_conn *c, bool reset) {
  fake_server *s = c->s;
  fake_conn **pp;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  uv_os_fd_t fd;

  for (pp = &s->conns; *pp != NULL; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  s->open_conns--;
  if (reset && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  uv_close((uv_handle_t *)&c->hold, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  fake_conn *c = h->data;
  size_t avail = 0;
  uint8_t *p = netfw__framebuf_space(&c->in, &avail);

  (void)hint;
  *buf = uv_buf_init((char *)p, p != NULL ? (unsigned)avail : 0);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  fake_conn *c = st->data;
  netfw_frame f;

  (void)buf;
  if (nread < 0) {
    conn_close(c, false);
    return;
  }
  netfw__framebuf_commit(&c->in, (size_t)nread);
  while (netfw__framebuf_next(&c->in, &f) == 1)
    answer(c, &f);
  netfw__framebuf_trim(&c->in);
}

static void on_connection(uv_stream_t *l, int status) {
  fake_server *s = l->data;
  fake_conn *c;

  assert_int_equal(status, 0);
  c = calloc(1, sizeof(*c));
  assert_non_null(c);
  c->s = s;
  netfw__framebuf_init(&c->in, 1u << 20);
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->hold);
  c->tcp.data = c->hold.data = c;
  c->closes = 2;
  assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
  c->next = s->conns;
  s->conns = c;
  s->accepted++;
  s->open_conns++;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

void fake_start(fake_server *s, uv_loop_t *loop, uint16_t port) {
  struct sockaddr_in sa;
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  s->loop = loop;
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  uv_ip4_addr("127.0.0.1", port, &sa);
  assert_int_equal(uv_tcp_bind(&s->listener, (struct sockaddr *)&sa, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *)&s->listener, 64, on_connection),
                   0);
  uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
  s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  s->listening = true;
}

void fake_stop(fake_server *s) {
  if (s->listening)
    uv_close((uv_handle_t *)&s->listener, NULL);
  s->listening = false;
  while (s->conns != NULL)
    conn_close(s->conns, true);
}
