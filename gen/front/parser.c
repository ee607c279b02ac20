/* The .netproto parser: one parse_<rule> per grammar rule, an expect()
 * helper, the top level switching on the first word of a statement.
 *
 * Recovery: an error inside a body skips to the next ';' (or the closing
 * '}'), an error in a statement head skips the whole statement, so one run
 * reports many errors. Nothing recurses, so no input can exhaust the stack. */
#include <string.h>

#include "ast.h"
#include "layout.h"
#include "lexer.h"

typedef struct parser {
  gen_lexer lx;
  gen_token tok;
  gen_diag *d;
  gen_pool *pool;
  gen_schema *s;
  gen_buf doc; /* pending `///` lines */
  bool missing_protocol_reported;
  size_t decl_cap;
} parser;

/* Grows a pool array when full (pool arrays are never freed one by one). */
static void *grow(gen_pool *pool, void *arr, size_t n, size_t *cap,
                  size_t elem) {
  void *bigger;
  if (n < *cap)
    return arr;
  *cap = *cap ? *cap * 2 : 8;
  bigger = gen_pool_alloc(pool, *cap * elem);
  if (n > 0)
    memcpy(bigger, arr, n * elem);
  return bigger;
}

static void next(parser *p) {
  for (;;) {
    gen_lex(&p->lx, &p->tok);
    if (p->tok.kind != TOK_DOC)
      return;
    {
      const char *t = p->tok.start + 3;
      size_t n = p->tok.len - 3;
      if (n > 0 && *t == ' ') {
        t++;
        n--;
      }
      while (n > 0 && (t[n - 1] == '\r' || t[n - 1] == ' '))
        n--;
      gen_buf_append(&p->doc, t, n);
      gen_buf_append(&p->doc, "\n", 1);
    }
  }
}

static const char *take_doc(parser *p) {
  const char *r = NULL;
  if (p->doc.len > 0)
    r = gen_pool_strndup(p->pool, p->doc.data, p->doc.len - 1);
  p->doc.len = 0;
  return r;
}

static bool is_word(const parser *p, const char *w) {
  size_t n = strlen(w);
  return p->tok.kind == TOK_IDENT && p->tok.len == n &&
         memcmp(p->tok.start, w, n) == 0;
}

/* Describes the current token for "found ..." in messages. */
static const char *found(parser *p) {
  if (p->tok.kind == TOK_IDENT || p->tok.kind == TOK_INT) {
    size_t n = p->tok.len > 40 ? 40 : p->tok.len;
    char *s = gen_pool_alloc(p->pool, n + 6);
    s[0] = '\'';
    memcpy(s + 1, p->tok.start, n);
    strcpy(s + 1 + n, p->tok.len > 40 ? "...'" : "'");
    return s;
  }
  return gen_tok_name(p->tok.kind);
}

static bool expect(parser *p, gen_tok_kind k, const char *context) {
  if (p->tok.kind == k) {
    next(p);
    return true;
  }
  gen_error(p->d, p->tok.pos, "expected %s%s, found %s", gen_tok_name(k),
            context, found(p));
  return false;
}

static bool expect_name(parser *p, const char *what, const char **name,
                        gen_pos *pos) {
  if (p->tok.kind != TOK_IDENT) {
    gen_error(p->d, p->tok.pos, "expected %s, found %s", what, found(p));
    return false;
  }
  *name = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
  *pos = p->tok.pos;
  next(p);
  return true;
}

/* Skips the rest of a broken field or enum constant: to just after the next
 * ';' or to (not past) the '}' that closes the body. */
static void recover_member(parser *p) {
  int depth = 0;
  while (p->tok.kind != TOK_EOF) {
    if (p->tok.kind == TOK_LBRACE) {
      depth++;
    } else if (p->tok.kind == TOK_RBRACE) {
      if (depth == 0)
        return;
      depth--;
    } else if (p->tok.kind == TOK_SEMI && depth == 0) {
      next(p);
      return;
    }
    next(p);
  }
}

/* Skips the rest of a broken statement: past its ';' or its body. */
static void recover_statement(parser *p) {
  int depth = 0;
  while (p->tok.kind != TOK_EOF) {
    if (p->tok.kind == TOK_LBRACE) {
      depth++;
    } else if (p->tok.kind == TOK_RBRACE) {
      next(p);
      if (depth <= 1)
        return;
      depth--;
      continue;
    } else if (p->tok.kind == TOK_SEMI && depth == 0) {
      next(p);
      return;
    }
    next(p);
  }
  p->doc.len = 0;
}

