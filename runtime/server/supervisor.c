/* The supervisor: a thread in the parent that forks the workers, waits until
 * they listen, replaces those that die and stops them on request.
 *
 * It waits only on netfw's own worker pids (a pidfd each, polled; waitpid on
 * that exact pid to reap), never on "any child": the caller may have children
 * of its own. Every fork happens on this thread, so a worker's
 * PR_SET_PDEATHSIG (tied to the forking thread) fires only when the
 * supervisor itself is gone, which is after the workers are reaped or when
 * the whole parent dies. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"

/* A worker that dies this soon after its fork counts towards a crash loop;
 * one that lived longer was healthy and starts the count again.
 * CRASH_LOOP_DEATHS such deaths in a row stop the server (stop_serving). */
#define CRASH_EARLY_MS 3000
#define CRASH_LOOP_DEATHS 5
/* How long the first workers get to start listening. */
#define START_TIMEOUT_MS 30000
/* Poll period for slots without a pidfd (kernels before 5.3). */
#define NO_PIDFD_TICK_MS 50

static int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  return -1;
#endif
}

/* Forks the worker for slot i. Returns 0 or NETFW_ESYS. */
static int spawn(netfw_server *s, int i, int ready_fd) {
  netfw__worker_args a;
  pid_t pid;

  memset(&a, 0, sizeof(a));
  a.cfg = &s->cfg;
  a.slot = i;
  a.nslots = s->nworkers;
  a.listen_fd = s->slots[i].listen_fd;
  a.ready_fd = ready_fd;
  a.parent_pid = s->parent_pid;
  a.load = s->load;
  a.reuseport = s->cfg.reuseport;
  a.keep_fds = s->keep_fds;
  a.nkeep = s->nkeep;
  atomic_store(&s->load[i].conns, 0);
  atomic_store(&s->load[i].polling, 0);
  atomic_store(&s->load[i].beat, 0);
  pid = fork();
  if (pid < 0) {
    netfw_log(NETFW_LOG_ERROR, "fork of worker %d failed: %s", i,
              strerror(errno));
    return NETFW_ESYS;
  }
  if (pid == 0)
    netfw__worker_main(&a);
  s->slots[i].pid = pid;
  s->slots[i].pidfd = open_pidfd(pid);
  s->slots[i].started_ms = netfw__now_ms();
  return 0;
}

/* Reaps the worker of slot i if it has exited: returns true and fills
 * *status (-1 when the status is unknown). */
