/* Emits the runtime half of <proto>.netfw.c, after the codec: msg_name, the
 * server and client dispatchers with their default hooks, the netfw_app glue
 * that runs a handler table, and the typed send helpers (the message bus's
 * part of the server side is emit_bus.c's). */
#include <stdio.h>
#include <string.h>

#include "emit.h"

/* What the glue emitters share: the output and the protocol's names. */
typedef struct em {
  gen_buf *out;
  const gen_schema *s;
  gen_pool *pool;
  const char *p; /* "fs" */
  const char *P; /* "FS" */
} em;

static void emit_msg_name(em *e) {
  const gen_schema *s = e->s;
  gen_buf *o = e->out;
  gen_buf_printf(o, "const char *%s_msg_name(uint16_t id) {\n  switch (id) {\n",
                 e->p);
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE)
      gen_buf_printf(o, "  case %s_%s_ID:\n    return \"%s\";\n", e->P,
                     gen_upper(e->pool, s->decls[i]->name), s->decls[i]->name);
  gen_buf_puts(o, "  default:\n    return NULL;\n  }\n}\n");
}

/* The switch shared by both dispatchers. */
static void emit_dispatch_cases(em *e, bool server) {
  const gen_schema *s = e->s;
  gen_buf *o = e->out;
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, server))
      continue;
    gen_buf_printf(o,
                   "  case %s_%s_ID: {\n    %s_%s m;\n"
                   "    if (h->on_%s == NULL) {\n      rc = NETFW_ENOSYS; /* no "
                   "handler */\n      break;\n    }\n",
                   e->P, gen_upper(e->pool, d->name), e->p, d->name, d->name);
    if (d->needs_arena)
      gen_buf_printf(o, "    if (arena == NULL)\n      return %s__no_arena(%s_%s_ID);\n",
                     e->p, e->P, gen_upper(e->pool, d->name));
    gen_buf_printf(o,
                   "    rc = %s_%s_decode(msg, &m, arena);\n"
                   "    if (rc != 0)\n      goto failed_decode;\n"
                   "    h->on_%s(%s, &m);\n    return 0;\n  }\n",
                   e->p, d->name, d->name, server ? "app, conn" : "user");
  }
}

static bool any_received(const gen_schema *s, bool server) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && gen_receives(s->decls[i], server))
      return true;
  return false;
}

/* The netfw_app that runs a <p>_server_app: one small adapter per callback,
 * the table filled by member name. */
