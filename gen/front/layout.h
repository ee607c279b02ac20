/* The built-in scalar types (the one table of their names and sizes) and
 * the wire layout of every type: what the checker's rules and every back
 * end's codec are computed from (layout.c). */
#ifndef NETFW_GEN_LAYOUT_H
#define NETFW_GEN_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "ast.h"

typedef struct gen_scalar {
  const char *name; /* as written in a schema */
  gen_tykind kind;
  int size; /* bytes on the wire; 0 for string and bytes (length first) */
} gen_scalar;

/* The built-in type named s[0..len), or NULL. */
const gen_scalar *gen_scalar_find(const char *s, size_t len);
/* The schema name of built-in type k ("u8", ... "bytes"); "?" otherwise. */
const char *gen_scalar_name(gen_tykind k);
/* Bytes of built-in type k on the wire; 0 if not fixed. */
int gen_scalar_size(gen_tykind k);

/* Bytes every value of t takes on the wire (a number, bool or enum), or 0
 * when its size varies (string, bytes, struct). */
int gen_wire_fixed(const gen_type *t);
/* Fewest bytes a value of t encodes to: its fixed size, the length prefix
 * of string/bytes, a struct's min_size (1 for a name left unresolved). */
uint64_t gen_wire_min(const gen_type *t);
/* Fewest bytes field f encodes to: gen_wire_min of its type, times the
 * array length; 1 (the presence byte) if optional; the count prefix if
 * repeated. Saturates at UINT64_MAX. */
uint64_t gen_field_wire_min(const gen_field *f);

/* The struct field f holds by value (plain, optional or array), or NULL. */
gen_decl *gen_value_dep(const gen_field *f);
/* Lays out struct or message d from its fields: min_size, mem_size (a rough
 * in-memory size, for the checker's limit), needs_arena, nesting. Every
 * struct d holds by value must be laid out already. */
void gen_layout_decl(gen_decl *d);

#endif /* NETFW_GEN_LAYOUT_H */
