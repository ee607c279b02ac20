/* The rolling restart (netfw_server_reload): a command of the supervisor's
 * loop that replaces the workers one slot at a time.
 *
 * For each slot: the current worker is retired into the slot's draining
 * list (netfw__slot_retire) and a new generation is forked in its place,
 * holding one end of the reload's ready socketpair; once it has written
 * its ready byte it accepts on the slot's listening socket (the same
 * socket: shared, or the slot's own with reuseport, which the parent keeps
 * open, so the socket never leaves the reuseport group), and only then is
 * the old one sent NETFW__SIG_RETIRE: it stops accepting, serves what it
 * has open until that ends or drain_timeout_ms passes, shuts the rest down
 * gracefully and exits 0. Its exit is an older generation's: never
 * respawned, never counted towards a crash loop. A new worker that dies
 * before it is ready, or is not ready within RELOAD_READY_MS, ends the
 * reload with an error and the old worker stays the slot's current one
 * (it never stopped accepting). systemd hears RELOADING=1 when the reload
 * begins and READY=1 when it ends (netfw__notify). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"
#include "tls.h"

/* How long a new worker gets to accept (as at start). */
#define RELOAD_READY_MS 30000

/* One reload under way, owned by the supervisor thread. Freed once its
 * handles are closed (after the command was answered). */
typedef struct netfw__reload {
  netfw_server *s;
  netfw__cmd *cmd;
  int slot;           /* the slot being replaced                        */
  netfw__proc *old;   /* its retired worker; NULL when it had none      */
  netfw__proc *young; /* its new worker, until it is ready              */
  int fds[2];         /* [0] read here, [1] each new worker's ready_fd  */
  uv_poll_t ready;    /* fds[0] is readable: a new worker is ready      */
  uv_timer_t timer;   /* the new worker's RELOAD_READY_MS               */
  int open_handles;   /* handles whose close callback is still owed     */
} netfw__reload;

static void on_handle_closed(uv_handle_t *h) {
  netfw__reload *r = h->data;

  if (--r->open_handles > 0)
    return;
  close(r->fds[0]);
  close(r->fds[1]);
  free(r);
}

/* Answers the reload and lets go of it (the server can take another).
 * After a new worker failed, the workers not replaced are told to re-read
 * the TLS files (the new ones were valid), as netfw_server_reload_tls
 * does; not when a stop or a crash loop ended it (NETFW_ESTATE). */
static void finish(netfw__reload *r, int err, int sys_errno) {
  netfw_server *s = r->s;

  if (err != 0 && err != NETFW_ESTATE && s->tls != NULL)
    (void)netfw__procs_kill(s, SIGHUP);
  if (err == 0)
    netfw_log(NETFW_LOG_INFO, "reload: every worker replaced");
  if (err != NETFW_ESTATE) /* ended by a stop: STOPPING=1 follows */
    (void)netfw__notify("READY=1"); /* serving again, reloaded or not */
  r->cmd->sys_errno = sys_errno;
  netfw__channel_answer(s, r->cmd, err);
  s->sup.reload = NULL;
  uv_close((uv_handle_t *)&r->ready, on_handle_closed);
  uv_close((uv_handle_t *)&r->timer, on_handle_closed);
}

/* The old worker of the slot serves it again (its new one failed); the
 * new one, if still in the slot, becomes a draining generation. */
static void keep_old(netfw__reload *r) {
  netfw_server *s = r->s;
  netfw__slot_load *l = &s->load[r->slot];

  uv_timer_stop(&r->timer);
  if (r->old == NULL ||
      !netfw__slot_reinstate(&s->slots[r->slot], r->old))
    return;
  atomic_store(&l->gen, r->old->gen);
  atomic_store(&l->pid, (int)r->old->pid);
}

static void next_slot(netfw__reload *r);

/* The new worker of the slot wrote its ready byte: it accepts. The old one
 * is retired; on to the next slot. */
static void young_ready(netfw__reload *r) {
  uv_timer_stop(&r->timer);
  if (r->old != NULL) {
    kill(r->old->pid, NETFW__SIG_RETIRE);
    netfw_log(NETFW_LOG_INFO,
              "reload: worker %d (pid %ld) accepts; pid %ld retired",
              r->slot, (long)r->young->pid, (long)r->old->pid);
  }
  r->young = NULL;
  r->old = NULL;
  next_slot(r);
}

static void on_ready(uv_poll_t *h, int status, int events) {
  netfw__reload *r = h->data;
  char buf[16];
  ssize_t n;

  (void)events;
  if (status < 0)
    return;
  do
    n = read(r->fds[0], buf, sizeof(buf));
  while (n < 0 && errno == EINTR);
  if (n > 0 && r->young != NULL) /* one new worker at a time: its byte */
    young_ready(r);
}

static void on_ready_timeout(uv_timer_t *t) {
  netfw__reload *r = t->data;

  netfw_log(NETFW_LOG_ERROR,
            "reload: new worker %d (pid %ld) not ready within %d ms; "
            "killed, the old one serves on",
            r->slot, (long)r->young->pid, RELOAD_READY_MS);
  kill(r->young->pid, SIGKILL);
  keep_old(r);
  r->young = NULL;
  finish(r, NETFW_ETIMEDOUT, 0);
}

