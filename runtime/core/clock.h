/* Time for deadlines and waits (internal): the monotonic clock, which a
 * change of the wall clock cannot stretch or cut. */
#ifndef NETFW_RUNTIME_CLOCK_H
#define NETFW_RUNTIME_CLOCK_H

#include <pthread.h>
#include <stdint.h>

/* Returns CLOCK_MONOTONIC in milliseconds. */
uint64_t netfw__now_ms(void);

/* Initialises cv so that pthread_cond_timedwait deadlines are read on
 * CLOCK_MONOTONIC. Returns 0 or -1. */
int netfw__cond_init_monotonic(pthread_cond_t *cv);

#endif /* NETFW_RUNTIME_CLOCK_H */