static bool reap(netfw_server *s, int i, bool block, int *status) {
  pid_t r;

  do
    r = waitpid(s->slots[i].pid, status, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return false;
  if (r < 0)
    *status = -1; /* ECHILD: the caller ignores SIGCHLD; it is gone anyway */
  if (s->slots[i].pidfd >= 0)
    close(s->slots[i].pidfd);
  s->slots[i].pidfd = -1;
  s->slots[i].pid = 0;
  atomic_store(&s->load[i].conns, 0);
  atomic_store(&s->load[i].polling, 0);
  atomic_store(&s->load[i].beat, 0);
  return true;
}

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

static void kill_all(netfw_server *s, int sig) {
  int i;

  for (i = 0; i < s->nworkers; i++)
    if (s->slots[i].pid > 0)
      kill(s->slots[i].pid, sig);
}

static void reap_all_blocking(netfw_server *s) {
  int i, status;

  for (i = 0; i < s->nworkers; i++)
    if (s->slots[i].pid > 0)
      reap(s, i, true, &status);
}

/* Forks every worker and waits until each has written its ready byte. A
 * worker that dies first closes its copy of the pipe: EOF before all bytes
 * arrived means start failed. */
static int start_workers(netfw_server *s) {
  uint64_t deadline = netfw__now_ms() + START_TIMEOUT_MS;
  int i, ready = 0, err = 0;

  for (i = 0; i < s->nworkers && err == 0; i++)
    err = spawn(s, i, s->ready[1]);
  close(s->ready[1]);
  s->ready[1] = -1;
  while (err == 0 && ready < s->nworkers) {
    struct pollfd p = {s->ready[0], POLLIN, 0};
    uint64_t now = netfw__now_ms();
    char buf[64];
    ssize_t n;
    if (now >= deadline) {
      netfw_log(NETFW_LOG_ERROR, "workers did not start within %d ms",
                START_TIMEOUT_MS);
      err = NETFW_ETIMEDOUT;
      break;
    }
    if (poll(&p, 1, (int)(deadline - now)) <= 0)
      continue;
    n = read(s->ready[0], buf, sizeof(buf));
    if (n > 0) {
      ready += (int)n;
    } else if (n == 0 || errno != EINTR) {
      netfw_log(NETFW_LOG_ERROR, "a worker exited before it was ready");
      errno = ECHILD;
      err = NETFW_ESYS;
    }
  }
  close(s->ready[0]);
  s->ready[0] = -1;
  if (err != 0) {
    int saved = errno;
    kill_all(s, SIGKILL);
    reap_all_blocking(s);
    errno = saved;
  }
  return err;
}

/* Counts a death that came lived_ms after the worker's fork: an early one
 * adds to the crash-loop count, a later one (a healthy worker) resets it.
 * Returns true when the count reaches CRASH_LOOP_DEATHS. */
static bool crash_loop(netfw_server *s, uint64_t lived_ms) {
  if (lived_ms >= CRASH_EARLY_MS) {
    s->early_deaths = 0;
    return false;
  }
  return ++s->early_deaths >= CRASH_LOOP_DEATHS;
}

/* A crash loop: no more respawns, and the server stops serving so that new
 * clients are refused instead of left hanging in the backlog. The parent
 * closes its listening socket(s) and the workers still alive get SIGTERM:
 * they close theirs first, then finish their connections, as at stop. The
 * starter learns it from netfw_server_state / netfw_server_wait. */
static void stop_serving(netfw_server *s) {
  s->respawn_off = true;
  netfw_log(NETFW_LOG_ERROR,
            "crash loop: workers keep crashing (%d deaths within %d s of "
            "their start); stopped serving",
            CRASH_LOOP_DEATHS, CRASH_EARLY_MS / 1000);
  netfw__close_listeners(s);
  kill_all(s, SIGTERM);
  netfw__server_publish(s, NETFW_RUN_FAILED);
}

static void on_death(netfw_server *s, int i, pid_t pid, int status) {
  char what[96];
  uint64_t lived = netfw__now_ms() - s->slots[i].started_ms;
  bool loop;

  describe(status, what, sizeof(what));
  if (s->respawn_off) { /* one of those stop_serving sent SIGTERM */
    netfw_log(status == 0 ? NETFW_LOG_INFO : NETFW_LOG_WARN,
              "worker %d (pid %ld) %s", i, (long)pid, what);
    return;
  }
  loop = crash_loop(s, lived);
  netfw_log(NETFW_LOG_WARN, "worker %d (pid %ld) %s%s", i, (long)pid, what,
            loop ? "" : "; respawning");
  if (loop)
    stop_serving(s);
}

/* Reaps dead workers and forks their replacements. Returns true when a slot
 * still needs a worker (a fork failed): the caller retries soon. */
static bool check_workers(netfw_server *s) {
  bool pending = false;
  int i, status;

  for (i = 0; i < s->nworkers; i++) {
    pid_t pid = s->slots[i].pid;
    if (pid > 0 && reap(s, i, false, &status))
      on_death(s, i, pid, status);
    if (s->slots[i].pid == 0 && !s->respawn_off) {
      if (spawn(s, i, -1) != 0)
        pending = true;
      else
        netfw_log(NETFW_LOG_INFO, "worker %d respawned (pid %ld)", i,
                  (long)s->slots[i].pid);
    }
  }
  return pending;
}

/* Waits up to timeout_ms (-1: forever) for every worker to exit. */
static void wait_workers(netfw_server *s, int timeout_ms) {
  uint64_t deadline =
      netfw__now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
  struct pollfd *p = s->pfds;

  for (;;) {
    int i, n = 0, live = 0, wait_ms = -1, status;
    for (i = 0; i < s->nworkers; i++) {
      pid_t pid = s->slots[i].pid;
      if (pid > 0 && reap(s, i, false, &status) && status != 0) {
        char what[96];
        describe(status, what, sizeof(what));
        netfw_log(NETFW_LOG_WARN, "worker %d (pid %ld) %s while stopping", i,
                  (long)pid, what);
      }
      if (s->slots[i].pid == 0)
        continue;
      live++;
      if (s->slots[i].pidfd < 0 || p == NULL)
        wait_ms = NO_PIDFD_TICK_MS;
      else
        p[n++] = (struct pollfd){s->slots[i].pidfd, POLLIN, 0};
    }
    if (live == 0)
      break;
    if (timeout_ms >= 0) {
      uint64_t now = netfw__now_ms();
      if (now >= deadline)
        break;
      if (wait_ms < 0 || deadline - now < (uint64_t)wait_ms)
        wait_ms = (int)(deadline - now);
    }
    poll(p, (nfds_t)n, wait_ms);
  }
}

/* Stops every worker: SIGTERM (a graceful stop), then after timeout_ms
 * SIGKILL for what is left. Returns once all are reaped. */
static void stop_workers(netfw_server *s, int timeout_ms) {
  kill_all(s, SIGTERM);
  wait_workers(s, timeout_ms);
  kill_all(s, SIGKILL);
  reap_all_blocking(s);
}

/* Runs until the parent sends the stop command. */
static void watch(netfw_server *s) {
  bool pending = false;
  int i;
  struct pollfd *p = s->pfds;

  for (;;) {
    int n = 1, wait_ms = pending ? 200 : -1;
    if (p == NULL) {
      wait_ms = NO_PIDFD_TICK_MS;
    } else {
      p[0] = (struct pollfd){s->ctl[0], POLLIN, 0};
      for (i = 0; i < s->nworkers; i++) {
        if (s->slots[i].pid == 0)
          continue;
        if (s->slots[i].pidfd < 0)
          wait_ms = NO_PIDFD_TICK_MS;
        else
          p[n++] = (struct pollfd){s->slots[i].pidfd, POLLIN, 0};
      }
    }
    if (p != NULL)
      poll(p, (nfds_t)n, wait_ms);
    else
      poll(&(struct pollfd){s->ctl[0], POLLIN, 0}, 1, wait_ms);
    {
      char cmd;
      struct pollfd c = {s->ctl[0], POLLIN, 0};
      if (poll(&c, 1, 0) == 1 && read(s->ctl[0], &cmd, 1) >= 0)
        break;
    }
    pending = check_workers(s);
  }
  pthread_mutex_lock(&s->mu);
  i = s->stop_timeout_ms;
  pthread_mutex_unlock(&s->mu);
  stop_workers(s, i);
}

/* The poll set lives in the server, not on this thread's stack: a worker
 * forked from this thread must still see it as reachable (valgrind in the
 * worker reports it lost otherwise). NULL makes the loops poll by timer. */
static void *supervise(void *arg) {
  netfw_server *s = arg;
  int err, saved;

  s->pfds = calloc((size_t)s->nworkers + 1, sizeof(*s->pfds));
  err = start_workers(s);
  saved = errno;

  pthread_mutex_lock(&s->mu);
  s->start_err = err;
  s->start_errno = saved;
  s->start_done = true;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (err == 0)
    watch(s);
  free(s->pfds);
  s->pfds = NULL;
  return NULL;
}

static void close_pipe(int p[2]) {
  if (p[0] >= 0)
    close(p[0]);
  if (p[1] >= 0)
    close(p[1]);
  p[0] = p[1] = -1;
}

int netfw__supervisor_start(netfw_server *s) {
  sigset_t all, old;
  int err;

  if (pipe2(s->ctl, O_CLOEXEC) != 0)
    return NETFW_ESYS;
  if (pipe2(s->ready, O_CLOEXEC) != 0)
    goto failed_pipe;
  s->start_done = false;
  s->early_deaths = 0;
  s->respawn_off = false;
  /* The thread starts with every signal blocked so the caller's handlers
   * never run on it; workers unblock them after the fork. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  err = pthread_create(&s->thread, NULL, supervise, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err != 0) {
    errno = err;
    goto failed_thread;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->start_done)
    pthread_cond_wait(&s->cv, &s->mu);
  err = s->start_err;
  pthread_mutex_unlock(&s->mu);
  if (err != 0) {
    pthread_join(s->thread, NULL);
    close_pipe(s->ctl);
    close_pipe(s->ready);
    errno = s->start_errno; /* errno is per thread: carry it over */
  }
  return err;

failed_thread:
  close_pipe(s->ready);
failed_pipe:
  err = errno;
  close_pipe(s->ctl);
  errno = err;
  return NETFW_ESYS;
}

void netfw__supervisor_stop(netfw_server *s, int timeout_ms) {
  ssize_t n;

  pthread_mutex_lock(&s->mu);
  s->stop_timeout_ms = timeout_ms;
  pthread_mutex_unlock(&s->mu);
  do
    n = write(s->ctl[1], "S", 1);
  while (n < 0 && errno == EINTR);
  pthread_join(s->thread, NULL);
  close_pipe(s->ctl);
}
