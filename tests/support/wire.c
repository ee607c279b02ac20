/* The blocking wire-format test client, over plaintext or TLS (tls_kit.c
 * does the TLS side of each call). */
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "tls_kit.h"

uint64_t wire_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int wire_connect_rcvbuf(uint16_t port, int rcvbuf) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

  if (fd < 0)
    return -1;
  if (rcvbuf > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
    goto failed;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    goto failed;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (tls_kit_dir() != NULL && tls_kit_connect(fd) != 0)
    goto failed;
  return fd;

failed:
  close(fd);
  return -1;
}

int wire_connect(uint16_t port) {
  return wire_connect_rcvbuf(port, 0);
}

int wire_accept(int lfd, int timeout_ms) {
  struct pollfd p = {lfd, POLLIN, 0};
  int fd;

  if (poll(&p, 1, timeout_ms) != 1)
    return -1;
  fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return -1;
  if (tls_kit_dir() != NULL && tls_kit_accept(fd, timeout_ms) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int wire_send_all(int fd, const void *buf, size_t len) {
  const uint8_t *p = buf;

  if (tls_kit_has(fd))
    return tls_kit_write(fd, buf, len);
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int wire_send_hdr(int fd, uint16_t id, uint32_t size) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];

  netfw__frame_hdr_pack(hdr, id, size);
  return wire_send_all(fd, hdr, sizeof(hdr));
}

int wire_send(int fd, uint16_t id, const void *payload, uint32_t size) {
  uint8_t small[NETFW_FRAME_HDR_SIZE + 256];

  if (size <= 256) { /* one segment for small frames */
    netfw__frame_hdr_pack(small, id, size);
    if (size > 0)
      memcpy(small + NETFW_FRAME_HDR_SIZE, payload, size);
    return wire_send_all(fd, small, NETFW_FRAME_HDR_SIZE + size);
  }
  if (wire_send_hdr(fd, id, size) != 0)
    return -1;
  return wire_send_all(fd, payload, size);
}

/* Reads what arrives by the deadline: the count, 0 on EOF, -1 on timeout,
 * -2 on a reset. */
static ssize_t read_some(int fd, void *buf, size_t len, uint64_t deadline) {
  if (tls_kit_has(fd))
    return tls_kit_read(fd, buf, len, deadline);
  for (;;) { /* polls once even when the deadline has passed */
    struct pollfd p = {fd, POLLIN, 0};
    uint64_t now = wire_now_ms();
    ssize_t n;
    int r = poll(&p, 1, now < deadline ? (int)(deadline - now) : 0);
    if (r == 0 && now >= deadline)
      return -1;
    if (r <= 0)
      continue;
    n = recv(fd, buf, len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    return n < 0 ? -2 : n;
  }
}

ssize_t wire_read_some(int fd, void *buf, size_t len, int timeout_ms) {
  return read_some(fd, buf, len, wire_now_ms() + (uint64_t)timeout_ms);
}

/* Reads exactly len bytes by the deadline: 1 done, 0 EOF at the first byte,
 * -1 timeout, -2 reset or EOF in the middle. */
static int recv_exact(int fd, uint8_t *buf, size_t len, uint64_t deadline) {
  size_t got = 0;

  while (got < len) {
    ssize_t n = read_some(fd, buf + got, len - got, deadline);
    if (n < 0)
      return (int)n;
    if (n == 0)
      return got == 0 ? 0 : -2;
    got += (size_t)n;
  }
  return 1;
}

int wire_recv(int fd, uint16_t *id, uint8_t **payload, uint32_t *size,
              int timeout_ms) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  uint8_t *buf = NULL;
  int r;

  *payload = NULL;
  r = recv_exact(fd, hdr, sizeof(hdr), deadline);
  if (r != 1)
    return r;
  netfw__frame_hdr_unpack(hdr, id, size);
  if (*size > 0) {
    buf = malloc(*size);
    if (buf == NULL)
      return -2;
    r = recv_exact(fd, buf, *size, deadline);
    if (r != 1) {
      free(buf);
      return r == 0 ? -2 : r;
    }
  }
  *payload = buf;
  return 1;
}

int wire_wait_eof(int fd, int timeout_ms, size_t *discarded) {
  uint64_t deadline = wire_now_ms() + (uint64_t)timeout_ms;
  size_t total = 0;
  uint8_t sink[16384];
  ssize_t n;

  while ((n = read_some(fd, sink, sizeof(sink), deadline)) > 0)
    total += (size_t)n;
  if (discarded != NULL)
    *discarded = total;
  return n == 0 ? 0 : n == -2 ? 1 : -1;
}

int wire_shutdown_wr(int fd) {
  if (tls_kit_has(fd))
    return tls_kit_shutdown_wr(fd);
  return shutdown(fd, SHUT_WR);
}

void wire_close(int fd) {
  if (tls_kit_has(fd))
    tls_kit_close(fd);
  else
    close(fd);
}

void wire_close_rst(int fd) {
  struct linger l = {1, 0};

  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  if (tls_kit_has(fd))
    tls_kit_drop(fd);
  else
    close(fd);
}