static gen_decl *new_decl(parser *p, gen_decl_kind kind, const char *doc) {
  gen_decl *d = gen_pool_alloc(p->pool, sizeof(*d));
  d->kind = kind;
  d->doc = doc;
  p->s->decls = grow(p->pool, p->s->decls, p->s->ndecls, &p->decl_cap,
                     sizeof(*p->s->decls));
  p->s->decls[p->s->ndecls++] = d;
  return d;
}

/* The built-in type the current token names, or NULL. */
static const gen_scalar *builtin_type(const parser *p) {
  return p->tok.kind == TOK_IDENT ? gen_scalar_find(p->tok.start, p->tok.len)
                                  : NULL;
}

/* u8 / u16 / u32 as a prefix: returns the byte count, 0 after an error. */
static int parse_prefix_type(parser *p, const char *what) {
  const gen_scalar *t = builtin_type(p);
  if (t == NULL ||
      (t->kind != TY_U8 && t->kind != TY_U16 && t->kind != TY_U32)) {
    gen_error(p->d, p->tok.pos, "%s must be u8, u16 or u32, found %s", what,
              found(p));
    return 0;
  }
  next(p);
  return t->size;
}

/* '<' prefix '>' if present; default u32. */
static int parse_opt_prefix(parser *p, const char *what) {
  int r;
  if (p->tok.kind != TOK_LT)
    return 4;
  next(p);
  r = parse_prefix_type(p, what);
  if (r == 0)
    return 0;
  if (!expect(p, TOK_GT, ""))
    return 0;
  return r;
}

static bool parse_type(parser *p, gen_type *t) {
  const gen_scalar *builtin = builtin_type(p);
  t->pos = p->tok.pos;
  if (p->tok.kind != TOK_IDENT) {
    gen_error(p->d, p->tok.pos, "expected a field type, found %s", found(p));
    return false;
  }
  if (builtin != NULL) {
    t->kind = builtin->kind;
    next(p);
    if (t->kind != TY_STRING && t->kind != TY_BYTES)
      return true;
    t->prefix = parse_opt_prefix(p, "a length prefix");
    return t->prefix != 0;
  }
  t->kind = TY_NAMED;
  t->name = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
  next(p);
  return true;
}

static bool parse_field(parser *p, gen_field *f) {
  f->doc = take_doc(p);
  if (is_word(p, "optional")) {
    f->mode = F_OPTIONAL;
    next(p);
    if (is_word(p, "repeated") || is_word(p, "optional")) {
      gen_error(p->d, p->tok.pos, "'optional' cannot be combined with %s",
                found(p));
      return false;
    }
  } else if (is_word(p, "repeated")) {
    f->mode = F_REPEATED;
    next(p);
    if (p->tok.kind == TOK_LT) {
      next(p);
      f->count_prefix = parse_prefix_type(p, "a count prefix");
      if (f->count_prefix == 0 || !expect(p, TOK_GT, ""))
        return false;
    } else {
      f->count_prefix = 4;
    }
    if (is_word(p, "repeated") || is_word(p, "optional")) {
      gen_error(p->d, p->tok.pos, "'repeated' cannot be combined with %s",
                found(p));
      return false;
    }
  }
  if (!parse_type(p, &f->type))
    return false;
  if (!expect_name(p, "a field name", &f->name, &f->pos))
    return false;
  if (p->tok.kind == TOK_LBRACKET) {
    gen_pos at = p->tok.pos;
    if (f->mode != F_PLAIN) {
      gen_error(p->d, at, "%s field cannot also be a fixed array",
                f->mode == F_OPTIONAL ? "an optional" : "a repeated");
      return false;
    }
    f->mode = F_ARRAY;
    next(p);
    f->array_pos = p->tok.pos;
    if (p->tok.kind == TOK_INT) {
      f->array_len = p->tok.value;
      f->array_overflow = p->tok.overflow;
    } else if (p->tok.kind == TOK_IDENT) {
      f->array_const = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
    } else {
      gen_error(p->d, p->tok.pos,
                "expected an array size (a number or a const), found %s",
                found(p));
      return false;
    }
    next(p);
    if (!expect(p, TOK_RBRACKET, " after the array size"))
      return false;
  }
  return expect(p, TOK_SEMI, " after the field");
}

