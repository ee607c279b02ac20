/* A checked schema as a netfw_desc: its enums and structs in source order
 * (field.type indexes them so), its messages, and each [since] field's
 * default as wire bytes (defaults.c). */
#include <string.h>

#include "desc.h"
#include "desc_internal.h"
#include "front/layout.h"

/* The netfw_desc_kind of type t (an enum or struct by its declaration). */
static uint8_t field_kind(const gen_type *t) {
  static const uint8_t scalar[] = {
      [TY_U8] = NETFW_DESC_U8,         [TY_U16] = NETFW_DESC_U16,
      [TY_U32] = NETFW_DESC_U32,       [TY_U64] = NETFW_DESC_U64,
      [TY_I8] = NETFW_DESC_I8,         [TY_I16] = NETFW_DESC_I16,
      [TY_I32] = NETFW_DESC_I32,       [TY_I64] = NETFW_DESC_I64,
      [TY_F32] = NETFW_DESC_F32,       [TY_F64] = NETFW_DESC_F64,
      [TY_BOOL] = NETFW_DESC_BOOL,     [TY_STRING] = NETFW_DESC_STRING,
      [TY_BYTES] = NETFW_DESC_BYTES};
  if (t->kind != TY_NAMED)
    return scalar[t->kind];
  return t->decl->kind == D_ENUM ? NETFW_DESC_ENUM : NETFW_DESC_STRUCT;
}

/* The position of declaration x among the schema's declarations of its
 * kind (enums, structs or messages), in source order. */
static uint16_t decl_index(const gen_schema *s, const gen_decl *x) {
  uint16_t n = 0;
  for (size_t i = 0; i < s->ndecls && s->decls[i] != x; i++)
    n += s->decls[i]->kind == x->kind;
  return n;
}

static const uint8_t mode_of[] = {
    [F_PLAIN] = NETFW_DESC_PLAIN, [F_OPTIONAL] = NETFW_DESC_OPTIONAL,
    [F_REPEATED] = NETFW_DESC_REPEATED, [F_ARRAY] = NETFW_DESC_ARRAY};

/* Field f of the schema as a descriptor field, its default encoded. */
static void build_field(gen_desc_ctx *c, netfw_desc_field *o,
                        const gen_field *f) {
  o->name = f->name;
  o->doc = f->doc;
  o->kind = field_kind(&f->type);
  o->mode = mode_of[f->mode];
  if (f->type.kind == TY_STRING || f->type.kind == TY_BYTES)
    o->prefix = (uint8_t)f->type.prefix;
  if (f->mode == F_REPEATED)
    o->count_prefix = (uint8_t)f->count_prefix;
  if (f->mode == F_ARRAY)
    o->array_len = (uint32_t)f->array_len;
  if (f->type.kind == TY_NAMED)
    o->type = decl_index(c->schema, f->type.decl);
  o->since = (uint16_t)f->since;
  if (f->since > 0)
    gen_desc_default(c, o, f);
}

/* The fields of d, built into a pool array. */
static const netfw_desc_field *build_fields(gen_desc_ctx *c,
                                            const gen_decl *d) {
  netfw_desc_field *fs;
  if (d->nfields == 0)
    return NULL;
  fs = gen_pool_alloc(c->pool, d->nfields * sizeof(*fs));
  for (size_t i = 0; i < d->nfields; i++)
    build_field(c, &fs[i], &d->fields[i]);
  return fs;
}

/* Enum d as a descriptor enum. */
static void build_enum(gen_pool *pool, netfw_desc_enum *o, const gen_decl *d) {
  netfw_desc_const *ks = gen_pool_alloc(pool, d->nconsts * sizeof(*ks) + 1);
  for (size_t i = 0; i < d->nconsts; i++) {
    ks[i].name = d->consts[i].name;
    ks[i].value = d->consts[i].value;
    ks[i].doc = d->consts[i].doc;
  }
  o->name = d->name;
  o->doc = d->doc;
  o->size = (uint8_t)gen_scalar_size(d->underlying);
  o->open = d->open;
  o->consts = ks;
  o->nconsts = (uint32_t)d->nconsts;
}

/* Struct or message body d as a descriptor struct. */
static void build_struct(gen_desc_ctx *c, netfw_desc_struct *o,
                         const gen_decl *d) {
  o->name = d->name;
  o->doc = d->doc;
  o->fields = build_fields(c, d);
  o->nfields = (uint32_t)d->nfields;
  o->ext_prefix = (uint8_t)d->ext_prefix;
}

/* The replies of request x as message indices. */
static void build_returns(gen_desc_ctx *c, netfw_desc_message *m,
                          const gen_decl *x) {
  uint16_t *r;
  if (x->nreturns == 0)
    return;
  r = gen_pool_alloc(c->pool, x->nreturns * sizeof(*r));
  for (size_t i = 0; i < x->nreturns; i++)
    r[i] = decl_index(c->schema, x->returns[i].decl);
  m->returns = r;
  m->nreturns = (uint32_t)x->nreturns;
}

static const uint8_t dir_of[] = {[DIR_BOTH] = NETFW_DESC_BOTH,
                                 [DIR_SERVER] = NETFW_DESC_TO_SERVER,
                                 [DIR_CLIENT] = NETFW_DESC_TO_CLIENT};

/* How many declarations of kind k s has. */
static size_t count_kind(const gen_schema *s, gen_decl_kind k) {
  size_t n = 0;
  for (size_t i = 0; i < s->ndecls; i++)
    n += s->decls[i]->kind == k;
  return n;
}

const netfw_desc *gen_desc_build(const gen_schema *s, gen_pool *pool) {
  gen_desc_ctx c = {s, pool};
  netfw_desc *d = gen_pool_alloc(pool, sizeof(*d));
  netfw_desc_enum *es = gen_pool_alloc(pool, count_kind(s, D_ENUM) * sizeof(*es) + 1);
  netfw_desc_struct *ss =
      gen_pool_alloc(pool, count_kind(s, D_STRUCT) * sizeof(*ss) + 1);
  netfw_desc_message *ms =
      gen_pool_alloc(pool, count_kind(s, D_MESSAGE) * sizeof(*ms) + 1);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *x = s->decls[i];
    if (x->kind == D_ENUM)
      build_enum(pool, &es[d->nenums++], x);
    else if (x->kind == D_STRUCT)
      build_struct(&c, &ss[d->nstructs++], x);
    else if (x->kind == D_MESSAGE) {
      netfw_desc_message *m = &ms[d->nmessages++];
      m->id = (uint16_t)x->id;
      m->dir = dir_of[x->dir];
      m->is_reply = x->is_reply;
      build_struct(&c, &m->body, x);
      build_returns(&c, m, x);
    }
  }
  d->abi = NETFW_DESC_ABI;
  d->proto = s->proto;
  d->doc = s->doc;
  d->big_endian = s->big_endian;
  d->version = (uint16_t)s->version;
  d->enums = es;
  d->structs = ss;
  d->messages = ms;
  return d;
}
