/* Logging: "[pid] LEVEL: message" lines or JSON objects (jansson), to stderr
 * or a user sink. See include/netfw/log.h and docs/logging.md. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log_internal.h"
#include "netfw/codec.h"
#include "netfw/log.h"

/* Bounds. A message is cut at MSG_MAX - 1 bytes and a text line (header
 * included) at TEXT_MAX - 1, as they always were; a JSON line, newline
 * included, fits in LINE_MAX_BYTES = PIPE_BUF, so one write(2) of it to a
 * pipe shared by all the workers is never interleaved with another. */
#define MSG_MAX 1024
#define TEXT_MAX 1024
#define PEER_MAX 192 /* the peer in a JSON line, after cleaning */
#define LINE_MAX_BYTES 4096
_Static_assert(LINE_MAX_BYTES <= PIPE_BUF, "a line must fit in PIPE_BUF");
_Static_assert(TEXT_MAX <= LINE_MAX_BYTES, "text lines share the buffer");

/* -1 until the first use reads NETFW_LOG_LEVEL / NETFW_LOG_FORMAT. */
static atomic_int threshold = -1;
static atomic_int format = -1;

/* The sink and its argument change together; a reader sees one pair. */
typedef struct sink_pair {
  netfw_log_sink fn;
  void *arg;
} sink_pair;
static _Atomic(sink_pair *) current_sink;
static sink_pair sink_slots[2];
static atomic_int sink_slot;

static const char *const level_lower[] = {"error", "warn", "info", "debug"};

/* Returns "error" ... "debug", or "?" for a value outside the enum. */
static const char *level_lower_name(netfw_log_level level) {
  return (unsigned)level < 4 ? level_lower[level] : "?";
}

/* ---- the environment ---- */

/* Reads NETFW_LOG_LEVEL: the level it names, info when unset or empty.
 * *bad is set to the value when it names no level (info is used). */
static int level_from_env(const char **bad) {
  const char *v = getenv("NETFW_LOG_LEVEL");
  int i;

  *bad = NULL;
  if (v == NULL || *v == '\0')
    return NETFW_LOG_INFO;
  for (i = 0; i < 4; i++)
    if (strcasecmp(v, level_lower[i]) == 0 || (v[0] == '0' + i && v[1] == '\0'))
      return i;
  if (strcasecmp(v, "warning") == 0)
    return NETFW_LOG_WARN;
  *bad = v;
  return NETFW_LOG_INFO;
}

/* Reads NETFW_LOG_FORMAT: json or text (the default, also for an unknown
 * value, which is left in *bad). */
static int format_from_env(const char **bad) {
  const char *v = getenv("NETFW_LOG_FORMAT");

  *bad = NULL;
  if (v == NULL || *v == '\0' || strcasecmp(v, "text") == 0)
    return NETFW_LOG_TEXT;
  if (strcasecmp(v, "json") == 0)
    return NETFW_LOG_JSON;
  *bad = v;
  return NETFW_LOG_TEXT;
}

/* Settles *slot from the environment if nobody set it yet; returns its
 * value. Only the thread that settles it sees *bad, so the caller reports
 * a bad value once; it reports after the store, so the report's own
 * netfw_log finds the value settled. */
static int settle(atomic_int *slot, int (*from_env)(const char **),
                  const char **bad) {
  int unset = -1;
  int v = from_env(bad);

  if (!atomic_compare_exchange_strong(slot, &unset, v)) {
    *bad = NULL;
    return unset; /* set meanwhile, by the API or another thread */
  }
  return v;
}

void netfw_log_set_level(netfw_log_level level) {
  atomic_store(&threshold, (int)level);
}

netfw_log_level netfw_log_get_level(void) {
  const char *bad;
  int t = atomic_load(&threshold);

  if (t >= 0)
    return (netfw_log_level)t;
  t = settle(&threshold, level_from_env, &bad);
  if (bad != NULL)
    netfw_log(NETFW_LOG_WARN,
              "NETFW_LOG_LEVEL=\"%.64s\" is not a log level (error, warn, "
              "info, debug or 0-3); using info",
              bad);
  return (netfw_log_level)t;
}

void netfw_log_set_format(netfw_log_format f) {
  if (f == NETFW_LOG_TEXT || f == NETFW_LOG_JSON)
    atomic_store(&format, (int)f);
}

