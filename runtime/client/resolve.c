/* Name lookup within the connect timeout. getaddrinfo cannot be given a
 * deadline, so a name is looked up on a detached helper thread while the
 * dialing thread waits for it with a timed wait on the monotonic clock.
 * The two share a reference-counted block: when the deadline passes first,
 * connect returns NETFW_ETIMEDOUT and the helper, finishing later, frees
 * the block and its result itself. A numeric address needs no lookup. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client_internal.h"
#include "clock.h"
#include "netfw/error.h"

int (*netfw__client_getaddrinfo)(const char *host, const char *service,
                                 const struct addrinfo *hints,
                                 struct addrinfo **res) = getaddrinfo;

typedef struct lookup {
  pthread_mutex_t lock;
  pthread_cond_t done_cv; /* monotonic */
  int refs;               /* the dialer and the helper: 2, then 1, then 0 */
  bool done;
  int rc;               /* getaddrinfo's                                */
  int err;              /* errno, for EAI_SYSTEM                        */
  struct addrinfo *res; /* until the dialer takes it                    */
  struct addrinfo hints;
  char service[8];
  char host[];
} lookup;

/* Drops one reference (lock not held); the last frees the block and a
 * result nobody took. */
static void lookup_unref(lookup *l) {
  bool last;

  pthread_mutex_lock(&l->lock);
  last = --l->refs == 0;
  pthread_mutex_unlock(&l->lock);
  if (!last)
    return;
  if (l->res != NULL)
    freeaddrinfo(l->res);
  pthread_cond_destroy(&l->done_cv);
  pthread_mutex_destroy(&l->lock);
  free(l);
}

/* The helper thread: one getaddrinfo, then the result into the block. */
static void *lookup_main(void *arg) {
  lookup *l = arg;
  struct addrinfo *res = NULL;
  int rc = netfw__client_getaddrinfo(l->host, l->service, &l->hints, &res);
  int err = errno;

  pthread_mutex_lock(&l->lock);
  l->rc = rc;
  l->err = err;
  l->res = res;
  l->done = true;
  pthread_cond_signal(&l->done_cv);
  pthread_mutex_unlock(&l->lock);
  lookup_unref(l);
  return NULL;
}

/* Maps getaddrinfo's result (err: its errno) to a NETFW_E* code. */
static int map_gai(int rc, int err) {
  if (rc == 0)
    return 0;
  if (rc == EAI_MEMORY)
    return NETFW_ENOMEM;
  if (rc == EAI_SYSTEM) {
    errno = err;
    return NETFW_ESYS;
  }
  return NETFW_EADDRINFO;
}

/* A block for host (lock, condition, two references). NULL: no memory. */
static lookup *lookup_new(const char *host, const struct addrinfo *hints,
                          const char *service) {
  size_t n = strlen(host) + 1;
  lookup *l = calloc(1, sizeof(*l) + n);

  if (l == NULL)
    return NULL;
  if (pthread_mutex_init(&l->lock, NULL) != 0) {
    free(l);
    return NULL;
  }
  if (netfw__cond_init_monotonic(&l->done_cv) != 0) {
    pthread_mutex_destroy(&l->lock);
    free(l);
    return NULL;
  }
  l->refs = 2;
  l->hints = *hints;
  memcpy(l->host, host, n);
  snprintf(l->service, sizeof(l->service), "%s", service);
  return l;
}

/* Starts the detached helper with every signal blocked. Returns 0 or the
 * pthread_create error. */
static int lookup_start(lookup *l) {
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_t t;
  int rc;

  if ((rc = pthread_attr_init(&attr)) != 0)
    return rc;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(&t, &attr, lookup_main, l);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  return rc;
}

/* Runs the lookup on the helper and waits for it until deadline. */
static int lookup_by(const char *host, const struct addrinfo *hints,
                     const char *service, int64_t deadline,
                     struct addrinfo **res) {
  lookup *l = lookup_new(host, hints, service);
  struct timespec ts;
  int rc;

  if (l == NULL)
    return NETFW_ENOMEM;
  if ((rc = lookup_start(l)) != 0) {
    l->refs = 1; /* never shared: this reference is the last */
    lookup_unref(l);
    errno = rc;
    return rc == EAGAIN ? NETFW_ENOMEM : NETFW_ESYS;
  }
  ts.tv_sec = (time_t)(deadline / 1000);
  ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
  pthread_mutex_lock(&l->lock);
  while (!l->done &&
         pthread_cond_timedwait(&l->done_cv, &l->lock, &ts) != ETIMEDOUT)
    ;
  rc = l->done ? map_gai(l->rc, l->err) : NETFW_ETIMEDOUT;
  if (l->done && l->rc == 0) {
    *res = l->res;
    l->res = NULL;
  }
  pthread_mutex_unlock(&l->lock);
  lookup_unref(l);
  return rc;
}

int netfw__client_resolve(const char *host, uint16_t port, int64_t deadline,
                          struct addrinfo **res) {
  struct addrinfo hints;
  char service[8];
  int rc;

  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST;
  snprintf(service, sizeof(service), "%u", (unsigned)port);
  if (getaddrinfo(host, service, &hints, res) == 0)
    return 0; /* a numeric address: no lookup, never blocks */
  hints.ai_flags = AI_NUMERICSERV;
  if (deadline < 0) {
    rc = netfw__client_getaddrinfo(host, service, &hints, res);
    return map_gai(rc, errno);
  }
  if ((int64_t)netfw__now_ms() >= deadline)
    return NETFW_ETIMEDOUT;
  return lookup_by(host, &hints, service, deadline, res);
}
