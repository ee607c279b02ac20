/* Worker processes by slot and generation: the slot table's rules, the
 * fork of a worker into a slot, and how the supervisor's loop learns that
 * one ended.
 *
 * A slot holds its current worker and older generations still draining
 * (a reload, later, retires the current one and forks generation g+1 while
 * g finishes). Each process is watched through its pidfd (a uv_poll_t on
 * the supervisor's loop) and reaped with waitpid on its own pid, never "any
 * child": the caller may have children of its own. Without a pidfd (kernels
 * before 5.3, valgrind) the supervisor's tick timer polls the pid. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "bus.h"
#include "server_internal.h"

/* ---- the slot table's rules (no processes involved) ---- */

uint32_t netfw__slot_install(netfw__slot *sl, netfw__proc *p) {
  p->gen = ++sl->gen;
  sl->cur = p;
  return p->gen;
}

bool netfw__slot_retire(netfw__slot *sl) {
  int i;

  if (sl->cur == NULL)
    return false;
  for (i = 0; i < NETFW__SLOT_OLD; i++) {
    if (sl->old[i] == NULL) {
      sl->old[i] = sl->cur;
      sl->cur = NULL;
      return true;
    }
  }
  return false;
}

bool netfw__slot_reinstate(netfw__slot *sl, netfw__proc *p) {
  int i;

  for (i = 0; i < NETFW__SLOT_OLD; i++) {
    if (sl->old[i] == p && p != NULL) {
      sl->old[i] = sl->cur;
      sl->cur = p;
      return true;
    }
  }
  return false;
}

bool netfw__slot_remove(netfw__slot *sl, const netfw__proc *p) {
  int i;

  if (p == NULL)
    return false;
  if (sl->cur == p) {
    sl->cur = NULL;
    return true;
  }
  for (i = 0; i < NETFW__SLOT_OLD; i++)
    if (sl->old[i] == p)
      sl->old[i] = NULL;
  return false;
}

int netfw__slot_procs(const netfw__slot *sl, netfw__proc **out) {
  int i, n = 0;

  if (sl->cur != NULL)
    out[n++] = sl->cur;
  for (i = 0; i < NETFW__SLOT_OLD; i++)
    if (sl->old[i] != NULL)
      out[n++] = sl->old[i];
  return n;
}

/* ---- processes ---- */

static int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  return -1;
#endif
}

/* Reaps p if it has ended: returns true and fills *status (-1 when the
 * status is unknown: ECHILD, the caller ignores SIGCHLD). */
