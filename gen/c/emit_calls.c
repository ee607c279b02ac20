/* Emits the calls of a protocol (docs/calls.md), header and source: for each
 * request M (a message whose schema names its replies with `returns`) the
 * tagged union P_M_reply, the blocking P_call_M, the async P_acall_M with
 * its callback type; for each reply R the server's P_server_reply_R; and
 * P_client_new / P_aclient_config_init, which give a client the protocol.
 *
 * A decoded reply's strings and bytes point into the payload it was decoded
 * from. The blocking call copies the payload into the caller's arena first,
 * so the reply lives exactly as long as the arena's contents; the async one
 * decodes from the runtime's message, valid during the callback only, which
 * is the lifetime its reply promises. */
#include "emit.h"

/* What the emitters share: the output and the protocol's names. */
typedef struct em {
  gen_buf *out;
  const gen_schema *s;
  gen_pool *pool;
  const char *p; /* "fs" */
  const char *P; /* "FS" */
} em;

static bool is_request(const gen_decl *d) {
  return d->kind == D_MESSAGE && d->nreturns > 0;
}

static bool any_request(const gen_schema *s) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (is_request(s->decls[i]))
      return true;
  return false;
}

/* "Value or Missing" / "Value, Missing or Gone": the replies of m; with
 * ids, their id macros ("CALLS_VALUE_ID or CALLS_MISSING_ID"). */
static const char *reply_names(em *e, const gen_decl *m, bool ids) {
  gen_buf b = {0};
  const char *r;
  for (size_t k = 0; k < m->nreturns; k++) {
    const char *sep = k == 0 ? "" : k + 1 == m->nreturns ? " or " : ", ";
    if (ids)
      gen_buf_printf(&b, "%s%s_%s_ID", sep, e->P,
                     gen_upper(e->pool, m->returns[k].name));
    else
      gen_buf_printf(&b, "%s%s", sep, m->returns[k].name);
  }
  r = gen_pool_strndup(e->pool, b.data, b.len);
  gen_buf_free(&b);
  return r;
}

/* ---- the header --------------------------------------------------------- */

/* The reply union, the blocking and async calls of request m. */
static void emit_request_protos(em *e, const gen_decl *m) {
  gen_buf *o = e->out;
  const char *p = e->p, *n = m->name;

  gen_emit_comment(o, "",
                   "A reply to %s: id is the wire id of the message received "
                   "(%s), and the member of as named after that message "
                   "holds it.",
                   n, reply_names(e, m, true));
  gen_buf_printf(o, "typedef struct %s_%s_reply {\n  uint16_t id;\n  union {\n",
                 p, n);
  for (size_t k = 0; k < m->nreturns; k++)
    gen_buf_printf(o, "    %s_%s %s;\n", p, m->returns[k].name,
                   m->returns[k].name);
  gen_buf_printf(o, "  } as;\n} %s_%s_reply;\n\n", p, n);

  gen_emit_comment(
      o, "",
      "Sends req on c and waits for its reply (%s) into *reply, decoded "
      "into arena, which is reset when the reply has come (req may point "
      "into it): the reply's strings, bytes and arrays live there until its "
      "next reset. Returns 0; encode's errors; "
      "netfw_client_call's (NETFW_ETIMEDOUT, NETFW_ECONNRESET, "
      "NETFW_EPROTO, NETFW_ENOTCONN, NETFW_EAGAIN, NETFW_ESTATE, ...); a "
      "reply that does not decode: its decoder's error (NETFW_EPROTO or "
      "NETFW_ENOMEM, logged; the connection is kept); NETFW_EINVAL for a "
      "NULL argument. *reply is zeroed on every error.",
      reply_names(e, m, false));
  gen_buf_printf(o,
                 "int %s_call_%s(netfw_client *c, const %s_%s *req, "
                 "%s_%s_reply *reply,\n"
                 "               netfw_arena *arena, int timeout_ms);\n\n",
                 p, n, p, n, p, n);

  gen_emit_comment(o, "",
                   "Called once per %s_acall_%s: status 0 with the reply "
                   "(valid during the call only), or an error with reply "
                   "NULL (netfw_call_cb's, or a reply that does not decode: "
                   "its decoder's error).",
                   p, n);
  gen_buf_printf(o,
                 "typedef void (*%s_%s_cb)(void *arg, int status, "
                 "%s_%s_reply *reply);\n\n",
                 p, n, p, n);
  gen_emit_comment(o, "",
                   "Sends req on a and calls cb(arg, ...) once with its reply "
                   "or an error, from a's loop. Returns 0 (cb will be "
                   "called); encode's errors or netfw_aclient_call's "
                   "(then cb is never called); NETFW_EINVAL for a NULL "
                   "argument; NETFW_ENOMEM.");
  gen_buf_printf(o,
                 "int %s_acall_%s(netfw_aclient *a, const %s_%s *req, int "
                 "timeout_ms,\n"
                 "                %s_%s_cb cb, void *arg);\n\n",
                 p, n, p, n, p, n);
}

