/* The descriptor back end: a checked schema as a netfw_desc (netfw/desc.h),
 * the data that netfw-call, the reflective JSON codec and the C back end's
 * `<proto>_descriptor` table are made from, and its JSON form
 * (--descriptor FILE, docs/descriptor.md). Reads the front end's AST only. */
#ifndef NETFW_GEN_DESC_H
#define NETFW_GEN_DESC_H

#include "front/ast.h"
#include "front/util.h"
#include "netfw/desc.h"

/* The descriptor of s, which checked without errors: every enum and struct
 * in source order (so field.type indexes them in that order), every message
 * in source order, [since] defaults encoded as on the wire. Everything is
 * allocated from pool and lives as long as it. */
const netfw_desc *gen_desc_build(const gen_schema *s, gen_pool *pool);

/* Appends d as the descriptor JSON document of docs/descriptor.md to out. */
void gen_desc_json(gen_buf *out, const netfw_desc *d);

#endif /* NETFW_GEN_DESC_H */
