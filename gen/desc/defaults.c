/* The wire bytes of a [since] field's default, which a decoder reading an
 * older peer's payload takes in the field's place: the literal written in
 * the schema, or the type's zero value. */
#include <string.h>

#include "desc_internal.h"
#include "front/layout.h"

/* Appends the n low bytes of v to b in the schema's byte order. */
static void put_uint(gen_buf *b, bool big, uint64_t v, int n) {
  for (int i = 0; i < n; i++) {
    int shift = 8 * (big ? n - 1 - i : i);
    char byte = (char)(uint8_t)(v >> shift);
    gen_buf_append(b, &byte, 1);
  }
}

/* The bits of an integer literal (two's complement). */
static uint64_t int_bits(const gen_value *v) {
  if (v->kind != V_INT)
    return 0;
  return v->negative ? (uint64_t)0 - v->u : v->u;
}

/* The bits of a literal as float type k (f32 or f64) takes them. */
static uint64_t float_bits(const gen_value *v, gen_tykind k) {
  if (k == TY_F32) {
    float f = v->kind == V_NONE ? 0.0f : (float)v->f;
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u;
  }
  double f = v->kind == V_NONE ? 0.0 : v->f;
  uint64_t u;
  memcpy(&u, &f, sizeof(u));
  return u;
}

/* The value of an enum-typed default: its literal or implied constant. */
static uint64_t enum_value(const gen_field *f, bool zero) {
  const gen_enum_const *k = zero ? NULL : f->def.konst;
  if (k == NULL && !zero)
    k = f->def_konst;
  if (k == NULL && f->def.kind == V_INT && !zero)
    return int_bits(&f->def);
  return k != NULL ? k->value : 0;
}

/* One value of f's type: the literal, or the zero value if `zero`. */
static void put_value(gen_buf *b, bool big, const gen_field *f, bool zero) {
  const gen_type *t = &f->type;
  const gen_value *v = &f->def;
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    size_t n = zero || v->kind != V_STRING ? 0 : v->len;
    put_uint(b, big, n, t->prefix);
    if (n > 0)
      gen_buf_append(b, v->str, n);
  } else if (t->kind == TY_NAMED) {
    put_uint(b, big, enum_value(f, zero), gen_scalar_size(t->decl->underlying));
  } else if (t->kind == TY_BOOL) {
    put_uint(b, big, !zero && v->kind == V_BOOL && v->b, 1);
  } else if (t->kind == TY_F32 || t->kind == TY_F64) {
    put_uint(b, big, zero ? 0 : float_bits(v, t->kind), gen_scalar_size(t->kind));
  } else {
    put_uint(b, big, zero ? 0 : int_bits(v), gen_scalar_size(t->kind));
  }
}

void gen_desc_default(gen_desc_ctx *c, netfw_desc_field *o, const gen_field *f) {
  bool big = c->schema->big_endian;
  gen_buf b = {0};
  switch (f->mode) {
  case F_OPTIONAL:
    put_uint(&b, big, 0, 1);
    break;
  case F_REPEATED:
    put_uint(&b, big, 0, f->count_prefix);
    break;
  case F_ARRAY:
    for (uint64_t i = 0; i < f->array_len; i++)
      put_value(&b, big, f, true);
    break;
  case F_PLAIN:
    put_value(&b, big, f, false);
    break;
  }
  uint8_t *def = gen_pool_alloc(c->pool, b.len + 1);
  if (b.len > 0)
    memcpy(def, b.data, b.len);
  o->def = def;
  o->def_len = (uint32_t)b.len;
  gen_buf_free(&b);
}
