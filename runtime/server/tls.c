/* TLS in the server: the parent's context (made by netfw_server_new from
 * a copy of cfg.tls), the reload across workers, the worker's `tls` module
 * that re-reads the files on SIGHUP, and the peer identity of a
 * connection. The transport itself is runtime/tls.
 *
 * Reload. netfw_server_reload_tls checks the files in the parent first (a
 * broken file changes nothing), then the supervisor swaps the context that
 * future forks inherit and sends SIGHUP to every worker; each worker builds
 * its new context on libuv's thread pool (file reads stay off its loop),
 * swaps it in for the connections it accepts next, and counts the reload
 * in its shared load record, which the caller waits on. A connection keeps
 * the context it started with. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"
#include "tls.h"

/* How long a reload waits for the workers. */
#define RELOAD_WAIT_MS 5000

int netfw__server_tls_setup(netfw_server *s) {
  char err[NETFW__TLS_ERR_LEN];

  if (s->cfg.tls == NULL)
    return 0;
  if ((s->tls_cfg = netfw__tls_config_dup(s->cfg.tls)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: tls: bad netfw_tls_config "
                               "(not filled by netfw_tls_config_init?)");
    return NETFW_EINVAL;
  }
  s->cfg.tls = s->tls_cfg;
  if ((s->tls = netfw__tls_ctx_new(s->tls_cfg, true, err)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "netfw_server_new: %s", err);
    return NETFW_ETLS;
  }
  return 0;
}

void netfw__server_tls_free(netfw_server *s) {
  netfw__tls_ctx_unref(s->tls);
  netfw__tls_config_free(s->tls_cfg);
  s->tls = NULL;
  s->tls_cfg = NULL;
}

void netfw__server_tls_swap(netfw_server *s, netfw__tls_ctx *x) {
  netfw__tls_ctx_unref(s->tls);
  s->tls = x;
  (void)netfw__procs_kill(s, SIGHUP);
}

/* True once every slot's worker has reloaded since `before` (or was
 * replaced: a new fork has the new context). */
static bool workers_reloaded(const netfw_server *s, const int *pid,
                             const uint32_t *before) {
  int i;

  for (i = 0; i < s->nworkers; i++)
    if (pid[i] != 0 && atomic_load(&s->load[i].pid) == pid[i] &&
        atomic_load(&s->load[i].tls_reloads) == before[i])
      return false;
  return true;
}

/* Waits up to RELOAD_WAIT_MS for workers_reloaded. */
static int wait_reloaded(const netfw_server *s, const int *pid,
                         const uint32_t *before) {
  struct timespec tick = {0, 5 * 1000 * 1000};
  uint64_t end = netfw__now_ms() + RELOAD_WAIT_MS;

  while (!workers_reloaded(s, pid, before)) {
    if (netfw__now_ms() >= end)
      return NETFW_ETIMEDOUT;
    nanosleep(&tick, NULL);
  }
  return 0;
}

int netfw_server_reload_tls(netfw_server *s) {
  char err[NETFW__TLS_ERR_LEN];
  netfw__cmd cmd = {.kind = NETFW__CMD_TLS_RELOAD};
  uint32_t *before;
  int *pid, i, rc;

  if (s == NULL)
    return NETFW_EINVAL;
  if (s->tls == NULL || netfw_server_state(s) != NETFW_RUN_RUNNING)
    return NETFW_ESTATE;
  if ((cmd.tls = netfw__tls_ctx_new(s->tls_cfg, true, err)) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "tls reload: %s; keeping the old certificate",
              err);
    return NETFW_ETLS;
  }
  pid = calloc((size_t)s->nworkers, sizeof(*pid));
  before = calloc((size_t)s->nworkers, sizeof(*before));
  if (pid == NULL || before == NULL) {
    free(pid);
    free(before);
    netfw__tls_ctx_unref(cmd.tls);
    return NETFW_ENOMEM;
  }
  for (i = 0; i < s->nworkers; i++) {
    before[i] = atomic_load(&s->load[i].tls_reloads);
    pid[i] = atomic_load(&s->load[i].pid);
  }
  rc = netfw__supervisor_call(s, &cmd);
  if (rc != 0)
    netfw__tls_ctx_unref(cmd.tls);
  else
    rc = wait_reloaded(s, pid, before);
  free(pid);
  free(before);
  return rc;
}

int netfw_conn_tls_peer(const netfw_conn *c, netfw_tls_peer *out) {
  if (c == NULL || out == NULL)
    return NETFW_EINVAL;
  return netfw__tls_peer(&c->s, out);
}

/* ---- the worker's module ---- */

/* One reload in a worker: built on the thread pool. */
typedef struct reload_job {
  uv_work_t req;
  netfw__worker *w;
  netfw__tls_ctx *x;
  char err[NETFW__TLS_ERR_LEN];
} reload_job;

static void reload_work(uv_work_t *req) {
  reload_job *j = req->data;

  j->x = netfw__tls_ctx_new(j->w->cfg->tls, true, j->err);
}

static void reload_done(uv_work_t *req, int status) {
  reload_job *j = req->data;
  netfw__worker *w = j->w;

  if (w->finished) { /* the worker is ending: nothing to swap */
    netfw__tls_ctx_unref(j->x);
    free(j);
    return;
  }
  if (j->x != NULL) {
    netfw__tls_ctx_unref(w->tls);
    w->tls = j->x;
    netfw_log(NETFW_LOG_INFO, "worker %d: tls files reloaded", w->slot);
  } else {
    netfw_log(NETFW_LOG_ERROR, "worker %d: tls reload failed, keeping the "
              "old certificate: %s", w->slot, status == 0 ? j->err :
              uv_strerror(status));
  }
  atomic_fetch_add(&w->load[w->slot].tls_reloads, 1);
  free(j);
  w->tls_reloading = false;
  if (w->tls_again) {
    w->tls_again = false;
    netfw__worker_tls_reload(w);
  }
}

void netfw__worker_tls_reload(netfw__worker *w) {
  reload_job *j;

  if (w->tls_reloading) {
    w->tls_again = true; /* the files may have changed since it started */
    return;
  }
  if ((j = calloc(1, sizeof(*j))) == NULL) {
    netfw_log(NETFW_LOG_ERROR, "worker %d: tls reload: out of memory",
              w->slot);
    return;
  }
  j->req.data = j;
  j->w = w;
  w->tls_reloading = true;
  if (uv_queue_work(&w->loop, &j->req, reload_work, reload_done) != 0) {
    w->tls_reloading = false;
    free(j);
  }
}

static void on_sighup(uv_signal_t *h, int signum) {
  (void)signum;
  netfw__worker_tls_reload(h->data);
}

static int tls_init(netfw__worker *w) {
  int err;

  if (w->tls == NULL)
    return 0;
  if ((err = uv_signal_init(&w->loop, &w->sighup)) != 0)
    return err;
  w->sighup.data = w;
  w->sighup_on = true;
  return uv_signal_start(&w->sighup, on_sighup, SIGHUP);
}

static void tls_close(netfw__worker *w) {
  if (w->sighup_on)
    netfw__close_handle((uv_handle_t *)&w->sighup);
  netfw__tls_ctx_unref(w->tls);
  w->tls = NULL;
}

const netfw__module netfw__tls_module = {
    .name = "tls", .init = tls_init, .close = tls_close};