/* Retires the current worker of the slot and forks its new generation.
 * Returns 0 or a NETFW_E* code (then the slot is as it was). */
static int replace_slot(netfw__reload *r) {
  netfw_server *s = r->s;
  netfw__slot *sl = &s->slots[r->slot];
  int err;

  r->old = sl->cur;
  if (r->old != NULL && !netfw__slot_retire(sl)) {
    netfw_log(NETFW_LOG_ERROR,
              "reload: worker %d still has %d older generations draining",
              r->slot, NETFW__SLOT_OLD);
    return NETFW_ESTATE;
  }
  err = netfw__proc_spawn(s, r->slot, r->fds[1]);
  if (err != 0) {
    r->cmd->sys_errno = errno;
    keep_old(r); /* the slot has no current worker: the old one again */
    return err;
  }
  r->young = sl->cur;
  uv_timer_start(&r->timer, on_ready_timeout, RELOAD_READY_MS, 0);
  return 0;
}

static void next_slot(netfw__reload *r) {
  int err;

  if (++r->slot >= r->s->nworkers) {
    finish(r, 0, 0);
    return;
  }
  err = replace_slot(r);
  if (err != 0)
    finish(r, err, r->cmd->sys_errno);
}

/* Makes the reload's socketpair and handles. Returns NULL (errno kept)
 * when it cannot. */
static netfw__reload *reload_new(netfw_server *s, netfw__cmd *cmd) {
  netfw__reload *r = calloc(1, sizeof(*r));

  if (r == NULL)
    return NULL;
  r->fds[0] = r->fds[1] = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, r->fds) != 0 ||
      fcntl(r->fds[0], F_SETFL, O_NONBLOCK) != 0 ||
      uv_poll_init(&s->sup.loop, &r->ready, r->fds[0]) != 0) {
    int saved = errno;
    if (r->fds[0] >= 0) {
      close(r->fds[0]);
      close(r->fds[1]);
    }
    free(r);
    errno = saved;
    return NULL;
  }
  uv_timer_init(&s->sup.loop, &r->timer);
  r->ready.data = r->timer.data = r;
  r->open_handles = 2;
  r->s = s;
  r->cmd = cmd;
  r->slot = -1;
  uv_poll_start(&r->ready, UV_READABLE, on_ready);
  return r;
}

void netfw__reload_begin(netfw_server *s, netfw__cmd *cmd) {
  netfw__reload *r;

  if (s->sup.reload != NULL || s->sup.stop != NULL || s->sup.respawn_off) {
    netfw__channel_answer(s, cmd, NETFW_ESTATE);
    return;
  }
  if ((r = reload_new(s, cmd)) == NULL) {
    cmd->sys_errno = errno;
    netfw__channel_answer(s, cmd, NETFW_ESYS);
    return;
  }
  s->sup.reload = r;
  if (cmd->tls != NULL) { /* the new forks inherit the new files */
    netfw__tls_ctx_unref(s->tls);
    s->tls = cmd->tls;
    cmd->tls = NULL;
  }
  netfw_log(NETFW_LOG_INFO, "reload: replacing %d worker%s", s->nworkers,
            s->nworkers == 1 ? "" : "s");
  (void)netfw__notify("RELOADING=1");
  next_slot(r);
}

void netfw__reload_proc_ended(netfw_server *s, const netfw__proc *p) {
  netfw__reload *r = s->sup.reload;

  if (r == NULL || p != r->young)
    return;
  netfw_log(NETFW_LOG_ERROR,
            "reload: new worker %d (pid %ld) ended before it was ready; the "
            "old one serves on",
            r->slot, (long)p->pid);
  keep_old(r);
  r->young = NULL;
  finish(r, NETFW_ESYS, ECHILD);
}

void netfw__reload_abort(netfw_server *s, int err) {
  netfw__reload *r = s->sup.reload;

  if (r == NULL)
    return;
  if (r->young != NULL)
    kill(r->young->pid, SIGKILL);
  keep_old(r);
  r->young = NULL;
  finish(r, err, 0);
}

/* ---- the public call, on the caller's thread ---- */

int netfw_server_reload(netfw_server *s) {
  char why[NETFW__TLS_ERR_LEN];
  netfw__cmd cmd = {.kind = NETFW__CMD_RELOAD};
  int rc;

  if (s == NULL)
    return NETFW_EINVAL;
  if (netfw_server_state(s) != NETFW_RUN_RUNNING || getpid() != s->parent_pid)
    return NETFW_ESTATE;
  if (s->tls_cfg != NULL &&
      (cmd.tls = netfw__tls_ctx_new(s->tls_cfg, true, why)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "reload: %s; nothing changed", why);
    return NETFW_ETLS;
  }
  rc = netfw__supervisor_call(s, &cmd); /* RELOADING=1 ... READY=1 */
  netfw__tls_ctx_unref(cmd.tls); /* NULL once the supervisor took it */
  if (rc == NETFW_ESYS)
    errno = cmd.sys_errno;
  return rc;
}