static void emit_app_glue(gen_buf *o, const char *p) {
  gen_buf_printf(
      o,
      "typedef struct %s__worker {\n  const %s_server_app *def;\n  void *app;\n"
      "  netfw_arena arena;\n} %s__worker;\n\n"
      "static void *%s__create(void *context) {\n"
      "  const %s_server_app *def = context;\n"
      "  %s__worker *w = malloc(sizeof(*w));\n\n"
      "  if (w == NULL)\n    return NULL;\n  w->def = def;\n"
      "  if (def->handlers == NULL)\n"
      "    netfw_log(NETFW_LOG_ERROR, \"%s_server_app.handlers is NULL: \"\n"
      "              \"every connection that sends a message is closed\");\n"
      "  netfw_arena_init(&w->arena);\n"
      "  w->app = def->create != NULL ? def->create(def->context) : "
      "def->context;\n  return w;\n}\n\n",
      p, p, p, p, p, p, p);
  gen_buf_printf(o,
                 "static bool %s__connect(void *app, netfw_conn *client) {\n"
                 "  %s__worker *w = app;\n"
                 "  return w == NULL || w->def->on_connect == NULL ||\n"
                 "         w->def->on_connect(w->app, client);\n}\n\n"
                 "static void %s__disconnect(void *app, netfw_conn *client) {\n"
                 "  %s__worker *w = app;\n"
                 "  if (w != NULL && w->def->on_disconnect != NULL)\n"
                 "    w->def->on_disconnect(w->app, client);\n}\n\n",
                 p, p, p, p);
  gen_buf_printf(
      o,
      "static void %s__closed(void *app, netfw_conn *client,\n"
      "                       netfw_close_reason why) {\n"
      "  %s__worker *w = app;\n"
      "  if (w != NULL && w->def->on_closed != NULL)\n"
      "    w->def->on_closed(w->app, client, why);\n}\n\n"
      "static void %s__message(void *app, netfw_owned_msg *m) {\n"
      "  %s__worker *w = app;\n"
      "  if (w == NULL) {\n"
      "    netfw_conn_shutdown_for(m->owner, NETFW_CLOSE_NOMEM);\n"
      "    return;\n  }\n"
      "  if (w->def->handlers == NULL) { /* logged by create */\n"
      "    netfw_conn_shutdown_for(m->owner, NETFW_CLOSE_PROTOCOL);\n"
      "    return;\n  }\n"
      "  (void)%s_server_dispatch(w->def->handlers, w->app, m->owner, "
      "m->msg,\n                           &w->arena);\n}\n\n",
      p, p, p, p, p);
  gen_buf_printf(
      o,
      "static void %s__bus(void *app, const char *channel, netfw_msg *msg) "
      "{\n"
      "  %s__worker *w = app;\n"
      "  if (w != NULL)\n"
      "    (void)%s_bus_dispatch(w->def, w->app, channel, msg, &w->arena);\n"
      "}\n\n"
      "static void %s__destroy(void *app) {\n"
      "  %s__worker *w = app;\n  if (w == NULL)\n    return;\n"
      "  if (w->def->destroy != NULL)\n    w->def->destroy(w->app);\n"
      "  netfw_arena_free(&w->arena);\n  free(w);\n}\n\n"
      "const netfw_app %s_netfw_app = {\n"
      "    .create = %s__create,\n"
      "    .on_client_connect = %s__connect,\n"
      "    .on_client_disconnect = %s__disconnect,\n"
      "    .on_message = %s__message,\n"
      "    .destroy = %s__destroy,\n"
      "    .on_client_closed = %s__closed,\n"
      "    .on_bus = %s__bus};\n\n"
      "void %s_server_config_init(netfw_config *cfg, const "
      "%s_server_app *app) {\n"
      "  netfw_config_init(cfg, &%s_netfw_app);\n"
      "  if (app == NULL || app->handlers == NULL) {\n"
      "    netfw_log(NETFW_LOG_ERROR,\n"
      "              \"%s_server_config_init: %%s is NULL, so every \"\n"
      "              \"message would be dropped: netfw_server_new will \"\n"
      "              \"refuse this config\",\n"
      "              app == NULL ? \"app\" : \"app->handlers\");\n"
      "    cfg->app = NULL;\n"
      "    return;\n  }\n"
      "  cfg->context = (void *)(uintptr_t)app; /* netfw only passes "
      "it back */\n"
      "  cfg->msg_name = %s_msg_name; /* statistics by message name */\n"
      "  cfg->protocol = &%s_descriptor; /* its requests' replies in order */\n"
      "}\n\n",
      p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);
}
/* Whether the schema has a message that decodes into an arena. */
static bool any_needs_arena(const gen_schema *s) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && s->decls[i]->needs_arena)
      return true;
  return false;
}

/* What both dispatchers' log lines use: a message's name, which side
 * receives it, why one went to on_unknown, and the NULL-arena refusal. */
static void emit_shared(em *e) {
  const char *p = e->p;
  gen_buf *o = e->out;
  gen_buf_printf(o,
                 "\nstatic const char *%s__name_or(uint16_t id) {\n"
                 "  const char *n = %s_msg_name(id);\n  return n != NULL ? n : "
                 "\"?\";\n}\n\n",
                 p, p);
  gen_buf_printf(o, "/* Whether the server (or, if !server, the client) "
                    "receives message id. */\n"
                    "static bool %s__received_by(uint16_t id, bool server) {\n"
                    "  switch (id) {\n", p);
  for (size_t i = 0; i < e->s->ndecls; i++) {
    const gen_decl *d = e->s->decls[i];
    if (d->kind == D_MESSAGE)
      gen_buf_printf(o, "  case %s_%s_ID:\n    return %s;\n", e->P,
                     gen_upper(e->pool, d->name),
                     d->dir == DIR_BOTH     ? "true"
                     : d->dir == DIR_SERVER ? "server"
                                            : "!server");
  }
  gen_buf_puts(o, "  default:\n    (void)server;\n    return false;\n  }\n}\n\n");
  gen_buf_printf(
      o,
      "/* Why message id went to on_unknown, in buf: not in the schema, the "
      "other\n * side's message, or a NULL handler. */\n"
      "static const char *%s__unexpected(uint16_t id, bool server, char *buf,\n"
      "                                  size_t len) {\n"
      "  const char *n = %s_msg_name(id);\n\n"
      "  if (n == NULL)\n"
      "    snprintf(buf, len, \"unknown message id %%u\", (unsigned)id);\n"
      "  else if (%s__received_by(id, server))\n"
      "    snprintf(buf, len, \"no handler for %%s (id %%u)\", n, "
      "(unsigned)id);\n"
      "  else\n"
      "    snprintf(buf, len, \"%%s (id %%u), a message for the %%s\", n, "
      "(unsigned)id,\n"
      "             server ? \"client\" : \"server\");\n"
      "  return buf;\n}\n\n",
      p, p, p);
  if (any_needs_arena(e->s))
    gen_buf_printf(o,
                   "/* Dispatch without the arena message id needs for its "
                   "arrays. */\n"
                   "static int %s__no_arena(uint16_t id) {\n"
                   "  netfw_log(NETFW_LOG_ERROR,\n"
                   "            \"%s: dispatch needs an arena: %%s (id %%u) "
                   "has arrays to decode, and arena is NULL\",\n"
                   "            %s__name_or(id), (unsigned)id);\n"
                   "  return NETFW_EINVAL;\n}\n\n",
                   p, p, p);
}

