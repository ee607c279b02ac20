/* Emits the server skeleton of `netfw-gen --stubs FILE`: one function per
 * message the server receives, each logging that it is not implemented yet,
 * the handler table, a main() that runs a server on it until SIGINT or
 * SIGTERM (as the tutorial's does), and how to use the message bus. The
 * file is the user's from then on, so it is written once (see --force).
 * The client's skeleton is emit_client_stubs.c's. */
#include <stdio.h>

#include "netfw/version.h"

#include "emit.h"

/* main(): a server on the handlers at 127.0.0.1 (or argv[2]), port argv[1]
 * (default netframe's), stopped gracefully by SIGINT or SIGTERM. */
static void emit_server_main(gen_buf *b, const char *p) {
  gen_buf_printf(
      b,
      "int main(int argc, char **argv) {\n"
      "  static const %s_server_app app = {.handlers = &handlers};\n"
      "  netfw_config cfg;\n  netfw_server *server;\n  sigset_t stop;\n"
      "  int sig;\n\n"
      "  %s_server_config_init(&cfg, &app);\n"
      "  cfg.ip = argc > 2 ? argv[2] : \"127.0.0.1\";\n"
      "  cfg.port = argc > 1 ? (uint16_t)strtoul(argv[1], NULL, 10)\n"
      "                      : NETFW_DEFAULT_PORT; /* 0: any free port */\n"
      "  sigemptyset(&stop);\n  sigaddset(&stop, SIGINT);\n"
      "  sigaddset(&stop, SIGTERM);\n"
      "  pthread_sigmask(SIG_BLOCK, &stop, NULL); /* taken by sigwait "
      "below */\n"
      "  server = netfw_server_new(&cfg);\n"
      "  if (server == NULL || netfw_server_start(server) != 0) {\n"
      "    fprintf(stderr, \"cannot start the server (the log above says "
      "why)\\n\");\n"
      "    netfw_server_free(server);\n    return 1;\n  }\n"
      "  printf(\"listening on %%s:%%u\\n\", cfg.ip, "
      "netfw_server_port(server));\n"
      "  fflush(stdout);\n"
      "  sigwait(&stop, &sig);\n"
      "  netfw_server_stop(server, 5000); /* graceful: queued replies "
      "delivered */\n"
      "  netfw_server_free(server);\n  return 0;\n}\n",
      p, p);
}

/* In request d's handler: how to answer it (docs/calls.md). */
static void emit_answer_note(gen_buf *b, const char *p, const gen_decl *d) {
  const char *r = d->returns[0].name;
  gen_buf names = {0};
  for (size_t k = 0; k < d->nreturns; k++)
    gen_buf_printf(&names, "%s%s",
                   k == 0                 ? ""
                   : k + 1 == d->nreturns ? " or "
                                          : ", ",
                   d->returns[k].name);
  gen_emit_comment(b, "  ",
                   "%s is a request: answer it with %s%s, at once "
                   "(%s_server_send_%s(conn, &reply)) or later "
                   "(netfw_conn_defer(conn, &token) here, then "
                   "%s_server_reply_%s(token, &reply)). Left unanswered, it "
                   "closes the connection (docs/calls.md).",
                   d->name, d->nreturns > 1 ? "one of " : "", names.data, p, r,
                   p, r);
  gen_buf_free(&names);
}

void gen_emit_stubs(gen_buf *b, const gen_schema *s, const gen_out *o,
                    gen_pool *pool) {
  const char *p = s->proto;
  const gen_decl *first = NULL; /* the bus example's message */
  bool any = false;

  (void)pool;
  gen_buf_printf(b,
                 "/* A server for protocol '%s' - skeleton written by "
                 "netfw-gen %s\n * from %s. This file is yours: fill in the "
                 "handlers. Build it with\n * %s.netfw.c and libnetfw; run "
                 "it as `./server [PORT [IP]]`, stop it with\n * Ctrl-C. */\n"
                 "#define _POSIX_C_SOURCE 200809L /* sigwait */\n"
                 "#include <signal.h>\n#include <stdio.h>\n#include "
                 "<stdlib.h>\n\n"
                 "#include \"%s.netfw.h\"\n\n",
                 p, NETFW_VERSION_STRING, o->schema_name, o->base, o->base);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, true))
      continue;
    any = true;
    gen_buf_printf(b,
                   "static void on_%s(void *app, netfw_conn *conn, const %s_%s "
                   "*msg) {\n"
                   "  (void)app;\n  (void)conn;\n  (void)msg;\n",
                   d->name, p, d->name);
    if (d->nreturns > 0)
      emit_answer_note(b, p, d);
    gen_buf_printf(b,
                   "  netfw_log(NETFW_LOG_WARN, \"%s: handler for %s (id %u) "
                   "is not implemented\");\n}\n\n",
                   p, d->name, (unsigned)d->id);
  }
  for (size_t i = 0; i < s->ndecls && first == NULL; i++)
    if (s->decls[i]->kind == D_MESSAGE)
      first = s->decls[i];
  gen_buf_printf(b, "static const %s_server_handlers handlers = {\n", p);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_MESSAGE && gen_receives(d, true))
      gen_buf_printf(b, "    .on_%s = on_%s,\n", d->name, d->name);
  }
  if (!any)
    gen_buf_puts(b, "    .on_unknown = NULL,\n");
  gen_buf_puts(b, "};\n\n");
  if (first != NULL)
    gen_buf_printf(
        b,
        "/* To take part in the message bus (netfw/bus.h): subscribe in "
        "create()\n"
        " * (netfw_bus_subscribe(\"some/channel\")), publish with\n"
        " * %s_publish_%s(\"some/channel\", &m, 0), and receive typed:\n"
        " *\n"
        " *   static const %s_bus_handlers bus = {.on_%s = on_bus_%s};\n"
        " *   static const %s_server_app app = {\n"
        " *       .handlers = &handlers, .bus_handlers = &bus};\n"
        " *\n"
        " * where on_bus_%s(void *app, const char *channel, const %s_%s *msg)\n"
        " * gets each one published on a channel the worker subscribed to. "
        "Any message\n"
        " * of the protocol may travel on the bus, whatever its direction; the "
        "app's\n"
        " * on_bus gets those without a typed handler. */\n\n",
        p, first->name, p, first->name, first->name, p, first->name, p,
        first->name);
  emit_server_main(b, p);
}
