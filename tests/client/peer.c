/* The scripted peer: see peer.h. Its socket goes through wire.h, so that
 * it speaks TLS in a _tls variant (tls_kit.h). */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "wire.h"

#define PEER_IO_TIMEOUT_MS 60000

int64_t peer_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what) {
  fprintf(stderr, "peer: %s: %s\n", what, strerror(errno));
  abort();
}

static int listen_loopback(uint16_t *port) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    die("socket");
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
    die("bind");
  if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
    die("getsockname");
  *port = ntohs(a.sin_port);
  return fd;
}

uint16_t peer_closed_port(void) {
  uint16_t port;
  int fd = listen_loopback(&port);
  close(fd);
  return port;
}

static void write_all(int fd, const void *data, size_t len) {
  /* a failure means the client went away; the test's assertions tell */
  (void)wire_send_all(fd, data, len);
}

static void send_frame(int fd, uint16_t id, const char *text) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  netfw__frame_hdr_pack(hdr, id, (uint32_t)strlen(text));
  write_all(fd, hdr, sizeof(hdr));
  write_all(fd, text, strlen(text));
}

/* Reads what is there (waiting at most PEER_IO_TIMEOUT_MS). Returns the
 * count, 0 on EOF, -1 on error or timeout. */
static ssize_t read_some(int fd, void *buf, size_t len) {
  ssize_t n = wire_read_some(fd, buf, len, PEER_IO_TIMEOUT_MS);
  return n < 0 ? -1 : n;
}

/* Counts frames in the byte stream; in COUNT mode checks payload == seq. */
static void account(test_peer *p, netfw_framebuf *fb, const void *data,
                    size_t n) {
  netfw_frame f;
  p->bytes += n;
  if (netfw__framebuf_feed(fb, data, n) != 0)
    abort();
  while (netfw__framebuf_next(fb, &f) == 1) {
    uint32_t seq;
    if (p->mode == PEER_COUNT && f.size == 4) {
      memcpy(&seq, f.payload, 4);
      if (seq == (uint32_t)p->frames)
        p->in_order++;
    }
    p->frames++;
  }
}

static void serve_reads(test_peer *p, int fd) {
  enum { BUF = 256 * 1024 };
  uint8_t *buf = malloc(BUF);
  netfw_framebuf fb;
  ssize_t n;

  if (buf == NULL)
    abort();
  netfw__framebuf_init(&fb, 64u * 1024 * 1024);
  while ((n = read_some(fd, buf, BUF)) > 0) {
    account(p, &fb, buf, (size_t)n);
    if (p->mode == PEER_ECHO) {
      if (p->delay_ms > 0)
        usleep((useconds_t)p->delay_ms * 1000);
      write_all(fd, buf, (size_t)n);
    }
  }
  p->saw_eof = n == 0;
  netfw__framebuf_free(&fb);
  free(buf);
}

static void play_oversize(test_peer *p, int fd) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  static const uint8_t filler[64];

  send_frame(fd, 7, "ok");
  netfw__frame_hdr_pack(hdr, 8, p->oversize);
  write_all(fd, hdr, sizeof(hdr));
  write_all(fd, filler, sizeof(filler));
  serve_reads(p, fd);
}

#define FLOOD_PAYLOAD (64 * 1024)

static void play_flood(test_peer *p, int fd) {
  uint8_t *frame = calloc(1, NETFW_FRAME_HDR_SIZE + FLOOD_PAYLOAD);

  if (frame == NULL)
    abort();
  for (uint32_t i = 0; i < p->flood_frames; i++) {
    netfw__frame_hdr_pack(frame, (uint16_t)i, FLOOD_PAYLOAD);
    memcpy(frame + NETFW_FRAME_HDR_SIZE, &i, sizeof(i));
    write_all(fd, frame, NETFW_FRAME_HDR_SIZE + FLOOD_PAYLOAD);
    __atomic_store_n(&p->flood_sent, i + 1, __ATOMIC_RELAXED);
  }
  free(frame);
}

static void *peer_main(void *arg) {
  test_peer *p = arg;
  struct pollfd pfd = {.fd = p->release[0], .events = POLLIN};
  char c;
  int fd = wire_accept(p->listen_fd, PEER_IO_TIMEOUT_MS);

  if (fd < 0) /* nobody came, or (TLS) the handshake failed: printed */
    return NULL; /* the test fails on its own assertions */
  switch (p->mode) {
  case PEER_REJECT:
    break;
  case PEER_SEND3_CLOSE:
    send_frame(fd, 1, "one");
    send_frame(fd, 2, "two");
    send_frame(fd, 3, "three");
    break;
  case PEER_OVERSIZE:
    play_oversize(p, fd);
    break;
  case PEER_HOLD:
    serve_reads(p, fd);
    (void)poll(&pfd, 1, PEER_IO_TIMEOUT_MS);
    (void)!read(p->release[0], &c, 1);
    break;
  case PEER_FLOOD:
    play_flood(p, fd);
    break;
  case PEER_ECHO:
  case PEER_COUNT:
    serve_reads(p, fd);
    break;
  case PEER_RESET: /* after the first bytes: connect has surely returned */
    (void)read_some(fd, &c, 1);
    wire_close_rst(fd);
    return NULL;
  case PEER_RESET_NOW:
    wire_close_rst(fd);
    return NULL;
  }
  wire_close(fd);
  return NULL;
}

uint16_t peer_start(test_peer *p, peer_mode mode) {
  p->mode = mode;
  p->frames = p->in_order = 0;
  p->bytes = 0;
  p->saw_eof = 0;
  p->listen_fd = listen_loopback(&p->port);
  if (listen(p->listen_fd, 8) != 0)
    die("listen");
  if (pipe(p->release) != 0)
    die("pipe");
  if (pthread_create(&p->thread, NULL, peer_main, p) != 0)
    die("pthread_create");
  return p->port;
}

void peer_join(test_peer *p) {
  (void)!write(p->release[1], "x", 1);
  pthread_join(p->thread, NULL);
  close(p->release[0]);
  close(p->release[1]);
  close(p->listen_fd);
}
