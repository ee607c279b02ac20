/* Runs the whole pipeline on a schema held in memory. */
#include <string.h>

#include "ast.h"

/* "dir/file_storage.netproto" -> "file_storage.netproto" */
static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* "file_storage.netproto" -> "file_storage": the generated files are named
 * after the schema file, so build tools know them before reading it. */
static const char *out_base(gen_pool *pool, const char *name) {
  size_t n = strlen(name);
  const char *dot = strrchr(name, '.');
  if (dot != NULL && dot != name)
    n = (size_t)(dot - name);
  return gen_pool_strndup(pool, name, n);
}

/* "file-storage" -> "FILE_STORAGE_NETFW_H" */
static const char *guard_of(gen_pool *pool, const char *base) {
  size_t n = strlen(base);
  char *g = gen_pool_alloc(pool, n + 16);
  size_t j = 0;
  if (!(base[0] >= 'a' && base[0] <= 'z') && !(base[0] >= 'A' && base[0] <= 'Z'))
    g[j++] = 'N';
  for (size_t i = 0; i < n; i++) {
    char c = base[i];
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
    else if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9'))
      c = '_';
    g[j++] = c;
  }
  memcpy(g + j, "_NETFW_H", 9);
  return g;
}

int gen_compile(gen_result *r, const char *path, const char *src, size_t len) {
  gen_schema s;
  gen_out o;
  char *copy;

  memset(r, 0, sizeof(*r));
  memset(&s, 0, sizeof(s));
  /* The lexer wants a NUL after the last byte. */
  copy = gen_pool_alloc(&r->pool, len + 1);
  if (len > 0)
    memcpy(copy, src, len);
  r->diag.path = path;
  r->diag.src = copy;
  r->diag.src_len = len;

  gen_parse(&s, copy, len, &r->diag, &r->pool);
  if (s.proto == NULL && r->diag.errors == 0)
    gen_error(&r->diag, (gen_pos){1, 1}, "a schema must start with 'protocol NAME;'");
  gen_check(&s, &r->diag, &r->pool);
  if (r->diag.errors > 0 || s.proto == NULL)
    return 1;

  o.schema_name = base_name(path);
  o.base = out_base(&r->pool, o.schema_name);
  o.guard = guard_of(&r->pool, o.base);
  r->base = o.base;
  gen_emit_header(&r->header, &s, &o, &r->pool);
  gen_emit_source(&r->source, &s, &o, &r->pool);
  gen_emit_stubs(&r->stubs, &s, &o, &r->pool);
  gen_reflow(&r->header);
  gen_reflow(&r->source);
  gen_emit_fuzz(&r->fuzz, &s, &o, &r->pool);
  gen_reflow(&r->stubs);
  gen_reflow(&r->fuzz);
  return 0;
}

void gen_result_free(gen_result *r) {
  gen_buf_free(&r->diag.out);
  gen_buf_free(&r->header);
  gen_buf_free(&r->source);
  gen_buf_free(&r->stubs);
  gen_buf_free(&r->fuzz);
  gen_pool_free(&r->pool);
}
