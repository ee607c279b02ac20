/* The stream layer (runtime/stream) alone: one stream over the plain TCP
 * transport on a loopback connection, driven by the test's own loop; the
 * other end is a blocking socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "stream.h"

typedef struct fixture {
  uv_loop_t loop;
  netfw__stream_ctx ctx;
  netfw__stream s;
  int peer; /* the other end, blocking */
  int frames, lost, lost_status, closed, established;
  uint8_t got[64 * 1024];
  size_t got_len; /* payload bytes of the frames taken, back to back */
  int try_writes; /* counted by the wrapped transport */
  int writes;
} fixture;

static fixture *fx; /* one stream at a time */

static void ev_established(netfw__stream *s) {
  fx->established++;
  assert_int_equal(netfw__stream_read_start(s), 0);
}

static void ev_readable(netfw__stream *s) {
  netfw_frame f;

  while (netfw__stream_next(s, &f) == 1) {
    memcpy(fx->got + fx->got_len, f.payload, f.size);
    fx->got_len += f.size;
    fx->frames++;
  }
}

static void ev_lost(netfw__stream *s, int status) {
  (void)s;
  fx->lost++;
  fx->lost_status = status;
}

static void ev_closed(netfw__stream *s) {
  (void)s;
  fx->closed++;
}

static const netfw__stream_events events = {ev_established, ev_readable,
                                            ev_lost, NULL, ev_closed};

/* The TCP transport's operations, with the writes counted. */
static netfw__transport_ops counted;
static const netfw__transport_ops *tcp_ops;

static int counted_try_write(netfw__transport *t, const uv_buf_t *b,
                             unsigned n) {
  fx->try_writes++;
  return tcp_ops->try_write(t, b, n);
}

static int counted_write(netfw__transport *t, uv_write_t *req,
                         const uv_buf_t *b, unsigned n) {
  fx->writes++;
  return tcp_ops->write(t, req, b, n);
}

/* A connected loopback pair: *a for the stream, *b for the test. */
static void tcp_pair(int *a, int *b) {
  struct sockaddr_in sin;
  socklen_t len = sizeof(sin);
  int l = socket(AF_INET, SOCK_STREAM, 0);

  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
  assert_int_equal(listen(l, 1), 0);
  assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
  *b = socket(AF_INET, SOCK_STREAM, 0);
  assert_int_equal(connect(*b, (struct sockaddr *)&sin, sizeof(sin)), 0);
  *a = accept(l, NULL, NULL);
  assert_true(*a >= 0);
  close(l);
}

static int setup(void **state) {
  int fd;

  fx = calloc(1, sizeof(*fx));
  assert_non_null(fx);
  assert_int_equal(uv_loop_init(&fx->loop), 0);
  netfw__stream_ctx_init(&fx->ctx, &fx->loop, &events, 2);
  assert_int_equal(netfw__stream_init(&fx->s, &fx->ctx, 1 << 20), 0);
  tcp_pair(&fd, &fx->peer);
  assert_int_equal(netfw__stream_open(&fx->s, fd), 0);
  tcp_ops = fx->s.t->ops;
  counted = *tcp_ops;
  counted.try_write = counted_try_write;
  counted.write = counted_write;
  fx->s.t->ops = &counted;
  netfw__stream_start(&fx->s);
  assert_int_equal(fx->established, 1);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  netfw__stream_close(&fx->s, false);
  uv_run(&fx->loop, UV_RUN_DEFAULT);
  assert_int_equal(fx->closed, 1);
  assert_int_equal(uv_loop_close(&fx->loop), 0);
  netfw__stream_ctx_free(&fx->ctx);
  assert_int_equal(fx->ctx.mem, 0);
  close(fx->peer);
  free(fx);
  return 0;
}

/* Runs the loop until cond holds (at most a few thousand iterations). */
#define RUN_UNTIL(cond)                                                        \
  do {                                                                         \
    int i_;                                                                    \
    for (i_ = 0; i_ < 5000 && !(cond); i_++) {                                 \
      uv_run(&fx->loop, UV_RUN_NOWAIT);                                        \
      netfw__stream_ctx_flush(&fx->ctx);                                       \
      if (!(cond))                                                             \
        usleep(200);                                                           \
    }                                                                          \
    assert_true(cond);                                                         \
  } while (0)

static void send_all(int fd, const void *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    assert_true(w > 0);
    p = (const uint8_t *)p + w;
    n -= (size_t)w;
  }
}

static size_t read_some(int fd, uint8_t *buf, size_t cap) {
  ssize_t r = read(fd, buf, cap);
  assert_true(r >= 0);
  return (size_t)r;
}