void gen_emit_calls_protos(gen_buf *b, const gen_schema *s, gen_pool *pool) {
  em e = {b, s, pool, s->proto, gen_upper(pool, s->proto)};
  const char *p = s->proto;

  gen_emit_comment(b, "",
                   "netfw_client_new() with the protocol set "
                   "(netfw_client_set_protocol with %s_descriptor), so that "
                   "its calls match replies to requests; NULL when out of "
                   "memory.",
                   p);
  gen_buf_printf(b, "netfw_client *%s_client_new(void);\n\n", p);
  gen_emit_comment(b, "",
                   "netfw_aclient_config_init() with cfg->protocol = "
                   "&%s_descriptor.",
                   p);
  gen_buf_printf(
      b, "void %s_aclient_config_init(netfw_aclient_config *cfg);\n\n", p);
  for (size_t i = 0; i < s->ndecls; i++)
    if (is_request(s->decls[i]))
      emit_request_protos(&e, s->decls[i]);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE || !d->is_reply)
      continue;
    gen_emit_comment(b, "",
                     "Answers the request r stands for (netfw_conn_defer) "
                     "with m: encode's errors or netfw_reply_send's.");
    gen_buf_printf(b,
                   "int %s_server_reply_%s(netfw_reply r, const %s_%s *m);\n\n",
                   p, d->name, p, d->name);
  }
}

/* ---- the source --------------------------------------------------------- */

/* The helpers every request's calls use. */
static void emit_shared(em *e) {
  const char *p = e->p;
  gen_buf_printf(
      e->out,
      "/* A reader over msg's payload (the decoded reply points into msg). */\n"
      "static void %s__reply_view(const netfw_msg *msg, netfw_reader *r) {\n"
      "  r->p = netfw__msg_data(msg);\n"
      "  r->p = r->p != NULL ? r->p : (const uint8_t *)\"\";\n"
      "  r->left = netfw__msg_size(msg);\n}\n\n"
      "/* A reader over a copy of msg's payload in arena: the decoded reply "
      "then\n * lives as long as the arena's contents, not msg. */\n"
      "static int %s__reply_copy(const netfw_msg *msg, netfw_arena *arena,\n"
      "                          netfw_reader *r) {\n"
      "  uint32_t n = netfw__msg_size(msg);\n"
      "  uint8_t *copy = netfw_arena_alloc(arena, n);\n\n"
      "  if (copy == NULL)\n    return NETFW_ENOMEM;\n"
      "  if (n > 0)\n    memcpy(copy, netfw__msg_data(msg), n);\n"
      "  r->p = copy;\n  r->left = n;\n  return 0;\n}\n\n"
      "/* Logs a reply that did not decode. */\n"
      "static void %s__bad_reply(const char *request, const netfw_msg *msg, "
      "int err) {\n"
      "  netfw_log(NETFW_LOG_WARN, \"%s: malformed %%s (id %%u, %%u bytes) "
      "answering %%s: %%s\",\n"
      "            %s__name_or(netfw_msg_id(msg)), "
      "(unsigned)netfw_msg_id(msg),\n"
      "            (unsigned)netfw_msg_size(msg), request, "
      "netfw_strerror(err));\n}\n\n",
      p, p, p, p, p);
}

