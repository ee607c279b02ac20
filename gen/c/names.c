/* C's name rules, run by the front end's checker as its hooks (see
 * front/check.h): a field may not be a C keyword nor clash with a member the
 * C struct adds, and no two schema names may generate one C symbol. Also
 * the CamelCase -> UPPER_CASE conversion the emitters share. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

/* CamelCase -> CAMEL_CASE: an underscore goes before an upper-case letter
 * that follows a lower-case letter or digit, or that starts a new word after
 * an acronym ("HTTPServer" -> "HTTP_SERVER"). */
const char *gen_upper(gen_pool *p, const char *s) {
  size_t n = strlen(s);
  char *r = gen_pool_alloc(p, n * 2 + 1);
  size_t j = 0;

  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool up = c >= 'A' && c <= 'Z';
    if (up && i > 0) {
      char prev = s[i - 1];
      bool prev_lower =
          (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
      bool prev_upper = prev >= 'A' && prev <= 'Z';
      bool next_lower = i + 1 < n && s[i + 1] >= 'a' && s[i + 1] <= 'z';
      if (prev_lower || (prev_upper && next_lower))
        r[j++] = '_';
    }
    r[j++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  r[j] = '\0';
  return r;
}

/* C11 keywords, plus the macros of <stdbool.h>/<stddef.h> a member name
 * would be clobbered by, plus C++ keywords (the header is C++-includable). */
static const char *const keywords[] = {
    "auto",     "break",         "case",         "char",    "const",
    "continue", "default",       "do",           "double",  "else",
    "enum",     "extern",        "float",        "for",     "goto",
    "if",       "inline",        "int",          "long",    "register",
    "restrict", "return",        "short",        "signed",  "sizeof",
    "static",   "struct",        "switch",       "typedef", "union",
    "unsigned", "void",          "volatile",     "while",   "bool",
    "true",     "false",         "NULL",         "alignas", "alignof",
    "noreturn", "static_assert", "thread_local", "asm",     "class",
    "delete",   "new",           "operator",     "private", "protected",
    "public",   "template",      "this",         "throw",   "try",
    "catch",    "virtual",       "namespace",    "using",   "friend",
    "mutable",  "explicit",      "typename",     "errno",   "assert",
    "offsetof"};

bool gen_is_c_keyword(const char *s) {
  for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
    if (strcmp(s, keywords[i]) == 0)
      return true;
  return false;
}

typedef struct names {
  gen_diag *d;
  gen_pool *pool;
  gen_map symbols; /* generated C symbol -> struct sym */
} names;

typedef struct sym {
  const char *owner; /* the schema name that generates it */
  gen_pos pos;
} sym;

static const char *cat(gen_pool *pool, const char *a, const char *b,
                       const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *r = gen_pool_alloc(pool, la + lb + lc + 1);
  memcpy(r, a, la);
  memcpy(r + la, b, lb);
  memcpy(r + la + lb, c, lc);
  return r;
}

static bool keyword_field(gen_diag *d, const gen_field *f) {
  if (!gen_is_c_keyword(f->name))
    return false;
  gen_error(d, f->pos, "field name '%s' is a C keyword", f->name);
  return true;
}

/* The members the C struct adds: x_count for repeated, has_x for optional,
 * present_version when a field has [since].
 * A field takes the member's name only if the checker accepted its name:
 * not '_'-prefixed, not a keyword, the first of its name. */
static void member_clashes(gen_diag *d, const gen_decl *decl) {
  gen_map fields = {0};
  gen_pool pool = {0};
  for (size_t i = 0; i < decl->nfields; i++) {
    gen_field *f = &decl->fields[i];
    if (f->name[0] != '_' && !gen_is_c_keyword(f->name))
      (void)gen_map_put(&fields, f->name, f);
  }
  for (size_t i = 0; i < decl->nfields; i++) {
    const gen_field *f = &decl->fields[i];
    const char *extra = NULL;
    const gen_field *old;
    if (f->mode == F_REPEATED)
      extra = cat(&pool, f->name, "_count", "");
    else if (f->mode == F_OPTIONAL)
      extra = cat(&pool, "has_", f->name, "");
    if (extra == NULL)
      continue;
    old = gen_map_get(&fields, extra);
    if (old != NULL)
      gen_error(d, old->pos,
                "field '%s' collides with the member '%s' generated for '%s' "
                "(%d:%d)",
                old->name, extra, f->name, f->pos.line, f->pos.col);
  }
  for (size_t i = 0; i < decl->nfields; i++)
    if (decl->fields[i].since_pos.line != 0) {
      const gen_field *old = gen_map_get(&fields, "present_version");
      if (old != NULL)
        gen_error(d, old->pos,
                  "field 'present_version' collides with the member the C "
                  "struct gets for its fields added with [since]");
      break;
    }
  gen_map_free(&fields);
  gen_pool_free(&pool);
}

/* Registers a generated symbol; reports a clash with an earlier one. */
static void add_symbol(names *n, const char *symbol, const char *owner,
                       gen_pos pos) {
  sym *s = gen_pool_alloc(n->pool, sizeof(*s));
  sym *old;
  s->owner = owner;
  s->pos = pos;
  old = gen_map_put(&n->symbols, symbol, s);
  if (old != NULL && strcmp(old->owner, owner) != 0)
    gen_error(n->d, pos,
              "'%s' generates '%s', which '%s' (%d:%d) generates too", owner,
              symbol, old->owner, old->pos.line, old->pos.col);
  else if (old != NULL)
    gen_error(n->d, pos, "'%s' generates '%s' twice", owner, symbol);
}

/* The symbols one declaration generates (emit_header.c, emit_glue.c). */
static void decl_symbols(names *n, const char *p, const char *P,
                         const gen_decl *d) {
  const char *t = cat(n->pool, p, "_", d->name);
  const char *U = cat(n->pool, P, "_", gen_upper(n->pool, d->name));
  switch (d->kind) {
  case D_CONST:
    add_symbol(n, U, d->name, d->pos);
    break;
  case D_ENUM:
    add_symbol(n, t, d->name, d->pos);
    if (d->open) /* its constants' tag: enum P_Name_value */
      add_symbol(n, cat(n->pool, t, "_value", ""), d->name, d->pos);
    for (size_t k = 0; k < d->nconsts; k++)
      add_symbol(n, cat(n->pool, U, "_", gen_upper(n->pool, d->consts[k].name)),
                 d->name, d->consts[k].pos);
    break;
  case D_MESSAGE:
    add_symbol(n, cat(n->pool, U, "_ID", ""), d->name, d->pos);
    add_symbol(n, cat(n->pool, p, "_send_", d->name), d->name, d->pos);
    add_symbol(n, cat(n->pool, p, "_server_send_", d->name), d->name, d->pos);
    add_symbol(n, cat(n->pool, p, "_client_send_", d->name), d->name, d->pos);
    add_symbol(n, cat(n->pool, p, "_publish_", d->name), d->name, d->pos);
    add_symbol(n, cat(n->pool, "handlers.on_", d->name, ""), d->name, d->pos);
    if (d->nreturns > 0) { /* a request's calls (emit_calls.c) */
      add_symbol(n, cat(n->pool, t, "_reply", ""), d->name, d->pos);
      add_symbol(n, cat(n->pool, t, "_cb", ""), d->name, d->pos);
      add_symbol(n, cat(n->pool, p, "_call_", d->name), d->name, d->pos);
      add_symbol(n, cat(n->pool, p, "_acall_", d->name), d->name, d->pos);
    }
    if (d->is_reply)
      add_symbol(n, cat(n->pool, p, "_server_reply_", d->name), d->name,
                 d->pos);
    /* fall through */
  case D_STRUCT:
    add_symbol(n, t, d->name, d->pos);
    add_symbol(n, cat(n->pool, t, "_encode", ""), d->name, d->pos);
    add_symbol(n, cat(n->pool, t, "_decode", ""), d->name, d->pos);
    add_symbol(n, cat(n->pool, t, "_encoded_size", ""), d->name, d->pos);
    break;
  }
}

/* Every C symbol the output will define, so two never clash. */
static void schema_symbols(gen_diag *d, gen_pool *pool, const gen_schema *s) {
  static const char *const fixed[] = {"msg_name",
                                      "server_handlers",
                                      "client_handlers",
                                      "server_dispatch",
                                      "client_dispatch",
                                      "server_default_unknown",
                                      "server_default_malformed",
                                      "client_default_unknown",
                                      "client_default_malformed",
                                      "server_app",
                                      "server_config_init",
                                      "netfw_app",
                                      "client_recv",
                                      "bus_handlers",
                                      "bus_dispatch",
                                      "descriptor",
                                      "client_new",
                                      "aclient_config_init"};
  names n = {d, pool, {0}};
  const char *p = s->proto;
  const char *P;

  if (p == NULL || p[0] == '_') /* reported by the checker */
    return;
  P = gen_upper(pool, p);
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    add_symbol(&n, cat(pool, p, "_", fixed[i]), "the protocol", s->proto_pos);
  add_symbol(&n, "handlers.on_unknown", "the protocol", s->proto_pos);
  add_symbol(&n, "handlers.on_malformed", "the protocol", s->proto_pos);
  for (size_t i = 0; i < s->ndecls; i++)
    decl_symbols(&n, p, P, s->decls[i]);
  gen_map_free(&n.symbols);
}

const gen_check_hooks gen_c_check_hooks = {
    .field_name = keyword_field,
    .fields = member_clashes,
    .schema = schema_symbols,
};
