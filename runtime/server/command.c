/* The supervisor's command channel: another thread of the parent queues a
 * typed command (under the server's mu), wakes the supervisor's loop with a
 * uv_async_t and sleeps on the server's cv until the command is answered.
 * The supervisor takes the queue on its own thread, oldest first. Once the
 * channel is closed (the loop is ending) every command gets NETFW_ESTATE at
 * once, so a caller never waits on a supervisor that is gone. */
#include <pthread.h>

#include "netfw/error.h"
#include "server_internal.h"

int netfw__supervisor_call(netfw_server *s, netfw__cmd *cmd) {
  netfw__cmd **tail;
  int result;

  cmd->done = false;
  cmd->next = NULL;
  pthread_mutex_lock(&s->mu);
  if (!s->sup.open) {
    pthread_mutex_unlock(&s->mu);
    return NETFW_ESTATE;
  }
  for (tail = &s->sup.queue; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = cmd;
  /* under mu: the channel cannot close (and the async handle with it)
   * between the check above and this send */
  uv_async_send(&s->sup.wake);
  while (!cmd->done)
    pthread_cond_wait(&s->cv, &s->mu);
  result = cmd->result;
  pthread_mutex_unlock(&s->mu);
  return result;
}

void netfw__channel_open(netfw_server *s) {
  pthread_mutex_lock(&s->mu);
  s->sup.open = true;
  pthread_mutex_unlock(&s->mu);
}

/* Answers cmd with mu held. */
static void answer_locked(netfw_server *s, netfw__cmd *cmd, int result) {
  cmd->result = result;
  cmd->done = true;
  pthread_cond_broadcast(&s->cv);
}

void netfw__channel_close(netfw_server *s) {
  netfw__cmd *cmd, *next;

  pthread_mutex_lock(&s->mu);
  s->sup.open = false;
  for (cmd = s->sup.queue; cmd != NULL; cmd = next) {
    next = cmd->next;
    answer_locked(s, cmd, NETFW_ESTATE);
  }
  s->sup.queue = NULL;
  pthread_mutex_unlock(&s->mu);
}

void netfw__channel_answer(netfw_server *s, netfw__cmd *cmd, int result) {
  pthread_mutex_lock(&s->mu);
  answer_locked(s, cmd, result);
  pthread_mutex_unlock(&s->mu);
}

void netfw__channel_wake(uv_async_t *h) {
  netfw_server *s = h->data;
  netfw__cmd *cmd, *next;

  pthread_mutex_lock(&s->mu);
  cmd = s->sup.queue;
  s->sup.queue = NULL;
  pthread_mutex_unlock(&s->mu);
  for (; cmd != NULL; cmd = next) {
    next = cmd->next; /* cmd may be answered (and gone) by the call */
    netfw__supervisor_run(s, cmd);
  }
}
