/* Runs the whole pipeline on a schema held in memory. */
#include <string.h>

#include "ast.h"

/* "dir/file_storage.netproto" -> "file_storage.netproto" */
static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
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
  o.base = s.proto;
  r->base = s.proto;
  gen_emit_header(&r->header, &s, &o, &r->pool);
  gen_emit_source(&r->source, &s, &o, &r->pool);
  gen_emit_stubs(&r->stubs, &s, &o, &r->pool);
  return 0;
}

void gen_result_free(gen_result *r) {
  gen_buf_free(&r->diag.out);
  gen_buf_free(&r->header);
  gen_buf_free(&r->source);
  gen_buf_free(&r->stubs);
  gen_pool_free(&r->pool);
}
