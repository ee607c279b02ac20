/* The parser's fields: types, prefixes, fixed arrays, and the schema
 * evolution parts of a field (`= default` and `[since N]`). */
#include <errno.h>
#include <stdlib.h>
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

/* `name<...>` where name is no built-in generic: a typo of one, or a map. */
static bool generic_type_error(parser *p, const gen_type *t) {
  static const char *const generic[] = {"string", "bytes", "repeated"};
  const char *best = gen_closest(t->name, generic, 3);
  if (strcmp(t->name, "map") == 0)
    gen_error(p->d, t->pos,
              "maps are not supported: use a repeated struct with a key and "
              "a value field");
  else if (best != NULL)
    gen_error(p->d, t->pos, "unknown type '%s' (did you mean '%s'?)", t->name,
              best);
  else
    gen_error(p->d, t->pos, "unknown type '%s': only string, bytes and "
              "repeated take '<...>'", t->name);
  return false;
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
  if (p->tok.kind == TOK_LT) /* only string, bytes and repeated take <...> */
    return generic_type_error(p, t);
  return true;
}

/* Whether field f may be a fixed array (the '[' at at); reports if not. */
static bool array_allowed(parser *p, gen_field *f, gen_pos at) {
  if (f->mode == F_PLAIN)
    return true;
  gen_error(p->d, at, "%s field cannot also be a fixed array",
            f->mode == F_OPTIONAL ? "an optional" : "a repeated");
  return false;
}

/* The size inside "[...]" after a field name: a number or a const. */
static bool parse_array_size(parser *p, gen_field *f, gen_pos at) {
  if (!array_allowed(p, f, at))
    return false;
  f->mode = F_ARRAY;
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
  return par_expect(p, TOK_RBRACKET, " after the array size");
}

/* "[" since N "]" (the word is consumed; the token is N). */
static bool parse_since(parser *p, gen_field *f) {
  if (f->since_pos.line != 0) {
    gen_error(p->d, p->tok.pos, "field '%s' already has [since] (at %d:%d)",
              f->name, f->since_pos.line, f->since_pos.col);
    return false;
  }
  if (p->tok.kind != TOK_INT) {
    gen_error(p->d, p->tok.pos, "expected a version after 'since', found %s",
              par_found(p));
    return false;
  }
  f->since_pos = p->tok.pos;
  f->since = p->tok.value > 0xffffffffu ? 0xffffffffu : (unsigned)p->tok.value;
  f->since_overflow = p->tok.overflow;
  par_next(p);
  return par_expect(p, TOK_RBRACKET, " after the version");
}

/* "[" after a field name: a fixed array's size (array_ok) or [since N].
 * `x[since]` is an array sized by a const named since. */
static bool parse_bracket(parser *p, gen_field *f, bool array_ok) {
  gen_pos at = p->tok.pos;
  par_next(p);
  if (par_is_word(p, "since")) {
    gen_pos word = p->tok.pos;
    par_next(p);
    if (!array_ok || p->tok.kind != TOK_RBRACKET)
      return parse_since(p, f);
    if (!array_allowed(p, f, at)) /* `x[since]`: sized by a const */
      return false;
    f->mode = F_ARRAY;
    f->array_pos = word;
    f->array_const = "since";
    par_next(p);
    return true;
  }
  if (!array_ok) {
    gen_error(p->d, p->tok.pos,
              "expected 'since' (a field's [since N] comes last), found %s",
              par_found(p));
    return false;
  }
  return parse_array_size(p, f, at);
}