/* Three frames, the byte stream cut at every position. */
static void test_stream_frames_split_at_every_byte(void **state) {
  uint8_t wire[64];
  size_t len = 0, cut;
  const char *payloads[3] = {"hello", "", "world!"};
  int i;

  (void)state;
  for (i = 0; i < 3; i++) {
    size_t n = strlen(payloads[i]);
    netfw__frame_hdr_pack(wire + len, (uint16_t)i, (uint32_t)n);
    memcpy(wire + len + NETFW_FRAME_HDR_SIZE, payloads[i], n);
    len += NETFW_FRAME_HDR_SIZE + n;
  }
  for (cut = 0; cut <= len; cut++) {
    int before = fx->frames;
    size_t got = fx->got_len;
    send_all(fx->peer, wire, cut);
    if (cut > 0)
      RUN_UNTIL(fx->s.in.end > 0 || fx->frames > before);
    send_all(fx->peer, wire + cut, len - cut);
    RUN_UNTIL(fx->frames == before + 3);
    assert_memory_equal(fx->got + got, "helloworld!", 11);
    assert_int_equal(netfw__framebuf_pending(&fx->s.in), 0);
    assert_null(fx->s.in.base); /* nothing pending: the buffer went back */
  }
}

/* Frames queued during one iteration leave in one write. */
static void test_stream_coalesces_into_one_write(void **state) {
  uint8_t buf[4096];
  size_t got = 0;
  bool broken;
  int i;

  (void)state;
  for (i = 0; i < 100; i++)
    assert_int_equal(
        netfw__stream_send(&fx->s, 7, (const uint8_t *)"abcd", 4, &broken), 0);
  assert_int_equal(fx->try_writes, 0); /* nothing written yet */
  assert_int_equal(fx->s.out_len, 100 * 10);
  netfw__stream_ctx_flush(&fx->ctx);
  assert_int_equal(fx->try_writes, 1);
  assert_int_equal(fx->writes, 0);
  while (got < 1000)
    got += read_some(fx->peer, buf + got, sizeof(buf) - got);
  assert_int_equal(got, 1000);
  assert_int_equal(buf[0], 7);
  assert_int_equal(buf[2], 4);
  assert_memory_equal(buf + 996, "abcd", 4);
}

/* A large frame with nothing in flight goes out directly (no copy). */
static void test_stream_large_frame_direct(void **state) {
  static uint8_t payload[100 * 1000], back[100 * 1000 + 6];
  size_t got = 0;
  bool broken;

  (void)state;
  memset(payload, 'x', sizeof(payload));
  assert_int_equal(
      netfw__stream_send(&fx->s, 1, payload, sizeof(payload), &broken), 0);
  assert_int_equal(fx->try_writes, 1);
  while (got < sizeof(back)) {
    got += read_some(fx->peer, back + got, sizeof(back) - got);
    RUN_UNTIL(true);
  }
  assert_memory_equal(back + 6, payload, sizeof(payload));
}

/* FIN: queued output, then EOF at the peer; what the peer sends meanwhile
 * is discarded; the peer's EOF closes the stream, and that is no loss. */
static void test_stream_fin_and_drain(void **state) {
  uint8_t buf[64], junk[16] = {0};
  size_t got = 0, n;

  (void)state;
  assert_int_equal(netfw__stream_put(&fx->s, "\x01\x00\x02\x00\x00\x00hi", 8),
                   0);
  netfw__stream_fin(&fx->s, true);
  RUN_UNTIL(fx->s.flags & NETFW__S_WR_SHUT);
  while ((n = read_some(fx->peer, buf + got, sizeof(buf) - got)) > 0)
    got += n; /* until EOF */
  assert_int_equal(got, 8);
  send_all(fx->peer, junk, sizeof(junk));
  RUN_UNTIL(true);
  assert_int_equal(fx->frames, 0);
  assert_int_equal(fx->closed, 0); /* draining until the peer's EOF */
  shutdown(fx->peer, SHUT_WR);
  RUN_UNTIL(fx->closed == 1);
  assert_int_equal(fx->lost, 0);
}

/* The peer's EOF and a reset are told apart. */
static void test_stream_eof_vs_reset(void **state) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};

  (void)state;
  shutdown(fx->peer, SHUT_WR);
  RUN_UNTIL(fx->closed == 1);
  assert_int_equal(fx->lost, 1);
  assert_int_equal(fx->lost_status, UV_EOF);
  teardown(state);
  setup(state);
  setsockopt(fx->peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fx->peer);
  fx->peer = -1;
  RUN_UNTIL(fx->closed == 1);
  assert_int_equal(fx->lost, 1);
  assert_true(fx->lost_status < 0 && fx->lost_status != UV_EOF);
}

/* A half-closed peer still gets what was queued for it (linger). */
static void test_stream_linger_after_eof(void **state) {
  uint8_t buf[16];
  size_t got = 0, n;

  (void)state;
  assert_int_equal(netfw__stream_put(&fx->s, "\x01\x00\x00\x00\x00\x00", 6), 0);
  shutdown(fx->peer, SHUT_WR);
  RUN_UNTIL(fx->closed == 1);
  assert_int_equal(fx->lost_status, UV_EOF);
  while ((n = read_some(fx->peer, buf + got, sizeof(buf) - got)) > 0)
    got += n;
  assert_int_equal(got, 6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stream_frames_split_at_every_byte,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_coalesces_into_one_write,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_large_frame_direct, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream_fin_and_drain, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream_eof_vs_reset, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream_linger_after_eof, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
