/* netfw-call --stream: a thread reads one request per stdin line and sends
 * it while the main thread prints the replies as they come (the client's
 * send and recv may run in two threads at once). After stdin ends the
 * main thread waits until --timeout ms pass without a reply.
 *
 * A bad line (not JSON, unknown message, fields that do not match) is
 * reported on stderr with its line number and skipped; the lines after it
 * are still sent, and the exit status is 2 at the end. So is a line over
 * the length limit, from a pipe or a file alike: its bytes are discarded
 * up to the next newline.
 *
 * Requests whose message names its replies (`returns`) each expect one:
 * fewer replies (messages some request names) than such requests is
 * status 1. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "call.h"
#include "netfw/error.h"

/* The longest request line accepted (a payload's JSON, base64 and all);
 * the environment's NETFW_CALL_MAX_LINE lowers it (a test hook). */
#define MAX_LINE CALL_MAX_JSON
/* How often the main thread looks whether stdin has ended. */
#define POLL_MS 50

typedef struct stream {
  const call_opts *o;
  const call_schema *s;
  netfw_client *c;
  int stop[2];             /* a byte on stop[1] ends the reader */
  atomic_llong eof_ms;     /* when stdin ended (0: not yet) */
  atomic_int bad_lines;    /* lines refused */
  atomic_bool send_failed; /* the connection refused a send */
  atomic_long asked;       /* requests sent that name their replies */
  char *buf;               /* the reader's bytes not yet split in lines */
  size_t len, cap;
  size_t max_line;         /* MAX_LINE, or NETFW_CALL_MAX_LINE */
  bool skipping;           /* discarding an over-long line's bytes */
} stream;

/* Reads more of stdin into st->buf. Returns >0 bytes read, 0 at the end
 * of stdin, -1 on an error (after a message), -2 when asked to stop. */
static ssize_t read_more(stream *st) {
  struct pollfd p[2] = {{.fd = 0, .events = POLLIN},
                        {.fd = st->stop[0], .events = POLLIN}};
  ssize_t n;

  if (st->cap - st->len < 65536) {
    size_t cap = st->cap ? st->cap * 2 : 131072;
    char *bigger = realloc(st->buf, cap);
    if (bigger == NULL) {
      fprintf(stderr, "netfw-call: out of memory reading stdin\n");
      return -1;
    }
    st->buf = bigger;
    st->cap = cap;
  }
  for (;;) {
    if (poll(p, 2, -1) < 0 && errno != EINTR)
      return -1;
    if (p[1].revents != 0)
      return -2;
    if (p[0].revents == 0)
      continue;
    n = read(0, st->buf + st->len, st->cap - st->len);
    if (n >= 0 || (errno != EINTR && errno != EAGAIN))
      break;
  }
  if (n < 0)
    fprintf(stderr, "netfw-call: cannot read stdin: %s\n", strerror(errno));
  return n;
}

/* Complains about line no: "netfw-call: stdin line N: <what>". */
static void bad_line(stream *st, long no, const char *what) {
  fprintf(stderr, "netfw-call: stdin line %ld: %s\n", no, what);
  atomic_fetch_add(&st->bad_lines, 1);
}

/* The request's message name and fields from the object j; NULL after a
 * complaint. The fields' text is malloc'd into *fields. */
static const char *parse_request(stream *st, long no, json_t *j,
                                 char **fields) {
  json_t *name = json_object_get(j, "message");
  json_t *f = json_object_get(j, "fields");
  const char *key;
  json_t *v;

  json_object_foreach(j, key, v) {
    if (strcmp(key, "message") != 0 && strcmp(key, "fields") != 0) {
      char what[300];
      snprintf(what, sizeof(what),
               "unknown key '%.200s' (a request has \"message\" and "
               "\"fields\")",
               key);
      bad_line(st, no, what);
      return NULL;
    }
  }
  if (!json_is_string(name)) {
    bad_line(st, no, "\"message\" must be a message name (a string)");
    return NULL;
  }
  if (f != NULL && !json_is_object(f) && !json_is_null(f)) {
    bad_line(st, no, "fields: expected an object");
    return NULL;
  }
  *fields = f != NULL && json_is_object(f) ? json_dumps(f, JSON_COMPACT)
                                           : strdup("{}");
  if (*fields == NULL)
    bad_line(st, no, "out of memory");
  return *fields != NULL ? json_string_value(name) : NULL;
}

