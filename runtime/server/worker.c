/* A worker process: its own libuv loop hosting the worker modules (the
 * acceptor, the flush phases, the deadline sweep, the SIGTERM handler; later
 * the bus and the metrics), graceful stop on SIGTERM.
 *
 * Modules. Every part that lives on the worker's loop is a netfw__module:
 * init() once the loop exists (before the app's create(), so the app can
 * use netfw_worker_loop()), stop() when a graceful stop begins, close()
 * once every connection is gone (then the loop runs out of handles and the
 * worker exits). The table below is the only list of them. */
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

/* Closes the inherited sockets marked close-on-exec, except the listening
 * one: the caller's connections are not for the worker (it would keep them
 * open behind their owner's back, and their peers would never see them
 * close), as if the worker had been exec'ed. Only sockets: libuv recreates
 * its own signal pipe in the child at fork time, and closing every
 * close-on-exec descriptor killed that pipe and then the worker, in any
 * program that had used libuv before starting a server. Descriptors the
 * caller left inheritable stay open, and so do those netfw itself made for
 * its workers (netfw__server_keep_fd: a bus socketpair, say). */
static bool kept(const netfw__worker_args *a, int fd) {
  int i;

  for (i = 0; i < a->nkeep; i++)
    if (a->keep_fds[i] == fd)
      return true;
  return false;
}

static void close_inherited(const netfw__worker_args *a) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name), fl;
    struct stat st;
    if (fd <= 2 || fd == dirfd(d) || fd == a->listen_fd || fd == a->ready_fd ||
        fd == a->bus_fd || kept(a, fd))
      continue;
    fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC) && fstat(fd, &st) == 0 &&
        S_ISSOCK(st.st_mode))
      close(fd);
  }
  closedir(d);
}

/* The first steps after fork: die with the parent, and signals as a worker
 * wants them. SIGTERM and the retire signal stay blocked until the loop
 * handles them (their default action would kill a worker still starting). */
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
  sigaddset(&set, NETFW__SIG_RETIRE);
  sigprocmask(SIG_SETMASK, &set, NULL);
  close_inherited(a);
}

static netfw__worker *worker_of(const void *field_handle, size_t offset) {
  return (netfw__worker *)(void *)((char *)(uintptr_t)field_handle - offset);
}

#define WORKER_OF(h, field) worker_of((h), offsetof(netfw__worker, field))

static const netfw__module signal_module, flush_module, sweep_module;

/* The worker's modules, in init order (stop and close run in this order
 * too). The acceptor comes last: nothing is accepted before the rest is
 * up, and nothing is accepted before the loop first runs anyway. */
static const netfw__module *const modules[] = {
    &netfw__stats_module, &signal_module,       &flush_module,
    &sweep_module,        &netfw__calls_module, &netfw__bus_module,
    &netfw__tls_module,   &netfw__accept_module};
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

/* The worker this process runs (NULL in any other process). */
static netfw__worker *current;

void netfw__close_handle(uv_handle_t *h) {
  if (h->type != UV_UNKNOWN_HANDLE && !uv_is_closing(h))
    uv_close(h, NULL);
}

/* Once stopping and every connection is gone, closing the modules' handles
 * lets uv_run() return. */
static void maybe_finish(netfw__worker *w) {
  size_t i;

  if (!w->stopping || w->nconns > 0 || w->finished)
    return;
  w->finished = true;
  for (i = 0; i < NMODULES; i++)
    if (modules[i]->close != NULL)
      modules[i]->close(w);
}

static void worker_stop(netfw__worker *w) {
  size_t i;

  if (w->stopping)
    return;
  w->stopping = true;
  uv_timer_stop(&w->retire_end);
  for (i = 0; i < NMODULES; i++)
    if (modules[i]->stop != NULL)
      modules[i]->stop(w);
  netfw__conn_shutdown_all(w);
  maybe_finish(w);
}

/* ---- the worker's own modules: signals, flush phases, deadline sweep ---- */

static void on_sigterm(uv_signal_t *h, int signum) {
  (void)signum;
  worker_stop(WORKER_OF(h, sigterm));
}

static void on_retire_end(uv_timer_t *t) {
  netfw__worker *w = WORKER_OF(t, retire_end);

  if (w->nconns > 0)
    netfw_log(NETFW_LOG_INFO,
              "worker %d (retired): %d connection%s still open after %d ms; "
              "shutting down",
              w->slot, w->nconns, w->nconns == 1 ? "" : "s",
              w->cfg->drain_timeout_ms);
  worker_stop(w);
}

