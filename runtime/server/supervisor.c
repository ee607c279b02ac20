/* The supervisor: a thread in the parent, running a small libuv loop of its
 * own, that forks the workers, waits until they listen, replaces those that
 * die and stops them on request.
 *
 * Its loop waits on the workers' pidfds (slots.c), on a timer for the few
 * things that take time (the stop deadline, a retry after a failed fork,
 * polling pids without a pidfd) and on the command channel (command.c),
 * through which the parent's other threads ask for a stop or a reload
 * (reload.c), and later stats. It waits only on netfw's own pids, never on "any child",
 * and installs no SIGCHLD handler. Every fork happens on this thread, so a
 * worker's PR_SET_PDEATHSIG (tied to the forking thread) fires only when the
 * supervisor itself is gone, which is after the workers are reaped or when
 * the whole parent dies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "bus.h"
#include "server_internal.h"

/* A worker that dies this soon after its fork counts towards a crash loop;
 * one that lived longer was healthy and starts the count again.
 * CRASH_LOOP_DEATHS such deaths in a row stop the server (stop_serving). */
#define CRASH_EARLY_MS 3000
#define CRASH_LOOP_DEATHS 5
/* How long the first workers get to start listening. */
#define START_TIMEOUT_MS 30000
/* How soon a failed fork is tried again. */
#define RETRY_MS 200

/* The signal's description ("Killed"); sigdescr_np is thread-safe where
 * strsignal may share a buffer. */
static const char *signal_text(int sig) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
  const char *d = sigdescr_np(sig);
  return d != NULL ? d : "unknown signal";
#else
  return strsignal(sig);
#endif
}

/* How a worker ended, for a log line: "was killed by signal 9 (Killed)",
 * "exited with status 3". */
