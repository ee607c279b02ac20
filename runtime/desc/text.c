/* The codec's text: a growable buffer, the error path and message, and the
 * JSON form of strings and numbers. The JSON output is written here rather
 * than by jansson's dumper because jansson prints every real with one
 * fixed precision (17 digits: 0.1 becomes 0.10000000000000001) and cannot
 * print an f32 from the float; here each number gets the shortest text
 * that reads back to the same bits, and keys keep the schema's order. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc_internal.h"
#include "real.h"
#include "netfw/error.h"

/* ---- the buffer ---------------------------------------------------------- */

/* Cost: amortised O(n); the capacity doubles. */
uint8_t *netfw__desc_grow(netfw__desc_buf *b, size_t n) {
  if (b->oom)
    return NULL;
  if (n > SIZE_MAX / 2 - b->len) {
    b->oom = true;
    return NULL;
  }
  if (b->len + n > b->cap) {
    size_t cap = b->cap < 64 ? 64 : b->cap;
    uint8_t *p;
    while (cap < b->len + n)
      cap *= 2;
    p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = true;
      return NULL;
    }
    b->p = p;
    b->cap = cap;
  }
  b->len += n;
  return b->p + b->len - n;
}

void netfw__desc_put(netfw__desc_buf *b, const void *s, size_t n) {
  uint8_t *w = netfw__desc_grow(b, n);
  if (w != NULL && n > 0)
    memcpy(w, s, n);
}

void netfw__desc_puts(netfw__desc_buf *b, const char *s) {
  netfw__desc_put(b, s, strlen(s));
}

void netfw__desc_buf_free(netfw__desc_buf *b) {
  free(b->p);
  memset(b, 0, sizeof(*b));
}

/* ---- the error path and message ------------------------------------------ */

NETFW_PRINTF(4, 0)
static int vfail(netfw__desc_ctx *c, int rc, bool path, const char *fmt,
                 va_list ap) {
  int n = 0;
  if (c->err == NULL || c->errlen == 0)
    return rc;
  if (path)
    n = snprintf(c->err, c->errlen, "%.*s: ", (int)c->path.len,
                 c->path.p != NULL ? (const char *)c->path.p : "");
  if (n >= 0 && (size_t)n < c->errlen)
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  return rc;
}

int netfw__desc_fail(netfw__desc_ctx *c, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(c, rc, true, fmt, ap);
  va_end(ap);
  return rc;
}

int netfw__desc_fail_bare(netfw__desc_ctx *c, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(c, rc, false, fmt, ap);
  va_end(ap);
  return rc;
}

/* A path that cannot grow (out of memory) stays short: only the error
 * message loses detail. */
size_t netfw__desc_path_field(netfw__desc_ctx *c, const char *name) {
  size_t mark = c->path.len;
  netfw__desc_put(&c->path, ".", 1);
  netfw__desc_puts(&c->path, name);
  c->path.oom = false;
  return mark;
}

size_t netfw__desc_path_index(netfw__desc_ctx *c, uint64_t i) {
  char x[32];
  size_t mark = c->path.len;
  snprintf(x, sizeof(x), "[%" PRIu64 "]", i);
  netfw__desc_puts(&c->path, x);
  c->path.oom = false;
  return mark;
}

/* ---- JSON strings -------------------------------------------------------- */

/* Escapes what RFC 8259 requires (the quote, the backslash, the control
 * characters); the rest, UTF-8 already checked, goes through as is. */
void netfw__desc_put_jstr(netfw__desc_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  static const char from[] = "\"\\\n\r\t\b\f", to[] = "\"\\nrtbf";
  size_t run = 0;
  netfw__desc_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    const char *named;
    size_t elen = 2;
    if (ch >= 0x20 && ch != '"' && ch != '\\')
      continue;
    netfw__desc_put(b, s + run, i - run);
    run = i + 1;
    if (ch != 0 && (named = memchr(from, ch, sizeof(from) - 1)) != NULL) {
      esc[1] = to[named - from];
    } else {
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[ch >> 4];
      esc[5] = hex[ch & 15];
      elen = 6;
    }
    netfw__desc_put(b, esc, elen);
  }
  netfw__desc_put(b, s + run, n - run);
  netfw__desc_put(b, "\"", 1);
}

/* ---- numbers ------------------------------------------------------------- */

#define EXACT_MAX ((uint64_t)1 << 53) /* integers a double holds exactly */

void netfw__desc_put_int(netfw__desc_buf *b, bool negative, uint64_t mag) {
  char x[32];
  bool quote = mag > EXACT_MAX;
  snprintf(x, sizeof(x), "%s%s%" PRIu64 "%s", quote ? "\"" : "",
           negative && mag > 0 ? "-" : "", mag, quote ? "\"" : "");
  netfw__desc_puts(b, x);
}

/* "NaN", "Infinity" or "-Infinity" for a value that is not finite; false
 * for a finite one. */
static bool put_special(netfw__desc_buf *b, double v) {
  if (isnan(v))
    netfw__desc_puts(b, "\"NaN\"");
  else if (isinf(v))
    netfw__desc_puts(b, v < 0 ? "\"-Infinity\"" : "\"Infinity\"");
  else
    return false;
  return true;
}

void netfw__desc_put_f64(netfw__desc_buf *b, double v) {
  char x[48];
  if (put_special(b, v))
    return;
  netfw__real_text(x, sizeof(x), v, false);
  netfw__desc_puts(b, x);
}

void netfw__desc_put_f32(netfw__desc_buf *b, float v) {
  char x[48];
  if (put_special(b, (double)v))
    return;
  netfw__real_text(x, sizeof(x), (double)v, true);
  netfw__desc_puts(b, x);
}

int netfw__desc_start(netfw__desc_ctx *c, const netfw_desc *d, char *err,
                      size_t errlen, bool args_ok) {
  memset(c, 0, sizeof(*c));
  c->err = err;
  c->errlen = errlen;
  if (err != NULL && errlen > 0)
    err[0] = '\0';
  if (d == NULL || !args_ok)
    return netfw__desc_fail_bare(c, NETFW_EINVAL, "NULL argument");
  if (d->abi != NETFW_DESC_ABI)
    return netfw__desc_fail_bare(c, NETFW_EINVAL,
                                 "descriptor ABI %u, this library reads %d",
                                 (unsigned)d->abi, NETFW_DESC_ABI);
  c->d = d;
  c->be = d->big_endian;
  netfw__desc_puts(&c->path, "fields");
  return 0;
}

void netfw__desc_end(netfw__desc_ctx *c) {
  netfw__desc_buf_free(&c->out);
  netfw__desc_buf_free(&c->path);
  free(c->min_memo);
  c->min_memo = NULL;
}
