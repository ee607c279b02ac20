/* The parser's fields: types, prefixes, fixed arrays, and the schema
 * evolution parts of a field (`= default` and `[since N]`). */
#include <string.h>

#include "layout.h"
#include "parser.h"

/* The built-in type the current token names, or NULL. */
static const gen_scalar *builtin_type(const parser *p) {
  return p->tok.kind == TOK_IDENT ? gen_scalar_find(p->tok.start, p->tok.len)
                                  : NULL;
}

/* u8 / u16 / u32 as a prefix: returns the byte count, 0 after an error. */
int par_prefix_type(parser *p, const char *what) {
  const gen_scalar *t = builtin_type(p);
  if (t == NULL ||
      (t->kind != TY_U8 && t->kind != TY_U16 && t->kind != TY_U32)) {
    gen_error(p->d, p->tok.pos, "%s must be u8, u16 or u32, found %s", what,
              par_found(p));
    return 0;
  }
  par_next(p);
  return t->size;
}

/* '<' prefix '>' if present; default u32. */
int par_opt_prefix(parser *p, const char *what) {
  int r;
  if (p->tok.kind != TOK_LT)
    return 4;
  par_next(p);
  r = par_prefix_type(p, what);
  if (r == 0)
    return 0;
  if (!par_expect(p, TOK_GT, ""))
    return 0;
  return r;
}

static bool parse_type(parser *p, gen_type *t) {
  const gen_scalar *builtin = builtin_type(p);
  t->pos = p->tok.pos;
  if (p->tok.kind != TOK_IDENT) {
    gen_error(p->d, p->tok.pos, "expected a field type, found %s", par_found(p));
    return false;
  }
  if (builtin != NULL) {
    t->kind = builtin->kind;
    par_next(p);
    if (t->kind != TY_STRING && t->kind != TY_BYTES)
      return true;
    t->prefix = par_opt_prefix(p, "a length prefix");
    return t->prefix != 0;
  }
  t->kind = TY_NAMED;
  t->name = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
  par_next(p);
  return true;
}

static bool parse_field(parser *p, gen_field *f) {
  f->doc = par_take_doc(p);
  if (par_is_word(p, "optional")) {
    f->mode = F_OPTIONAL;
    par_next(p);
    if (par_is_word(p, "repeated") || par_is_word(p, "optional")) {
      gen_error(p->d, p->tok.pos, "'optional' cannot be combined with %s",
                par_found(p));
      return false;
    }
  } else if (par_is_word(p, "repeated")) {
    f->mode = F_REPEATED;
    par_next(p);
    if (p->tok.kind == TOK_LT) {
      par_next(p);
      f->count_prefix = par_prefix_type(p, "a count prefix");
      if (f->count_prefix == 0 || !par_expect(p, TOK_GT, ""))
        return false;
    } else {
      f->count_prefix = 4;
    }
    if (par_is_word(p, "repeated") || par_is_word(p, "optional")) {
      gen_error(p->d, p->tok.pos, "'repeated' cannot be combined with %s",
                par_found(p));
      return false;
    }
  }
  if (!parse_type(p, &f->type))
    return false;
  if (!par_expect_name(p, "a field name", &f->name, &f->pos))
    return false;
  if (p->tok.kind == TOK_LBRACKET) {
    gen_pos at = p->tok.pos;
    if (f->mode != F_PLAIN) {
      gen_error(p->d, at, "%s field cannot also be a fixed array",
                f->mode == F_OPTIONAL ? "an optional" : "a repeated");
      return false;
    }
    f->mode = F_ARRAY;
    par_next(p);
    f->array_pos = p->tok.pos;
    if (p->tok.kind == TOK_INT) {
      f->array_len = p->tok.value;
      f->array_overflow = p->tok.overflow;
    } else if (p->tok.kind == TOK_IDENT) {
      f->array_const = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
    } else {
      gen_error(p->d, p->tok.pos,
                "expected an array size (a number or a const), found %s",
                par_found(p));
      return false;
    }
    par_next(p);
    if (!par_expect(p, TOK_RBRACKET, " after the array size"))
      return false;
  }
  return par_expect(p, TOK_SEMI, " after the field");
}

/* '{' field* '}' for structs and messages. */
void par_fields(parser *p, gen_decl *d) {
  size_t cap = 0;
  gen_pos open = p->tok.pos;

  if (!par_expect(p, TOK_LBRACE, "")) {
    par_recover_statement(p);
    return;
  }
  for (;;) {
    gen_field f;
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
    memset(&f, 0, sizeof(f));
    if (!parse_field(p, &f)) {
      par_recover_member(p);
      continue;
    }
    d->fields = par_grow(p->pool, d->fields, d->nfields, &cap, sizeof(f));
    d->fields[d->nfields++] = f;
  }
  if (p->tok.kind == TOK_SEMI) /* a C habit: `struct X { ... };` */
    par_next(p);
}

