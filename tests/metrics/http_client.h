/* A small blocking HTTP/1.1 client for the endpoint's tests: raw bytes
 * out, the response parsed back (status, headers in order, body), every
 * wait bounded. Loopback IPv4 only. */
#ifndef NETFW_TESTS_METRICS_HTTP_CLIENT_H
#define NETFW_TESTS_METRICS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 32

typedef struct http_resp {
  int status;            /* 0: no complete status line            */
  char status_line[128]; /* "HTTP/1.1 200 OK"                     */
  int nheaders;
  char name[HTTP_MAX_HEADERS][64];
  char value[HTTP_MAX_HEADERS][128];
  char *body; /* body_len bytes and a NUL (free it)    */
  size_t body_len;
  bool eof; /* the server closed after the response  */
} http_resp;

/* Connects to 127.0.0.1:port (blocking). Returns the socket or -1. */
int http_connect(uint16_t port);

/* Sends n bytes within timeout_ms (MSG_NOSIGNAL). Returns false when the
 * peer closed or reset first, or on timeout. */
bool http_send(int fd, const void *buf, size_t n, int timeout_ms);

/* Reads one response within timeout_ms (head: a HEAD's, no body). Returns
 * 0, -1 on timeout, -2 when the peer closed or reset before a complete
 * response. With close_wait, also waits for the server's close (r->eof). */
int http_read(int fd, bool head, bool close_wait, int timeout_ms, http_resp *r);

/* Connect, send req, read the response (5 s bounds). Returns as
 * http_read, or -3 when the connection or the send failed. */
int http_get(uint16_t port, const char *req, http_resp *r);

/* The value of header name (case-insensitive), or NULL. */
const char *http_header(const http_resp *r, const char *name);

/* Frees r->body. */
void http_resp_free(http_resp *r);

/* Milliseconds of a monotonic clock. */
int64_t http_now_ms(void);

#endif /* NETFW_TESTS_METRICS_HTTP_CLIENT_H */