/* A reload retired this worker: it stops accepting now (the new
 * generation already accepts on the same socket), serves its open
 * connections until they end or drain_timeout_ms passes (0: not at all),
 * then stops as on SIGTERM. */
static void worker_retire(netfw__worker *w) {
  if (w->stopping || w->retiring)
    return;
  w->retiring = true;
  netfw__ctr_set(&w->ctr->ready, 0); /* it no longer serves the slot */
  netfw__accept_module.stop(w);
  netfw_log(NETFW_LOG_INFO, "worker %d retired: %d open connection%s", w->slot,
            w->nconns, w->nconns == 1 ? "" : "s");
  if (w->nconns == 0 || w->cfg->drain_timeout_ms == 0)
    worker_stop(w);
  else
    uv_timer_start(&w->retire_end, on_retire_end,
                   (uint64_t)w->cfg->drain_timeout_ms, 0);
}

static void on_sigretire(uv_signal_t *h, int signum) {
  (void)signum;
  worker_retire(WORKER_OF(h, sigretire));
}

static int signal_init(netfw__worker *w) {
  int err = uv_signal_init(&w->loop, &w->sigterm);

  if (err == 0)
    err = uv_signal_start(&w->sigterm, on_sigterm, SIGTERM);
  if (err == 0)
    err = uv_signal_init(&w->loop, &w->sigretire);
  if (err == 0)
    err = uv_signal_start(&w->sigretire, on_sigretire, NETFW__SIG_RETIRE);
  if (err == 0)
    err = uv_timer_init(&w->loop, &w->retire_end);
  return err;
}

/* Closing the handles gives SIGTERM its default action back, and the worker
 * is not gone yet (destroy, the loop's last callbacks): block it first, so
 * that a second SIGTERM (the parent's stop after its own crash-loop stop,
 * say) stays pending instead of killing a worker that is ending cleanly. */
static void signal_close(netfw__worker *w) {
  sigset_t term;

  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigaddset(&term, NETFW__SIG_RETIRE);
  sigprocmask(SIG_BLOCK, &term, NULL);
  netfw__close_handle((uv_handle_t *)&w->sigterm);
  netfw__close_handle((uv_handle_t *)&w->sigretire);
  netfw__close_handle((uv_handle_t *)&w->retire_end);
}

static const netfw__module signal_module = {
    .name = "signal", .init = signal_init, .close = signal_close};

static void on_prepare(uv_prepare_t *h) {
  netfw__worker *w = WORKER_OF(h, prepare);

  if (w->resume != NULL) /* connections read again after max_pending */
    netfw__calls_resume_all(w);
  netfw__conn_flush_all(w);
  if (w->accepting)
    atomic_store(&netfw__worker_load(w)->polling, 1);
}

static void on_check(uv_check_t *h) {
  netfw__worker *w = WORKER_OF(h, check);

  netfw__slot_load *l = netfw__worker_load(w);

  atomic_store(&l->polling, 0);
  if (w->accepting)
    atomic_store(&l->beat, netfw__now_ms());
  netfw__conn_flush_all(w);
}

/* Output is written once per loop iteration: after the I/O callbacks
 * (check) and before the loop blocks (prepare). The prepare phase also
 * hands on the frames of connections whose reading paused at max_pending
 * and that have room again: it runs after the timers of every iteration,
 * outside any app callback, before the loop decides how long to block. */
static int flush_init(netfw__worker *w) {
  uv_prepare_init(&w->loop, &w->prepare);
  uv_check_init(&w->loop, &w->check);
  uv_prepare_start(&w->prepare, on_prepare);
  uv_check_start(&w->check, on_check);
  uv_unref((uv_handle_t *)&w->prepare);
  uv_unref((uv_handle_t *)&w->check);
  return 0;
}

static void flush_close(netfw__worker *w) {
  netfw__close_handle((uv_handle_t *)&w->prepare);
  netfw__close_handle((uv_handle_t *)&w->check);
}

static const netfw__module flush_module = {
    .name = "flush", .init = flush_init, .close = flush_close};

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
  if (cfg->protocol != NULL && cfg->reply_timeout_ms > 0 &&
      (uint64_t)cfg->reply_timeout_ms / 4 < p)
    p = (uint64_t)cfg->reply_timeout_ms / 4;
  return p < 10 ? 10 : p;
}

