/* Emits the client skeleton of `netfw-gen --client-stubs FILE`: one
 * handler per message the client receives, each printing what came, and a
 * main() that connects, sends the first message the server receives (with
 * its fields left for the user to fill in), waits for one reply and shuts
 * down. Like --stubs, the file is the user's from then on. */
#include <stdio.h>

#include "netfw/version.h"

#include "emit.h"

/* The first message of s the server receives, or NULL. */
static const gen_decl *first_to_server(const gen_schema *s) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && gen_receives(s->decls[i], true))
      return s->decls[i];
  return NULL;
}

static void emit_handlers(gen_buf *b, const gen_schema *s) {
  const char *p = s->proto;
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_MESSAGE && gen_receives(d, false))
      gen_buf_printf(b,
                     "static void on_%s(void *user, const %s_%s *msg) {\n"
                     "  (void)user;\n  (void)msg;\n"
                     "  printf(\"received %s\\n\");\n}\n\n",
                     d->name, p, d->name, d->name);
  }
  gen_buf_printf(b, "static const %s_client_handlers handlers = {\n", p);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_MESSAGE && gen_receives(d, false))
      gen_buf_printf(b, "    .on_%s = on_%s,\n", d->name, d->name);
  }
  gen_buf_puts(b, "    .on_unknown = NULL, /* the defaults log */\n};\n\n");
}

/* The request main() sends: declared, sent, then one reply awaited. */
static void emit_request(gen_buf *b, const char *p, const gen_decl *first) {
  if (first == NULL) {
    gen_buf_puts(b, "  /* the server receives no message: just listen */\n"
                    "  err = 0;\n");
    return;
  }
  gen_buf_printf(b,
                 "  {\n    %s_%s request;\n\n"
                 "    memset(&request, 0, sizeof(request)); /* fill in its "
                 "fields */\n"
                 "    err = %s_client_send_%s(c, &request);\n  }\n",
                 p, first->name, p, first->name);
}

void gen_emit_client_stubs(gen_buf *b, const gen_schema *s, const gen_out *o,
                           gen_pool *pool) {
  const char *p = s->proto;
  (void)pool;
  gen_buf_printf(b,
                 "/* A client for protocol '%s' - skeleton written by "
                 "netfw-gen %s\n * from %s. This file is yours. Build it "
                 "with %s.netfw.c and libnetfw;\n * run it as `./client "
                 "[PORT [IP]]`. */\n"
                 "#include <stdio.h>\n#include <stdlib.h>\n#include "
                 "<string.h>\n\n#include \"%s.netfw.h\"\n\n",
                 p, NETFW_VERSION_STRING, o->schema_name, o->base, o->base);
  emit_handlers(b, s);
  gen_buf_printf(
      b,
      "int main(int argc, char **argv) {\n"
      "  const char *ip = argc > 2 ? argv[2] : \"127.0.0.1\";\n"
      "  uint16_t port = argc > 1 ? (uint16_t)strtoul(argv[1], NULL, 10)\n"
      "                           : NETFW_DEFAULT_PORT;\n"
      "  netfw_client *c = netfw_client_new();\n"
      "  netfw_arena arena;\n  int err;\n\n"
      "  if (c == NULL)\n    return 1;\n"
      "  err = netfw_client_connect(c, ip, port);\n"
      "  if (err != 0) {\n"
      "    fprintf(stderr, \"cannot connect to %%s:%%u: %%s\\n\", ip, "
      "(unsigned)port,\n            netfw_strerror(err));\n"
      "    netfw_client_free(c);\n    return 1;\n  }\n"
      "  netfw_arena_init(&arena);\n");
  emit_request(b, p, first_to_server(s));
  gen_buf_printf(
      b,
      "  if (err == 0) /* one reply, 2 s at most */\n"
      "    err = %s_client_recv(c, &handlers, NULL, &arena, 2000);\n"
      "  if (err != 0)\n"
      "    fprintf(stderr, \"%s: %%s\\n\", netfw_strerror(err));\n"
      "  netfw_client_shutdown(c, 2000);\n"
      "  netfw_client_free(c);\n  netfw_arena_free(&arena);\n"
      "  return err == 0 ? 0 : 1;\n}\n",
      p, p);
}
