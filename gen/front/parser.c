/* The .netproto parser: one parse_<rule> per grammar rule, an par_expect()
 * helper, the top level switching on the first word of a statement.
 *
 * Recovery: an error inside a body skips to the next ';' (or the closing
 * '}'), an error in a statement head skips the whole statement, so one run
 * reports many errors. Nothing recurses, so no input can exhaust the stack. */
#include <string.h>

#include "layout.h"
#include "parser.h"


/* Grows a pool array when full (pool arrays are never freed one by one). */
void *par_grow(gen_pool *pool, void *arr, size_t n, size_t *cap,
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

void par_next(parser *p) {
  p->prev_end = p->tok.start != NULL ? p->tok.start + p->tok.len : NULL;
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

const char *par_take_doc(parser *p) {
  const char *r = NULL;
  if (p->doc.len > 0)
    r = gen_pool_strndup(p->pool, p->doc.data, p->doc.len - 1);
  p->doc.len = 0;
  return r;
}

bool par_is_word(const parser *p, const char *w) {
  size_t n = strlen(w);
  return p->tok.kind == TOK_IDENT && p->tok.len == n &&
         memcmp(p->tok.start, w, n) == 0;
}

/* Describes the current token for "found ..." in messages. */
const char *par_found(parser *p) {
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

bool par_expect(parser *p, gen_tok_kind k, const char *context) {
  if (p->tok.kind == k) {
    par_next(p);
    return true;
  }
  gen_error(p->d, p->tok.pos, "expected %s%s, found %s", gen_tok_name(k),
            context, par_found(p));
  return false;
}

bool par_expect_name(parser *p, const char *what, const char **name,
                        gen_pos *pos) {
  if (p->tok.kind != TOK_IDENT) {
    gen_error(p->d, p->tok.pos, "expected %s, found %s", what, par_found(p));
    return false;
  }
  *name = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
  *pos = p->tok.pos;
  par_next(p);
  return true;
}

/* Skips the rest of a broken field or enum constant: to just after the next
 * ';' or to (not past) the '}' that closes the body. */
void par_recover_member(parser *p) {
  int depth = 0;
  while (p->tok.kind != TOK_EOF) {
    if (p->tok.kind == TOK_LBRACE) {
      depth++;
    } else if (p->tok.kind == TOK_RBRACE) {
      if (depth == 0)
        return;
      depth--;
    } else if (p->tok.kind == TOK_SEMI && depth == 0) {
      par_next(p);
      return;
    }
    par_next(p);
  }
}

/* Skips the rest of a broken statement: past its ';' or its body. */
void par_recover_statement(parser *p) {
  int depth = 0;
  while (p->tok.kind != TOK_EOF) {
    if (p->tok.kind == TOK_LBRACE) {
      depth++;
    } else if (p->tok.kind == TOK_RBRACE) {
      par_next(p);
      if (depth <= 1)
        return;
      depth--;
      continue;
    } else if (p->tok.kind == TOK_SEMI && depth == 0) {
      par_next(p);
      return;
    }
    par_next(p);
  }
  p->doc.len = 0;
}

void par_body(parser *p, gen_decl *d, par_member_fn member) {
  size_t cap = 0;
  gen_pos open = p->tok.pos;

  if (!par_expect(p, TOK_LBRACE, "")) {
    par_recover_statement(p);
    return;
  }
  for (;;) {
    if (p->tok.kind == TOK_RBRACE) {
      p->doc.len = 0;
      par_next(p);
      break;
    }
    if (p->tok.kind == TOK_EOF) {
      gen_error(p->d, p->tok.pos, "expected '}' to close '%s' (opened at %d:%d)",
                d->name, open.line, open.col);
      return;
    }
    if (!member(p, d, &cap))
      par_recover_member(p);
  }
  if (p->tok.kind == TOK_SEMI) /* a C habit: `struct X { ... };` */
    par_next(p);
}

gen_decl *par_new_decl(parser *p, gen_decl_kind kind, const char *doc) {
  gen_decl *d = gen_pool_alloc(p->pool, sizeof(*d));
  d->kind = kind;
  d->doc = doc;
  p->s->decls = par_grow(p->pool, p->s->decls, p->s->ndecls, &p->decl_cap,
                     sizeof(*p->s->decls));
  p->s->decls[p->s->ndecls++] = d;
  return d;
}

static void parse_protocol(parser *p) {
  gen_pos at = p->tok.pos;
  const char *name;
  gen_pos pos;
  const char *doc = par_take_doc(p);

  par_next(p);
  if (!par_expect_name(p, "a protocol name", &name, &pos)) {
    par_recover_statement(p);
    return;
  }
  if (p->tok.kind == TOK_SEMI) {
    par_next(p);
  } else { /* said where the ';' belongs; the next statement is intact */
    gen_pos after = {pos.line, pos.col + (int)strlen(name)};
    gen_error(p->d, after, "expected ';' after the protocol name, found %s",
              par_found(p));
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

/* option version = N; (N checked by evolve.c) */
static void parse_version(parser *p, gen_pos at) {
  par_next(p);
  if (!par_expect(p, TOK_EQ, " after 'version'")) {
    par_recover_statement(p);
    return;
  }
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a version number, found %s",
              par_found(p));
    par_recover_statement(p);
    return;
  }
  if (p->s->version_set) {
    gen_error(p->d, at, "option 'version' is already set at %d:%d",
              p->s->version_pos.line, p->s->version_pos.col);
  } else {
    p->s->version_set = true;
    p->s->version_pos = p->tok.pos;
    p->s->version = p->tok.value > 0xffffffffu ? 0xffffffffu
                                               : (unsigned)p->tok.value;
    p->s->version_overflow = p->tok.overflow;
  }
  par_next(p);
  if (!par_expect(p, TOK_SEMI, " after the option"))
    par_recover_statement(p);
}

/* option endian = little|big; */
static void parse_endian(parser *p, gen_pos at) {
  par_next(p);
  if (!par_expect(p, TOK_EQ, " after 'endian'")) {
    par_recover_statement(p);
    return;
  }
  if (!par_is_word(p, "little") && !par_is_word(p, "big")) {
    gen_error(p->d, p->tok.pos, "endian must be 'little' or 'big', found %s",
              par_found(p));
    par_recover_statement(p);
    return;
  }
  if (p->s->endian_set) {
    gen_error(p->d, at, "option 'endian' is already set at %d:%d",
              p->s->endian_pos.line, p->s->endian_pos.col);
  } else {
    p->s->endian_set = true;
    p->s->endian_pos = at;
    p->s->big_endian = par_is_word(p, "big");
  }
  par_next(p);
  if (!par_expect(p, TOK_SEMI, " after the option"))
    par_recover_statement(p);
}

static void parse_option(parser *p) {
  gen_pos at = p->tok.pos;
  par_next(p);
  if (par_is_word(p, "endian")) {
    parse_endian(p, at);
  } else if (par_is_word(p, "version")) {
    parse_version(p, at);
  } else {
    if (p->tok.kind == TOK_IDENT)
      gen_error(p->d, p->tok.pos,
                "unknown option %s (the options are 'endian' and 'version')",
                par_found(p));
    else
      gen_error(p->d, p->tok.pos, "expected an option name, found %s",
                par_found(p));
    par_recover_statement(p);
  }
}

/* One entry of `reserved`: a message id, or (names) a message name. */
static bool parse_reserved_one(parser *p, bool names) {
  gen_reserved r;
  memset(&r, 0, sizeof(r));
  r.is_name = names;
  r.pos = p->tok.pos;
  if (names) {
    if (!par_expect_name(p, "a message name", &r.name, &r.pos))
      return false;
  } else if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a message id, found %s",
              par_found(p));
    return false;
  } else {
    r.id = p->tok.value;
    r.overflow = p->tok.overflow;
    par_next(p);
  }
  p->s->reserved = par_grow(p->pool, p->s->reserved, p->s->nreserved,
                            &p->reserved_cap, sizeof(r));
  p->s->reserved[p->s->nreserved++] = r;
  return true;
}

/* reserved ID {, ID} ;  |  reserved name NAME {, NAME} ; */
static void parse_reserved(parser *p) {
  bool names;
  par_next(p);
  names = par_is_word(p, "name");
  if (names)
    par_next(p);
  for (;;) {
    if (!parse_reserved_one(p, names)) {
      par_recover_statement(p);
      return;
    }
    if (p->tok.kind != TOK_COMMA)
      break;
    par_next(p);
  }
  if (!par_expect(p, TOK_SEMI, " after the reserved list"))
    par_recover_statement(p);
}

static void parse_const(parser *p, const char *doc) {
  gen_decl tmp;
  memset(&tmp, 0, sizeof(tmp));
  par_next(p);
  if (!par_expect_name(p, "a const name", &tmp.name, &tmp.pos) ||
      !par_expect(p, TOK_EQ, " after the const name")) {
    par_recover_statement(p);
    return;
  }
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a number, found %s", par_found(p));
    par_recover_statement(p);
    return;
  }
  tmp.value = p->tok.value;
  tmp.value_overflow = p->tok.overflow;
  tmp.id_pos = p->tok.pos;
  par_next(p);
  if (!par_expect(p, TOK_SEMI, " after the const value")) {
    par_recover_statement(p);
    return;
  }
  {
    gen_decl *d = par_new_decl(p, D_CONST, doc);
    d->name = tmp.name;
    d->pos = tmp.pos;
    d->value = tmp.value;
    d->value_overflow = tmp.value_overflow;
    d->id_pos = tmp.id_pos;
  }
}

