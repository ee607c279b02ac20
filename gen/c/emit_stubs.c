/* Emits the handler skeleton of `netfw-gen --stubs FILE`: one function per
 * message the server receives, each logging that it is not implemented yet,
 * the handler table, how to run a server on it and how to use the message
 * bus. The file is the user's from then on, so it is written once (see
 * --force). */
#include <stdio.h>

#include "netfw/version.h"

#include "emit.h"

void gen_emit_stubs(gen_buf *b, const gen_schema *s, const gen_out *o,
                    gen_pool *pool) {
  const char *p = s->proto;
  const gen_decl *first = NULL; /* the bus example's message */
  bool any = false;

  (void)pool;
  gen_buf_printf(b,
                 "/* Server handlers for protocol '%s' - skeleton written by "
                 "netfw-gen %s\n * from %s. This file is yours: fill in the "
                 "handlers. */\n"
                 "#include \"%s.netfw.h\"\n\n",
                 p, NETFW_VERSION_STRING, o->schema_name, o->base);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, true))
      continue;
    any = true;
    gen_buf_printf(b,
                   "static void on_%s(void *app, netfw_conn *conn, const %s_%s "
                   "*msg) {\n"
                   "  (void)app;\n  (void)conn;\n  (void)msg;\n"
                   "  netfw_log(NETFW_LOG_WARN, \"%s: handler for %s (id %u) "
                   "is not implemented\");\n}\n\n",
                   d->name, p, d->name, p, d->name, (unsigned)d->id);
  }
  for (size_t i = 0; i < s->ndecls && first == NULL; i++)
    if (s->decls[i]->kind == D_MESSAGE)
      first = s->decls[i];
  gen_buf_printf(b, "const %s_server_handlers %s_handlers = {\n", p, p);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_MESSAGE && gen_receives(d, true))
      gen_buf_printf(b, "    .on_%s = on_%s,\n", d->name, d->name);
  }
  if (!any)
    gen_buf_puts(b, "    .on_unknown = NULL,\n");
  gen_buf_printf(
      b,
      "};\n\n"
      "/* To run a server on these handlers:\n"
      " *\n"
      " *   static const %s_server_app app = {.handlers = &%s_handlers};\n"
      " *   netfw_config cfg;\n"
      " *   %s_server_config_init(&cfg, &app);\n"
      " *   netfw_server *server = netfw_server_new(&cfg);\n"
      " *   netfw_server_start(server);\n"
      " *   ... until asked to stop (SIGINT, SIGTERM) ...\n"
      " *   netfw_server_stop(server, -1);\n"
      " *   netfw_server_free(server);\n"
      " */\n",
      p, p, p);
  if (first != NULL)
    gen_buf_printf(
        b,
        "\n/* To take part in the message bus (netfw/bus.h): subscribe in "
        "create()\n"
        " * (netfw_bus_subscribe(\"some/channel\")), publish with\n"
        " * %s_publish_%s(\"some/channel\", &m, 0), and receive typed:\n"
        " *\n"
        " *   static const %s_bus_handlers bus = {.on_%s = on_bus_%s};\n"
        " *   static const %s_server_app app = {\n"
        " *       .handlers = &%s_handlers, .bus_handlers = &bus};\n"
        " *\n"
        " * where on_bus_%s(void *app, const char *channel, const %s_%s *msg)\n"
        " * gets each one published on a channel the worker subscribed to. "
        "Any message\n"
        " * of the protocol may travel on the bus, whatever its direction; the "
        "app's\n"
        " * on_bus gets those without a typed handler. */\n",
        p, first->name, p, first->name, first->name, p, p, first->name, p,
        first->name);
}
