/* --check-compat for one pair of enums used at the same place: width,
 * openness, and what became of every constant. A value means the same thing
 * for ever; a closed receiver refuses a value it lacks, an open one takes
 * any. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"

/* An enum's constants by name and by value (decimal keys). */
typedef struct consts {
  gen_map by_name, by_value;
} consts;

/* Fills x with e's constants (keys in c's pool). */
static void index_consts(compat_ctx *c, const gen_decl *e, consts *x) {
  memset(x, 0, sizeof(*x));
  for (size_t i = 0; i < e->nconsts; i++) {
    gen_enum_const *k = &e->consts[i];
    gen_map_put(&x->by_name, k->name, k);
    gen_map_put(&x->by_value, compat_key(&c->pool, k->value), k);
  }
}

/* Frees x's maps. */
static void free_consts(consts *x) {
  gen_map_free(&x->by_name);
  gen_map_free(&x->by_value);
}

/* The constant called name, or NULL. */
static const gen_enum_const *const_named(const consts *x, const char *name) {
  return gen_map_get(&x->by_name, name);
}

/* The constant of value v, or NULL. */
static const gen_enum_const *const_valued(const consts *x, uint64_t v) {
  char key[24];
  snprintf(key, sizeof(key), "%" PRIu64, v);
  return gen_map_get(&x->by_value, key);
}

/* What became of constant k of OLD's enum eo in NEW's en: a value means
 * the same thing for ever; a closed receiver refuses one it lacks. */
static void compare_const(compat_ctx *c, const consts *xo, const consts *xn,
                          const gen_decl *en, const gen_enum_const *k) {
  const gen_enum_const *byname = const_named(xn, k->name);
  const gen_enum_const *byval = const_valued(xn, k->value);
  compat_finding *f;

  if (byname != NULL && byname->value != k->value) {
    f = compat_err(c, "enum-constant-renumbered", byname->value_pos,
                   "constant '%s' of enum '%s' renumbered from %" PRIu64
                   " to %" PRIu64,
                   k->name, en->name, k->value, byname->value);
    compat_was(c, f, k->value_pos, "was %" PRIu64, k->value);
  } else if (byname == NULL && byval != NULL) {
    if (const_named(xo, byval->name) != NULL)
      return; /* that name was renumbered: reported with it */
    f = compat_warn(c, "enum-constant-renamed", byval->pos,
                    "constant %" PRIu64 " of enum '%s' renamed from '%s' "
                    "to '%s'",
                    k->value, en->name, k->name, byval->name);
    compat_was(c, f, k->pos, "was '%s'", k->name);
  } else if (byname == NULL) {
    f = compat_add(c->r, !en->open, "enum-constant-removed", c->new_->path,
                   en->pos,
                   "constant '%s' (%" PRIu64 ") removed from %s enum '%s'%s",
                   k->name, k->value, en->open ? "open" : "closed", en->name,
                   en->open ? "" : ": new peers refuse it");
    compat_was(c, f, k->pos, "was '%s = %" PRIu64 "'", k->name, k->value);
  }
}

/* Constants of NEW that an old, closed receiver would refuse. */
static void check_added_consts(compat_ctx *c, const consts *xo,
                               const gen_decl *eo, const gen_decl *en) {
  compat_finding *f;

  if (eo->open)
    return;
  for (size_t i = 0; i < en->nconsts; i++) {
    const gen_enum_const *k = &en->consts[i];
    if (const_valued(xo, k->value) != NULL || const_named(xo, k->name) != NULL)
      continue;
    f = compat_err(c, "enum-constant-added", k->pos,
                   "constant '%s' (%" PRIu64 ") added to enum '%s', which "
                   "was closed: old peers refuse it",
                   k->name, k->value, en->name);
    compat_was(c, f, eo->pos, "was closed");
  }
}

void compat_compare_enum(compat_ctx *c, const gen_decl *eo,
                         const gen_decl *en) {
  compat_finding *f;
  consts xo, xn;

  if (eo->underlying != en->underlying) {
    f = compat_err(c, "enum-width-changed", en->underlying_pos,
                   "enum '%s' changed its type from %s to %s", en->name,
                   compat_scalar_name(eo->underlying),
                   compat_scalar_name(en->underlying));
    compat_was(c, f, eo->underlying_pos, "was %s",
               compat_scalar_name(eo->underlying));
  }
  if (eo->open && !en->open) {
    f = compat_err(c, "enum-closed", en->pos,
                   "enum '%s' is no longer open: new peers refuse values "
                   "old peers may send",
                   en->name);
    compat_was(c, f, eo->open_pos, "was open");
  } else if (!eo->open && en->open) {
    f = compat_warn(c, "enum-opened", en->open_pos,
                    "enum '%s' is now open (its C type becomes its "
                    "underlying integer)",
                    en->name);
    compat_was(c, f, eo->pos, "was closed");
  }
  index_consts(c, eo, &xo);
  index_consts(c, en, &xn);
  for (size_t i = 0; i < eo->nconsts; i++)
    compare_const(c, &xo, &xn, en, &eo->consts[i]);
  check_added_consts(c, &xo, eo, en);
  free_consts(&xo);
  free_consts(&xn);
}
