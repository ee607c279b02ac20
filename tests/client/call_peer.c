/* The fake call server: see call_peer.h. Its socket goes through wire.h,
 * so that it speaks TLS in a _tls variant (tls_kit.h). */
#include "call_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

enum { IO_TIMEOUT_MS = 30000 };

static void die(const char *what) {
  fprintf(stderr, "call_peer: %s: %s\n", what, strerror(errno));
  abort();
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
    (void)wire_send(fd, M_LINE, "push", 4);
    p->pushes++;
  }
  (void)wire_send(fd, reply, buf, size); /* fails only if the client left */
  (*answered)++;
}

/* The peer thread: accept, then read and answer frames until EOF. */
static void *peer_main(void *arg) {
  call_peer *p = arg;
  size_t answered = 0;
  uint8_t *buf;
  uint32_t size;
  uint16_t id;
  int fd = wire_accept(p->listen_fd, IO_TIMEOUT_MS);

  if (fd < 0)
    die("accept");
  if (p->unsolicited)
    (void)wire_send(fd, M_GETRESP, "u", 1);
  if (p->mode == CP_NOREAD)
    wait_release(p);
  while (wire_recv(fd, &id, &buf, &size, IO_TIMEOUT_MS) == 1) {
    p->frames++;
    if (p->mode != CP_CLOSE && p->mode != CP_NOREAD)
      answer(p, fd, id, buf, size, &answered);
    free(buf);
    if (p->mode == CP_CLOSE)
      break;
  }
  wire_close(fd);
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