/* '{' field* '}' for structs and messages. */
static void parse_fields(parser *p, gen_decl *d) {
  size_t cap = 0;
  gen_pos open = p->tok.pos;

  if (!expect(p, TOK_LBRACE, "")) {
    recover_statement(p);
    return;
  }
  for (;;) {
    gen_field f;
    if (p->tok.kind == TOK_RBRACE) {
      p->doc.len = 0;
      next(p);
      break;
    }
    if (p->tok.kind == TOK_EOF) {
      gen_error(p->d, p->tok.pos, "expected '}' to close '%s' (opened at %d:%d)",
                d->name, open.line, open.col);
      return;
    }
    memset(&f, 0, sizeof(f));
    if (!parse_field(p, &f)) {
      recover_member(p);
      continue;
    }
    d->fields = grow(p->pool, d->fields, d->nfields, &cap, sizeof(f));
    d->fields[d->nfields++] = f;
  }
  if (p->tok.kind == TOK_SEMI) /* a C habit: `struct X { ... };` */
    next(p);
}

static void parse_protocol(parser *p) {
  gen_pos at = p->tok.pos;
  const char *name;
  gen_pos pos;
  const char *doc = take_doc(p);

  next(p);
  if (!expect_name(p, "a protocol name", &name, &pos) ||
      !expect(p, TOK_SEMI, " after the protocol name")) {
    recover_statement(p);
    return;
  }
  if (p->s->proto != NULL) {
    gen_error(p->d, at, "'protocol' may appear only once (first at %d:%d)",
              p->s->proto_pos.line, p->s->proto_pos.col);
    return;
  }
  p->s->proto = name;
  p->s->proto_pos = pos;
  p->s->doc = doc;
}

static void parse_option(parser *p) {
  gen_pos at = p->tok.pos;
  next(p);
  if (!is_word(p, "endian")) {
    if (p->tok.kind == TOK_IDENT)
      gen_error(p->d, p->tok.pos, "unknown option %s (the only option is 'endian')",
                found(p));
    else
      gen_error(p->d, p->tok.pos, "expected an option name, found %s", found(p));
    recover_statement(p);
    return;
  }
  next(p);
  if (!expect(p, TOK_EQ, " after 'endian'")) {
    recover_statement(p);
    return;
  }
  if (!is_word(p, "little") && !is_word(p, "big")) {
    gen_error(p->d, p->tok.pos, "endian must be 'little' or 'big', found %s",
              found(p));
    recover_statement(p);
    return;
  }
  if (p->s->endian_set) {
    gen_error(p->d, at, "option 'endian' is already set at %d:%d",
              p->s->endian_pos.line, p->s->endian_pos.col);
  } else {
    p->s->endian_set = true;
    p->s->endian_pos = at;
    p->s->big_endian = is_word(p, "big");
  }
  next(p);
  if (!expect(p, TOK_SEMI, " after the option"))
    recover_statement(p);
}

static void parse_const(parser *p, const char *doc) {
  gen_decl tmp;
  memset(&tmp, 0, sizeof(tmp));
  next(p);
  if (!expect_name(p, "a const name", &tmp.name, &tmp.pos) ||
      !expect(p, TOK_EQ, " after the const name")) {
    recover_statement(p);
    return;
  }
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a number, found %s", found(p));
    recover_statement(p);
    return;
  }
  tmp.value = p->tok.value;
  tmp.value_overflow = p->tok.overflow;
  tmp.id_pos = p->tok.pos;
  next(p);
  if (!expect(p, TOK_SEMI, " after the const value")) {
    recover_statement(p);
    return;
  }
  {
    gen_decl *d = new_decl(p, D_CONST, doc);
    d->name = tmp.name;
    d->pos = tmp.pos;
    d->value = tmp.value;
    d->value_overflow = tmp.value_overflow;
    d->id_pos = tmp.id_pos;
  }
}

static bool parse_enum_const(parser *p, gen_enum_const *c) {
  c->doc = take_doc(p);
  if (!expect_name(p, "an enum constant name", &c->name, &c->pos) ||
      !expect(p, TOK_EQ, " after the constant name"))
    return false;
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a number, found %s", found(p));
    return false;
  }
  c->value = p->tok.value;
  c->overflow = p->tok.overflow;
  c->value_pos = p->tok.pos;
  next(p);
  return expect(p, TOK_SEMI, " after the enum constant");
}

