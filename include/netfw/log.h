/* netfw — logging.
 *
 * Lines look like netframe's: "[pid] LEVEL: message". The threshold comes from
 * the NETFW_LOG_LEVEL environment variable (error, warn, info, debug, or 0-3;
 * default info) unless netfw_log_set_level() was called. By default lines go
 * to stderr; netfw_log_set_sink() sends them anywhere else. Safe to call from
 * any thread; the sink may be called from netfw's own threads. */
#ifndef NETFW_LOG_H
#define NETFW_LOG_H

#include "netfw/export.h"

typedef enum netfw_log_level {
  NETFW_LOG_ERROR = 0,
  NETFW_LOG_WARN = 1,
  NETFW_LOG_INFO = 2,
  NETFW_LOG_DEBUG = 3
} netfw_log_level;

/* Receives one finished line, without a trailing newline. */
typedef void (*netfw_log_sink)(netfw_log_level level, const char *line,
                               void *arg);

/* Sets the threshold: messages above it are dropped. Overrides the env var. */
NETFW_EXTERN void netfw_log_set_level(netfw_log_level level);

/* Returns the current threshold (reading NETFW_LOG_LEVEL on first use). */
NETFW_EXTERN netfw_log_level netfw_log_get_level(void);

/* Installs a sink (NULL restores the stderr default). arg is passed back. */
NETFW_EXTERN void netfw_log_set_sink(netfw_log_sink sink, void *arg);

/* Formats and emits a line at the given level if it passes the threshold. */
NETFW_EXTERN void netfw_log(netfw_log_level level, const char *fmt, ...)
    NETFW_PRINTF(2, 3);

/* Returns "ERROR", "WARN", "INFO" or "DEBUG" (static storage). */
NETFW_EXTERN const char *netfw_log_level_name(netfw_log_level level);

#endif /* NETFW_LOG_H */