/* P__decode_M_reply: the reply by its id into out's member. */
static void emit_decode_reply(em *e, const gen_decl *m) {
  gen_buf *o = e->out;
  const char *p = e->p, *n = m->name;

  gen_buf_printf(
      o,
      "/* Decodes the reply to %s with wire id id from r into "
      "*out. */\n"
      "static int %s__decode_%s_reply(netfw_reader *r, uint16_t id,\n"
      "                               %s_%s_reply *out, netfw_arena "
      "*arena) {\n"
      "  int rc;\n\n  switch (id) {\n",
      n, p, n, p, n);
  for (size_t k = 0; k < m->nreturns; k++) {
    const char *r = m->returns[k].name;
    gen_buf_printf(o,
                   "  case %s_%s_ID:\n"
                   "    rc = %s__dec_%s(r, &out->as.%s, arena, 0);\n"
                   "    break;\n",
                   e->P, gen_upper(e->pool, r), p, r, r);
  }
  gen_buf_printf(o,
                 "  default: /* the runtime lets only %s's replies through */\n"
                 "    return NETFW_EPROTO;\n  }\n"
                 "  if (rc != 0) {\n    memset(out, 0, sizeof(*out));\n"
                 "    return rc;\n  }\n"
                 "  out->id = id;\n  return 0;\n}\n\n",
                 n);
}

/* P_call_M: encode, netfw_client_call, decode from a copy in arena. */
static void emit_call(em *e, const gen_decl *m) {
  const char *p = e->p, *n = m->name;
  gen_buf_printf(
      e->out,
      "int %s_call_%s(netfw_client *c, const %s_%s *req, %s_%s_reply *reply,\n"
      "               netfw_arena *arena, int timeout_ms) {\n"
      "  netfw_msg msg, *answer = NULL;\n  netfw_reader r;\n  int rc;\n\n"
      "  if (reply == NULL)\n    return NETFW_EINVAL;\n"
      "  memset(reply, 0, sizeof(*reply));\n"
      "  if (c == NULL || req == NULL || arena == NULL)\n"
      "    return NETFW_EINVAL;\n"
      "  netfw_msg_init(&msg, %s_%s_ID);\n"
      "  rc = %s_%s_encode(req, &msg);\n"
      "  if (rc == 0)\n"
      "    rc = netfw_client_call(c, &msg, &answer, timeout_ms);\n"
      "  netfw_msg_release(&msg);\n"
      "  if (rc != 0)\n    return rc;\n"
      "  /* after encoding: req may point into the arena */\n"
      "  netfw_arena_reset(arena);\n"
      "  rc = %s__reply_copy(answer, arena, &r);\n"
      "  if (rc == 0) {\n"
      "    rc = %s__decode_%s_reply(&r, netfw_msg_id(answer), reply, arena);\n"
      "    if (rc != 0)\n      %s__bad_reply(\"%s\", answer, rc);\n  }\n"
      "  netfw_msg_free(answer);\n  return rc;\n}\n\n",
      p, n, p, n, p, n, e->P, gen_upper(e->pool, n), p, n, p, p, n, p, n);
}

