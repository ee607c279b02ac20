/* Runs the front end and one back end on a schema held in memory. */
#include <string.h>

#include "c/backend_c.h"
#include "desc/desc.h"
#include "front/check.h"
#include "gen.h"
#include "python/backend_python.h"
#include "wireshark/backend_wireshark.h"

const gen_backend *const gen_backends[] = {
    &gen_backend_c, &gen_backend_python, &gen_backend_wireshark, NULL};

const gen_backend *gen_backend_find(const char *name) {
  for (size_t i = 0; gen_backends[i] != NULL; i++)
    if (strcmp(gen_backends[i]->name, name) == 0)
      return gen_backends[i];
  return NULL;
}

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

int gen_compile_with(gen_result *r, const gen_backend *b, const char *path,
                     const char *src, size_t len) {
  gen_schema s;
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
    gen_error(&r->diag, (gen_pos){1, 1},
              "a schema must start with 'protocol NAME;'");
  gen_check(&s, &r->diag, &r->pool, b->check);
  if (r->diag.errors > 0 || s.proto == NULL)
    return 1;

  r->base = out_base(&r->pool, base_name(path));
  b->emit(r, &s, base_name(path));
  gen_desc_json(&r->descriptor, gen_desc_build(&s, &r->pool));
  return 0;
}

int gen_compile(gen_result *r, const char *path, const char *src, size_t len) {
  return gen_compile_with(r, gen_backends[0], path, src, len);
}

void gen_result_free(gen_result *r) {
  gen_buf_free(&r->diag.out);
  for (size_t i = 0; i < GEN_MAX_FILES; i++)
    gen_buf_free(&r->files[i]);
  gen_buf_free(&r->stubs);
  gen_buf_free(&r->client_stubs);
  gen_buf_free(&r->fuzz);
  gen_buf_free(&r->descriptor);
  gen_pool_free(&r->pool);
}
