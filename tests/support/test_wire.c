/* The raw-socket test kit itself (wire.c, tls_kit.c), both ends of it on
 * loopback: a peer thread accepts with wire_accept and plays a script. Run
 * plaintext and as test_wire_tls, where it shows what the other tests rely
 * on: exact bytes through TLS, EOF only on close_notify, a truncation read
 * as a reset, a server closing during the handshake read as EOF, read
 * timeouts kept. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rng.h"
#include "tls_kit.h"
#include "wire.h"

#define WAIT_MS 10000

typedef struct script {
  int lfd;
  uint16_t port;
  void (*play)(struct script *, int fd);
  pthread_t thread;
  ssize_t result; /* what the script saw, for the test to check */
} script;

/* The peer thread: accepts one connection and plays the script on it. */
static void *script_main(void *arg) {
  script *s = arg;
  int fd = wire_accept(s->lfd, WAIT_MS);

  if (fd >= 0)
    s->play(s, fd);
  return NULL;
}

/* Listens on 127.0.0.1:0 and runs play on the connection it accepts. */
static void script_start(script *s, void (*play)(script *, int)) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof(a);

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  s->play = play;
  s->result = 0;
  assert_true(s->lfd >= 0);
  assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(s->lfd, 4), 0);
  assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
  s->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(&s->thread, NULL, script_main, s), 0);
}

/* Waits for the script to end and closes the listener. */
static void script_join(script *s) {
  pthread_join(s->thread, NULL);
  close(s->lfd);
}

/* Writes back every byte until EOF; result: the bytes. */
static void play_echo(script *s, int fd) {
  uint8_t buf[65536];
  ssize_t n;

  while ((n = wire_read_some(fd, buf, sizeof(buf), WAIT_MS)) > 0) {
    s->result += n;
    if (wire_send_all(fd, buf, (size_t)n) != 0)
      break;
  }
  if (n == 0) /* the client's EOF: answer it, then close */
    (void)wire_send(fd, 9, "bye", 3);
  wire_close(fd);
}

/* Frames of every size around the TLS record size come back exactly; after
 * our half close the peer's answer still arrives, then its EOF. */
static void test_wire_exact_bytes_and_half_close(void **state) {
  static const uint32_t sizes[] = {0, 1, 5, 16383, 16384, 16385, 1u << 20};
  script s;
  test_rng r;
  size_t total = 0;
  int fd;

  test_rng_seed(&r, 5);
  script_start(&s, play_echo);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  assert_int_equal(tls_kit_has(fd), tls_kit_dir() != NULL);
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint8_t *p = malloc(sizes[i] + 1), *got = NULL;
    uint16_t id = 0;
    uint32_t n = 0;
    assert_non_null(p);
    test_rng_fill(&r, p, sizes[i]);
    assert_int_equal(wire_send(fd, (uint16_t)i, p, sizes[i]), 0);
    assert_int_equal(wire_recv(fd, &id, &got, &n, WAIT_MS), 1);
    assert_int_equal(id, i);
    assert_int_equal(n, sizes[i]);
    if (n > 0)
      assert_memory_equal(got, p, n);
    total += 6 + sizes[i];
    free(got);
    free(p);
  }
  assert_int_equal(wire_shutdown_wr(fd), 0); /* the peer still answers */
  {
    size_t rest = 0;
    assert_int_equal(wire_wait_eof(fd, WAIT_MS, &rest), 0);
    assert_int_equal(rest, 6 + 3);
  }
  wire_close(fd);
  script_join(&s);
  assert_int_equal(s.result, total);
}

/* Sends three frames, then closes (TLS: close_notify). */
static void play_three_then_close(script *s, int fd) {
  (void)s;
  (void)wire_send(fd, 1, "one", 3);
  (void)wire_send(fd, 2, "two", 3);
  (void)wire_send(fd, 3, "three", 5);
  wire_close(fd);
}

/* Every byte the peer sent, then EOF (and EOF again). */
static void test_wire_eof_after_the_last_byte(void **state) {
  script s;
  size_t got = 0;
  int fd;

  script_start(&s, play_three_then_close);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, &got), 0);
  assert_int_equal(got, 3 * 6 + 3 + 3 + 5);
  assert_int_equal(wire_read_some(fd, &got, 1, 0), 0); /* EOF stays */
  wire_close(fd);
  script_join(&s);
}

/* Reads one frame, then resets (SO_LINGER 0); result: wire_recv's code. */
static void play_read_then_reset(script *s, int fd) {
  uint16_t id;
  uint8_t *p = NULL;
  uint32_t n;

  s->result = wire_recv(fd, &id, &p, &n, WAIT_MS);
  free(p);
  wire_close_rst(fd);
}

