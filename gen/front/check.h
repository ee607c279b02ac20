/* The checker (check.c): resolves names, enforces the language's rules and
 * lays out every type (layout.h), with the name rules of one back end
 * plugged in. */
#ifndef NETFW_GEN_CHECK_H
#define NETFW_GEN_CHECK_H

#include <stdbool.h>

#include "ast.h"

/* A back end's name rules. The checker calls them as it walks the schema, so
 * their diagnostics come out in the same order as the front end's own, and a
 * name rejected here is not reported a second time. Any may be NULL. */
typedef struct gen_check_hooks {
  /* A field name the target cannot use: report it and return true (the
   * field is then left out of the duplicate-field check). */
  bool (*field_name)(gen_diag *d, const gen_field *f);
  /* After the fields of struct or message decl: names derived from them. */
  void (*fields)(gen_diag *d, const gen_decl *decl);
  /* After every other rule, before the warnings: names over the schema. */
  void (*schema)(gen_diag *d, gen_pool *pool, const gen_schema *s);
} gen_check_hooks;

/* Resolves names and checks every rule, calling hooks (may be NULL) on the
 * way; fills the checker fields of the AST (order, layout). */
void gen_check(gen_schema *s, gen_diag *d, gen_pool *pool,
               const gen_check_hooks *hooks);

#endif /* NETFW_GEN_CHECK_H */
