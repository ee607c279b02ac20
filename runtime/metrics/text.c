/* Growing text buffers for the exposition and the HTTP bodies. */
#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfw/error.h"

/* Makes room for n more bytes and a NUL after them. Returns false (and sets
 * failed) when it cannot. Doubling keeps appends amortised O(1). */
static bool reserve(netfw__text *t, size_t n) {
  size_t want, cap;
  char *buf;

  if (t->failed)
    return false;
  if (n > SIZE_MAX / 2 - t->len - 1) {
    t->failed = true;
    return false;
  }
  want = t->len + n + 1;
  if (want <= t->cap)
    return true;
  cap = t->cap < 256 ? 256 : t->cap;
  while (cap < want)
    cap *= 2;
  if ((buf = realloc(t->buf, cap)) == NULL) {
    t->failed = true;
    return false;
  }
  t->buf = buf;
  t->cap = cap;
  return true;
}

int netfw__text_append(netfw__text *t, const char *s, size_t n) {
  if (!reserve(t, n))
    return NETFW_ENOMEM;
  if (n > 0)
    memcpy(t->buf + t->len, s, n);
  t->len += n;
  t->buf[t->len] = '\0';
  return 0;
}

int netfw__text_puts(netfw__text *t, const char *s) {
  return netfw__text_append(t, s, strlen(s));
}

int netfw__text_printf(netfw__text *t, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(t, (size_t)n)) {
    t->failed = true;
    return NETFW_ENOMEM;
  }
  va_start(ap, fmt);
  vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
  return 0;
}

int netfw__text_label(netfw__text *t, const char *s) {
  const char *run = s;

  for (; *s != '\0'; s++) {
    const char *esc = *s == '\\'   ? "\\\\"
                      : *s == '"'  ? "\\\""
                      : *s == '\n' ? "\\n"
                                   : NULL;
    if (esc == NULL)
      continue;
    netfw__text_append(t, run, (size_t)(s - run));
    netfw__text_append(t, esc, 2);
    run = s + 1;
  }
  netfw__text_append(t, run, (size_t)(s - run));
  return t->failed ? NETFW_ENOMEM : 0;
}

void netfw__text_free(netfw__text *t) {
  free(t->buf);
  memset(t, 0, sizeof(*t));
}
