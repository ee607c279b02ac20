/* The async client's dial: name lookup (uv_getaddrinfo on the loop's
 * thread pool), then a non-blocking TCP connect to each address in turn,
 * all inside connect_timeout_ms (one timer for the whole dial).
 *
 * The lookup request lives on the heap with a back pointer: a dial that
 * times out or a client that closes only detaches it, and its callback,
 * which libuv always runs, frees it (and the client may be gone by then).
 * A connecting socket is watched with a uv_poll_t; the socket is handed to
 * the stream (or closed) only from the poll's close callback, once libuv
 * no longer watches the fd. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aclient.h"
#include "netfw/error.h"

/* A name lookup in flight; a == NULL once detached. */
typedef struct netfw__agai {
  uv_getaddrinfo_t req;
  netfw_aclient *a;
} netfw__agai;

static void try_next(netfw_aclient *a);

/* The NETFW_E* code of a connect errno. */
static int connect_error(int err) {
  switch (err) {
  case ECONNREFUSED:
    return NETFW_ECONNREFUSED;
  case ETIMEDOUT:
    return NETFW_ETIMEDOUT;
  case EHOSTUNREACH:
  case ENETUNREACH:
    return NETFW_EHOSTUNREACH;
  case ENOMEM:
  case ENOBUFS:
    return NETFW_ENOMEM;
  default:
    return NETFW_ECONNRESET;
  }
}

/* Ends the dial: stops the timer, frees the addresses. */
static void dial_done(netfw_aclient *a) {
  a->dialing = false;
  uv_timer_stop(&a->dial_timer);
  if (a->ai != NULL)
    uv_freeaddrinfo(a->ai);
  a->ai = a->ai_next = NULL;
}

/* The dial failed with err: DOWN (unless closing), then the backoff. */
static void dial_failed(netfw_aclient *a, int err) {
  dial_done(a);
  if (a->closing) {
    netfw__aclient_maybe_finish(a);
    return;
  }
  netfw__aconn_dial_failed(a, err);
}

/* The poll is closed: the socket is the stream's now, or closed. */
static void on_poll_closed(uv_handle_t *h) {
  netfw_aclient *a = h->data;
  int fd = a->dial_fd;

  a->poll_open = false;
  a->dial_fd = -1;
  if (a->dial_err == 0 && !a->dial_timed_out && !a->closing) {
    dial_done(a);
    netfw__aconn_up(a, fd);
    return;
  }
  close(fd);
  if (a->closing || a->dial_timed_out) {
    dial_failed(a, NETFW_ETIMEDOUT);
    return;
  }
  try_next(a);
}

static void on_writable(uv_poll_t *p, int status, int events) {
  netfw_aclient *a = p->data;
  int err = 0;
  socklen_t len = sizeof(err);

  (void)events;
  /* libuv reports POLLERR as UV_EBADF: the socket knows the real error. */
  if (getsockopt(a->dial_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err == 0 && status < 0)
    err = -status;
  a->dial_err = err;
  uv_close((uv_handle_t *)&a->poll, on_poll_closed);
}

/* Starts connecting to one address. Returns 0 (the poll's close callback
 * goes on) or an errno (nothing left open). */
static int connect_one(netfw_aclient *a, const struct addrinfo *ai) {
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err;

  if (fd < 0)
    return errno;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
    err = errno;
    close(fd);
    return err;
  }
  if ((err = uv_poll_init_socket(a->loop, &a->poll, fd)) != 0) {
    close(fd);
    return -err;
  }
  a->poll.data = a;
  a->poll_open = true;
  a->dial_fd = fd;
  a->dial_err = 0;
  uv_poll_start(&a->poll, UV_WRITABLE, on_writable);
  return 0;
}

/* Tries the addresses left; with none, the dial failed with the last
 * attempt's error. */
static void try_next(netfw_aclient *a) {
  while (a->ai_next != NULL) {
    const struct addrinfo *ai = a->ai_next;
    a->ai_next = ai->ai_next;
    if ((a->dial_err = connect_one(a, ai)) == 0)
      return;
  }
  if (a->dial_err == ECONNREFUSED)
    netfw__aclient_set_error(a, "connection refused by %s:%u", a->host,
                             (unsigned)a->port);
  else
    netfw__aclient_set_error(a, "connect to %s:%u failed: %s", a->host,
                             (unsigned)a->port, strerror(a->dial_err));
  dial_failed(a, connect_error(a->dial_err));
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  netfw__agai *g = (netfw__agai *)(void *)req;
  netfw_aclient *a = g->a;

  free(g);
  if (a == NULL) { /* detached: timed out or closed meanwhile */
    uv_freeaddrinfo(res);
    return;
  }
  a->gai = NULL;
  if (status < 0) {
    netfw__aclient_set_error(a, "could not resolve %s: %s", a->host,
                             uv_strerror(status));
    dial_failed(a, NETFW_EADDRINFO);
    return;
  }
  a->ai = a->ai_next = res;
  a->dial_err = ECONNREFUSED; /* no address at all */
  try_next(a);
}

/* Detaches the lookup and stops the connect under way. */
static void stop_dial(netfw_aclient *a) {
  if (a->gai != NULL) {
    a->gai->a = NULL;
    (void)uv_cancel((uv_req_t *)&a->gai->req); /* its callback still runs */
    a->gai = NULL;
  }
  if (a->poll_open && !uv_is_closing((uv_handle_t *)&a->poll)) {
    a->dial_timed_out = true;
    uv_close((uv_handle_t *)&a->poll, on_poll_closed);
  }
}

static void on_dial_timeout(uv_timer_t *t) {
  netfw_aclient *a = t->data;
  bool waiting_poll;

  netfw__aclient_set_error(a, "connect to %s:%u timed out after %d ms", a->host,
                           (unsigned)a->port, a->cfg.connect_timeout_ms);
  stop_dial(a);
  waiting_poll = a->poll_open;
  if (!waiting_poll) /* else the poll's close callback ends it */
    dial_failed(a, NETFW_ETIMEDOUT);
  else
    a->dial_timed_out = true;
}

int netfw__adial_start(netfw_aclient *a) {
  struct addrinfo hints;
  char port[8];
  netfw__agai *g = calloc(1, sizeof(*g));
  int rc;

  if (g == NULL)
    return NETFW_ENOMEM;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  snprintf(port, sizeof(port), "%u", (unsigned)a->port);
  g->a = a;
  a->dial_timed_out = false;
  if ((rc = uv_getaddrinfo(a->loop, &g->req, on_resolved, a->host, port,
                           &hints)) != 0) {
    free(g);
    return NETFW_ENOMEM;
  }
  a->gai = g;
  a->dialing = true;
  a->dial_started = uv_now(a->loop);
  uv_timer_start(&a->dial_timer, on_dial_timeout,
                 (uint64_t)a->cfg.connect_timeout_ms, 0);
  return 0;
}

void netfw__adial_cancel(netfw_aclient *a) {
  uv_timer_stop(&a->dial_timer);
  stop_dial(a);
  if (!a->poll_open)
    dial_done(a);
}