netfw_log_format netfw_log_get_format(void) {
  const char *bad;
  int f = atomic_load(&format);

  if (f >= 0)
    return (netfw_log_format)f;
  f = settle(&format, format_from_env, &bad);
  if (bad != NULL)
    netfw_log(NETFW_LOG_WARN,
              "NETFW_LOG_FORMAT=\"%.64s\" is not a log format (text, json); "
              "using text",
              bad);
  return (netfw_log_format)f;
}

void netfw__log_settle(void) {
  (void)netfw_log_get_level();
  (void)netfw_log_get_format();
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

/* ---- UTF-8 for JSON ---- */

/* Length (1-4) of the valid UTF-8 sequence at p, avail bytes readable, or 0
 * when none starts there (RFC 3629: no overlong forms, surrogates or code
 * points past U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
  unsigned char c = p[0], lo = 0x80, hi = 0xbf;
  size_t n, i;

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    lo = c == 0xe0 ? 0xa0 : 0x80;
    hi = c == 0xed ? 0x9f : 0xbf;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    lo = c == 0xf0 ? 0x90 : 0x80;
    hi = c == 0xf4 ? 0x8f : 0xbf;
  } else {
    return 0;
  }
  if (avail < n || p[1] < lo || p[1] > hi)
    return 0;
  for (i = 2; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

/* Copies src (len bytes) into dst (cap bytes) as valid UTF-8, each byte
 * that starts no valid sequence replaced by U+FFFD; stops before a
 * character that would not fit. Returns the bytes written. Cost: O(len). */
static size_t utf8_clean(const char *src, size_t len, char *dst, size_t cap) {
  static const char fffd[] = "\xef\xbf\xbd";
  const unsigned char *p = (const unsigned char *)src;
  size_t i = 0, o = 0;

  while (i < len) {
    size_t n = utf8_seq(p + i, len - i);
    const char *from = n > 0 ? src + i : fffd;
    size_t k = n > 0 ? n : 3;
    if (o + k > cap)
      break;
    memcpy(dst + o, from, k);
    o += k;
    i += n > 0 ? n : 1;
  }
  return o;
}

/* Whether a prefix of n bytes of s (len bytes) ends between characters. */
static bool utf8_boundary(const char *s, size_t len, size_t n) {
  return n == 0 || n >= len || ((unsigned char)s[n] & 0xc0) != 0x80;
}

/* ---- building a line ---- */

/* Writes the current time as RFC 3339 UTC with microseconds
 * ("2026-11-29T06:10:00.123456Z") into buf. */
static void rfc3339_now(char *buf, size_t cap) {
  struct timespec ts;
  struct tm tm;
  size_t n;

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, cap - n, ".%06ldZ", (long)(ts.tv_nsec / 1000));
}

/* The line's object: time, pid, level, msg, then peer when there is one
 * (jansson keeps insertion order). Returns NULL when jansson is out of
 * memory. */