static bool reap(netfw__proc *p, bool block, int *status) {
  pid_t r;

  do
    r = waitpid(p->pid, status, block ? 0 : WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return false;
  if (r < 0)
    *status = -1;
  return true;
}

static void poll_by_tick(netfw_server *s, netfw__proc *p);

static void on_pidfd(uv_poll_t *h, int status, int events) {
  netfw__proc *p = h->data;
  int wstatus;

  (void)events;
  if (status < 0) { /* cannot watch it any more: poll the pid instead */
    uv_poll_stop(h);
    poll_by_tick(p->s, p);
    return;
  }
  if (reap(p, false, &wstatus)) {
    uv_poll_stop(h);
    netfw__supervisor_exited(p->s, p, wstatus);
  }
}

static void on_tick(uv_timer_t *t) {
  netfw_server *s = t->data;

  if (netfw__procs_poll(s) == 0)
    uv_timer_stop(t);
}

/* p has no usable pidfd: the tick timer looks at its pid from now on. */
static void poll_by_tick(netfw_server *s, netfw__proc *p) {
  p->polled = true;
  if (!uv_is_active((uv_handle_t *)&s->sup.tick))
    uv_timer_start(&s->sup.tick, on_tick, NETFW__NO_PIDFD_TICK_MS,
                   NETFW__NO_PIDFD_TICK_MS);
}

/* Watches p on the supervisor's loop: its pidfd, or the tick timer. */
static void watch(netfw_server *s, netfw__proc *p) {
  if (p->pidfd >= 0 && uv_poll_init(&s->sup.loop, &p->watch, p->pidfd) == 0) {
    p->watched = true;
    p->watch.data = p;
    if (uv_poll_start(&p->watch, UV_READABLE, on_pidfd) == 0)
      return;
  }
  poll_by_tick(s, p);
}

/* The shared load record of slot i starts afresh for a new worker. */
static void load_reset(netfw__slot_load *l) {
  atomic_store(&l->conns, 0);
  atomic_store(&l->polling, 0);
  atomic_store(&l->beat, 0);
  atomic_store(&l->bus_dropped, 0);
}

/* Makes the bus link of a worker about to be forked: link[0] for the
 * relay, link[1] for the worker. Without a relay, or when the socketpair
 * fails (logged), both are -1 and the worker runs without a bus. The
 * socket buffers hold at most min(bus_queue, 1 MiB) on top of the queues
 * bus_queue bounds. */
static void bus_link(netfw_server *s, int i, int link[2]) {
  int size = s->cfg.bus_queue < (1u << 20) ? (int)s->cfg.bus_queue : 1 << 20;

  link[0] = link[1] = -1;
  if (s->sup.relay == NULL)
    return;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, link) != 0) {
    netfw_log(NETFW_LOG_ERROR, "worker %d: no bus link: %s", i,
              strerror(errno));
    link[0] = link[1] = -1;
    return;
  }
  (void)setsockopt(link[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  (void)setsockopt(link[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* After the fork, in the parent: the worker's end is the worker's; the
 * relay takes the other. */
static void bus_link_attach(netfw_server *s, int i, int link[2]) {
  if (link[1] >= 0)
    close(link[1]);
  if (link[0] >= 0)
    netfw__relay_attach(s->sup.relay, link[0], i);
}

/* Fills the arguments of a worker forked for slot i. */
static void worker_args(netfw_server *s, int i, int ready_fd,
                        netfw__worker_args *a) {
  memset(a, 0, sizeof(*a));
  a->cfg = &s->cfg;
  a->slot = i;
  a->nslots = s->nworkers;
  a->listen_fd = s->slots[i].listen_fd;
  a->ready_fd = ready_fd;
  a->parent_pid = s->parent_pid;
  a->load = s->load;
  a->reuseport = s->cfg.reuseport;
  a->keep_fds = s->keep_fds;
  a->nkeep = s->nkeep;
  a->tls = s->tls;
  a->gen = s->slots[i].gen + 1; /* what netfw__slot_install will make it */
  a->proxy = s->proxy;
  a->metrics = s->metrics;
}

int netfw__proc_spawn(netfw_server *s, int i, int ready_fd) {
  netfw__slot_load *l = &s->load[i];
  netfw__worker_args a;
  netfw__proc *p = calloc(1, sizeof(*p));
  int link[2];
  pid_t pid;

  if (p == NULL)
    return NETFW_ENOMEM;
  worker_args(s, i, ready_fd, &a);
  a.ctr = p->ctr = netfw__metrics_claim(s->metrics, i);
  /* the new generation owns the slot's record from now on: an older one
   * still running (a reload) publishes into its own spare instead */
  atomic_store(&l->gen, a.gen);
  atomic_store(&l->pid, 0);
  load_reset(l);
  bus_link(s, i, link);
  a.bus_fd = link[1];
  pid = fork();
  if (pid < 0) {
    int saved = errno;
    netfw_log(NETFW_LOG_ERROR, "fork of worker %d failed: %s", i,
              strerror(errno));
    if (link[0] >= 0)
      close(link[0]);
    if (link[1] >= 0)
      close(link[1]);
    netfw__metrics_release(s->metrics, i, p->ctr);
    free(p);
    errno = saved;
    return NETFW_ESYS;
  }
  if (pid == 0)
    netfw__worker_main(&a);
  bus_link_attach(s, i, link);
  p->pid = pid;
  p->pidfd = open_pidfd(pid);
  p->started_ms = netfw__now_ms();
  p->slot = i;
  p->s = s;
  s->metrics->slots[i].started++;
  atomic_store(&l->gen, netfw__slot_install(&s->slots[i], p));
  atomic_store(&l->pid, (int)pid);
  watch(s, p);
  return 0;
}

/* Calls fn(s, p, arg) for every process of every slot (none when fn is
 * NULL); returns how many there are. */
static int each_proc(netfw_server *s,
                     void (*fn)(netfw_server *, netfw__proc *, int), int arg) {
  netfw__proc *ps[1 + NETFW__SLOT_OLD];
  int i, j, n, total = 0;

  for (i = 0; s->slots != NULL && i < s->nworkers; i++) {
    n = netfw__slot_procs(&s->slots[i], ps);
    for (j = 0; j < n && fn != NULL; j++)
      fn(s, ps[j], arg);
    total += n;
  }
  return total;
}

static void send_signal(netfw_server *s, netfw__proc *p, int sig) {
  (void)s;
  kill(p->pid, sig);
}

int netfw__procs_kill(netfw_server *s, int sig) {
  return each_proc(s, send_signal, sig);
}

int netfw__procs_count(netfw_server *s) {
  return each_proc(s, NULL, 0);
}

static void reap_one_blocking(netfw_server *s, netfw__proc *p, int unused) {
  int status;

  (void)unused;
  reap(p, true, &status);
  if (netfw__slot_remove(&s->slots[p->slot], p))
    atomic_store(&s->load[p->slot].pid, 0);
  netfw__proc_release(p);
}

void netfw__procs_reap_blocking(netfw_server *s) {
  each_proc(s, reap_one_blocking, 0);
}

static void on_watch_closed(uv_handle_t *h) {
  netfw__proc *p = h->data;

  if (p->pidfd >= 0)
    close(p->pidfd);
  free(p);
}

void netfw__proc_release(netfw__proc *p) {
  netfw__metrics_release(p->s->metrics, p->slot, p->ctr);
  p->ctr = NULL;
  if (p->watched) {
    uv_close((uv_handle_t *)&p->watch, on_watch_closed);
    return;
  }
  if (p->pidfd >= 0)
    close(p->pidfd);
  free(p);
}

int netfw__procs_poll(netfw_server *s) {
  netfw__proc *ps[1 + NETFW__SLOT_OLD];
  int i, j, n, left = 0, status;

  for (i = 0; i < s->nworkers; i++) {
    n = netfw__slot_procs(&s->slots[i], ps);
    for (j = 0; j < n; j++)
      if (ps[j]->polled && reap(ps[j], false, &status))
        netfw__supervisor_exited(s, ps[j], status);
  }
  /* counted afterwards: a death above may have forked a replacement that
   * has no pidfd either and must keep the tick going */
  for (i = 0; i < s->nworkers; i++) {
    n = netfw__slot_procs(&s->slots[i], ps);
    for (j = 0; j < n; j++)
      left += ps[j]->polled;
  }
  return left;
}