/* Sends the request on line no (text[0..len)). Returns false once the
 * connection refused it (the main thread reports the loss). */
static bool send_line(stream *st, long no, const char *text, size_t len) {
  json_error_t jerr;
  json_t *j =
      json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
  const netfw_desc_message *m;
  char where[64], *fields = NULL;
  const char *name;
  netfw_msg req;
  bool ok = true;

  snprintf(where, sizeof(where), "stdin line %ld: ", no);
  if (j == NULL || !json_is_object(j)) {
    char what[300];
    if (j == NULL)
      snprintf(what, sizeof(what), "invalid JSON at column %d: %s", jerr.column,
               jerr.text);
    else
      snprintf(what, sizeof(what),
               "expected an object {\"message\":..,\"fields\":..}");
    bad_line(st, no, what);
    json_decref(j);
    return true;
  }
  name = parse_request(st, no, j, &fields);
  m = name != NULL ? call_find_message(st->s, name, where) : NULL;
  if (name != NULL && m == NULL)
    atomic_fetch_add(&st->bad_lines, 1);
  if (m != NULL) {
    netfw_msg_init(&req, m->id);
    if (call_encode(st->s, m, fields, strlen(fields), &req, where) != 0)
      atomic_fetch_add(&st->bad_lines, 1);
    else if ((ok = netfw_client_send(st->c, &req) == 0) && m->nreturns > 0)
      atomic_fetch_add(&st->asked, 1);
    netfw_msg_release(&req);
  }
  free(fields);
  json_decref(j);
  return ok;
}

/* Whether text[0..len) is only blanks (skipped, not an error). */
static bool blank(const char *text, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
      return false;
  return true;
}

/* Complains about the over-long line no. */
static void too_long(stream *st, long no) {
  char what[100];
  snprintf(what, sizeof(what), "longer than %zu bytes (skipped)",
           st->max_line);
  bad_line(st, no, what);
}

/* Sends every whole line in st->buf (the last one too at the end of
 * stdin) and keeps the rest; a line over st->max_line is reported and
 * skipped, the rest of one already reported (st->skipping) dropped. *no
 * counts lines. Returns false once a send failed. */
static bool send_lines(stream *st, long *no, bool at_end) {
  size_t start = 0;
  bool ok = true;

  while (ok && start < st->len) {
    char *nl = memchr(st->buf + start, '\n', st->len - start);
    size_t end = nl != NULL ? (size_t)(nl - st->buf) : st->len;
    if (nl == NULL && !at_end)
      break;
    ++*no;
    if (st->skipping)
      st->skipping = false;
    else if (end - start > st->max_line)
      too_long(st, *no);
    else if (!blank(st->buf + start, end - start))
      ok = send_line(st, *no, st->buf + start, end - start);
    start = nl != NULL ? end + 1 : end;
  }
  memmove(st->buf, st->buf + start, st->len - start);
  st->len -= start;
  if (st->len > st->max_line) { /* a partial line already too long */
    if (!st->skipping)
      too_long(st, *no + 1);
    st->skipping = true;
    st->len = 0;
  }
  return ok;
}

/* The reader thread: stdin lines to requests until stdin ends, a send
 * fails or the main thread stops it. */
static void *reader(void *arg) {
  stream *st = arg;
  long no = 0;

  for (;;) {
    ssize_t n = read_more(st);
    if (n == -2)
      break;
    if (n < 0) { /* as if stdin ended, so the main thread stops */
      atomic_store(&st->eof_ms, (long long)call_now_ms());
      break;
    }
    st->len += (size_t)n;
    if (!send_lines(st, &no, n == 0)) { /* the main thread reports it */
      atomic_store(&st->send_failed, true);
      atomic_store(&st->eof_ms, (long long)call_now_ms());
      break;
    }
    if (n == 0) {
      atomic_store(&st->eof_ms, (long long)call_now_ms());
      break;
    }
  }
  return NULL;
}

