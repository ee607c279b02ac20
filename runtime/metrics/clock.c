/* The tick clock of handler times: the CPU's time-stamp counter where the
 * kernel trusts it as its own clocksource (then it is invariant and the same
 * on every CPU), calibrated once against CLOCK_MONOTONIC; CLOCK_MONOTONIC in
 * nanoseconds elsewhere. Reading the counter costs a third of a vDSO
 * clock_gettime, which matters at one read per message. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

const uint64_t netfw_stats_bucket_ns[NETFW_STATS_BUCKETS] = {
    1000,      2500,      5000,      10000,     25000,
    50000,     100000,    250000,    500000,    1000000,
    2500000,   5000000,   10000000,  25000000,  50000000,
    100000000, 250000000, 500000000, 1000000000};

uint64_t netfw__metrics_mono_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The time-stamp counter (0 where there is none). */
static uint64_t tsc_now(void) {
#if HAVE_TSC
  return __rdtsc();
#else
  return 0;
#endif
}

/* True when the kernel keeps time with the time-stamp counter. */
static bool kernel_uses_tsc(void) {
  char buf[32] = "";
  FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/"
                  "current_clocksource",
                  "re");

  if (f == NULL)
    return false;
  if (fgets(buf, sizeof(buf), f) == NULL)
    buf[0] = '\0';
  fclose(f);
  return strncmp(buf, "tsc", 3) == 0 && (buf[3] == '\n' || buf[3] == '\0');
}

/* Nanoseconds per tick, measured over ~5 ms of CLOCK_MONOTONIC; 0 when the
 * counter does not move forward. */
static double calibrate(void) {
  struct timespec pause = {0, 5000000};
  uint64_t n0 = netfw__metrics_mono_ns(), t0 = tsc_now(), n1, t1;

  nanosleep(&pause, NULL);
  n1 = netfw__metrics_mono_ns();
  t1 = tsc_now();
  if (t1 <= t0 || n1 <= n0)
    return 0;
  return (double)(n1 - n0) / (double)(t1 - t0);
}

void netfw__metrics_clock_init(netfw__metrics *m) {
  int i;

  m->tsc = false;
  m->ns_per_tick = 1.0;
  if (HAVE_TSC && kernel_uses_tsc()) {
    double r = calibrate();
    if (r > 0) {
      m->tsc = true;
      m->ns_per_tick = r;
    }
  }
  for (i = 0; i < NETFW_STATS_BUCKETS; i++)
    m->bucket_ticks[i] =
        (uint64_t)((double)netfw_stats_bucket_ns[i] / m->ns_per_tick);
}

uint64_t netfw__metrics_ns(const netfw__metrics *m, uint64_t ticks) {
  return m->tsc ? (uint64_t)((double)ticks * m->ns_per_tick) : ticks;
}
