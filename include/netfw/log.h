/* netfw — logging (docs/logging.md).
 *
 * Two formats. Text (the default) looks like netframe's:
 *   [1234] WARN: message
 *   [1234] WARN: 1.2.3.4:5678: message          (netfw_log_peer)
 * JSON (NETFW_LOG_FORMAT=json, or netfw_log_set_format) is one object a line:
 *   {"time":"2026-11-29T06:10:00.123456Z","pid":1234,"level":"warn",
 *    "msg":"message","peer":"1.2.3.4:5678"}
 * with time in RFC 3339 UTC to the microsecond, level in lower case, and
 * "peer" only on lines about one peer. Messages are cut at 1023 bytes;
 * invalid UTF-8 in them becomes U+FFFD in JSON, so every line parses.
 *
 * The threshold comes from NETFW_LOG_LEVEL (error, warn, info, debug, or
 * 0-3; default info) unless netfw_log_set_level() was called; the format
 * from NETFW_LOG_FORMAT (text or json; default text) unless
 * netfw_log_set_format() was called. Both are read on first use; a value
 * that is none of those is reported once, in a WARN line, and the default
 * is used.
 *
 * By default each line goes to stderr in one write(2) with its newline (at
 * most PIPE_BUF bytes, so lines from several workers sharing a pipe stay
 * whole); netfw_log_set_sink() sends them anywhere else. Safe to call from
 * any thread; the sink may be called from netfw's own threads. errno is
 * left as it was. */
#ifndef NETFW_LOG_H
#define NETFW_LOG_H

#include "netfw/export.h"

typedef enum netfw_log_level {
  NETFW_LOG_ERROR = 0,
  NETFW_LOG_WARN = 1,
  NETFW_LOG_INFO = 2,
  NETFW_LOG_DEBUG = 3
} netfw_log_level;

/* The shape of a line. */
typedef enum netfw_log_format {
  NETFW_LOG_TEXT = 0, /* "[pid] LEVEL: message"          */
  NETFW_LOG_JSON = 1  /* one JSON object, see the top    */
} netfw_log_format;

/* Receives one finished line (text or JSON), without a trailing newline. */
typedef void (*netfw_log_sink)(netfw_log_level level, const char *line,
                               void *arg);

/* Sets the threshold: messages above it are dropped. Overrides the env var. */
NETFW_EXTERN void netfw_log_set_level(netfw_log_level level);

/* Returns the current threshold (reading NETFW_LOG_LEVEL on first use). */
NETFW_EXTERN netfw_log_level netfw_log_get_level(void);

/* Sets the format of the lines that follow; overrides NETFW_LOG_FORMAT.
 * A value that is not a netfw_log_format is ignored. */
NETFW_EXTERN void netfw_log_set_format(netfw_log_format format);

/* Returns the current format (reading NETFW_LOG_FORMAT on first use). */
NETFW_EXTERN netfw_log_format netfw_log_get_format(void);

/* Installs a sink (NULL restores the stderr default). arg is passed back. */
NETFW_EXTERN void netfw_log_set_sink(netfw_log_sink sink, void *arg);

/* Formats and emits a line at the given level if it passes the threshold. */
NETFW_EXTERN void netfw_log(netfw_log_level level, const char *fmt, ...)
    NETFW_PRINTF(2, 3);

/* netfw_log about one peer ("ip:port", or any name; NULL or "": none).
 * Text: "[pid] LEVEL: <peer>: <message>"; JSON: the peer in its own
 * "peer" field and "msg" without it. */
NETFW_EXTERN void netfw_log_peer(netfw_log_level level, const char *peer,
                                 const char *fmt, ...) NETFW_PRINTF(3, 4);

/* Returns "ERROR", "WARN", "INFO" or "DEBUG" (static storage). */
NETFW_EXTERN const char *netfw_log_level_name(netfw_log_level level);

#endif /* NETFW_LOG_H */