static json_t *json_record(netfw_log_level level, const char *peer,
                           const char *msg, size_t msg_len) {
  char when[48], cpeer[PEER_MAX];
  json_t *o = json_object();
  int err;

  if (o == NULL)
    return NULL;
  rfc3339_now(when, sizeof(when));
  err = json_object_set_new(o, "time", json_string(when));
  err |= json_object_set_new(o, "pid", json_integer((json_int_t)getpid()));
  err |= json_object_set_new(o, "level", json_string(level_lower_name(level)));
  err |= json_object_set_new(o, "msg", json_stringn(msg, msg_len));
  if (peer != NULL) {
    size_t n = utf8_clean(peer, strlen(peer), cpeer, sizeof(cpeer));
    err |= json_object_set_new(o, "peer", json_stringn(cpeer, n));
  }
  if (err != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Dumps o into out (cap bytes); returns the length the line needs (may
 * exceed cap - 1: then out holds a cut copy), 0 when jansson failed. */
static size_t dump(json_t *o, char *out, size_t cap) {
  return json_dumpb(o, out, cap - 1, JSON_COMPACT);
}

/* Sets "msg" to the longest prefix of m (len bytes, valid UTF-8, cut at a
 * character boundary) whose line fits cap - 1 bytes, and dumps it into
 * out. The line only grows with the prefix: a binary search, about ten
 * dumps, for messages that escaping makes too long (a control byte takes
 * six). Returns the line's length, 0 when even an empty msg does not fit
 * or jansson failed. */
static size_t dump_cut(json_t *o, char *out, size_t cap, const char *m,
                       size_t len) {
  size_t lo = 0, hi = len, n;

  /* lo and hi are boundaries; prefix lo fits (lo = 0 checked at the end),
   * none longer than hi does. */
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    while (!utf8_boundary(m, len, mid)) /* up: some boundary <= hi */
      mid++;
    if (json_object_set_new(o, "msg", json_stringn(m, mid)) != 0)
      return 0;
    n = dump(o, out, cap);
    if (n == 0)
      return 0;
    if (n <= cap - 1) {
      lo = mid;
    } else {
      hi = mid - 1;
      while (!utf8_boundary(m, len, hi)) /* down: some boundary >= lo */
        hi--;
    }
  }
  if (json_object_set_new(o, "msg", json_stringn(m, lo)) != 0)
    return 0;
  n = dump(o, out, cap);
  return n <= cap - 1 ? n : 0;
}

/* Writes the JSON line into out (cap bytes, NUL-terminated); returns its
 * length, or 0 when jansson failed (out of memory). A message too long for
 * the line once escaped is cut (dump_cut). */
static size_t json_line(char *out, size_t cap, netfw_log_level level,
                        const char *peer, const char *msg) {
  char clean[(MSG_MAX - 1) * 3];
  size_t len = strlen(msg), n;
  const char *m = msg;
  json_t *o;

  if (!netfw_utf8_check(msg, len)) {
    len = utf8_clean(msg, len, clean, sizeof(clean));
    m = clean;
  }
  o = json_record(level, peer, m, len);
  if (o == NULL)
    return 0;
  n = dump(o, out, cap);
  if (n > cap - 1)
    n = dump_cut(o, out, cap, m, len);
  json_decref(o);
  if (n == 0)
    return 0;
  out[n] = '\0';
  return n;
}

/* Writes "[pid] LEVEL: [peer: ]msg" into out, cut to fit cap bytes;
 * returns its length. */
static size_t text_line(char *out, size_t cap, netfw_log_level level,
                        const char *peer, const char *msg) {
  int n = snprintf(out, cap, "[%ld] %s: %s%s%s", (long)getpid(),
                   netfw_log_level_name(level), peer != NULL ? peer : "",
                   peer != NULL ? ": " : "", msg);

  if (n < 0) {
    out[0] = '\0';
    return 0;
  }
  return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- emitting ---- */

/* Hands the line to the sink, or writes it and a newline to stderr in one
 * write(2); line has room for the newline at line[len]. */
static void emit(netfw_log_level level, char *line, size_t len) {
  sink_pair *sink = atomic_load(&current_sink);
  size_t off = 0;

  if (sink != NULL) {
    sink->fn(level, line, sink->arg);
    return;
  }
  line[len++] = '\n';
  while (off < len) {
    ssize_t w = write(STDERR_FILENO, line + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break; /* nowhere to log that logging failed */
    off += (size_t)w;
  }
}

/* The one path of every line: threshold, message, format, emit. peer is
 * NULL or the peer's name; peer_in_text says whether a text line shows it
 * (netfw__log_about's messages name it themselves). Keeps errno. */
static NETFW_PRINTF(4, 0) void vlog(netfw_log_level level, const char *peer,
                                    bool peer_in_text, const char *fmt,
                                    va_list ap) {
  char msg[MSG_MAX];
  char line[LINE_MAX_BYTES];
  size_t n = 0;
  int saved = errno;

  if ((int)level > (int)netfw_log_get_level())
    return;
  if (peer != NULL && *peer == '\0')
    peer = NULL;
  if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
    msg[0] = '\0';
  if (netfw_log_get_format() == NETFW_LOG_JSON)
    n = json_line(line, sizeof(line), level, peer, msg);
  if (n == 0) /* text, or JSON failed: never lose the message */
    n = text_line(line, TEXT_MAX, level, peer_in_text ? peer : NULL, msg);
  emit(level, line, n);
  errno = saved;
}

void netfw_log(netfw_log_level level, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vlog(level, NULL, false, fmt, ap);
  va_end(ap);
}

void netfw_log_peer(netfw_log_level level, const char *peer, const char *fmt,
                    ...) {
  va_list ap;

  va_start(ap, fmt);
  vlog(level, peer, true, fmt, ap);
  va_end(ap);
}

void netfw__log_about(netfw_log_level level, const char *peer, const char *fmt,
                      ...) {
  va_list ap;

  va_start(ap, fmt);
  vlog(level, peer, false, fmt, ap);
  va_end(ap);
}
