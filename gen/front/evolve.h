/* The checker's schema-evolution rules (evolve.c: version, reserved,
 * [since] placement; default.c: default values), run by gen_check() once
 * every field's type is resolved. */
#ifndef NETFW_GEN_EVOLVE_H
#define NETFW_GEN_EVOLVE_H

#include "ast.h"

/* Checks option version, reserved ids and names, and where [since] fields
 * may go; fills version (1 if unset), max_since and evolving. */
void gen_check_evolution(gen_schema *s, gen_diag *d, gen_pool *pool);

/* Checks the default of [since] field f of decl (its literal against its
 * type, or that its type has a zero value); fills f->def.konst or
 * f->def_konst for enums. */
void gen_check_default(gen_diag *d, const gen_decl *decl, gen_field *f);

#endif /* NETFW_GEN_EVOLVE_H */