/* A reset reads as one, over TLS too. */
static void test_wire_reset(void **state) {
  script s;
  int fd;

  script_start(&s, play_read_then_reset);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, 1, "x", 1), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 1);
  wire_close(fd);
  script_join(&s);
  assert_int_equal(s.result, 1);
}

/* Reads one frame, then closes the TCP connection without a close_notify
 * (plaintext: a plain close). */
static void play_read_then_truncate(script *s, int fd) {
  uint16_t id;
  uint8_t *p = NULL;
  uint32_t n;

  s->result = wire_recv(fd, &id, &p, &n, WAIT_MS);
  free(p);
  if (tls_kit_has(fd))
    tls_kit_drop(fd);
  else
    close(fd);
}

/* A TCP close: EOF in plaintext, a truncation (reset) over TLS. */
static void test_wire_truncation_is_not_an_eof(void **state) {
  script s;
  int fd;

  script_start(&s, play_read_then_truncate);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, 1, "x", 1), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL),
                   tls_kit_dir() != NULL ? 1 : 0);
  wire_close(fd);
  script_join(&s);
  assert_int_equal(s.result, 1);
}

/* Reads nothing; once the client's end has arrived, sends 64 KiB and
 * closes. */
static void play_send_unread_then_close(script *s, int fd) {
  static uint8_t chunk[64 * 1024];

  (void)s;
  usleep(200000); /* the client's half close is in our socket by now */
  (void)wire_send_all(fd, chunk, sizeof(chunk));
  wire_close(fd);
}

/* The client half-closes at once and the peer never reads it: the peer's
 * close is still an EOF after every byte (over TLS the unread close_notify
 * must not turn it into a reset). */
static void test_wire_close_after_unread_half_close(void **state) {
  script s;
  size_t got = 0;
  int fd;

  script_start(&s, play_send_unread_then_close);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  assert_int_equal(wire_shutdown_wr(fd), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, &got), 0);
  assert_int_equal(got, 64 * 1024);
  wire_close(fd);
  script_join(&s);
}

/* Leaves the client's frame unread and closes: a reset. */
static void play_close_with_unread_data(script *s, int fd) {
  (void)s;
  usleep(200000); /* the client's frame is in our socket by now */
  wire_close(fd);
}

/* Closing with application data unread resets, over TLS as in plaintext. */
static void test_wire_close_with_unread_data_resets(void **state) {
  script s;
  int fd;

  script_start(&s, play_close_with_unread_data);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  assert_int_equal(wire_send(fd, 1, "unread", 6), 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 1);
  wire_close(fd);
  script_join(&s);
}

/* Accepts one connection and closes it at once, reading nothing. */
static void *accept_and_close(void *arg) {
  int c = accept(*(int *)arg, NULL, NULL);

  if (c >= 0)
    close(c);
  return NULL;
}

/* A server that closes before any handshake (max_connections): the client
 * reads EOF (over TLS the connect still returns the socket). */
static void test_wire_closed_before_handshake_reads_eof(void **state) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof(a);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
  pthread_t t;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(lfd, 4), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
  assert_int_equal(pthread_create(&t, NULL, accept_and_close, &lfd), 0);
  fd = wire_connect(ntohs(a.sin_port));
  assert_true(fd >= 0);
  assert_int_equal(wire_wait_eof(fd, WAIT_MS, NULL), 0);
  wire_close(fd);
  pthread_join(t, NULL);
  close(lfd);
}

/* Nothing comes: a read gives up at its timeout, not before, not much
 * after; the connection still works afterwards. */
static void test_wire_read_timeout(void **state) {
  script s;
  uint16_t id = 0;
  uint8_t *p = NULL;
  uint32_t n = 0;
  uint64_t t0, took;
  int fd;

  script_start(&s, play_echo);
  fd = wire_connect(s.port);
  assert_true(fd >= 0);
  t0 = wire_now_ms();
  assert_int_equal(wire_recv(fd, &id, &p, &n, 200), -1);
  took = wire_now_ms() - t0;
  assert_true(took >= 200);
  assert_true(took < 1000);
  assert_int_equal(wire_send(fd, 4, "late", 4), 0);
  assert_int_equal(wire_recv(fd, &id, &p, &n, WAIT_MS), 1);
  assert_int_equal(n, 4);
  free(p);
  wire_close(fd);
  script_join(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wire_exact_bytes_and_half_close),
      cmocka_unit_test(test_wire_eof_after_the_last_byte),
      cmocka_unit_test(test_wire_reset),
      cmocka_unit_test(test_wire_truncation_is_not_an_eof),
      cmocka_unit_test(test_wire_close_after_unread_half_close),
      cmocka_unit_test(test_wire_close_with_unread_data_resets),
      cmocka_unit_test(test_wire_closed_before_handshake_reads_eof),
      cmocka_unit_test(test_wire_read_timeout),
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
