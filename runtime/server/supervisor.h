/* The supervisor's own types, shared by supervisor.c (the thread and its
 * loop), command.c (how other threads talk to it), slots.c (worker processes
 * by slot and generation) and server.c (which owns the slot table).
 *
 * Everything here but the command queue belongs to the supervisor thread
 * once it runs; the queue is guarded by the server's mu. */
#ifndef NETFW_RUNTIME_SUPERVISOR_H
#define NETFW_RUNTIME_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

typedef struct netfw_server netfw_server;
typedef struct netfw__relay netfw__relay;

/* ---- worker processes by slot and generation (slots.c) ---- */

/* How often processes without a pidfd are polled (kernels before 5.3). */
#define NETFW__NO_PIDFD_TICK_MS 50

/* One forked worker process, from its fork until it is reaped and its
 * watch is closed (then it is freed). */
typedef struct netfw__proc {
  pid_t pid;           /* kept after the reap, for the log            */
  int pidfd;           /* -1: none (kernel < 5.3, valgrind): polled   */
  uint32_t gen;        /* the slot's generation it was forked as      */
  uint64_t started_ms; /* netfw__now_ms() at the fork                 */
  int slot;            /* index in the server's slot table            */
  bool watched;        /* watch is initialised (needs uv_close)       */
  bool polled;         /* no usable pidfd: the tick timer reaps it    */
  uv_poll_t watch;     /* on pidfd: readable once the process ended   */
  netfw_server *s;
  struct netfw__wctr *ctr; /* its counter block (runtime/metrics); NULL:
                              none was free, it counts privately         */
} netfw__proc;

/* Draining workers a slot can hold beside its current one: a reload starts
 * generation g+1 while g finishes its connections. */
#define NETFW__SLOT_OLD 4

/* One worker slot: the worker that serves for it now and older generations
 * still draining. The shared load record of the slot (netfw__slot_load)
 * describes cur. Only a death of cur is replaced. */
typedef struct netfw__slot {
  int listen_fd;                     /* the socket this slot's workers use */
  uint32_t gen;                      /* newest generation forked here      */
  netfw__proc *cur;                  /* NULL while no worker serves        */
  netfw__proc *old[NETFW__SLOT_OLD]; /* older generations, draining        */
} netfw__slot;

/* Makes p (forked, not yet in a slot) the current worker of sl, as its next
 * generation, which it returns. sl must have no current worker. */
uint32_t netfw__slot_install(netfw__slot *sl, netfw__proc *p);

/* Moves the current worker of sl to its draining list so that a new
 * generation can take its place (a reload's first step). Returns false, and
 * changes nothing, when sl has no current worker or the list is full. */
bool netfw__slot_retire(netfw__slot *sl);

/* Makes p, a draining generation of sl, its current worker again (a
 * reload whose new generation failed); the current one, if any, takes p's
 * place among the draining. Returns false, changing nothing, when p is not
 * draining in sl. */
bool netfw__slot_reinstate(netfw__slot *sl, netfw__proc *p);

/* Takes p out of sl. Returns true when p was the current worker (its death
 * is replaced), false for an older generation or a p not in sl. */
bool netfw__slot_remove(netfw__slot *sl, const netfw__proc *p);

/* Stores the processes of sl (current first) in out, which has room for
 * 1 + NETFW__SLOT_OLD, and returns how many. */
int netfw__slot_procs(const netfw__slot *sl, netfw__proc **out);

/* Forks a worker as the new current one of slot i and starts watching it on
 * the supervisor's loop. ready_fd: the start pipe (-1 for a respawn).
 * Returns 0 or NETFW_ESYS / NETFW_ENOMEM (errno kept). */
int netfw__proc_spawn(netfw_server *s, int i, int ready_fd);

/* Sends sig to every process of every slot; returns how many there are. */
int netfw__procs_kill(netfw_server *s, int sig);

/* Returns how many processes the slots hold (current and draining). */
int netfw__procs_count(netfw_server *s);

/* Waits for every process of every slot to end (blocking), takes each out
 * of its slot and releases it. For a start that failed. */
void netfw__procs_reap_blocking(netfw_server *s);

/* Releases a reaped process taken out of its slot: its watch is closed, its
 * pidfd too, and it is freed once the loop has let go of it. */
void netfw__proc_release(netfw__proc *p);

/* Reaps, without blocking, each polled process (no pidfd) that ended and
 * hands it to netfw__supervisor_exited. Returns how many are still polled. */
int netfw__procs_poll(netfw_server *s);

/* ---- the supervisor (supervisor.c) ---- */

/* Called by slots.c on the supervisor thread for a reaped process, still in
 * its slot; status as waitpid gives it, -1 when unknown. The callee takes
 * it out of its slot and releases it. */
