/* The parser's declarations with a body: enum (and `open`), struct (and
 * `extensible`), message; their bodies of fields are parse_field.c's. */
#include <string.h>

#include "parser.h"

static bool parse_enum_const(parser *p, gen_enum_const *c) {
  c->doc = par_take_doc(p);
  if (!par_expect_name(p, "an enum constant name", &c->name, &c->pos) ||
      !par_expect(p, TOK_EQ, " after the constant name"))
    return false;
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a number, found %s", par_found(p));
    return false;
  }
  c->value = p->tok.value;
  c->overflow = p->tok.overflow;
  c->value_pos = p->tok.pos;
  par_next(p);
  return par_expect(p, TOK_SEMI, " after the enum constant");
}

/* One constant of enum d's body, appended to d; false after a message. */
static bool enum_member(parser *p, gen_decl *d, size_t *cap) {
  gen_enum_const c;
  memset(&c, 0, sizeof(c));
  if (!parse_enum_const(p, &c))
    return false;
  d->consts = par_grow(p->pool, d->consts, d->nconsts, cap, sizeof(c));
  d->consts[d->nconsts++] = c;
  return true;
}

/* enum NAME ':' P [open] '{' { NAME '=' N ';' } '}' [';'] */
void par_enum(parser *p, const char *doc) {
  gen_decl *d;
  const char *name;
  gen_pos pos, upos;
  int bytes;

  par_next(p);
  if (!par_expect_name(p, "an enum name", &name, &pos) ||
      !par_expect(p, TOK_COLON, " and an underlying type (enum Name : u8 { ... })")) {
    par_recover_statement(p);
    return;
  }
  upos = p->tok.pos;
  bytes = par_prefix_type(p, "an enum's underlying type");
  if (bytes == 0) {
    par_recover_statement(p);
    return;
  }
  d = par_new_decl(p, D_ENUM, doc);
  d->name = name;
  d->pos = pos;
  d->underlying = bytes == 1 ? TY_U8 : bytes == 2 ? TY_U16 : TY_U32;
  d->underlying_pos = upos;
  if (par_is_word(p, "open")) {
    d->open = true;
    d->open_pos = p->tok.pos;
    par_next(p);
  }
  par_body(p, d, enum_member);
}

/* struct NAME [extensible ['<' P '>']] body */
void par_struct(parser *p, const char *doc) {
  const char *name;
  gen_pos pos;
  gen_decl *d;

  par_next(p);
  if (!par_expect_name(p, "a struct name", &name, &pos)) {
    par_recover_statement(p);
    return;
  }
  d = par_new_decl(p, D_STRUCT, doc);
  d->name = name;
  d->pos = pos;
  if (par_is_word(p, "extensible")) {
    d->ext_pos = p->tok.pos;
    par_next(p);
    d->ext_prefix = par_opt_prefix(p, "an extensible struct's length prefix");
    if (d->ext_prefix == 0) {
      par_recover_statement(p);
      return;
    }
  }
  par_fields(p, d);
}

/* `returns A | B ...` after a message's direction, into m; false after a
 * message. */
static bool par_returns(parser *p, gen_decl *m) {
  size_t cap = 0;
  m->returns_pos = p->tok.pos;
  par_next(p);
  for (;;) {
    gen_reply r = {0};
    if (!par_expect_name(p, "the name of a reply message", &r.name, &r.pos))
      return false;
    m->returns = par_grow(p->pool, m->returns, m->nreturns, &cap, sizeof(r));
    m->returns[m->nreturns++] = r;
    if (p->tok.kind != TOK_PIPE)
      return true;
    par_next(p);
  }
}

void par_message(parser *p, const char *doc) {
  gen_decl tmp;
  gen_decl *d;

  memset(&tmp, 0, sizeof(tmp));
  par_next(p);
  if (!par_expect_name(p, "a message name", &tmp.name, &tmp.pos) ||
      !par_expect(p, TOK_EQ, " and a message id (message Name = ID { ... })"))
    goto failed_head;
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a message id, found %s", par_found(p));
    goto failed_head;
  }
  tmp.id = p->tok.value;
  tmp.id_overflow = p->tok.overflow;
  tmp.id_pos = p->tok.pos;
  par_next(p);
  if (p->tok.kind == TOK_ARROW) {
    par_next(p);
    if (par_is_word(p, "server")) {
      tmp.dir = DIR_SERVER;
    } else if (par_is_word(p, "client")) {
      tmp.dir = DIR_CLIENT;
    } else {
      gen_error(p->d, p->tok.pos,
                "expected 'server' or 'client' after '->', found %s", par_found(p));
      goto failed_head;
    }
    par_next(p);
  }
  if (par_is_word(p, "returns") && !par_returns(p, &tmp))
    goto failed_head;
  d = par_new_decl(p, D_MESSAGE, doc);
  d->name = tmp.name;
  d->pos = tmp.pos;
  d->id = tmp.id;
  d->id_overflow = tmp.id_overflow;
  d->id_pos = tmp.id_pos;
  d->dir = tmp.dir;
  d->returns = tmp.returns;
  d->nreturns = tmp.nreturns;
  d->returns_pos = tmp.returns_pos;
  par_fields(p, d);
  return;

failed_head:
  par_recover_statement(p);
}

