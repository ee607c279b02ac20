/* Between the descriptor builder's files (build.c, defaults.c, json.c). */
#ifndef NETFW_GEN_DESC_INTERNAL_H
#define NETFW_GEN_DESC_INTERNAL_H

#include "front/ast.h"
#include "front/util.h"
#include "netfw/desc.h"

typedef struct gen_desc_ctx {
  const gen_schema *schema;
  gen_pool *pool;
} gen_desc_ctx;

/* Sets o->def/def_len to the wire bytes of [since] field f's default: its
 * literal, or the zero value (absent, empty, zeros, an enum's constant). */
void gen_desc_default(gen_desc_ctx *c, netfw_desc_field *o, const gen_field *f);

#endif /* NETFW_GEN_DESC_INTERNAL_H */