void netfw__supervisor_exited(netfw_server *s, netfw__proc *p, int status);

/* ---- the command channel (command.c) ---- */

/* What another thread of the parent can ask of the supervisor. */
typedef enum netfw__cmd_kind {
  NETFW__CMD_STOP = 1, /* stop every worker: SIGTERM, SIGKILL at timeout_ms */
  NETFW__CMD_RELOAD,   /* rolling restart, one slot at a time (reload.c)   */
  NETFW__CMD_STATS,    /* a netfw_stats snapshot (runtime/metrics)         */
  NETFW__CMD_TLS_RELOAD /* new forks get tls; every worker gets SIGHUP    */
} netfw__cmd_kind;

/* One command, owned by the caller (on its stack) until it is answered. */
typedef struct netfw__cmd {
  netfw__cmd_kind kind;
  int timeout_ms;          /* STOP: SIGKILL what is left then; -1: never */
  struct netfw__tls_ctx *tls; /* TLS_RELOAD: the new context (taken);
                              RELOAD: taken (set NULL) once swapped in */
  int sys_errno;           /* RELOAD: errno with a NETFW_ESYS result    */
  struct netfw_stats *stats; /* STATS: filled (the caller's)            */
  int result;              /* the answer: 0 or a NETFW_E* code          */
  bool done;               /* guarded by mu: result is set              */
  struct netfw__cmd *next; /* guarded by mu: the queue                  */
} netfw__cmd;

/* The supervisor's loop and state, inside the server. */
typedef struct netfw__sup {
  uv_loop_t loop;
  uv_async_t wake;   /* a command was queued                         */
  uv_timer_t tick;   /* reaps processes without a pidfd every 50 ms  */
  uv_timer_t retry;  /* forks again after a failed fork              */
  uv_timer_t kill;   /* the stop deadline: SIGKILL what is left      */
  uv_timer_t watchdog; /* WATCHDOG=1 to systemd (notify.c)           */
  bool loop_open;    /* loop and handles initialised                 */
  bool open;         /* guarded by mu: commands are taken            */
  netfw__cmd *queue; /* guarded by mu: commands not yet taken        */
  netfw__cmd *stop;  /* the stop in progress, answered once all end  */
  int early_deaths;  /* consecutive deaths soon after a fork         */
  bool respawn_off;  /* crash loop detected                          */
  bool joined;       /* the thread was joined                        */
  netfw__relay *relay; /* the bus relay (runtime/bus), on this loop   */
  struct netfw__reload *reload; /* the reload under way, or NULL      */
} netfw__sup;

/* Queues cmd for the supervisor and waits for its answer, which it
 * returns: 0 or a NETFW_E* code (NETFW_ESTATE when the supervisor no longer
 * takes commands or a stop is already under way, NETFW_ENOSYS for a command
 * it does not implement). Any thread of the parent but the supervisor's. */
int netfw__supervisor_call(netfw_server *s, netfw__cmd *cmd);

/* Opens the channel (the loop runs from now on). Supervisor thread. */
void netfw__channel_open(netfw_server *s);

/* Closes the channel: later calls get NETFW_ESTATE and so do the commands
 * still queued. Supervisor thread, before its loop ends. */
void netfw__channel_close(netfw_server *s);

/* Answers cmd (wakes its caller; cmd is not touched afterwards). */
void netfw__channel_answer(netfw_server *s, netfw__cmd *cmd, int result);

/* The async callback: takes the queued commands, oldest first, and hands
 * each to netfw__supervisor_run. */
void netfw__channel_wake(uv_async_t *h);

/* Carries out one command on the supervisor thread; it must be answered
 * (now, or later for a stop). Implemented by supervisor.c. */
void netfw__supervisor_run(netfw_server *s, netfw__cmd *cmd);

/* ---- the rolling restart (reload.c), on the supervisor thread ---- */

/* Starts a reload command: the slots are replaced one at a time, and cmd
 * is answered once every slot's new worker accepts, or at the first
 * failure (the old worker then keeps serving that slot). */
void netfw__reload_begin(netfw_server *s, netfw__cmd *cmd);

/* p ended: when it is the reload's new worker, not ready yet, the reload
 * fails (answered NETFW_ESYS, errno ECHILD) and the old worker is the
 * slot's current one again; p is then a draining generation. */
void netfw__reload_proc_ended(netfw_server *s, const netfw__proc *p);

/* Ends the reload under way, if any, answering it err (a stop, a crash
 * loop): its new worker, not ready yet, is killed and the old one kept. */
void netfw__reload_abort(netfw_server *s, int err);

#endif /* NETFW_RUNTIME_SUPERVISOR_H */