static void describe(int status, char *buf, size_t len) {
  if (status == -1)
    snprintf(buf, len, "exited (status unknown)");
  else if (WIFSIGNALED(status))
    snprintf(buf, len, "was killed by signal %d (%s)%s", WTERMSIG(status),
             signal_text(WTERMSIG(status)),
             WCOREDUMP(status) ? ", core dumped" : "");
  else
    snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

/* ---- start: the first workers ---- */

/* Waits until every first worker has written its ready byte. A worker that
 * dies first closes its copy of the pipe: EOF before all bytes arrived means
 * start failed. Blocks the supervisor thread (its loop does not run yet;
 * start() is waiting for this answer anyway). */
static int wait_ready(netfw_server *s) {
  uint64_t deadline = netfw__now_ms() + START_TIMEOUT_MS;
  int ready = 0;

  while (ready < s->nworkers) {
    struct pollfd p = {s->ready[0], POLLIN, 0};
    uint64_t now = netfw__now_ms();
    char buf[64];
    ssize_t n;
    if (now >= deadline) {
      netfw_log(NETFW_LOG_ERROR, "workers did not start within %d ms",
                START_TIMEOUT_MS);
      return NETFW_ETIMEDOUT;
    }
    if (poll(&p, 1, (int)(deadline - now)) <= 0)
      continue;
    n = read(s->ready[0], buf, sizeof(buf));
    if (n > 0) {
      ready += (int)n;
    } else if (n == 0 || errno != EINTR) {
      netfw_log(NETFW_LOG_ERROR, "a worker exited before it was ready");
      errno = ECHILD;
      return NETFW_ESYS;
    }
  }
  return 0;
}

/* Forks every first worker and waits until all listen. On failure none is
 * left. */
static int start_workers(netfw_server *s) {
  int i, err = 0;

  for (i = 0; i < s->nworkers && err == 0; i++)
    err = netfw__proc_spawn(s, i, s->ready[1]);
  close(s->ready[1]);
  s->ready[1] = -1;
  if (err == 0)
    err = wait_ready(s);
  close(s->ready[0]);
  s->ready[0] = -1;
  if (err != 0) {
    int saved = errno;
    netfw__procs_kill(s, SIGKILL);
    netfw__procs_reap_blocking(s);
    errno = saved;
  }
  return err;
}

/* ---- deaths: respawn, crash loop ---- */

/* Counts a death that came lived_ms after the worker's fork: an early one
 * adds to the crash-loop count, a later one (a healthy worker) resets it.
 * Returns true when the count reaches CRASH_LOOP_DEATHS. */
static bool crash_loop(netfw_server *s, uint64_t lived_ms) {
  if (lived_ms >= CRASH_EARLY_MS) {
    s->sup.early_deaths = 0;
    return false;
  }
  return ++s->sup.early_deaths >= CRASH_LOOP_DEATHS;
}

/* A crash loop: no more respawns, and the server stops serving so that new
 * clients are refused instead of left hanging in the backlog. The parent
 * closes its listening socket(s) and the workers still alive get SIGTERM:
 * they close theirs first, then finish their connections, as at stop. The
 * starter learns it from netfw_server_state / netfw_server_wait. */
static void stop_serving(netfw_server *s) {
  s->sup.respawn_off = true;
  uv_timer_stop(&s->sup.retry);
  netfw__reload_abort(s, NETFW_ESTATE);
  netfw_log(NETFW_LOG_ERROR,
            "crash loop: workers keep crashing (%d deaths within %d s of "
            "their start); stopped serving",
            CRASH_LOOP_DEATHS, CRASH_EARLY_MS / 1000);
  netfw__close_listeners(s);
  netfw__procs_kill(s, SIGTERM);
  netfw__server_publish(s, NETFW_RUN_FAILED);
}

static void on_retry(uv_timer_t *t);

/* Forks a worker into every slot without one; a failed fork is tried again
 * RETRY_MS later. */
static void fill_slots(netfw_server *s) {
  int i;

  for (i = 0; i < s->nworkers; i++) {
    if (s->slots[i].cur != NULL || s->sup.respawn_off || s->sup.stop != NULL)
      continue;
    if (netfw__proc_spawn(s, i, -1) != 0) {
      if (!uv_is_active((uv_handle_t *)&s->sup.retry))
        uv_timer_start(&s->sup.retry, on_retry, RETRY_MS, 0);
      continue;
    }
    s->metrics->slots[i].restarts++;
    netfw_log(NETFW_LOG_INFO, "worker %d respawned (pid %ld)", i,
              (long)s->slots[i].cur->pid);
  }
}

static void on_retry(uv_timer_t *t) {
  fill_slots(t->data);
}

/* The current worker of slot i died while the server runs. */
static void current_died(netfw_server *s, const netfw__proc *p, int status) {
  char what[96];
  bool loop;

  describe(status, what, sizeof(what));
  if (s->sup.respawn_off) { /* one of those stop_serving sent SIGTERM */
    netfw_log(status == 0 ? NETFW_LOG_INFO : NETFW_LOG_WARN,
              "worker %d (pid %ld) %s", p->slot, (long)p->pid, what);
    return;
  }
  netfw__metrics_died(s->metrics, p->slot, status);
  loop = crash_loop(s, netfw__now_ms() - p->started_ms);
  netfw_log(NETFW_LOG_WARN, "worker %d (pid %ld) %s%s", p->slot, (long)p->pid,
            what, loop ? "" : "; respawning");
  if (loop)
    stop_serving(s);
}

static void finish_stop(netfw_server *s);

void netfw__supervisor_exited(netfw_server *s, netfw__proc *p, int status) {
  bool current;
  char what[96];

  netfw__reload_proc_ended(s, p); /* a reload's new worker: not current */
  current = netfw__slot_remove(&s->slots[p->slot], p);
  if (current)
    atomic_store(&s->load[p->slot].pid, 0);
  describe(status, what, sizeof(what));
  if (s->sup.stop != NULL) {
    if (status != 0)
      netfw_log(NETFW_LOG_WARN, "worker %d (pid %ld) %s while stopping",
                p->slot, (long)p->pid, what);
  } else if (!current) { /* an older generation finished draining */
    if (status != 0)
      netfw__metrics_died(s->metrics, p->slot, status);
    netfw_log(status == 0 ? NETFW_LOG_INFO : NETFW_LOG_WARN,
              "worker %d (pid %ld, generation %u) %s", p->slot, (long)p->pid,
              p->gen, what);
  } else {
    current_died(s, p, status);
  }
  netfw__proc_release(p);
  if (s->sup.stop != NULL)
    finish_stop(s);
  else
    fill_slots(s);
}

/* ---- stop ---- */

static void close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Once no worker is left: answers the stop, closes the channel and the
 * loop's own handles, which lets uv_run return. */
static void finish_stop(netfw_server *s) {
  if (netfw__procs_count(s) > 0)
    return;
  netfw__channel_answer(s, s->sup.stop, 0);
  netfw__channel_close(s);
  netfw__relay_close(s->sup.relay);
  s->sup.relay = NULL;
  close_handle((uv_handle_t *)&s->sup.wake);
  close_handle((uv_handle_t *)&s->sup.tick);
  close_handle((uv_handle_t *)&s->sup.retry);
  close_handle((uv_handle_t *)&s->sup.kill);
  close_handle((uv_handle_t *)&s->sup.watchdog);
  netfw__metrics_http_stop(s);
}

static void on_stop_deadline(uv_timer_t *t) {
  netfw__procs_kill(t->data, SIGKILL);
}

/* Stops every worker: SIGTERM (a graceful stop), then at timeout_ms SIGKILL
 * for what is left; the command is answered once all are reaped. The
 * parent's listening socket(s) close first, so that once the workers have
 * closed theirs (at once, on SIGTERM) a new connection is refused instead
 * of left in a backlog nobody accepts from. */
static void begin_stop(netfw_server *s, netfw__cmd *cmd) {
  s->sup.stop = cmd;
  uv_timer_stop(&s->sup.retry);
  netfw__reload_abort(s, NETFW_ESTATE);
  netfw__close_listeners(s);
  netfw__procs_kill(s, SIGTERM);
  if (cmd->timeout_ms >= 0)
    uv_timer_start(&s->sup.kill, on_stop_deadline, (uint64_t)cmd->timeout_ms,
                   0);
  finish_stop(s);
}

void netfw__supervisor_run(netfw_server *s, netfw__cmd *cmd) {
  if (uv_is_closing((uv_handle_t *)&s->sup.wake)) {
    netfw__channel_answer(s, cmd, NETFW_ESTATE); /* the loop is ending */
    return;
  }
  switch (cmd->kind) {
  case NETFW__CMD_STOP:
    if (s->sup.stop != NULL)
      netfw__channel_answer(s, cmd, NETFW_ESTATE); /* one at a time */
    else
      begin_stop(s, cmd);
    return;
  case NETFW__CMD_TLS_RELOAD:
    netfw__server_tls_swap(s, cmd->tls);
    netfw__channel_answer(s, cmd, 0);
    return;
  case NETFW__CMD_RELOAD:
    netfw__reload_begin(s, cmd);
    return;
  case NETFW__CMD_STATS:
    netfw__channel_answer(s, cmd, cmd->stats == NULL
                                      ? NETFW_EINVAL
                                      : netfw__metrics_snapshot(s, cmd->stats));
    return;
  default:
    netfw__channel_answer(s, cmd, NETFW_ENOSYS);
    return;
  }
}

/* ---- the thread ---- */

/* The relay dropped n bus messages for slot i's worker. */
static void count_drop(void *arg, int slot, uint64_t n) {
  netfw_server *s = arg;

  atomic_fetch_add(&s->load[slot].bus_dropped, n);
  s->metrics->slots[slot].bus_dropped_in += n;
}

/* Initialises the loop and its handles. Returns 0 or NETFW_ESYS. */
static int loop_open(netfw_server *s) {
  netfw__sup *sup = &s->sup;
  int err = uv_loop_init(&sup->loop);

  if (err == 0) {
    err = uv_async_init(&sup->loop, &sup->wake, netfw__channel_wake);
    if (err != 0)
      uv_loop_close(&sup->loop);
  }
  if (err != 0) {
    errno = -err;
    return NETFW_ESYS;
  }
  uv_timer_init(&sup->loop, &sup->tick);
  uv_timer_init(&sup->loop, &sup->retry);
  uv_timer_init(&sup->loop, &sup->kill);
  uv_timer_init(&sup->loop, &sup->watchdog); /* started by supervise */
  sup->wake.data = sup->tick.data = sup->retry.data = sup->kill.data = s;
  sup->loop_open = true;
  sup->relay = netfw__relay_new(
      &sup->loop, s->cfg.max_payload, s->cfg.bus_queue,
      s->bus_ip[0] != '\0' ? s->bus_ip : NULL, s->bus_port, s->bus_origin,
      count_drop, s);
  if (sup->relay == NULL)
    netfw_log(NETFW_LOG_ERROR, "bus: no relay (out of memory): the workers "
                               "run without a bus");
  return 0;
}

/* Closes what is still open and runs the loop until every close callback
 * ran (the processes' watches too), then closes it. */
static void loop_close(netfw_server *s) {
  netfw__sup *sup = &s->sup;

  if (!sup->loop_open)
    return;
  close_handle((uv_handle_t *)&sup->wake);
  close_handle((uv_handle_t *)&sup->tick);
  close_handle((uv_handle_t *)&sup->retry);
  close_handle((uv_handle_t *)&sup->kill);
  close_handle((uv_handle_t *)&sup->watchdog);
  netfw__metrics_http_stop(s);
  netfw__relay_close(sup->relay);
  sup->relay = NULL;
  uv_run(&sup->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&sup->loop) != 0)
    netfw_log(NETFW_LOG_ERROR, "supervisor loop closed with handles open");
  sup->loop_open = false;
}

