/* The C back end as the driver sees it: its name rules and its emitter. */
#include <string.h>

#include "backend_c.h"
#include "emit.h"

/* "file-storage" -> "FILE_STORAGE_NETFW_H" */
static const char *guard_of(gen_pool *pool, const char *base) {
  size_t n = strlen(base);
  char *g = gen_pool_alloc(pool, n + 16);
  size_t j = 0;
  if (!(base[0] >= 'a' && base[0] <= 'z') &&
      !(base[0] >= 'A' && base[0] <= 'Z'))
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

static void emit_c(gen_result *r, const gen_schema *s,
                   const char *schema_file) {
  gen_out o;

  o.schema_name = schema_file;
  o.base = r->base;
  o.guard = guard_of(&r->pool, o.base);
  gen_emit_header(&r->header, s, &o, &r->pool);
  gen_emit_source(&r->source, s, &o, &r->pool);
  gen_emit_stubs(&r->stubs, s, &o, &r->pool);
  gen_emit_client_stubs(&r->client_stubs, s, &o, &r->pool);
  gen_reflow(&r->header);
  gen_reflow(&r->source);
  gen_emit_fuzz(&r->fuzz, s, &o, &r->pool);
  gen_reflow(&r->stubs);
  gen_reflow(&r->client_stubs);
  gen_reflow(&r->fuzz);
}

const gen_backend gen_backend_c = {
    .name = "c",
    .summary = "C11: NAME.netfw.h and NAME.netfw.c for the netfw runtime",
    .suffixes = {".netfw.h", ".netfw.c"},
    .stubs = true,
    .fuzz_harness = true,
    .check = &gen_c_check_hooks,
    .emit = emit_c,
};
