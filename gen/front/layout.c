/* Built-in scalar types and the wire layout of types (see layout.h). */
#include <string.h>

#include "layout.h"

/* Indexed by gen_tykind. */
static const gen_scalar scalars[] = {
    {"u8", TY_U8, 1},       {"u16", TY_U16, 2},   {"u32", TY_U32, 4},
    {"u64", TY_U64, 8},     {"i8", TY_I8, 1},     {"i16", TY_I16, 2},
    {"i32", TY_I32, 4},     {"i64", TY_I64, 8},   {"f32", TY_F32, 4},
    {"f64", TY_F64, 8},     {"bool", TY_BOOL, 1}, {"string", TY_STRING, 0},
    {"bytes", TY_BYTES, 0},
};
_Static_assert(sizeof(scalars) / sizeof(scalars[0]) == TY_BYTES + 1,
               "one entry per built-in gen_tykind, in order");

const gen_scalar *gen_scalar_find(const char *s, size_t len) {
  for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
    if (strlen(scalars[i].name) == len && memcmp(scalars[i].name, s, len) == 0)
      return &scalars[i];
  return NULL;
}

const char *gen_scalar_name(gen_tykind k) {
  return k <= TY_BYTES ? scalars[k].name : "?";
}

int gen_scalar_size(gen_tykind k) {
  return k <= TY_BYTES ? scalars[k].size : 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static bool is_enum(const gen_type *t) {
  return t->kind == TY_NAMED && t->decl != NULL && t->decl->kind == D_ENUM;
}

int gen_wire_fixed(const gen_type *t) {
  if (t->kind != TY_NAMED)
    return gen_scalar_size(t->kind);
  return is_enum(t) ? gen_scalar_size(t->decl->underlying) : 0;
}

uint64_t gen_wire_min(const gen_type *t) {
  if (t->kind == TY_STRING || t->kind == TY_BYTES)
    return (uint64_t)t->prefix;
  if (t->kind != TY_NAMED || is_enum(t))
    return (uint64_t)gen_wire_fixed(t);
  return t->decl != NULL ? t->decl->min_size : 1;
}

/* Rough bytes of one value of t in memory. */
static uint64_t mem_size(const gen_type *t) {
  if (t->kind == TY_STRING || t->kind == TY_BYTES)
    return 16;
  if (t->kind != TY_NAMED)
    return (uint64_t)gen_scalar_size(t->kind);
  if (is_enum(t))
    return 4;
  return t->decl != NULL ? t->decl->mem_size : 1;
}

uint64_t gen_field_wire_min(const gen_field *f) {
  switch (f->mode) {
  case F_OPTIONAL:
    return 1;
  case F_ARRAY:
    return sat_mul(gen_wire_min(&f->type), f->array_len);
  case F_REPEATED:
    return (uint64_t)f->count_prefix;
  case F_PLAIN:
    break;
  }
  return gen_wire_min(&f->type);
}

static uint64_t field_mem_size(const gen_field *f) {
  switch (f->mode) {
  case F_OPTIONAL:
    return sat_add(mem_size(&f->type), 8);
  case F_ARRAY:
    return sat_mul(mem_size(&f->type), f->array_len);
  case F_REPEATED:
    return 16;
  case F_PLAIN:
    break;
  }
  return mem_size(&f->type);
}

gen_decl *gen_value_dep(const gen_field *f) {
  if (f->mode == F_REPEATED || f->type.decl == NULL ||
      f->type.decl->kind != D_STRUCT)
    return NULL;
  return f->type.decl;
}

void gen_layout_decl(gen_decl *d) {
  uint64_t min = 0, mem = 0;
  int depth = 0;
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    const gen_decl *dep = gen_value_dep(f);
    if (f->since_pos.line == 0) /* an older peer leaves [since] fields out */
      min = sat_add(min, gen_field_wire_min(f));
    mem = sat_add(mem, field_mem_size(f));
    if (f->mode == F_REPEATED)
      d->needs_arena = true;
    if (dep != NULL) {
      if (dep->needs_arena)
        d->needs_arena = true;
      if (dep->nesting + 1 > depth)
        depth = dep->nesting + 1;
    }
  }
  d->min_size = sat_add(min, (uint64_t)d->ext_prefix);
  d->mem_size = mem == 0 ? 1 : mem;
  d->checked_size = true;
  d->nesting = depth;
}
