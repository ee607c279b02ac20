/* A small blocking HTTP/1.1 client for the endpoint's tests. */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RESPONSE (8u << 20)

int64_t http_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http_connect(uint16_t port) {
  struct sockaddr_in sa = {0};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Waits up to the deadline for events on fd. Returns false on timeout. */
static bool wait_fd(int fd, short events, int64_t deadline) {
  struct pollfd p = {.fd = fd, .events = events};
  int64_t left = deadline - http_now_ms();

  if (left < 0)
    left = 0;
  return poll(&p, 1, (int)left) > 0;
}

bool http_send(int fd, const void *buf, size_t n, int timeout_ms) {
  int64_t deadline = http_now_ms() + timeout_ms;
  const char *p = buf;

  while (n > 0) {
    ssize_t w;
    if (!wait_fd(fd, POLLOUT, deadline))
      return false;
    w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Parses the status line and headers of buf (hdr_len bytes, ending with
 * the blank line) into r; returns the Content-Length (0 when absent). */
static size_t parse_head(char *buf, size_t hdr_len, http_resp *r) {
  char *line = buf, *eol;
  size_t clen = 0;

  buf[hdr_len - 2] = '\0';
  eol = strstr(line, "\r\n");
  *eol = '\0';
  snprintf(r->status_line, sizeof(r->status_line), "%s", line);
  sscanf(line, "HTTP/1.%*d %d", &r->status);
  for (line = eol + 2; *line != '\0' && r->nheaders < HTTP_MAX_HEADERS;
       line = eol + 2) {
    char *colon;
    if ((eol = strstr(line, "\r\n")) == NULL)
      break;
    *eol = '\0';
    if ((colon = strchr(line, ':')) == NULL)
      break;
    *colon = '\0';
    snprintf(r->name[r->nheaders], sizeof(r->name[0]), "%s", line);
    snprintf(r->value[r->nheaders], sizeof(r->value[0]), "%s",
             colon[1] == ' ' ? colon + 2 : colon + 1);
    if (strcasecmp(line, "Content-Length") == 0)
      clen = strtoul(r->value[r->nheaders], NULL, 10);
    r->nheaders++;
  }
  return clen;
}

/* Waits for the server's close: EOF or reset, within the deadline. */
static bool wait_eof(int fd, int64_t deadline) {
  char c;

  while (wait_fd(fd, POLLIN, deadline)) {
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      return true;
  }
  return false;
}

/* Makes room for more bytes after len in *buf (cap bytes, doubled up to
 * MAX_RESPONSE; a NUL always fits). Returns the room, 0 when full. */
static size_t room(char **buf, size_t *cap, size_t len) {
  if (len + 1 >= *cap && *cap < MAX_RESPONSE) {
    char *bigger = realloc(*buf, *cap * 2);
    if (bigger == NULL)
      return 0;
    *buf = bigger;
    *cap *= 2;
  }
  return *cap - len - 1;
}

int http_read(int fd, bool head, bool close_wait, int timeout_ms,
              http_resp *r) {
  int64_t deadline = http_now_ms() + timeout_ms;
  size_t cap = 4096, len = 0, hdr = 0, clen = 0;
  char *buf = malloc(cap), *end;

  memset(r, 0, sizeof(*r));
  for (;;) {
    size_t free_bytes;
    ssize_t n;
    if (hdr > 0 && len >= hdr + clen)
      break;
    if (!wait_fd(fd, POLLIN, deadline)) {
      free(buf);
      return -1;
    }
    if ((free_bytes = room(&buf, &cap, len)) == 0) {
      free(buf);
      return -2;
    }
    n = recv(fd, buf + len, free_bytes, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0) {
      free(buf);
      return -2;
    }
    len += (size_t)n;
    buf[len] = '\0';
    if (hdr == 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
      hdr = (size_t)(end - buf) + 4;
      clen = parse_head(buf, hdr, r);
      if (head)
        clen = 0;
    }
  }
  r->body_len = len - hdr;
  r->body = malloc(r->body_len + 1);
  memcpy(r->body, buf + hdr, r->body_len);
  r->body[r->body_len] = '\0';
  free(buf);
  if (close_wait)
    r->eof = wait_eof(fd, deadline);
  return 0;
}

int http_get(uint16_t port, const char *req, http_resp *r) {
  int fd = http_connect(port), rc;

  memset(r, 0, sizeof(*r));
  if (fd < 0)
    return -3;
  if (!http_send(fd, req, strlen(req), 5000)) {
    close(fd);
    return -3;
  }
  rc = http_read(fd, strncmp(req, "HEAD ", 5) == 0, true, 5000, r);
  close(fd);
  return rc;
}

const char *http_header(const http_resp *r, const char *name) {
  for (int i = 0; i < r->nheaders; i++)
    if (strcasecmp(r->name[i], name) == 0)
      return r->value[i];
  return NULL;
}

void http_resp_free(http_resp *r) {
  free(r->body);
  r->body = NULL;
}