static void emit_server(em *e) {
  const char *p = e->p;
  gen_buf *o = e->out;
  bool any = any_received(e->s, true);

  gen_buf_printf(o, "\n/* ---- server side ---- */\n\n");
  gen_buf_printf(o,
                 "/* \"ip:port\" of conn's peer in buf, for a log line. */\n"
                 "static const char *%s__peer(netfw_conn *conn, char *buf, "
                 "size_t len) {\n"
                 "  char ip[64];\n  uint16_t port = 0;\n\n"
                 "  if (netfw_conn_addr(conn, ip, sizeof(ip), &port) != 0)\n"
                 "    return \"?\";\n"
                 "  snprintf(buf, len, \"%%s:%%u\", ip, (unsigned)port);\n"
                 "  return buf;\n}\n\n",
                 p);
  gen_buf_printf(
      o,
      "void %s_server_default_unknown(void *app, netfw_conn *conn, netfw_msg "
      "*msg) {\n"
      "  char peer[80], why[128];\n\n  (void)app;\n"
      "  netfw_log_peer(NETFW_LOG_WARN, %s__peer(conn, peer, sizeof(peer)),\n"
      "                 \"%s: %%s, closing the connection\",\n"
      "                 %s__unexpected(netfw_msg_id(msg), true, why, "
      "sizeof(why)));\n"
      "  netfw_conn_shutdown_for(conn, NETFW_CLOSE_PROTOCOL);\n}\n\n",
      p, p, p, p);
  gen_buf_printf(
      o,
      "void %s_server_default_malformed(void *app, netfw_conn *conn, "
      "netfw_msg *msg,\n                                 int err) {\n"
      "  char peer[80];\n\n  (void)app;\n"
      "  netfw_log_peer(NETFW_LOG_WARN, %s__peer(conn, peer, sizeof(peer)),\n"
      "                 \"%s: malformed %%s (id %%u, %%u bytes): %%s, closing "
      "the connection\",\n"
      "                 %s__name_or(netfw_msg_id(msg)), "
      "(unsigned)netfw_msg_id(msg),\n"
      "                 (unsigned)netfw_msg_size(msg), netfw_strerror(err));\n"
      "  netfw_conn_shutdown_for(conn, NETFW_CLOSE_PROTOCOL);\n}\n\n",
      p, p, p, p);
  gen_buf_printf(
      o,
      "int %s_server_dispatch(const %s_server_handlers *h, void "
      "*app, netfw_conn *conn,\n"
      "                       netfw_msg *msg, netfw_arena *arena) {\n",
      p, p);
  if (any)
    gen_buf_puts(o, "  int rc = NETFW_EPROTO; /* an id it does not receive "
                    "*/\n\n");
  gen_buf_printf(o,
                 "  if (h == NULL || msg == NULL)\n    return NETFW_EINVAL;\n"
                 "  if (arena != NULL)\n    netfw_arena_reset(arena);\n"
                 "  switch (netfw_msg_id(msg)) {\n");
  emit_dispatch_cases(e, true);
  gen_buf_printf(
      o,
      "  default:\n    break;\n  }\n"
      "  netfw_conn_count_bad(conn, msg, false);\n"
      "  if (h->on_unknown != NULL)\n    h->on_unknown(app, conn, msg);\n"
      "  else\n    %s_server_default_unknown(app, conn, msg);\n"
      "  return %s;\n",
      p, any ? "rc" : "NETFW_EPROTO");
  if (any)
    gen_buf_printf(
        o,
        "\nfailed_decode:\n"
        "  netfw_conn_count_bad(conn, msg, true);\n"
        "  if (h->on_malformed != NULL)\n"
        "    h->on_malformed(app, conn, msg, rc);\n"
        "  else\n    %s_server_default_malformed(app, conn, msg, rc);\n"
        "  return rc;\n",
        p);
  gen_buf_puts(o, "}\n\n");

  emit_app_glue(o, p);
  for (size_t i = 0; i < e->s->ndecls; i++) {
    const gen_decl *d = e->s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, false))
      continue;
    gen_buf_printf(o,
                   "int %s_server_send_%s(netfw_conn *conn, const %s_%s *m) "
                   "{\n"
                   "  netfw_msg msg;\n  int rc;\n\n"
                   "  netfw_msg_init(&msg, %s_%s_ID);\n"
                   "  rc = %s_%s_encode(m, &msg);\n"
                   "  if (rc == 0)\n    rc = netfw_conn_send(conn, &msg);\n"
                   "  netfw_msg_release(&msg);\n  return rc;\n}\n\n",
                   p, d->name, p, d->name, e->P, gen_upper(e->pool, d->name), p,
                   d->name);
  }
  gen_emit_bus_glue(o, e->s, e->pool);
}

