/* Python's name rules, run by the front end's checker as its hooks (see
 * front/check.h), and the spellings the emitters share. A schema name that
 * Python cannot use as is — a keyword, a member a generated class defines,
 * a name the module defines or a builtin it relies on — gets a trailing
 * '_' ("from" -> "from_"); the wire is unaffected. Two names that end up
 * spelled alike in one scope (a class, an enum, the module, a handler
 * class) are an error. */
#include <stdio.h>
#include <string.h>

#include "py.h"

static const char *const keywords[] = {
    "False",  "None",   "True",    "and",      "as",       "assert", "async",
    "await",  "break",  "class",   "continue", "def",      "del",    "elif",
    "else",   "except", "finally", "for",      "from",     "global", "if",
    "import", "in",     "is",      "lambda",   "nonlocal", "not",    "or",
    "pass",   "raise",  "return",  "try",      "while",    "with",   "yield"};

/* What the module defines at its top level, imports included. */
static const char *const module_names[] = {
    "PROTOCOL",      "VERSION",        "MAX_PAYLOAD",    "DecodeError",
    "MESSAGES",      "UnknownMessage", "decode_message", "read_frames",
    "from_netframe", "ServerHandlers", "ClientHandlers", "open_connection",
    "Connection",    "annotations",    "asyncio",        "dataclasses",
    "enum",          "logging",        "struct",         "typing"};

/* The builtins the generated module calls: a type or const named like one
 * would hide it. */
static const char *const builtins[] = {"AttributeError",
                                       "ConnectionResetError",
                                       "Exception",
                                       "IndexError",
                                       "KeyError",
                                       "OverflowError",
                                       "TypeError",
                                       "UnicodeDecodeError",
                                       "UnicodeEncodeError",
                                       "ValueError",
                                       "any",
                                       "bool",
                                       "bytearray",
                                       "bytes",
                                       "classmethod",
                                       "dict",
                                       "enumerate",
                                       "float",
                                       "frozenset",
                                       "getattr",
                                       "int",
                                       "isinstance",
                                       "len",
                                       "list",
                                       "memoryview",
                                       "object",
                                       "range",
                                       "repr",
                                       "str",
                                       "super",
                                       "tuple",
                                       "type",
                                       "zip"};

/* The names a codec function uses for itself (emit_codec.c, emit_check.c):
 * a field's local variable must not hide them. */
