/* Logging: "[pid] LEVEL: message" lines to stderr or a user sink. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "netfw/log.h"

/* -1 until the first use reads NETFW_LOG_LEVEL. */
static atomic_int threshold = -1;

/* The sink and its argument change together; a reader sees one pair. */
typedef struct sink_pair {
  netfw_log_sink fn;
  void *arg;
} sink_pair;
static _Atomic(sink_pair *) current_sink;
static sink_pair sink_slots[2];
static atomic_int sink_slot;

static int level_from_env(void) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  const char *v = getenv("NETFW_LOG_LEVEL");
  int i;

  if (v == NULL || *v == '\0')
    return NETFW_LOG_INFO;
  for (i = 0; i < 4; i++)
    if (strcasecmp(v, names[i]) == 0 || (v[0] == '0' + i && v[1] == '\0'))
      return i;
  if (strcasecmp(v, "warning") == 0)
    return NETFW_LOG_WARN;
  return NETFW_LOG_INFO;
}

void netfw_log_set_level(netfw_log_level level) {
  atomic_store(&threshold, (int)level);
}

netfw_log_level netfw_log_get_level(void) {
  int t = atomic_load(&threshold);
  if (t < 0) {
    t = level_from_env();
    atomic_store(&threshold, t);
  }
  return (netfw_log_level)t;
}

/* Alternates between two slots so a concurrent reader never sees a half
 * written pair; sinks are meant to be set at start-up, not raced. */
void netfw_log_set_sink(netfw_log_sink sink, void *arg) {
  sink_pair *slot;

  if (sink == NULL) {
    atomic_store(&current_sink, NULL);
    return;
  }
  slot = &sink_slots[atomic_fetch_xor(&sink_slot, 1) & 1];
  slot->fn = sink;
  slot->arg = arg;
  atomic_store(&current_sink, slot);
}

const char *netfw_log_level_name(netfw_log_level level) {
  switch (level) {
  case NETFW_LOG_ERROR:
    return "ERROR";
  case NETFW_LOG_WARN:
    return "WARN";
  case NETFW_LOG_INFO:
    return "INFO";
  case NETFW_LOG_DEBUG:
    return "DEBUG";
  }
  return "?";
}

void netfw_log(netfw_log_level level, const char *fmt, ...) {
  char line[1024];
  int n;
  va_list ap;
  sink_pair *sink;

  if ((int)level > (int)netfw_log_get_level())
    return;
  n = snprintf(line, sizeof(line), "[%ld] %s: ", (long)getpid(),
               netfw_log_level_name(level));
  if (n < 0 || (size_t)n >= sizeof(line))
    return;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
  va_end(ap);
  sink = atomic_load(&current_sink);
  if (sink != NULL) {
    sink->fn(level, line, sink->arg);
    return;
  }
  /* One fprintf per line keeps lines from different processes whole. */
  fprintf(stderr, "%s\n", line);
}