static void emit_client(em *e) {
  const char *p = e->p;
  gen_buf *o = e->out;
  bool any = any_received(e->s, false);

  gen_buf_printf(o, "/* ---- client side ---- */\n\n");
  gen_buf_printf(
      o,
      "void %s_client_default_unknown(void *user, netfw_msg *msg) {\n"
      "  char why[128];\n\n  (void)user;\n"
      "  netfw_log(NETFW_LOG_WARN, \"%s: from the server: %%s\",\n"
      "            %s__unexpected(netfw_msg_id(msg), false, why, "
      "sizeof(why)));\n"
      "}\n\n"
      "void %s_client_default_malformed(void *user, netfw_msg *msg, int err) "
      "{\n"
      "  (void)user;\n"
      "  netfw_log(NETFW_LOG_WARN, \"%s: malformed %%s (id %%u, %%u bytes) "
      "from "
      "the server: %%s\",\n"
      "            %s__name_or(netfw_msg_id(msg)), "
      "(unsigned)netfw_msg_id(msg),\n"
      "            (unsigned)netfw_msg_size(msg), netfw_strerror(err));\n}\n\n",
      p, p, p, p, p, p);
  gen_buf_printf(o,
                 "int %s_client_dispatch(const %s_client_handlers *h, void "
                 "*user, netfw_msg *msg,\n"
                 "                       netfw_arena *arena) {\n",
                 p, p);
  if (any)
    gen_buf_puts(o, "  int rc = NETFW_EPROTO; /* an id it does not receive "
                    "*/\n\n");
  gen_buf_puts(o, "  if (h == NULL || msg == NULL)\n    return NETFW_EINVAL;\n"
                  "  if (arena != NULL)\n    netfw_arena_reset(arena);\n"
                  "  switch (netfw_msg_id(msg)) {\n");
  emit_dispatch_cases(e, false);
  gen_buf_printf(o,
                 "  default:\n    break;\n  }\n"
                 "  if (h->on_unknown != NULL)\n    h->on_unknown(user, msg);\n"
                 "  else\n    %s_client_default_unknown(user, msg);\n"
                 "  return %s;\n",
                 p, any ? "rc" : "NETFW_EPROTO");
  if (any)
    gen_buf_printf(o,
                   "\nfailed_decode:\n"
                   "  if (h->on_malformed != NULL)\n"
                   "    h->on_malformed(user, msg, rc);\n"
                   "  else\n    %s_client_default_malformed(user, msg, rc);\n"
                   "  return rc;\n",
                   p);
  gen_buf_puts(o, "}\n\n");
  gen_buf_printf(o,
                 "int %s_client_recv(netfw_client *c, const %s_client_handlers "
                 "*h, void *user,\n"
                 "                   netfw_arena *arena, int timeout_ms) {\n"
                 "  netfw_msg *msg = NULL;\n"
                 "  int rc = netfw_client_recv(c, &msg, timeout_ms);\n\n"
                 "  if (rc != 0)\n    return rc;\n"
                 "  rc = %s_client_dispatch(h, user, msg, arena);\n"
                 "  netfw_msg_free(msg);\n  return rc;\n}\n",
                 p, p, p);
  for (size_t i = 0; i < e->s->ndecls; i++) {
    const gen_decl *d = e->s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, true))
      continue;
    gen_buf_printf(
        o,
        "\nint %s_client_send_%s(netfw_client *c, const %s_%s *m) {\n"
        "  netfw_msg msg;\n  int rc;\n\n"
        "  netfw_msg_init(&msg, %s_%s_ID);\n"
        "  rc = %s_%s_encode(m, &msg);\n"
        "  if (rc == 0)\n    rc = netfw_client_send(c, &msg);\n"
        "  netfw_msg_release(&msg);\n  return rc;\n}\n",
        p, d->name, p, d->name, e->P, gen_upper(e->pool, d->name), p, d->name);
  }
}

void gen_emit_glue(gen_buf *b, const gen_schema *s, gen_pool *pool) {
  em e;

  e.out = b;
  e.s = s;
  e.pool = pool;
  e.p = s->proto;
  e.P = gen_upper(pool, s->proto);
  emit_msg_name(&e);
  gen_buf_puts(b, "\n#ifndef NETFW_GEN_CODEC_ONLY\n");
  emit_shared(&e);
  emit_server(&e);
  emit_client(&e);
  gen_emit_calls_glue(b, s, pool);
  gen_buf_puts(b, "#endif /* NETFW_GEN_CODEC_ONLY */\n");
}