/* P_acall_M: a heap thunk with the typed callback, its netfw_call_cb. */
static void emit_acall(em *e, const gen_decl *m) {
  const char *p = e->p, *n = m->name;
  gen_buf_printf(
      e->out,
      "/* What %s_acall_%s hands to netfw_aclient_call. */\n"
      "typedef struct %s__%s_call {\n  %s_%s_cb cb;\n  void *arg;\n"
      "} %s__%s_call;\n\n"
      "/* The netfw_call_cb of %s_acall_%s: frees the thunk, decodes the "
      "reply in a\n * temporary arena and calls the caller's callback. */\n"
      "static void %s__%s_done(void *arg, int status, netfw_msg *msg) {\n"
      "  %s__%s_call call = *(%s__%s_call *)arg;\n"
      "  %s_%s_reply reply;\n  netfw_arena arena;\n  netfw_reader r;\n\n"
      "  free(arg);\n"
      "  if (status != 0) {\n    call.cb(call.arg, status, NULL);\n"
      "    return;\n  }\n"
      "  netfw_arena_init(&arena);\n"
      "  %s__reply_view(msg, &r);\n"
      "  status = %s__decode_%s_reply(&r, netfw_msg_id(msg), &reply, "
      "&arena);\n"
      "  if (status != 0)\n    %s__bad_reply(\"%s\", msg, status);\n"
      "  call.cb(call.arg, status, status == 0 ? &reply : NULL);\n"
      "  netfw_arena_free(&arena);\n}\n\n",
      p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, p, n, p, n);
  gen_buf_printf(
      e->out,
      "int %s_acall_%s(netfw_aclient *a, const %s_%s *req, int timeout_ms,\n"
      "                %s_%s_cb cb, void *arg) {\n"
      "  %s__%s_call *call;\n  netfw_msg msg;\n  int rc;\n\n"
      "  if (a == NULL || req == NULL || cb == NULL)\n"
      "    return NETFW_EINVAL;\n"
      "  call = malloc(sizeof(*call));\n"
      "  if (call == NULL)\n    return NETFW_ENOMEM;\n"
      "  call->cb = cb;\n  call->arg = arg;\n"
      "  netfw_msg_init(&msg, %s_%s_ID);\n"
      "  rc = %s_%s_encode(req, &msg);\n"
      "  if (rc == 0)\n"
      "    rc = netfw_aclient_call(a, &msg, timeout_ms, %s__%s_done, call);\n"
      "  netfw_msg_release(&msg);\n"
      "  if (rc != 0)\n    free(call); /* cb is never called */\n"
      "  return rc;\n}\n\n",
      p, n, p, n, p, n, p, n, e->P, gen_upper(e->pool, n), p, n, p, n);
}

void gen_emit_calls_glue(gen_buf *b, const gen_schema *s, gen_pool *pool) {
  em e = {b, s, pool, s->proto, gen_upper(pool, s->proto)};
  const char *p = s->proto;

  gen_buf_printf(b, "\n/* ---- calls ---- */\n\n");
  gen_buf_printf(b,
                 "netfw_client *%s_client_new(void) {\n"
                 "  netfw_client *c = netfw_client_new();\n\n"
                 "  if (c != NULL && netfw_client_set_protocol(c, "
                 "&%s_descriptor) != 0) {\n"
                 "    netfw_client_free(c);\n    return NULL;\n  }\n"
                 "  return c;\n}\n\n"
                 "void %s_aclient_config_init(netfw_aclient_config *cfg) {\n"
                 "  netfw_aclient_config_init(cfg);\n"
                 "  cfg->protocol = &%s_descriptor;\n}\n\n",
                 p, p, p, p);
  if (any_request(s))
    emit_shared(&e);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *m = s->decls[i];
    if (!is_request(m))
      continue;
    emit_decode_reply(&e, m);
    emit_call(&e, m);
    emit_acall(&e, m);
  }
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE || !d->is_reply)
      continue;
    gen_buf_printf(b,
                   "int %s_server_reply_%s(netfw_reply r, const %s_%s *m) {\n"
                   "  netfw_msg msg;\n  int rc;\n\n"
                   "  netfw_msg_init(&msg, %s_%s_ID);\n"
                   "  rc = %s_%s_encode(m, &msg);\n"
                   "  if (rc == 0)\n    rc = netfw_reply_send(r, &msg);\n"
                   "  netfw_msg_release(&msg);\n  return rc;\n}\n\n",
                   p, d->name, p, d->name, e.P, gen_upper(pool, d->name), p,
                   d->name);
  }
}
