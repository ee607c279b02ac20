/* Reflows generated C so long calls and declarations wrap at 80 columns with
 * continuation lines aligned under the opening parenthesis, as clang-format
 * would. The emitters write each call on one logical line and leave the
 * layout to this pass; comments, preprocessor lines and string literals are
 * never broken. */
#include <string.h>

#include "emit.h"

enum { WIDTH = 80 };

/* Net parenthesis depth of a line, ignoring string and char literals. */
static int paren_balance(const char *s, size_t n) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (quote) {
      if (c == '\\')
        i++;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(') {
      depth++;
    } else if (c == ')') {
      depth--;
    }
  }
  return depth;
}

static bool is_code(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && s[i] == ' ')
    i++;
  if (i == n)
    return false;
  return !(s[i] == '#' || (s[i] == '/' && i + 1 < n && s[i + 1] == '*') ||
           s[i] == '*');
}

/* The last ", " outside literals at which s can be cut so that the first
 * part fits WIDTH and the cut is past `after`; 0 if there is none. */
static size_t cut_point(const char *s, size_t n, size_t after) {
  size_t cut = 0;
  char quote = 0;
  for (size_t i = 0; i + 1 < n && i < WIDTH; i++) {
    if (quote) {
      if (s[i] == '\\')
        i++;
      else if (s[i] == quote)
        quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == ',' && s[i + 1] == ' ' && i > after) {
      cut = i + 1;
    }
  }
  return cut;
}

/* Column just after the first '(' outside literals (0 if none); in a
 * function pointer's declarator, "(*name)(", the parameters' one. */
static size_t open_paren(const char *s, size_t n) {
  char quote = 0;
  for (size_t i = 0; i < n; i++) {
    if (quote) {
      if (s[i] == '\\')
        i++;
      else if (s[i] == quote)
        quote = 0;
    } else if (s[i] == '"' || s[i] == '\'') {
      quote = s[i];
    } else if (s[i] == '(' && i + 1 < n && s[i + 1] == '*') {
      const char *close = memchr(s + i, ')', n - i);
      if (close == NULL)
        return i + 1;
      i = (size_t)(close - s);
    } else if (s[i] == '(') {
      return i + 1;
    }
  }
  return 0;
}

/* Writes one logical line, wrapping it at ", " outside literals with the
 * continuation lines aligned under the first '('. */
static void wrap(gen_buf *out, const char *s, size_t n) {
  gen_buf cur = {0};
  size_t indent;

  if (n <= WIDTH || !is_code(s, n)) {
    gen_buf_append(out, s, n);
    gen_buf_puts(out, "\n");
    return;
  }
  indent = open_paren(s, n);
  if (indent == 0 || indent > 50) {
    indent = 0;
    while (indent < n && s[indent] == ' ')
      indent++;
    indent += 4;
  }
  gen_buf_append(&cur, s, n);
  while (cur.len > WIDTH) {
    size_t cut = cut_point(cur.data, cur.len, indent);
    gen_buf rest = {0};
    if (cut == 0)
      break;
    gen_buf_append(out, cur.data, cut);
    gen_buf_puts(out, "\n");
    for (size_t k = 0; k < indent; k++)
      gen_buf_append(&rest, " ", 1);
    gen_buf_append(&rest, cur.data + cut + 1, cur.len - cut - 1);
    gen_buf_free(&cur);
    cur = rest;
  }
  gen_buf_append(out, cur.data, cur.len);
  gen_buf_puts(out, "\n");
  gen_buf_free(&cur);
}

void gen_reflow(gen_buf *b) {
  gen_buf out = {0};
  gen_buf line = {0};
  const char *p = b->data;
  const char *end = b->data + b->len;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (line.len > 0) {
      /* a continuation: drop its indentation, join with one space */
      while (n > 0 && *p == ' ') {
        p++;
        n--;
      }
      gen_buf_append(&line, " ", 1);
    }
    gen_buf_append(&line, p, n);
    p += n + (nl ? 1 : 0);
    if (is_code(line.data, line.len) && line.len > 0 &&
        line.data[line.len - 1] == ',' &&
        paren_balance(line.data, line.len) > 0 && p < end)
      continue; /* an unfinished call or declaration */
    wrap(&out, line.data, line.len);
    line.len = 0;
  }
  gen_buf_free(&line);
  gen_buf_free(b);
  *b = out;
}
