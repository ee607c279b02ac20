/* The async client's reconnecting (netfw/link.h): the n-th wait in a row
 * is uniformly random in [d/2, d], d = min(max_ms, initial_ms * 2^n)
 * ("equal jitter"), from a xorshift64 seeded with the clock and the
 * client's address, so clients started together spread out. */
#include <stdint.h>

#include "aclient.h"
#include "netfw/error.h"
#include "netfw/log.h"

void netfw__abackoff_init(netfw_aclient *a) {
  uint64_t x = uv_hrtime() ^ ((uint64_t)(uintptr_t)a * 0x9E3779B97F4A7C15u);

  a->rng = x != 0 ? x : 0x2545F4914F6CDD1Du;
}

/* The next pseudo-random number (xorshift64). */
static uint64_t next_random(netfw_aclient *a) {
  uint64_t x = a->rng;

  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return a->rng = x;
}

uint64_t netfw__abackoff_wait(netfw_aclient *a, int n) {
  uint64_t d = (uint64_t)a->cfg.reconnect.initial_ms;
  uint64_t max = (uint64_t)a->cfg.reconnect.max_ms;
  uint64_t lo;

  while (n-- > 0 && d < max)
    d *= 2;
  if (d > max)
    d = max;
  lo = d / 2;
  return lo + next_random(a) % (d - lo + 1);
}

static void on_retry(uv_timer_t *t) {
  netfw_aclient *a = t->data;

  if (a->closing || a->state != NETFW_LINK_DOWN || a->s_open)
    return;
  netfw__aclient_report(a, NETFW_LINK_CONNECTING, 0);
  if (netfw__adial_start(a) != 0) {
    netfw__aclient_set_error(a, "out of memory starting a dial");
    netfw__aconn_dial_failed(a, NETFW_ENOMEM);
  }
}

void netfw__abackoff_schedule(netfw_aclient *a) {
  const netfw_reconnect *r = &a->cfg.reconnect;
  uint64_t wait;

  if (a->closing || r->initial_ms <= 0 || a->host == NULL)
    return;
  if (r->max_attempts > 0 && a->attempts >= r->max_attempts) {
    netfw_log(NETFW_LOG_WARN, "aclient: %s:%u: %d dials failed, staying down",
              a->host, (unsigned)a->port, a->attempts);
    return;
  }
  wait = netfw__abackoff_wait(a, a->attempts);
  a->attempts++;
  uv_timer_start(&a->retry, on_retry, wait, 0);
}
