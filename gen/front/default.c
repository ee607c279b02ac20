/* The default value of a field added with [since N]: a literal that must
 * fit the field's type, or none, and then the type's zero value, which a
 * closed enum must have among its constants. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "evolve.h"
#include "layout.h"

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates, or code
 * points above U+10FFFF), the rule the decoders apply. */
static bool utf8_ok(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], need, cp, min;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf)
      need = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
      need = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
      need = 3, cp = c & 0x07, min = 0x10000;
    else
      return false;
    if (n - i <= need)
      return false;
    for (unsigned k = 1; k <= need; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += need + 1;
  }
  return true;
}

/* An integer literal against integer type k: "does not fit" if not. */
static void check_int(gen_diag *d, const gen_field *f, gen_tykind k) {
  const gen_value *v = &f->def;
  int bits = gen_scalar_size(k) * 8;
  bool sign = k >= TY_I8 && k <= TY_I64;
  uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
  if (sign)
    max >>= 1;
  if (v->kind != V_INT) {
    gen_error(d, v->pos, "default of '%s' must be an integer, found %s",
              f->name, v->text);
    return;
  }
  if (v->overflow || (v->negative && !sign) ||
      v->u > max + (v->negative ? 1u : 0u)) {
    if (sign)
      gen_error(d, v->pos, "default %s does not fit %s (-%llu..%llu)",
                v->text, gen_scalar_name(k), (unsigned long long)max + 1,
                (unsigned long long)max);
    else
      gen_error(d, v->pos, "default %s does not fit %s (0..%llu)", v->text,
                gen_scalar_name(k), (unsigned long long)max);
  }
}

static void check_float(gen_diag *d, const gen_field *f, gen_tykind k) {
  const gen_value *v = &f->def;
  if (v->kind != V_INT && v->kind != V_FLOAT)
    gen_error(d, v->pos, "default of '%s' must be a number, found %s",
              f->name, v->text);
  else if (v->overflow || (v->kind == V_INT && v->u > (1ull << 53)) ||
           (k == TY_F32 && (v->f > FLT_MAX || v->f < -FLT_MAX)))
    gen_error(d, v->pos, "default %s does not fit %s", v->text,
              gen_scalar_name(k));
}

/* A string literal against string/bytes type t. */
static void check_text(gen_diag *d, const gen_field *f, const gen_type *t) {
  const gen_value *v = &f->def;
  uint64_t max = t->prefix == 1 ? 0xff : t->prefix == 2 ? 0xffff : 0xffffffffu;
  if (v->kind != V_STRING)
    gen_error(d, v->pos, "default of '%s' must be a string, found %s",
              f->name, v->text);
  else if (v->len > max)
    gen_error(d, v->pos,
              "default of '%s' is %zu bytes, more than its %s length prefix "
              "allows (%llu)",
              f->name, v->len, gen_scalar_name(t->prefix == 1   ? TY_U8
                                               : t->prefix == 2 ? TY_U16
                                                                : TY_U32),
              (unsigned long long)max);
  else if (t->kind == TY_STRING &&
           !utf8_ok((const unsigned char *)v->str, v->len))
    gen_error(d, v->pos, "default of '%s' is not valid UTF-8", f->name);
}

/* The constant of enum e with value 0, or NULL. */
static const gen_enum_const *zero_const(const gen_decl *e) {
  for (size_t i = 0; i < e->nconsts; i++)
    if (e->consts[i].value == 0)
      return &e->consts[i];
  return NULL;
}

static void check_enum_literal(gen_diag *d, gen_field *f, const gen_decl *e) {
  gen_value *v = &f->def;
  if (v->kind == V_NAME)
    for (size_t i = 0; i < e->nconsts; i++)
      if (strcmp(e->consts[i].name, v->str) == 0) {
        v->konst = &e->consts[i];
        return;
      }
  gen_error(d, v->pos, "default of '%s' must be a constant of enum '%s', "
            "found %s", f->name, e->name, v->text);
}

/* Checks literal v of field f against its (resolved) type. */
static void check_literal(gen_diag *d, gen_field *f) {
  const gen_type *t = &f->type;
  switch (t->kind) {
  case TY_U8: case TY_U16: case TY_U32: case TY_U64:
  case TY_I8: case TY_I16: case TY_I32: case TY_I64:
    check_int(d, f, t->kind);
    break;
  case TY_F32:
  case TY_F64:
    check_float(d, f, t->kind);
    break;
  case TY_BOOL:
    if (f->def.kind != V_BOOL)
      gen_error(d, f->def.pos, "default of '%s' must be true or false, "
                "found %s", f->name, f->def.text);
    break;
  case TY_STRING:
  case TY_BYTES:
    check_text(d, f, t);
    break;
  case TY_NAMED:
    if (t->decl->kind == D_ENUM)
      check_enum_literal(d, f, t->decl);
    else
      gen_error(d, f->def.pos, "a struct field takes no default value");
    break;
  }
}

/* A mode or type whose default is fixed (absent, empty, zeros): say so if
 * a literal was written; refuse types without a usable zero value. */
static bool check_implicit(gen_diag *d, gen_field *f) {
  static const char *const what[] = {
      [F_OPTIONAL] = "an optional field is absent",
      [F_REPEATED] = "a repeated field is empty",
      [F_ARRAY] = "a fixed array is all zeros"};
  const gen_decl *t = f->type.decl;
  if (f->mode == F_PLAIN)
    return false;
  if (f->def.kind != V_NONE)
    gen_error(d, f->def.pos, "%s by default: '%s' takes no default value",
              what[f->mode], f->name);
  else if (f->mode == F_ARRAY && t != NULL && t->kind == D_STRUCT)
    gen_error(d, f->pos, "a fixed array of structs cannot be added later: "
              "make '%s' repeated", f->name);
  else if (f->mode == F_ARRAY && t != NULL && !t->open && zero_const(t) == NULL)
    gen_error(d, f->pos, "'%s' [since %u] would default to zeros, and enum "
              "'%s' has no constant with value 0", f->name, f->since, t->name);
  return true;
}

void gen_check_default(gen_diag *d, const gen_decl *decl, gen_field *f) {
  const gen_decl *t = f->type.decl;
  (void)decl;
  if (f->type.kind == TY_NAMED && t == NULL)
    return; /* unknown type, reported already */
  if (check_implicit(d, f))
    return;
  if (t != NULL && t->kind == D_STRUCT) {
    gen_error(d, f->pos, "field '%s' of struct type '%s' cannot be added "
              "later as a plain field: make it optional (absent by default)",
              f->name, t->name);
    return;
  }
  if (f->def.kind != V_NONE) {
    check_literal(d, f);
    return;
  }
  if (t != NULL && !t->open) {
    f->def_konst = zero_const(t);
    if (f->def_konst == NULL)
      gen_error(d, f->pos, "field '%s' [since %u] needs a default: enum '%s' "
                "has no constant with value 0", f->name, f->since, t->name);
  }
}
