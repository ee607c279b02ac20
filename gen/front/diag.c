/* Diagnostics: "path:line:col: error: message", the source line, a caret. */
#include <stdio.h>
#include <string.h>

#include "diag.h"

/* Finds the start of line `line` (1-based) in the source. */
static const char *line_start(const gen_diag *d, int line, const char **end) {
  const char *p = d->src;
  const char *e = d->src + d->src_len;
  if (d->src_len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
    p += 3; /* a byte-order mark takes no column (see the lexer) */
  for (int l = 1; l < line && p < e; p++)
    if (*p == '\n')
      l++;
  *end = p;
  while (*end < e && **end != '\n')
    (*end)++;
  return p;
}

/* Prints the source line (control bytes shown as '?', at most 200 bytes) and
 * a caret under col; tabs are copied so the caret lines up, and UTF-8
 * continuation bytes take no column. */
static void show_line(gen_diag *d, gen_pos pos) {
  const char *end;
  const char *s;
  size_t n;

  if (d->src == NULL || d->src_len == 0 || pos.line <= 0)
    return;
  s = line_start(d, pos.line, &end);
  n = (size_t)(end - s);
  if (n > 200)
    n = 200;
  if (n > 0 && s[n - 1] == '\r')
    n--;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char o = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    gen_buf_append(&d->out, &o, 1);
  }
  gen_buf_puts(&d->out, "\n");
  for (int i = 0; i + 1 < pos.col && (size_t)i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\t')
      gen_buf_puts(&d->out, "\t");
    else if ((c & 0xc0) != 0x80)
      gen_buf_puts(&d->out, " ");
  }
  gen_buf_puts(&d->out, "^\n");
}

/* Whether message a goes after message b: errors first, then by place. */
static bool after(const gen_diag_mark *a, const gen_diag_mark *b) {
  if (a->warning != b->warning)
    return a->warning;
  return a->pos.line > b->pos.line ||
         (a->pos.line == b->pos.line && a->pos.col > b->pos.col);
}

/* Puts message text m, about mark's position, in out as the at-th message. */
static void insert(gen_diag *d, size_t at, gen_diag_mark mark,
                   const gen_buf *m) {
  size_t where = at < d->nmarks ? d->marks[at].at : d->out.len;
  gen_buf tail = {0};
  if (d->nmarks == sizeof(d->marks) / sizeof(d->marks[0]))
    at = d->nmarks--; /* cannot happen: the counts stop earlier; append */
  if (where < d->out.len)
    gen_buf_append(&tail, d->out.data + where, d->out.len - where);
  d->out.len = where;
  gen_buf_append(&d->out, m->data, m->len);
  if (tail.len > 0)
    gen_buf_append(&d->out, tail.data, tail.len);
  gen_buf_free(&tail);
  for (size_t i = at; i < d->nmarks; i++)
    d->marks[i].at += m->len;
  memmove(&d->marks[at + 1], &d->marks[at],
          (d->nmarks - at) * sizeof(d->marks[0]));
  d->marks[at] = mark;
  d->marks[at].at = where;
  d->nmarks++;
}

/* A message names what it quotes in full unless that would make it absurdly
 * long (a megabyte-long name): then it is cut with "...". */
static void report(gen_diag *d, gen_pos pos, const char *what,
                   const char *fmt, va_list ap) GEN_PRINTF(4, 0);
static void report(gen_diag *d, gen_pos pos, const char *what,
                   const char *fmt, va_list ap) {
  char msg[400];
  int n;
  gen_buf one, saved = d->out;
  size_t at = d->nmarks;

  /* checks run in passes, so messages come out of order: each goes in
   * after the last one at or before its position */
  gen_diag_mark mark = {pos, what[0] == 'w', 0};
  while (at > 0 && after(&d->marks[at - 1], &mark))
    at--;
  memset(&d->out, 0, sizeof(d->out));
  gen_buf_printf(&d->out, "%s:%d:%d: %s: ", d->path, pos.line, pos.col, what);
  n = vsnprintf(msg, sizeof(msg), fmt, ap);
  gen_buf_puts(&d->out, msg);
  if (n >= (int)sizeof(msg))
    gen_buf_puts(&d->out, "...");
  gen_buf_puts(&d->out, "\n");
  show_line(d, pos);
  one = d->out;
  d->out = saved;
  insert(d, at, mark, &one);
  gen_buf_free(&one);
}

void gen_error(gen_diag *d, gen_pos pos, const char *fmt, ...) {
  va_list ap;

  d->errors++;
  if (d->errors > GEN_MAX_ERRORS)
    return;
  va_start(ap, fmt);
  report(d, pos, "error", fmt, ap);
  va_end(ap);
  if (d->errors == GEN_MAX_ERRORS)
    gen_buf_printf(&d->out, "%s: too many errors, stopping here\n", d->path);
}

void gen_warning(gen_diag *d, gen_pos pos, const char *fmt, ...) {
  va_list ap;

  d->warnings++;
  /* each message rescans the source for its line: keep the count bounded */
  if (d->errors >= GEN_MAX_ERRORS || d->warnings > GEN_MAX_ERRORS)
    return;
  va_start(ap, fmt);
  report(d, pos, "warning", fmt, ap);
  va_end(ap);
}
