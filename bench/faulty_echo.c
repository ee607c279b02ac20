/* faulty_echo: an echo server that breaks on purpose, to test that
 * netfw-loadgen notices. Serves one connection at a time with blocking I/O,
 * echoes frames correctly until --after N of them went back, then does its
 * --fault:
 *   none   keep echoing correctly
 *   flip   echo the next frame with its last byte flipped (the id's high
 *          byte when the payload is empty)
 *   drop   swallow the next frame, echo the rest
 *   swap   echo the next two frames in the wrong order
 *   dup    echo the next frame twice
 *   close  close the connection
 *   stall  read on but echo nothing more
 * Prints "listening on 127.0.0.1:PORT" like the other servers. Test-only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench_common.h"

#define MAX_FRAME (BENCH_HDR_SIZE + 16u * 1024 * 1024)

enum fault { F_NONE, F_FLIP, F_DROP, F_SWAP, F_CLOSE, F_STALL, F_DUP };

static int read_full(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads one frame into buf (MAX_FRAME bytes); returns its length or -1. */
static long read_frame(int fd, uint8_t *buf) {
  uint32_t size;

  if (read_full(fd, buf, BENCH_HDR_SIZE) < 0)
    return -1;
  size = bench_hdr_size(buf);
  if (size > MAX_FRAME - BENCH_HDR_SIZE)
    return -1;
  if (read_full(fd, buf + BENCH_HDR_SIZE, size) < 0)
    return -1;
  return (long)(BENCH_HDR_SIZE + size);
}

static void serve(int fd, enum fault fault, unsigned long after, uint8_t *a,
                  uint8_t *b) {
  unsigned long echoed = 0;
  int faulted = 0;

  for (;;) {
    long n = read_frame(fd, a), m;
    if (n < 0)
      return;
    if (faulted || echoed < after || fault == F_NONE) {
      if (fault == F_STALL && faulted)
        continue;
      if (write_full(fd, a, (size_t)n) < 0)
        return;
      echoed++;
      continue;
    }
    faulted = 1;
    switch (fault) {
    case F_FLIP:
      a[n > BENCH_HDR_SIZE ? n - 1 : 1] ^= 0x01;
      if (write_full(fd, a, (size_t)n) < 0)
        return;
      break;
    case F_DROP:
    case F_STALL:
      break;
    case F_SWAP:
      m = read_frame(fd, b);
      if (m < 0 || write_full(fd, b, (size_t)m) < 0 ||
          write_full(fd, a, (size_t)n) < 0)
        return;
      break;
    case F_DUP: { /* both copies in one write: they arrive together */
      struct iovec iov[2] = {{a, (size_t)n}, {a, (size_t)n}};
      if (writev(fd, iov, 2) != 2 * n)
        return;
      break;
    }
    case F_CLOSE:
    case F_NONE:
      return;
    }
  }
}

int main(int argc, char **argv) {
  static const char *names[] = {"none",  "flip",  "drop", "swap",
                                "close", "stall", "dup"};
  enum fault fault = F_NONE;
  unsigned long after = 0;
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  uint8_t *a, *b;
  int lfd, one = 1;

  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--fault") == 0) {
      size_t k;
      for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        if (strcmp(argv[i + 1], names[k]) == 0)
          break;
      if (k == sizeof(names) / sizeof(names[0])) {
        fprintf(stderr, "faulty_echo: unknown fault %s\n", argv[i + 1]);
        return 2;
      }
      fault = (enum fault)k;
    } else if (strcmp(argv[i], "--after") == 0) {
      if (bench_parse_ulong(argv[i + 1], 0, 1000000000, &after) < 0)
        return 2;
    } else {
      fprintf(stderr,
              "usage: faulty_echo [--fault none|flip|drop|swap|dup|close|"
              "stall] [--after N]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  a = malloc(MAX_FRAME);
  b = malloc(MAX_FRAME);
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (a == NULL || b == NULL || lfd < 0)
    return 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(lfd, 16) < 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &len) < 0) {
    perror("faulty_echo: listen");
    return 1;
  }
  printf("listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    serve(fd, fault, after, a, b);
    close(fd);
  }
}