void netfw__worker_sweep_update(netfw__worker *w) {
  bool needed =
      ((w->cfg->idle_timeout_ms > 0 || w->cfg->frame_timeout_ms > 0) &&
       w->nconns > 0) ||
      w->ndraining > 0 ||
      ((w->cfg->reply_timeout_ms > 0 || w->stopping) &&
       w->calls_pending > 0);
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

static int sweep_init(netfw__worker *w) {
  return uv_timer_init(&w->loop, &w->sweep);
}

static void sweep_close(netfw__worker *w) {
  netfw__close_handle((uv_handle_t *)&w->sweep);
}

static const netfw__module sweep_module = {
    .name = "sweep", .init = sweep_init, .close = sweep_close};

netfw__slot_load *netfw__worker_load(netfw__worker *w) {
  netfw__slot_load *l = &w->load[w->slot];

  return atomic_load(&l->gen) == w->gen ? l : w->spare;
}

void netfw__worker_conn_gone(netfw__worker *w) {
  w->nconns--;
  atomic_store(&netfw__worker_load(w)->conns, w->nconns);
  if (w->retiring && w->nconns == 0)
    worker_stop(w); /* every connection of the retired worker ended */
  maybe_finish(w);
  netfw__worker_sweep_update(w);
}

/* Sets up the loop and runs every module's init. Returns 0 or a libuv
 * error naming the module in *failed. */
static int worker_setup(netfw__worker *w, const netfw__worker_args *a,
                        const char **failed) {
  size_t i;
  int err;

  w->cfg = a->cfg;
  w->load = a->load;
  w->slot = a->slot;
  w->nslots = a->nslots;
  w->listen_fd = a->listen_fd;
  w->reuseport = a->reuseport;
  w->bus_fd = a->bus_fd;
  w->tls = a->tls;
  w->gen = a->gen;
  w->proxy = a->proxy;
  w->metrics = a->metrics;
  w->ctr = a->ctr;
  *failed = "loop";
  netfw__conn_setup(w);
  err = uv_loop_init(&w->loop);
  if (err != 0)
    return err;
  for (i = 0; i < NMODULES; i++) {
    *failed = modules[i]->name;
    if ((err = modules[i]->init(w)) != 0)
      return err;
  }
  return 0;
}

/* A zeroed worker with its spare load record, or NULL. */
static netfw__worker *worker_alloc(void) {
  netfw__worker *w = calloc(1, sizeof(*w));

  if (w == NULL)
    return NULL;
  w->spare = aligned_alloc(NETFW__CACHE_LINE, sizeof(*w->spare));
  if (w->spare == NULL) {
    free(w);
    return NULL;
  }
  memset(w->spare, 0, sizeof(*w->spare));
  return w;
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
  const char *failed;
  sigset_t none;
  int err;

  child_prepare(a);
  w = worker_alloc();
  if (w == NULL) {
    netfw_log(NETFW_LOG_ERROR, "worker: out of memory");
    _exit(2);
  }
  current = w;
  err = worker_setup(w, a, &failed);
  if (err != 0) {
    netfw_log(NETFW_LOG_ERROR, "worker setup failed (%s): %s", failed,
              uv_strerror(err));
    _exit(2);
  }
  w->app = app->create != NULL ? app->create(a->cfg->context) : NULL;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL); /* a pending SIGTERM lands now */
  tell_ready(a);
  netfw__ctr_set(&w->ctr->ready, 1); /* what /healthz reports */
  netfw_log(NETFW_LOG_INFO, "worker started (slot %d)", w->slot);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  if (app->destroy != NULL) {
    app->destroy(w->app);
    uv_run(&w->loop, UV_RUN_DEFAULT); /* what destroy closed: an aclient */
  }
  uv_loop_close(&w->loop);
  netfw__stream_ctx_free(&w->sctx);
  free(w->spare);
  free(w);
  current = NULL;
  netfw_log(NETFW_LOG_INFO, "worker stopped");
  fflush(stdout);
  _exit(0);
}

netfw__worker *netfw__worker_self(void) {
  return current;
}

uv_loop_t *netfw_worker_loop(void) {
  return current != NULL ? &current->loop : NULL;
}