static void parse_enum(parser *p, const char *doc) {
  gen_decl *d;
  const char *name;
  gen_pos pos, upos, open;
  int bytes;
  size_t cap = 0;

  next(p);
  if (!expect_name(p, "an enum name", &name, &pos) ||
      !expect(p, TOK_COLON, " and an underlying type (enum Name : u8 { ... })")) {
    recover_statement(p);
    return;
  }
  upos = p->tok.pos;
  bytes = parse_prefix_type(p, "an enum's underlying type");
  if (bytes == 0) {
    recover_statement(p);
    return;
  }
  d = new_decl(p, D_ENUM, doc);
  d->name = name;
  d->pos = pos;
  d->underlying = bytes == 1 ? TY_U8 : bytes == 2 ? TY_U16 : TY_U32;
  d->underlying_pos = upos;
  open = p->tok.pos;
  if (!expect(p, TOK_LBRACE, "")) {
    recover_statement(p);
    return;
  }
  for (;;) {
    gen_enum_const c;
    if (p->tok.kind == TOK_RBRACE) {
      p->doc.len = 0;
      next(p);
      break;
    }
    if (p->tok.kind == TOK_EOF) {
      gen_error(p->d, p->tok.pos, "expected '}' to close '%s' (opened at %d:%d)",
                name, open.line, open.col);
      return;
    }
    memset(&c, 0, sizeof(c));
    if (!parse_enum_const(p, &c)) {
      recover_member(p);
      continue;
    }
    d->consts = grow(p->pool, d->consts, d->nconsts, &cap, sizeof(c));
    d->consts[d->nconsts++] = c;
  }
  if (p->tok.kind == TOK_SEMI)
    next(p);
}

static void parse_struct(parser *p, const char *doc) {
  const char *name;
  gen_pos pos;
  gen_decl *d;

  next(p);
  if (!expect_name(p, "a struct name", &name, &pos)) {
    recover_statement(p);
    return;
  }
  d = new_decl(p, D_STRUCT, doc);
  d->name = name;
  d->pos = pos;
  parse_fields(p, d);
}

static void parse_message(parser *p, const char *doc) {
  gen_decl tmp;
  gen_decl *d;

  memset(&tmp, 0, sizeof(tmp));
  next(p);
  if (!expect_name(p, "a message name", &tmp.name, &tmp.pos) ||
      !expect(p, TOK_EQ, " and a message id (message Name = ID { ... })"))
    goto failed_head;
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a message id, found %s", found(p));
    goto failed_head;
  }
  tmp.id = p->tok.value;
  tmp.id_overflow = p->tok.overflow;
  tmp.id_pos = p->tok.pos;
  next(p);
  if (p->tok.kind == TOK_ARROW) {
    next(p);
    if (is_word(p, "server")) {
      tmp.dir = DIR_SERVER;
    } else if (is_word(p, "client")) {
      tmp.dir = DIR_CLIENT;
    } else {
      gen_error(p->d, p->tok.pos,
                "expected 'server' or 'client' after '->', found %s", found(p));
      goto failed_head;
    }
    next(p);
  }
  d = new_decl(p, D_MESSAGE, doc);
  d->name = tmp.name;
  d->pos = tmp.pos;
  d->id = tmp.id;
  d->id_overflow = tmp.id_overflow;
  d->id_pos = tmp.id_pos;
  d->dir = tmp.dir;
  parse_fields(p, d);
  return;

failed_head:
  recover_statement(p);
}

void gen_parse(gen_schema *s, const char *src, size_t len, gen_diag *d,
               gen_pool *pool) {
  parser p;

  memset(&p, 0, sizeof(p));
  p.d = d;
  p.pool = pool;
  p.s = s;
  gen_lexer_init(&p.lx, src, len, d);
  next(&p);
  if (p.tok.kind == TOK_EOF)
    gen_error(d, p.tok.pos, "empty schema: expected 'protocol NAME;'");
  while (p.tok.kind != TOK_EOF) {
    const char *doc;
    if (is_word(&p, "protocol")) {
      parse_protocol(&p);
      continue;
    }
    if (s->proto == NULL && !p.missing_protocol_reported) {
      gen_error(d, p.tok.pos, "a schema must start with 'protocol NAME;'");
      p.missing_protocol_reported = true;
    }
    doc = take_doc(&p);
    if (is_word(&p, "option"))
      parse_option(&p);
    else if (is_word(&p, "const"))
      parse_const(&p, doc);
    else if (is_word(&p, "enum"))
      parse_enum(&p, doc);
    else if (is_word(&p, "struct"))
      parse_struct(&p, doc);
    else if (is_word(&p, "message"))
      parse_message(&p, doc);
    else {
      gen_error(d, p.tok.pos,
                "expected a statement (protocol, option, const, enum, struct "
                "or message), found %s",
                found(&p));
      recover_statement(&p);
    }
  }
  gen_buf_free(&p.doc);
}