/* Undoes the escapes of string literal t (quotes included) into v. */
static bool unescape(parser *p, const gen_token *t, gen_value *v) {
  char *out = gen_pool_alloc(p->pool, t->len);
  size_t n = 0;
  for (size_t i = 1; i + 1 < t->len; i++) {
    char c = t->start[i];
    if (c == '\\') {
      static const char from[] = "\"\\ntr0", to[] = "\"\\\n\t\r";
      const char *k = strchr(from, t->start[++i]);
      gen_pos at = {t->pos.line, t->pos.col + (int)i - 1};
      if (k != NULL && *k != '\0') {
        c = *k == '0' ? '\0' : to[k - from];
      } else if (t->start[i] == 'x' && i + 2 < t->len - 1 &&
                 strchr("0123456789abcdefABCDEF", t->start[i + 1]) &&
                 strchr("0123456789abcdefABCDEF", t->start[i + 2]) &&
                 t->start[i + 1] != '\0' && t->start[i + 2] != '\0') {
        char hex[3] = {t->start[i + 1], t->start[i + 2], '\0'};
        c = (char)strtoul(hex, NULL, 16);
        i += 2;
      } else {
        gen_error(p->d, at,
                  "unknown escape in a string (use \\\" \\\\ \\n \\t \\r \\0 "
                  "or \\xHH)");
        return false;
      }
    }
    out[n++] = c;
  }
  out[n] = '\0';
  v->str = out;
  v->len = n;
  return true;
}

/* A number after an optional '-': V_INT or V_FLOAT. */
static bool parse_number(parser *p, gen_value *v) {
  if (p->tok.kind == TOK_INT) {
    v->kind = V_INT;
    v->u = p->tok.value;
    v->overflow = p->tok.overflow;
    v->f = (double)v->u;
  } else if (p->tok.kind == TOK_FLOAT) {
    char *text = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
    v->kind = V_FLOAT;
    errno = 0;
    v->f = strtod(text, NULL);
    v->overflow = errno == ERANGE && (v->f > 1.0 || v->f < -1.0);
  } else {
    gen_error(p->d, p->tok.pos, "expected a number after '-', found %s",
              par_found(p));
    return false;
  }
  if (v->negative)
    v->f = -v->f;
  par_next(p);
  return true;
}

/* '=' literal: a field's default value (evolve.c checks its type). */
static bool parse_default(parser *p, gen_field *f) {
  gen_value *v = &f->def;
  const char *start;
  par_next(p);
  start = p->tok.start;
  v->pos = p->tok.pos;
  if (p->tok.kind == TOK_MINUS) {
    v->negative = true;
    par_next(p);
    if (!parse_number(p, v))
      return false;
  } else if (p->tok.kind == TOK_INT || p->tok.kind == TOK_FLOAT) {
    if (!parse_number(p, v))
      return false;
  } else if (p->tok.kind == TOK_STRING) {
    v->kind = V_STRING;
    if (!unescape(p, &p->tok, v))
      return false;
    par_next(p);
  } else if (p->tok.kind == TOK_IDENT) {
    bool t = par_is_word(p, "true"), fl = par_is_word(p, "false");
    v->kind = t || fl ? V_BOOL : V_NAME;
    v->b = t;
    if (!t && !fl)
      v->str = gen_pool_strndup(p->pool, p->tok.start, p->tok.len);
    par_next(p);
  } else {
    gen_error(p->d, p->tok.pos,
              "expected a default value (a number, true, false, a string or "
              "an enum constant), found %s",
              par_found(p));
    return false;
  }
  v->text = gen_pool_strndup(p->pool, start, (size_t)(p->prev_end - start));
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
  if (p->tok.kind == TOK_LBRACKET && !parse_bracket(p, f, true))
    return false;
  if (p->tok.kind == TOK_EQ && !parse_default(p, f))
    return false;
  if (p->tok.kind == TOK_LBRACKET && !parse_bracket(p, f, false))
    return false;
  return par_expect(p, TOK_SEMI, " after the field");
}

/* One field of struct or message d's body, appended to d; false after a
 * message. */
static bool field_member(parser *p, gen_decl *d, size_t *cap) {
  gen_field f;
  memset(&f, 0, sizeof(f));
  if (!parse_field(p, &f))
    return false;
  d->fields = par_grow(p->pool, d->fields, d->nfields, cap, sizeof(f));
  d->fields[d->nfields++] = f;
  return true;
}

void par_fields(parser *p, gen_decl *d) { par_body(p, d, field_member); }
