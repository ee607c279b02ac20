/* Emits the message-bus part of the server side (netfw/bus.h): the typed
 * bus handler table, <proto>_bus_dispatch, which the netfw_app glue's
 * on_bus runs, and one publish helper per message, whatever its direction
 * (the bus joins servers, not a server and its clients). */
#include <stdio.h>

#include "emit.h"

/* Whether the schema declares at least one message. */
static bool any_message(const gen_schema *s) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE)
      return true;
  return false;
}

/* The <proto>_bus_handlers typedef (before <proto>_server_app uses it). */
void gen_emit_bus_handlers_type(gen_buf *b, const gen_schema *s) {
  const char *p = s->proto;

  gen_buf_printf(b,
                 "/* One handler per message, whatever its direction, for the "
                 "messages published\n * on the bus channels a worker "
                 "subscribed to (netfw/bus.h). channel and the\n * strings, "
                 "bytes and arrays in *msg are valid during the call only. A "
                 "NULL\n * handler passes its message to the app's on_bus. */\n"
                 "typedef struct %s_bus_handlers {\n",
                 p);
  if (!any_message(s))
    gen_buf_puts(b, "  char empty_; /* no messages; C needs one member */\n");
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_MESSAGE)
      gen_buf_printf(b,
                     "  void (*on_%s)(void *app, const char *channel, "
                     "const %s_%s *msg);\n",
                     d->name, p, d->name);
  }
  gen_buf_printf(b, "} %s_bus_handlers;\n\n", p);
}

/* The prototypes of <proto>_bus_dispatch and the publish helpers. */
void gen_emit_bus_protos(gen_buf *b, const gen_schema *s) {
  const char *p = s->proto;

  gen_emit_comment(
      b, "",
      "What the on_bus of %s_netfw_app runs for every bus message: resets "
      "arena, decodes msg by its id into def->bus_handlers' handler and calls "
      "it. An id not in the schema, or whose handler (or bus_handlers) is "
      "NULL, goes to def->on_bus untouched (dropped when NULL). A payload "
      "that does not decode is logged at WARN and dropped. Returns 0 when a "
      "typed handler ran, 1 when the message went to on_bus, the decoder's "
      "error (NETFW_EPROTO, NETFW_ENOMEM) or NETFW_EINVAL (NULL def, channel "
      "or msg).",
      p);
  gen_buf_printf(b,
                 "int %s_bus_dispatch(const %s_server_app *def, void *app, "
                 "const char *channel,\n"
                 "                    netfw_msg *msg, netfw_arena *arena);\n\n",
                 p, p);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_MESSAGE)
      gen_buf_printf(b,
                     "/* Publishes m on a bus channel (netfw/bus.h): encodes "
                     "it, then\n * netfw_bus_publish. Returns its result or "
                     "the encoder's error. */\n"
                     "int %s_publish_%s(const char *channel, const %s_%s *m, "
                     "unsigned flags);\n\n",
                     p, d->name, p, d->name);
  }
}

/* The static that decodes a message into its typed bus handler. */
static void emit_bus_typed(gen_buf *o, const gen_schema *s, gen_pool *pool,
                           const char *P) {
  const char *p = s->proto;

  gen_buf_printf(o,
                 "/* Decodes msg into its handler in h and calls it. Returns "
                 "0 when it ran, 1\n * when h has no handler for the id, or "
                 "the decoder's error. */\n"
                 "static int %s__bus_typed(const %s_bus_handlers *h, void "
                 "*app,\n"
                 "                         const char *channel, netfw_msg "
                 "*msg,\n"
                 "                         netfw_arena *arena) {\n"
                 "  int rc;\n\n  switch (netfw_msg_id(msg)) {\n",
                 p, p);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    gen_buf_printf(o,
                   "  case %s_%s_ID: {\n    %s_%s m;\n"
                   "    if (h->on_%s == NULL)\n      return 1;\n"
                   "    rc = %s_%s_decode(msg, &m, arena);\n"
                   "    if (rc == 0)\n      h->on_%s(app, channel, &m);\n"
                   "    return rc;\n  }\n",
                   P, gen_upper(pool, d->name), p, d->name, d->name, p, d->name,
                   d->name);
  }
  gen_buf_puts(o, "  default:\n    return 1;\n  }\n}\n\n");
}

/* <proto>_bus_dispatch and the publish helpers, in the .c file. */
void gen_emit_bus_glue(gen_buf *o, const gen_schema *s, gen_pool *pool) {
  const char *p = s->proto;
  const char *P = gen_upper(pool, p);
  bool any = any_message(s);

  gen_buf_printf(o, "/* ---- the message bus ---- */\n\n");
  if (any)
    emit_bus_typed(o, s, pool, P);
  gen_buf_printf(o,
                 "int %s_bus_dispatch(const %s_server_app *def, void *app, "
                 "const char *channel,\n"
                 "                    netfw_msg *msg, netfw_arena *arena) {\n"
                 "%s"
                 "  if (def == NULL || channel == NULL || msg == NULL)\n"
                 "    return NETFW_EINVAL;\n"
                 "  if (arena != NULL)\n    netfw_arena_reset(arena);\n",
                 p, p, any ? "  int rc = 1;\n\n" : "");
  if (any)
    gen_buf_printf(
        o,
        "  if (def->bus_handlers != NULL)\n"
        "    rc = %s__bus_typed(def->bus_handlers, app, channel, msg, arena);\n"
        "  if (rc < 0) {\n"
        "    netfw_log(NETFW_LOG_WARN,\n"
        "              \"%s: malformed %%s (id %%u, %%u bytes) \"\n"
        "              \"on bus channel '%%s': %%s, dropped\",\n"
        "              %s__name_or(netfw_msg_id(msg)), "
        "(unsigned)netfw_msg_id(msg),\n"
        "              (unsigned)netfw_msg_size(msg), channel, "
        "netfw_strerror(rc));\n"
        "    return rc;\n  }\n"
        "  if (rc == 0)\n    return 0;\n",
        p, p, p);
  gen_buf_puts(o, "  if (def->on_bus != NULL)\n"
                  "    def->on_bus(app, channel, msg);\n"
                  "  return 1;\n}\n\n");

  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    gen_buf_printf(o,
                   "int %s_publish_%s(const char *channel, const %s_%s *m, "
                   "unsigned flags) {\n"
                   "  netfw_msg msg;\n  int rc;\n\n"
                   "  netfw_msg_init(&msg, %s_%s_ID);\n"
                   "  rc = %s_%s_encode(m, &msg);\n"
                   "  if (rc == 0)\n"
                   "    rc = netfw_bus_publish(channel, &msg, flags);\n"
                   "  netfw_msg_release(&msg);\n  return rc;\n}\n\n",
                   p, d->name, p, d->name, P, gen_upper(pool, d->name), p,
                   d->name);
  }
}