/* Reports a statement that starts with no known word, with a guess. */
static void unknown_statement(parser *p) {
  static const char *const words[] = {"protocol", "option", "reserved",
                                      "const",    "enum",   "struct",
                                      "message"};
  const char *best = NULL;
  if (p->tok.kind == TOK_IDENT) {
    char *w = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
    best = gen_closest(w, words, sizeof(words) / sizeof(words[0]));
  }
  if (best != NULL)
    gen_error(p->d, p->tok.pos, "unknown statement %s (did you mean '%s'?)",
              par_found(p), best);
  else
    gen_error(p->d, p->tok.pos,
              "expected a statement (protocol, option, reserved, const, "
              "enum, struct or message), found %s",
              par_found(p));
}

void gen_parse(gen_schema *s, const char *src, size_t len, gen_diag *d,
               gen_pool *pool) {
  parser p;

  memset(&p, 0, sizeof(p));
  p.d = d;
  p.pool = pool;
  p.s = s;
  gen_lexer_init(&p.lx, src, len, d);
  par_next(&p);
  if (p.tok.kind == TOK_EOF)
    gen_error(d, p.tok.pos, "empty schema: expected 'protocol NAME;'");
  while (p.tok.kind != TOK_EOF) {
    const char *doc;
    if (par_is_word(&p, "protocol")) {
      parse_protocol(&p);
      continue;
    }
    if (s->proto == NULL && !p.missing_protocol_reported) {
      gen_error(d, p.tok.pos, "a schema must start with 'protocol NAME;'");
      p.missing_protocol_reported = true;
    }
    doc = par_take_doc(&p);
    if (par_is_word(&p, "option"))
      parse_option(&p);
    else if (par_is_word(&p, "reserved"))
      parse_reserved(&p);
    else if (par_is_word(&p, "const"))
      parse_const(&p, doc);
    else if (par_is_word(&p, "enum"))
      par_enum(&p, doc);
    else if (par_is_word(&p, "struct"))
      par_struct(&p, doc);
    else if (par_is_word(&p, "message"))
      par_message(&p, doc);
    else {
      unknown_statement(&p);
      par_recover_statement(&p);
    }
  }
  gen_buf_free(&p.doc);
}