static const char *const locals[] = {
    "buf", "pos", "depth", "end",   "stop",  "n",    "k",   "t",  "v",
    "x",   "i",   "out",   "start", "where", "self", "cls", "exc", "limit"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *s, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

bool py_is_keyword(const char *s) {
  return in_list(s, keywords, COUNT(keywords));
}

/* name + "_" in the pool. */
static const char *underscored(gen_pool *p, const char *name) {
  size_t n = strlen(name);
  char *r = gen_pool_alloc(p, n + 2);
  memcpy(r, name, n);
  r[n] = '_';
  return r;
}

/* Why a type or const name is not used as is; NULL when it is. */
static const char *type_reason(const char *name) {
  if (py_is_keyword(name))
    return "a Python keyword";
  if (in_list(name, module_names, COUNT(module_names)))
    return "a name the module defines";
  if (in_list(name, builtins, COUNT(builtins)))
    return "a builtin the module uses";
  return NULL;
}

const char *py_type_name(gen_pool *p, const gen_decl *d) {
  return type_reason(d->name) ? underscored(p, d->name) : d->name;
}

/* Why field f of d is not used as is; NULL when it is. */
static const char *field_reason(const gen_decl *d, const gen_field *f) {
  static const char *const members[] = {"encode", "decode"};
  static const char *const msg_members[] = {"frame", "to_netframe", "ID",
                                            "NAME"};
  if (py_is_keyword(f->name))
    return "a Python keyword";
  if (in_list(f->name, members, COUNT(members)) ||
      (d->kind == D_MESSAGE &&
       in_list(f->name, msg_members, COUNT(msg_members))) ||
      (d->max_since > 0 && strcmp(f->name, "present_version") == 0))
    return "a member the class defines";
  return NULL;
}

const char *py_field_name(gen_pool *p, const gen_decl *d, const gen_field *f) {
  return field_reason(d, f) ? underscored(p, f->name) : f->name;
}

/* Why an enum constant is not used as is; NULL when it is. */
static const char *const_reason(const char *name) {
  static const char *const members[] = {"name", "value", "mro"};
  if (py_is_keyword(name))
    return "a Python keyword";
  if (in_list(name, members, COUNT(members)))
    return "a member every enum has";
  return NULL;
}

const char *py_const_name(gen_pool *p, const gen_enum_const *k) {
  return const_reason(k->name) ? underscored(p, k->name) : k->name;
}

const char *py_local_name(const py_out *o, const gen_decl *d,
                          const gen_field *f) {
  const char *n = py_field_name(o->pool, d, f);
  bool hides = in_list(n, locals, COUNT(locals)) ||
               in_list(n, builtins, COUNT(builtins)) ||
               in_list(n, module_names, COUNT(module_names)) ||
               strcmp(n, "DecodeError") == 0 || strcmp(n, "struct") == 0;
  for (size_t i = 0; !hides && i < o->s->ndecls; i++)
    hides = strcmp(n, py_type_name(o->pool, o->s->decls[i])) == 0;
  if (hides) {
    size_t len = strlen(n);
    char *r = gen_pool_alloc(o->pool, len + 2);
    r[0] = '_';
    memcpy(r + 1, n, len);
    return r;
  }
  return n;
}

/* ---- clashes within one scope ------------------------------------------ */

typedef struct entry {
  const char *desc; /* "field 'from'" */
  const char *name; /* "from": the schema's spelling */
  const char *why;  /* why a '_' was added, or NULL */
  gen_pos pos;
} entry;

typedef struct scope {
  gen_diag *d;
  gen_pool *pool;
  gen_map names; /* Python spelling -> entry */
} scope;

static const char *fmt(gen_pool *p, const char *what, const char *name) {
  size_t n = strlen(what) + strlen(name) + 4;
  char *r = gen_pool_alloc(p, n);
  snprintf(r, n, "%s '%s'", what, name);
  return r;
}

/* Registers Python name py for what desc names; an earlier holder of the
 * same spelling is an error reported at pos. */
static void claim(scope *sc, const char *py, const char *desc, const char *name,
                  const char *why, gen_pos pos) {
  entry *e = gen_pool_alloc(sc->pool, sizeof(*e));
  entry *old, *renamed;
  e->desc = desc;
  e->name = name;
  e->why = why;
  e->pos = pos;
  old = gen_map_put(&sc->names, py, e);
  if (old == NULL)
    return;
  renamed = why != NULL ? e : old->why != NULL ? old : NULL;
  if (renamed != NULL)
    gen_error(sc->d, pos,
              "%s and %s (%d:%d) are both '%s' in Python ('%s' gets a '_': "
              "%s)",
              desc, old->desc, old->pos.line, old->pos.col, py, renamed->name,
              renamed->why);
  else
    gen_error(sc->d, pos, "%s and %s (%d:%d) are both '%s' in Python", desc,
              old->desc, old->pos.line, old->pos.col, py);
}

/* The fields of d: two may not end up with one spelling ("from" and
 * "from_"). */
static void field_clashes(gen_diag *d, const gen_decl *decl) {
  gen_pool pool = {0};
  scope sc = {d, &pool, {0}};
  for (size_t i = 0; i < decl->nfields; i++) {
    const gen_field *f = &decl->fields[i];
    const char *why = field_reason(decl, f);
    if (f->name[0] == '_')
      continue; /* reported by the checker */
    claim(&sc, why ? underscored(&pool, f->name) : f->name,
          fmt(&pool, "field", f->name), f->name, why, f->pos);
  }
  gen_map_free(&sc.names);
  gen_pool_free(&pool);
}

/* Every name of the module's top level: the module's own, each type and
 * const, and the send helpers of each message. */
static void module_clashes(scope *sc, const gen_schema *s) {
  for (size_t i = 0; i < COUNT(module_names); i++)
    claim(sc, module_names[i], fmt(sc->pool, "the module's", module_names[i]),
          module_names[i], NULL, s->proto_pos);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    static const char *const kinds[] = {"enum", "struct", "message", "const"};
    const char *why = type_reason(d->name);
    const char *py = why ? underscored(sc->pool, d->name) : d->name;
    claim(sc, py, fmt(sc->pool, kinds[d->kind], d->name), d->name, why, d->pos);
  }
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    const char *py = py_type_name(sc->pool, d);
    char name[512];
    if (d->kind != D_MESSAGE)
      continue;
    if (gen_receives(d, false)) {
      snprintf(name, sizeof(name), "send_%s", py);
      claim(sc, gen_pool_strndup(sc->pool, name, strlen(name)),
            fmt(sc->pool, "the send helper of message", d->name), d->name, NULL,
            d->pos);
    }
    if (gen_receives(d, true)) {
      snprintf(name, sizeof(name), "client_send_%s", py);
      claim(sc, gen_pool_strndup(sc->pool, name, strlen(name)),
            fmt(sc->pool, "the client send helper of message", d->name),
            d->name, NULL, d->pos);
    }
  }
}

