/* A worker process: its own libuv loop, accepting on the listening socket,
 * graceful stop on SIGTERM.
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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netfw/error.h"
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

/* Closes the inherited sockets marked close-on-exec, except the listening
 * one: the caller's connections are not for the worker (it would keep them
 * open behind their owner's back, and their peers would never see them
 * close), as if the worker had been exec'ed. Only sockets: libuv recreates
 * its own signal pipe in the child at fork time, and closing every
 * close-on-exec descriptor killed that pipe and then the worker, in any
 * program that had used libuv before starting a server. Descriptors the
 * caller left inheritable stay open. */
static void close_inherited(const netfw__worker_args *a) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name), fl;
    struct stat st;
    if (fd <= 2 || fd == dirfd(d) || fd == a->listen_fd || fd == a->ready_fd)
      continue;
    fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC) && fstat(fd, &st) == 0 &&
        S_ISSOCK(st.st_mode))
      close(fd);
  }
  closedir(d);
}

/* The first steps after fork: die with the parent, and signals as a worker
 * wants them. SIGTERM stays blocked until the loop handles it. */
static void child_prepare(const netfw__worker_args *a) {
  sigset_t set;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != a->parent_pid)
    _exit(1);       /* the parent died before the line above took effect */
  __fpurge(stdout); /* the parent's unflushed output is the parent's */
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, SIG_IGN); /* Ctrl-C is for the parent; stop() stops us */
  signal(SIGTERM, SIG_DFL);
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_SETMASK, &set, NULL);
  close_inherited(a);
}

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
  mine = atomic_load(&w->load[w->slot].conns);
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
  char host[64] = "?", serv[16] = "?";

  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv,
                sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
  netfw_log(NETFW_LOG_WARN, "connection from %s:%s refused: %s (%d)", host,
            serv, why, limit);
}

static void on_accept(uv_poll_t *h, int status, int events) {
  netfw__worker *w = WORKER_OF(h, accept_poll);
  int i, batch = w->reuseport ? REUSEPORT_BATCH : 1;

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
      close(fd);
      continue;
    }
    netfw__conn_accept(w, fd);
  }
}

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Once stopping and every connection is gone, closing the worker's own
 * handles lets uv_run() return. */
static void maybe_finish(netfw__worker *w) {
  if (!w->stopping || w->nconns > 0)
    return;
  close_handle((uv_handle_t *)&w->accept_pause);
  close_handle((uv_handle_t *)&w->sweep);
  close_handle((uv_handle_t *)&w->sigterm);
  close_handle((uv_handle_t *)&w->prepare);
  close_handle((uv_handle_t *)&w->check);
}

static void worker_stop(netfw__worker *w) {
  if (w->stopping)
    return;
  w->stopping = true;
  w->accepting = false;
  atomic_store(&w->load[w->slot].polling, 0);
  close_handle((uv_handle_t *)&w->accept_poll);
  uv_timer_stop(&w->accept_pause);
  close(w->listen_fd); /* the parent and the other workers keep theirs */
  w->listen_fd = -1;
  netfw__conn_shutdown_all(w);
  maybe_finish(w);
}

static void on_sigterm(uv_signal_t *h, int signum) {
  worker_stop(WORKER_OF(h, sigterm));
}

static void on_prepare(uv_prepare_t *h) {
  netfw__worker *w = WORKER_OF(h, prepare);

  netfw__conn_flush_all(w);
  if (w->accepting)
    atomic_store(&w->load[w->slot].polling, 1);
}

static void on_check(uv_check_t *h) {
  netfw__worker *w = WORKER_OF(h, check);

  atomic_store(&w->load[w->slot].polling, 0);
  if (w->accepting)
    atomic_store(&w->load[w->slot].beat, netfw__now_ms());
  netfw__conn_flush_all(w);
}

static void on_sweep(uv_timer_t *t) {
  netfw__worker *w = WORKER_OF(t, sweep);

  netfw__conn_sweep(w);
  netfw__worker_sweep_update(w);
}