static void announce_start(netfw_server *s, int err, int saved_errno) {
  pthread_mutex_lock(&s->mu);
  s->start_err = err;
  s->start_errno = saved_errno;
  s->start_done = true;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void *supervise(void *arg) {
  netfw_server *s = arg;
  int err = loop_open(s), saved;

  if (err == 0 && s->cfg.metrics_addr != NULL)
    err = netfw__metrics_http_start(s, s->cfg.metrics_addr);
  if (err == 0)
    err = start_workers(s);
  saved = errno;
  if (err == 0) {
    netfw__channel_open(s);
    netfw__watchdog_start(s); /* systemd's WATCHDOG=1 (notify.c) */
  }
  announce_start(s, err, saved);
  if (err == 0)
    uv_run(&s->sup.loop, UV_RUN_DEFAULT);
  loop_close(s);
  return NULL;
}

static void close_pipe(int p[2]) {
  if (p[0] >= 0)
    close(p[0]);
  if (p[1] >= 0)
    close(p[1]);
  p[0] = p[1] = -1;
}

/* Runs the supervisor thread with every signal blocked so the caller's
 * handlers never run on it; workers unblock them after the fork. */
static int create_thread(netfw_server *s) {
  sigset_t all, old;
  int err;

  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  err = pthread_create(&s->thread, NULL, supervise, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return err;
}

int netfw__supervisor_start(netfw_server *s) {
  int err;

  if (pipe2(s->ready, O_CLOEXEC) != 0)
    return NETFW_ESYS;
  memset(&s->sup, 0, sizeof(s->sup));
  s->start_done = false;
  err = create_thread(s);
  if (err != 0) {
    close_pipe(s->ready);
    errno = err;
    return NETFW_ESYS;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->start_done)
    pthread_cond_wait(&s->cv, &s->mu);
  err = s->start_err;
  pthread_mutex_unlock(&s->mu);
  if (err != 0) {
    pthread_join(s->thread, NULL);
    s->sup.joined = true;
    close_pipe(s->ready);
    errno = s->start_errno; /* errno is per thread: carry it over */
  }
  return err;
}

void netfw__supervisor_stop(netfw_server *s, int timeout_ms) {
  netfw__cmd cmd = {.kind = NETFW__CMD_STOP, .timeout_ms = timeout_ms};

  /* NETFW_ESTATE: a stop is under way or done; either way, join */
  (void)netfw__supervisor_call(s, &cmd);
  if (!s->sup.joined) {
    pthread_join(s->thread, NULL);
    s->sup.joined = true;
  }
}
