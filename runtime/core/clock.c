/* The monotonic clock, for deadlines and timed waits. */
#include "clock.h"

#include <time.h>

uint64_t netfw__now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int netfw__cond_init_monotonic(pthread_cond_t *cv) {
  pthread_condattr_t attr;
  int rc;

  if (pthread_condattr_init(&attr) != 0)
    return -1;
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (rc == 0)
    rc = pthread_cond_init(cv, &attr);
  pthread_condattr_destroy(&attr);
  return rc == 0 ? 0 : -1;
}