/* Whether a message with wire id `id` is one some request of d names as
 * its reply. */
static bool is_reply(const netfw_desc *d, uint16_t id) {
  for (uint32_t i = 0; i < d->nmessages; i++)
    for (uint32_t r = 0; r < d->messages[i].nreturns; r++)
      if (d->messages[d->messages[i].returns[r]].id == id)
        return true;
  return false;
}

/* The main thread's loop: prints replies until stdin has ended and no
 * reply came for --timeout ms, or the connection is lost (also when the
 * reader's send found it lost: reported here). *replies counts the
 * messages some request names. Returns CALL_OK or CALL_FAIL. */
static int print_replies(stream *st, long *replies) {
  int64_t last = 0;
  bool any_bad = false;

  for (;;) {
    int64_t eof = atomic_load(&st->eof_ms), now = call_now_ms();
    int wait = POLL_MS;
    bool bad = false;
    uint16_t id = 0;
    call_wait w;

    if (eof != 0) {
      if (eof > last)
        last = eof;
      if (now - last >= st->o->timeout_ms)
        break;
      if (st->o->timeout_ms - (now - last) < wait)
        wait = (int)(st->o->timeout_ms - (now - last));
    }
    w = call_wait_reply(st->o, st->s, st->c, wait, &bad, &id);
    if (w == CALL_LOST)
      return CALL_FAIL;
    if (w == CALL_GOT_REPLY) {
      last = call_now_ms();
      any_bad |= bad;
      *replies += is_reply(st->s->desc, id);
    }
  }
  if (atomic_load(&st->send_failed)) { /* lost, not noticed by recv yet */
    call_fail(st->o, st->c, NETFW_ECONNRESET);
    return CALL_FAIL;
  }
  return any_bad ? CALL_FAIL : CALL_OK;
}

/* The status once the replies stopped: too few replies for the requests
 * that name theirs is CALL_FAIL (after a message). */
static int count_replies(stream *st, int status, long replies) {
  long asked = atomic_load(&st->asked);
  char peer[300];

  if (status != CALL_OK || replies >= asked)
    return status;
  fprintf(stderr, "netfw-call: %s: %ld of %ld requests got no reply\n",
          call_peer(st->o, peer, sizeof(peer)), asked - replies, asked);
  return CALL_FAIL;
}

/* The line limit: MAX_LINE, or NETFW_CALL_MAX_LINE when it is a smaller
 * positive number (a test hook). */
static size_t max_line(void) {
  const char *env = getenv("NETFW_CALL_MAX_LINE");
  char *end = NULL;
  unsigned long v = env != NULL ? strtoul(env, &end, 10) : 0;

  return v > 0 && v < MAX_LINE && end != NULL && *end == '\0' ? (size_t)v
                                                               : MAX_LINE;
}

int call_stream(const call_opts *o, const call_schema *s) {
  stream st = {.o = o, .s = s, .max_line = max_line()};
  pthread_t t;
  long replies = 0;
  int status;

  atomic_init(&st.eof_ms, 0);
  atomic_init(&st.bad_lines, 0);
  atomic_init(&st.send_failed, false);
  atomic_init(&st.asked, 0);
  if (pipe(st.stop) != 0) {
    fprintf(stderr, "netfw-call: pipe: %s\n", strerror(errno));
    return CALL_FAIL;
  }
  st.c = call_connect(o, &status);
  if (st.c == NULL)
    goto closed;
  if (pthread_create(&t, NULL, reader, &st) != 0) {
    fprintf(stderr, "netfw-call: cannot start the stdin reader\n");
    status = CALL_FAIL;
    goto done;
  }
  status = print_replies(&st, &replies);
  if (write(st.stop[1], "x", 1) != 1)
    fprintf(stderr, "netfw-call: cannot stop the stdin reader\n");
  pthread_join(t, NULL);
  status = count_replies(&st, status, replies);
  if (atomic_load(&st.bad_lines) > 0)
    status = CALL_USAGE;
done:
  call_close(st.c);
closed:
  close(st.stop[0]);
  close(st.stop[1]);
  free(st.buf);
  return status;
}
