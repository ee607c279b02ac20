/* One schema file for --check-compat: read, parsed and checked by the front
 * end with no back end's name rules (those are not about the wire). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "front/check.h"

#define MAX_SCHEMA_BYTES (64u * 1024 * 1024) /* as netfw-gen's own limit */

/* Reads path whole into cs->src (in cs->pool, NUL-terminated); -1 after a
 * message in err. */
static int read_schema(compat_schema *cs, const char *path, gen_buf *err) {
  FILE *f = fopen(path, "rb");
  gen_buf b = {0};
  char chunk[65536];
  size_t got;

  if (f == NULL) {
    gen_buf_printf(err, "netfw-gen: cannot open %s: %s\n", path,
                   strerror(errno));
    return -1;
  }
  while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    gen_buf_append(&b, chunk, got);
    if (b.len > MAX_SCHEMA_BYTES) {
      gen_buf_printf(err, "netfw-gen: %s is larger than %u bytes\n", path,
                     MAX_SCHEMA_BYTES);
      goto failed;
    }
  }
  if (ferror(f)) {
    gen_buf_printf(err, "netfw-gen: cannot read %s: %s\n", path,
                   strerror(errno));
    goto failed;
  }
  fclose(f);
  cs->len = b.len;
  cs->src = gen_pool_alloc(&cs->pool, b.len + 1); /* the lexer wants a NUL */
  if (b.len > 0)
    memcpy(cs->src, b.data, b.len);
  gen_buf_free(&b);
  return 0;

failed:
  fclose(f);
  gen_buf_free(&b);
  return -1;
}

const char *compat_key(gen_pool *pool, uint64_t v) {
  char buf[24];
  int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
  return gen_pool_strndup(pool, buf, (size_t)n);
}

/* The maps of cs (first of duplicates wins, as in the front end's scans;
 * a valid schema has none). */
static void index_schema(compat_schema *cs) {
  for (size_t i = 0; i < cs->s.ndecls; i++) {
    gen_decl *d = cs->s.decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    gen_map_put(&cs->msg_by_name, d->name, d);
    gen_map_put(&cs->msg_by_id, compat_key(&cs->pool, d->id), d);
  }
  for (size_t i = 0; i < cs->s.nreserved; i++) {
    gen_reserved *r = &cs->s.reserved[i];
    if (r->is_name)
      gen_map_put(&cs->rsv_by_name, r->name, r);
    else
      gen_map_put(&cs->rsv_by_id, compat_key(&cs->pool, r->id), r);
  }
}

/* A map lookup by a number. */
static void *by_id(const gen_map *m, uint64_t id) {
  char key[24];
  snprintf(key, sizeof(key), "%" PRIu64, id);
  return gen_map_get(m, key);
}

const gen_decl *compat_message_by_id(const compat_schema *cs, uint64_t id) {
  return by_id(&cs->msg_by_id, id);
}

const gen_decl *compat_message_by_name(const compat_schema *cs,
                                       const char *name) {
  return gen_map_get(&cs->msg_by_name, name);
}

const gen_reserved *compat_reserved_id(const compat_schema *cs, uint64_t id) {
  return by_id(&cs->rsv_by_id, id);
}

const gen_reserved *compat_reserved_name(const compat_schema *cs,
                                         const char *name) {
  return gen_map_get(&cs->rsv_by_name, name);
}

int compat_load(compat_schema *cs, const char *path, gen_buf *err) {
  memset(cs, 0, sizeof(*cs));
  cs->path = path;
  if (read_schema(cs, path, err) != 0)
    return -1;
  cs->diag.path = path;
  cs->diag.src = cs->src;
  cs->diag.src_len = cs->len;
  gen_parse(&cs->s, cs->src, cs->len, &cs->diag, &cs->pool);
  if (cs->s.proto == NULL && cs->diag.errors == 0)
    gen_error(&cs->diag, (gen_pos){1, 1},
              "a schema must start with 'protocol NAME;'");
  gen_check(&cs->s, &cs->diag, &cs->pool, NULL);
  cs->version = cs->s.version > 0 ? cs->s.version : 1;
  index_schema(cs);
  return 0;
}

void compat_unload(compat_schema *cs) {
  gen_map_free(&cs->msg_by_name);
  gen_map_free(&cs->msg_by_id);
  gen_map_free(&cs->rsv_by_name);
  gen_map_free(&cs->rsv_by_id);
  gen_buf_free(&cs->diag.out);
  gen_pool_free(&cs->pool);
}

/* Whether line [p, e) is a caret line: blanks, then '^'. */
static bool is_caret(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t'))
    p++;
  return p + 1 == e && *p == '^';
}

/* Parses "LINE:COL: error: " or "...: warning: " after the path; returns
 * the message's start or NULL. */
static const char *parse_head(const char *p, gen_pos *pos, bool *error) {
  char *end;
  long line = strtol(p, &end, 10);
  long col;

  if (end == p || *end != ':')
    return NULL;
  p = end + 1;
  col = strtol(p, &end, 10);
  if (end == p || strncmp(end, ": ", 2) != 0)
    return NULL;
  p = end + 2;
  pos->line = (int)line;
  pos->col = (int)col;
  if (strncmp(p, "error: ", 7) == 0) {
    *error = true;
    return p + 7;
  }
  if (strncmp(p, "warning: ", 9) == 0) {
    *error = false;
    return p + 9;
  }
  return NULL;
}

/* The end of the line after the one ending at eol (end if none). */
static const char *next_eol(const char *eol, const char *end) {
  const char *l = eol < end ? eol + 1 : end;
  const char *e = l < end ? memchr(l, '\n', (size_t)(end - l)) : NULL;
  return e != NULL ? e : end;
}

/* The front end formats its diagnostics as text ("PATH:L:C: error: MSG",
 * the source line, a caret); this reads them back. A source line that
 * looks like a diagnostic is skipped with its caret line. */
void compat_schema_findings(const compat_schema *cs, compat_report *r) {
  const char *p = cs->diag.out.data;
  const char *end = p + cs->diag.out.len;
  size_t plen = strlen(cs->path);

  while (p != NULL && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *msg = NULL;
    gen_pos pos;
    bool error = true;

    if (eol == NULL)
      eol = end;
    if ((size_t)(eol - p) > plen && memcmp(p, cs->path, plen) == 0 &&
        p[plen] == ':')
      msg = parse_head(p + plen + 1, &pos, &error);
    if (msg != NULL && msg <= eol) {
      const char *src_end = next_eol(eol, end);
      const char *caret_end = next_eol(src_end, end);
      compat_add(r, error, error ? "schema-error" : "schema-warning", cs->path,
                 pos, "%.*s", (int)(eol - msg), msg);
      if (src_end < end && is_caret(src_end + 1, caret_end))
        eol = caret_end; /* the source line and its caret */
    }
    p = eol + 1;
  }
}