/* Sweep period: fine enough for the idle and drain bounds in use. */
static uint64_t sweep_period(const netfw_config *cfg) {
  uint64_t p = 100;

  if (cfg->idle_timeout_ms > 0 && (uint64_t)cfg->idle_timeout_ms / 4 < p)
    p = (uint64_t)cfg->idle_timeout_ms / 4;
  if (cfg->drain_timeout_ms > 0 && (uint64_t)cfg->drain_timeout_ms / 4 < p)
    p = (uint64_t)cfg->drain_timeout_ms / 4;
  if (cfg->frame_timeout_ms > 0 && (uint64_t)cfg->frame_timeout_ms / 4 < p)
    p = (uint64_t)cfg->frame_timeout_ms / 4;
  return p < 10 ? 10 : p;
}

void netfw__worker_sweep_update(netfw__worker *w) {
  bool needed =
      ((w->cfg->idle_timeout_ms > 0 || w->cfg->frame_timeout_ms > 0) &&
       w->nconns > 0) ||
      w->ndraining > 0;
  bool active = uv_is_active((uv_handle_t *)&w->sweep);

  if (w->stopping && w->nconns == 0)
    return; /* handles are closing */
  if (needed && !active) {
    uint64_t p = sweep_period(w->cfg);
    uv_timer_start(&w->sweep, on_sweep, p, p);
  } else if (!needed && active) {
    uv_timer_stop(&w->sweep);
  }
}

void netfw__worker_conn_gone(netfw__worker *w) {
  w->nconns--;
  atomic_fetch_sub(&w->load[w->slot].conns, 1);
  maybe_finish(w);
  netfw__worker_sweep_update(w);
}

/* Sets up the loop and its handles. Returns 0 or a libuv error. */
static int worker_setup(netfw__worker *w, const netfw__worker_args *a) {
  int err;

  w->cfg = a->cfg;
  w->load = a->load;
  w->slot = a->slot;
  w->nslots = a->nslots;
  w->listen_fd = a->listen_fd;
  w->reuseport = a->reuseport;
  netfw__conn_setup(w);
  err = uv_loop_init(&w->loop);
  if (err != 0)
    return err;
  uv_timer_init(&w->loop, &w->accept_pause);
  uv_timer_init(&w->loop, &w->sweep);
  uv_prepare_init(&w->loop, &w->prepare);
  uv_check_init(&w->loop, &w->check);
  uv_prepare_start(&w->prepare, on_prepare);
  uv_check_start(&w->check, on_check);
  uv_unref((uv_handle_t *)&w->prepare);
  uv_unref((uv_handle_t *)&w->check);
  err = uv_signal_init(&w->loop, &w->sigterm);
  if (err == 0)
    err = uv_signal_start(&w->sigterm, on_sigterm, SIGTERM);
  if (err == 0)
    err = uv_poll_init(&w->loop, &w->accept_poll, w->listen_fd);
  if (err == 0)
    err = uv_poll_start(&w->accept_poll, UV_READABLE, on_accept);
  w->accepting = err == 0;
  return err;
}

static void tell_ready(const netfw__worker_args *a) {
  ssize_t n;

  if (a->ready_fd < 0)
    return;
  do
    n = write(a->ready_fd, "R", 1);
  while (n < 0 && errno == EINTR);
  close(a->ready_fd);
}

void netfw__worker_main(const netfw__worker_args *a) {
  netfw__worker *w;
  const netfw_app *app = a->cfg->app;
  sigset_t none;
  int err;

  child_prepare(a);
  w = calloc(1, sizeof(*w));
  if (w == NULL) {
    netfw_log(NETFW_LOG_ERROR, "worker: out of memory");
    _exit(2);
  }
  w->app = app->create != NULL ? app->create(a->cfg->context) : NULL;
  err = worker_setup(w, a);
  if (err != 0) {
    netfw_log(NETFW_LOG_ERROR, "worker setup failed: %s", uv_strerror(err));
    _exit(2);
  }
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); /* a pending SIGTERM lands now */
  tell_ready(a);
  netfw_log(NETFW_LOG_INFO, "worker started (slot %d)", w->slot);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  if (app->destroy != NULL)
    app->destroy(w->app);
  uv_loop_close(&w->loop);
  netfw__stream_ctx_free(&w->sctx);
  free(w);
  netfw_log(NETFW_LOG_INFO, "worker stopped");
  fflush(stdout);
  _exit(0);
}