/* The methods of ServerHandlers (server) or ClientHandlers. */
static void handler_clashes(scope *sc, const gen_schema *s, bool server) {
  static const char *const fixed[] = {"on_unknown", "on_malformed", "dispatch"};
  for (size_t i = 0; i < COUNT(fixed); i++)
    claim(sc, fixed[i],
          fmt(sc->pool, "the method",
              server ? (i == 0   ? "ServerHandlers.on_unknown"
                        : i == 1 ? "ServerHandlers.on_malformed"
                                 : "ServerHandlers.dispatch")
                     : (i == 0   ? "ClientHandlers.on_unknown"
                        : i == 1 ? "ClientHandlers.on_malformed"
                                 : "ClientHandlers.dispatch")),
          fixed[i], NULL, s->proto_pos);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    char name[512];
    if (d->kind != D_MESSAGE || !gen_receives(d, server))
      continue;
    snprintf(name, sizeof(name), "on_%s", py_type_name(sc->pool, d));
    claim(sc, gen_pool_strndup(sc->pool, name, strlen(name)),
          fmt(sc->pool, "the handler of message", d->name), d->name, NULL,
          d->pos);
  }
}

/* The constants of enum d. */
static void const_clashes(scope *sc, const gen_decl *d) {
  for (size_t k = 0; k < d->nconsts; k++) {
    const gen_enum_const *c = &d->consts[k];
    const char *why = const_reason(c->name);
    claim(sc, why ? underscored(sc->pool, c->name) : c->name,
          fmt(sc->pool, "constant", c->name), c->name, why, c->pos);
  }
}

/* Every scope of the module but the classes' fields (field_clashes). */
static void schema_clashes(gen_diag *d, gen_pool *pool, const gen_schema *s) {
  if (s->proto == NULL)
    return;
  {
    scope sc = {d, pool, {0}};
    module_clashes(&sc, s);
    gen_map_free(&sc.names);
  }
  for (int server = 1; server >= 0; server--) {
    scope sc = {d, pool, {0}};
    handler_clashes(&sc, s, server != 0);
    gen_map_free(&sc.names);
  }
  for (size_t i = 0; i < s->ndecls; i++) {
    scope sc = {d, pool, {0}};
    if (s->decls[i]->kind != D_ENUM)
      continue;
    const_clashes(&sc, s->decls[i]);
    gen_map_free(&sc.names);
  }
}

const gen_check_hooks py_check_hooks = {
    .field_name = NULL,
    .fields = field_clashes,
    .schema = schema_clashes,
};
