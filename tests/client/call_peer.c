/* The fake call server: see call_peer.h. */
#include "call_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"

static const uint16_t get_returns[] = {1, 4};
static const uint16_t list_returns[] = {3};
static const netfw_desc_message msgs[] = {
    {.id = M_GET, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Get"},
     .returns = get_returns, .nreturns = 2},
    {.id = M_GETRESP, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "GetResp"}},
    {.id = M_LIST, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "List"},
     .returns = list_returns, .nreturns = 1},
    {.id = M_LISTRESP, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "ListResp"}},
    {.id = M_ACK, .dir = NETFW_DESC_TO_CLIENT, .is_reply = true,
     .body = {.name = "Ack"}},
    {.id = M_LINE, .dir = NETFW_DESC_TO_CLIENT, .body = {.name = "Line"}},
    {.id = M_SAY, .dir = NETFW_DESC_TO_SERVER, .body = {.name = "Say"}},
};
const netfw_desc call_desc = {.abi = NETFW_DESC_ABI, .proto = "t",
                              .messages = msgs, .nmessages = 7};

enum { MAX_FRAME = 1 << 20, IO_TIMEOUT_S = 30 };

static void die(const char *what) {
  fprintf(stderr, "call_peer: %s: %s\n", what, strerror(errno));
  abort();
}

/* Reads exactly n bytes. Returns 1, or 0 at EOF/error. */
static int read_full(int fd, void *buf, size_t n) {
  size_t got = 0;

  while (got < n) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return 0;
    got += (size_t)r;
  }
  return 1;
}

/* Writes one frame in one sendmsg; a failure means the client went
 * away (the test's assertions tell). */
static void write_frame(int fd, uint16_t id, const void *payload,
                        uint32_t size) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)(uintptr_t)payload, size}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

  netfw__frame_hdr_pack(hdr, id, size);
  while (iov[1].iov_len > 0 || iov[0].iov_len > 0) {
    ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    for (int i = 0; i < 2; i++) {
      size_t take = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + take;
      iov[i].iov_len -= take;
      w -= (ssize_t)take;
    }
  }
}

/* Reads one frame into buf (MAX_FRAME). Returns 1, or 0 at EOF. */
static int read_frame(int fd, uint16_t *id, uint8_t *buf, uint32_t *size) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];

  if (!read_full(fd, hdr, sizeof(hdr)))
    return 0;
  netfw__frame_hdr_unpack(hdr, id, size);
  if (*size > MAX_FRAME)
    return 0;
  return read_full(fd, buf, *size);
}

/* Blocks until call_peer_release. */
static void wait_release(call_peer *p) {
  char b;

  while (read(p->release[0], &b, 1) < 0 && errno == EINTR)
    ;
}

/* Answers one request (id with payload) as the mode says. */
static void answer(call_peer *p, int fd, uint16_t id, const uint8_t *buf,
                   uint32_t size, size_t *answered) {
  uint16_t reply = id == M_GET ? M_GETRESP : id == M_LIST ? M_LISTRESP : 0;

  if (reply == 0)
    return;
  if (p->mode == CP_WRONG && id == M_GET)
    reply = M_LISTRESP;
  if (p->mode == CP_HOLD_FIRST && *answered == 0)
    wait_release(p);
  if (p->push_every > 0 && (*answered + 1) % (size_t)p->push_every == 0) {
    write_frame(fd, M_LINE, "push", 4);
    p->pushes++;
  }
  write_frame(fd, reply, buf, size);
  (*answered)++;
}

/* The peer thread: accept, then read and answer frames until EOF. */
static void *peer_main(void *arg) {
  call_peer *p = arg;
  struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
  uint8_t *buf = malloc(MAX_FRAME);
  size_t answered = 0;
  uint32_t size;
  uint16_t id;
  int fd = accept(p->listen_fd, NULL, NULL);

  if (fd < 0 || buf == NULL)
    die("accept");
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (p->unsolicited)
    write_frame(fd, M_GETRESP, "u", 1);
  if (p->mode == CP_NOREAD)
    wait_release(p);
  while (read_frame(fd, &id, buf, &size)) {
    p->frames++;
    if (p->mode == CP_CLOSE)
      break;
    if (p->mode != CP_NOREAD)
      answer(p, fd, id, buf, size, &answered);
  }
  close(fd);
  free(buf);
  return NULL;
}

uint16_t call_peer_start(call_peer *p, call_peer_mode mode) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int one = 1;

  p->mode = mode;
  p->frames = p->pushes = 0;
  p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p->listen_fd < 0 || pipe(p->release) != 0)
    die("socket");
  if (p->rcvbuf > 0) /* set before listen: the accepted socket inherits it */
    (void)setsockopt(p->listen_fd, SOL_SOCKET, SO_RCVBUF, &p->rcvbuf,
                     sizeof(p->rcvbuf));
  (void)setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons(p->port); /* 0: any free port */
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      getsockname(p->listen_fd, (struct sockaddr *)&a, &len) != 0 ||
      listen(p->listen_fd, 4) != 0)
    die("bind/listen");
  p->port = ntohs(a.sin_port);
  if (pthread_create(&p->thread, NULL, peer_main, p) != 0)
    die("pthread_create");
  return p->port;
}

void call_peer_release(call_peer *p) {
  if (write(p->release[1], "g", 1) != 1)
    die("release");
}

void call_peer_join(call_peer *p) {
  pthread_join(p->thread, NULL);
  close(p->listen_fd);
  close(p->release[0]);
  close(p->release[1]);
}
