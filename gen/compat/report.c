/* The findings of --check-compat and the two ways they are printed:
 * compiler-style text lines, or one JSON object (docs/compat.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "compat.h"

/* A malloc'ed string from fmt (cut at 1000 bytes with "..."). */
static char *vformat(const char *fmt, va_list ap) GEN_PRINTF(1, 0);
static char *vformat(const char *fmt, va_list ap) {
  char buf[1000];
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  size_t len;
  char *r;

  if (n < 0)
    buf[0] = '\0';
  else if ((size_t)n >= sizeof(buf))
    memcpy(buf + sizeof(buf) - 4, "...", 4);
  len = strlen(buf);
  r = malloc(len + 1);
  if (r == NULL) {
    fputs("netfw-gen: out of memory\n", stderr);
    abort(); /* as gen_pool_alloc does */
  }
  memcpy(r, buf, len + 1);
  return r;
}

compat_finding *compat_vadd(compat_report *r, bool error, const char *rule,
                            const char *file, gen_pos pos, const char *fmt,
                            va_list ap) {
  compat_finding *f;

  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    compat_finding *v = realloc(r->v, cap * sizeof(*v));
    if (v == NULL) {
      fputs("netfw-gen: out of memory\n", stderr);
      abort();
    }
    r->v = v;
    r->cap = cap;
  }
  f = &r->v[r->n];
  memset(f, 0, sizeof(*f));
  f->error = error;
  f->rule = rule;
  f->file = file;
  f->pos = pos;
  f->message = vformat(fmt, ap);
  f->seq = r->n++;
  if (error)
    r->errors++;
  else
    r->warnings++;
  return f;
}

compat_finding *compat_add(compat_report *r, bool error, const char *rule,
                           const char *file, gen_pos pos, const char *fmt,
                           ...) {
  compat_finding *f;
  va_list ap;

  va_start(ap, fmt);
  f = compat_vadd(r, error, rule, file, pos, fmt, ap);
  va_end(ap);
  return f;
}

void compat_vnote(compat_finding *f, const char *file, gen_pos pos,
                  const char *fmt, va_list ap) {
  free(f->note);
  f->note_file = file;
  f->note_pos = pos;
  f->note = vformat(fmt, ap);
}

void compat_note(compat_finding *f, const char *file, gen_pos pos,
                 const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  compat_vnote(f, file, pos, fmt, ap);
  va_end(ap);
}

/* By line, then column, then discovery order (qsort is not stable). */
static int by_pos(const void *a, const void *b) {
  const compat_finding *x = a, *y = b;
  if (x->pos.line != y->pos.line)
    return x->pos.line < y->pos.line ? -1 : 1;
  if (x->pos.col != y->pos.col)
    return x->pos.col < y->pos.col ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void compat_sort(compat_report *r) {
  if (r->n > 1)
    qsort(r->v, r->n, sizeof(*r->v), by_pos);
}

/* "1 warning", "2 errors" */
static void count(gen_buf *out, int n, const char *what) {
  gen_buf_printf(out, "%d %s%s", n, what, n == 1 ? "" : "s");
}

void compat_print_text(const compat_report *r, gen_buf *out) {
  for (size_t i = 0; i < r->n; i++) {
    const compat_finding *f = &r->v[i];
    gen_buf_printf(out, "%s:%d:%d: %s: %s [%s]\n", f->file, f->pos.line,
                   f->pos.col, f->error ? "error" : "warning", f->message,
                   f->rule);
    if (f->note != NULL)
      gen_buf_printf(out, "%s:%d:%d: note: %s\n", f->note_file,
                     f->note_pos.line, f->note_pos.col, f->note);
  }
  if (r->errors > 0) {
    gen_buf_puts(out, "netfw-gen: ");
    count(out, r->errors, "breaking change");
  } else {
    gen_buf_puts(out, "netfw-gen: compatible");
  }
  gen_buf_puts(out, ", ");
  count(out, r->warnings, "warning");
  gen_buf_puts(out, "\n");
}

/* A JSON string of s; bytes that are not UTF-8 (a path, a literal's text)
 * become '?' so the document stays valid. */
static json_t *jstr(const char *s) {
  json_t *j = json_string(s);
  char *copy;

  if (j != NULL)
    return j;
  copy = strdup(s);
  if (copy == NULL)
    return json_string("?");
  for (char *p = copy; *p; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  j = json_string(copy);
  free(copy);
  return j;
}

/* {"file":..,"line":..,"col":..,"message":..} members into o. */
static void put_place(json_t *o, const char *file, gen_pos pos,
                      const char *message) {
  json_object_set_new(o, "file", jstr(file));
  json_object_set_new(o, "line", json_integer(pos.line));
  json_object_set_new(o, "col", json_integer(pos.col));
  json_object_set_new(o, "message", jstr(message));
}

/* One finding as a JSON object (members in documented order). */
static json_t *finding_json(const compat_finding *f) {
  json_t *o = json_object();

  json_object_set_new(o, "severity",
                      json_string(f->error ? "error" : "warning"));
  json_object_set_new(o, "rule", json_string(f->rule));
  put_place(o, f->file, f->pos, f->message);
  if (f->note != NULL) {
    json_t *n = json_object();
    put_place(n, f->note_file, f->note_pos, f->note);
    json_object_set_new(o, "note", n);
  }
  return o;
}

void compat_print_json(const compat_report *r, const char *old_path,
                       const char *new_path, gen_buf *out) {
  json_t *root = json_object();
  json_t *list = json_array();
  char *text;

  json_object_set_new(root, "compatible", json_boolean(r->errors == 0));
  json_object_set_new(root, "old", jstr(old_path));
  json_object_set_new(root, "new", jstr(new_path));
  json_object_set_new(root, "errors", json_integer(r->errors));
  json_object_set_new(root, "warnings", json_integer(r->warnings));
  for (size_t i = 0; i < r->n; i++)
    json_array_append_new(list, finding_json(&r->v[i]));
  json_object_set_new(root, "findings", list);
  text = json_dumps(root, JSON_COMPACT);
  if (text == NULL) {
    fputs("netfw-gen: out of memory\n", stderr);
    abort();
  }
  gen_buf_puts(out, text);
  gen_buf_puts(out, "\n");
  free(text);
  json_decref(root);
}

void compat_report_free(compat_report *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->v[i].message);
    free(r->v[i].note);
  }
  free(r->v);
  memset(r, 0, sizeof(*r));
}
