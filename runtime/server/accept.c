/* The acceptor: a worker module that takes new connections from the
 * listening socket.
 *
 * Accept balance. libuv's own uv_listen() accepts in a loop until the
 * backlog is empty, and every worker sleeping on a shared socket is woken
 * for each new connection, so whichever worker runs first takes almost
 * everything. Here a worker watches the socket with a uv_poll_t and accepts
 * one connection per wakeup; before accepting it looks at the load the
 * other workers publish in shared memory and, when one of them is sleeping
 * in poll (so it was woken too) with at least two connections fewer, it
 * steps aside for a couple of milliseconds and lets that worker take it.
 * With cfg.reuseport every worker has its own socket and the kernel spreads
 * connections by a hash of the addresses instead. docs/server.md compares
 * the two. */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log_internal.h"
#include "netfw/log.h"
#include "server_internal.h"

/* How long a busy worker steps aside for a less loaded one. */
#define BALANCE_PAUSE_MS 2
/* A worker awake this recently is taken to be able to accept soon. */
#define RESPONSIVE_MS 50
/* How long accepting pauses after running out of descriptors. */
#define NOFD_PAUSE_MS 100
/* Connections accepted per wakeup when the socket is this worker's own. */
#define REUSEPORT_BATCH 16

static netfw__worker *worker_of(const void *field_handle, size_t offset) {
  return (netfw__worker *)(void *)((char *)(uintptr_t)field_handle - offset);
}

#define WORKER_OF(h, field) worker_of((h), offsetof(netfw__worker, field))

static void on_accept(uv_poll_t *h, int status, int events);

static void on_accept_resume(uv_timer_t *t) {
  netfw__worker *w = WORKER_OF(t, accept_pause);

  if (!w->accepting)
    return;
  w->force_accept = true;
  uv_poll_start(&w->accept_poll, UV_READABLE, on_accept);
}

static void pause_for(netfw__worker *w, uint64_t ms) {
  uv_poll_stop(&w->accept_poll);
  uv_timer_start(&w->accept_pause, on_accept_resume, ms, 0);
}

/* True when another worker that is responsive holds at least two
 * connections fewer than this one. Responsive: waiting in poll (then the
 * same connection woke it too) or awake within RESPONSIVE_MS; a worker stuck
 * in a long callback stops counting, so nobody waits for it. */
static bool should_step_aside(netfw__worker *w) {
  uint64_t now;
  int i, mine;

  if (w->reuseport || w->force_accept) {
    w->force_accept = false;
    return false;
  }
  mine = w->nconns;
  if (mine < 2)
    return false;
  now = netfw__now_ms();
  for (i = 0; i < w->nslots; i++) {
    netfw__slot_load *l = &w->load[i];
    if (i == w->slot || atomic_load(&l->conns) + 2 > mine)
      continue;
    if (atomic_load(&l->polling) ||
        (int64_t)(now - atomic_load(&l->beat)) < RESPONSIVE_MS)
      return true;
  }
  return false;
}

static void log_refused(int fd, const char *why, int limit) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  char host[64] = "?", serv[16] = "?", peer[96];

  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
                sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(peer, sizeof(peer), "%s:%s", host, serv);
  netfw__log_about(NETFW_LOG_WARN, peer, "connection from %s refused: %s (%d)",
                   peer, why, limit);
}

static void on_accept(uv_poll_t *h, int status, int events) {
  netfw__worker *w = WORKER_OF(h, accept_poll);
  int i, batch = w->reuseport ? REUSEPORT_BATCH : 1;

  (void)events;
  if (!w->accepting)
    return;
  if (status < 0) { /* libuv stopped the poll: try again later */
    netfw_log(NETFW_LOG_ERROR, "watching the listening socket: %s",
              uv_strerror(status));
    pause_for(w, NOFD_PAUSE_MS);
    return;
  }
  if (should_step_aside(w)) {
    pause_for(w, BALANCE_PAUSE_MS);
    return;
  }
  for (i = 0; i < batch && w->accepting; i++) {
    int fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        netfw_log(NETFW_LOG_ERROR, "accept: %s; pausing for %d ms",
                  strerror(errno), NOFD_PAUSE_MS);
        pause_for(w, NOFD_PAUSE_MS);
      }
      return; /* EAGAIN (another worker took it), ECONNABORTED, ... */
    }
    if (w->cfg->max_connections > 0 && w->nconns >= w->cfg->max_connections) {
      log_refused(fd, "max_connections reached", w->cfg->max_connections);
      netfw__ctr_add(&w->ctr->accepted, 1);
      netfw__ctr_add(&w->ctr->refused[NETFW_REFUSE_MAX_CONNECTIONS], 1);
      close(fd);
      continue;
    }
    netfw__conn_accept(w, fd);
  }
}

static int accept_init(netfw__worker *w) {
  int err;

  uv_timer_init(&w->loop, &w->accept_pause);
  err = uv_poll_init(&w->loop, &w->accept_poll, w->listen_fd);
  if (err == 0)
    err = uv_poll_start(&w->accept_poll, UV_READABLE, on_accept);
  w->accepting = err == 0;
  return err;
}

/* Stops accepting: the worker's copy of the listening socket is closed
 * (the parent and the other workers keep theirs). */
static void accept_stop(netfw__worker *w) {
  w->accepting = false;
  atomic_store(&netfw__worker_load(w)->polling, 0);
  netfw__close_handle((uv_handle_t *)&w->accept_poll);
  uv_timer_stop(&w->accept_pause);
  if (w->listen_fd >= 0)
    close(w->listen_fd);
  w->listen_fd = -1;
}

static void accept_close(netfw__worker *w) {
  netfw__close_handle((uv_handle_t *)&w->accept_poll);
  netfw__close_handle((uv_handle_t *)&w->accept_pause);
}

const netfw__module netfw__accept_module = {
    .name = "accept",
    .init = accept_init,
    .stop = accept_stop,
    .close = accept_close,
};
