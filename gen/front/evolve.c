/* The checker's rules for a schema that changes over time: option
 * version, reserved message ids and names, and where fields added with
 * [since N] may go (docs/netproto.md, "Evolving a schema"). Defaults are
 * default.c's. Also the lookups by id and name that --check-compat uses. */
#include <stdio.h>
#include <string.h>

#include "evolve.h"

enum { MAX_VERSION = 65535, MAX_ID = 65535 };

const gen_decl *gen_message_by_id(const gen_schema *s, uint64_t id) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && s->decls[i]->id == id)
      return s->decls[i];
  return NULL;
}

const gen_decl *gen_message_by_name(const gen_schema *s, const char *name) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && strcmp(s->decls[i]->name, name) == 0)
      return s->decls[i];
  return NULL;
}

const gen_reserved *gen_reserved_id(const gen_schema *s, uint64_t id) {
  for (size_t i = 0; i < s->nreserved; i++)
    if (!s->reserved[i].is_name && s->reserved[i].id == id)
      return &s->reserved[i];
  return NULL;
}

const gen_reserved *gen_reserved_name(const gen_schema *s, const char *name) {
  for (size_t i = 0; i < s->nreserved; i++)
    if (s->reserved[i].is_name && strcmp(s->reserved[i].name, name) == 0)
      return &s->reserved[i];
  return NULL;
}

static void check_version(gen_schema *s, gen_diag *d) {
  if (!s->version_set) {
    s->version = 1;
    return;
  }
  if (s->version_overflow || s->version < 1 || s->version > MAX_VERSION) {
    gen_error(d, s->version_pos, "version must be 1..%d", MAX_VERSION);
    s->version = MAX_VERSION; /* so [since] checks do not cascade */
  }
}

/* The first reservation of s equal to r (id or name), if before r. */
static const gen_reserved *earlier(const gen_schema *s, const gen_reserved *r) {
  const gen_reserved *first = r->is_name ? gen_reserved_name(s, r->name)
                                         : gen_reserved_id(s, r->id);
  return first != r ? first : NULL;
}

static void check_reserved(const gen_schema *s, gen_diag *d) {
  for (size_t i = 0; i < s->nreserved; i++) {
    const gen_reserved *r = &s->reserved[i], *old;
    if (!r->is_name && (r->overflow || r->id > MAX_ID)) {
      gen_error(d, r->pos, "reserved id is out of range (0..%d)", MAX_ID);
      continue;
    }
    if ((old = earlier(s, r)) == NULL)
      continue;
    if (r->is_name)
      gen_error(d, r->pos, "message name '%s' is reserved twice (also at %d:%d)",
                r->name, old->pos.line, old->pos.col);
    else
      gen_error(d, r->pos, "message id %llu is reserved twice (also at %d:%d)",
                (unsigned long long)r->id, old->pos.line, old->pos.col);
  }
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *m = s->decls[i];
    const gen_reserved *r;
    if (m->kind != D_MESSAGE)
      continue;
    if (!m->id_overflow && (r = gen_reserved_id(s, m->id)) != NULL)
      gen_error(d, m->id_pos, "message id %llu of '%s' is reserved (at %d:%d)",
                (unsigned long long)m->id, m->name, r->pos.line, r->pos.col);
    if ((r = gen_reserved_name(s, m->name)) != NULL)
      gen_error(d, m->pos, "message name '%s' is reserved (at %d:%d)", m->name,
                r->pos.line, r->pos.col);
  }
}

/* The [since] value itself: at least 2, at most the version. */
static bool since_in_range(const gen_schema *s, gen_diag *d,
                           const gen_field *f) {
  if (f->since_overflow || f->since < 2) {
    gen_error(d, f->since_pos, "[since N] must be at least 2 (version 1 is "
              "the fields without [since])");
    return false;
  }
  if (f->since > s->version) {
    gen_error(d, f->since_pos, "[since %u] is above the protocol's version %u "
              "(option version = %u;)", f->since, s->version, f->since);
    return false;
  }
  return true;
}

/* Where the [since] fields of struct or message t go: only if t can grow,
 * after every field without, in non-decreasing order. */
static void check_fields(const gen_schema *s, gen_diag *d, gen_decl *t) {
  const gen_field *prev = NULL; /* the last [since] field */
  bool told = false;
  for (size_t i = 0; i < t->nfields; i++) {
    gen_field *f = &t->fields[i];
    if (f->since_pos.line == 0) {
      if (f->def.kind != V_NONE)
        gen_error(d, f->def.pos, "a default value is only used by a field "
                  "added later: add [since N] to '%s'", f->name);
      else if (prev != NULL)
        gen_error(d, f->pos, "field '%s' without [since] comes after '%s' "
                  "[since %u]: fields added later go at the end",
                  f->name, prev->name, prev->since);
      continue;
    }
    if (t->kind == D_STRUCT && t->ext_prefix == 0 && !told) {
      gen_error(d, f->since_pos, "struct '%s' is not extensible: only a "
                "message or an extensible struct can gain fields (struct %s "
                "extensible { ... })", t->name, t->name);
      told = true;
    }
    if (!since_in_range(s, d, f))
      continue;
    if (prev != NULL && f->since < prev->since)
      gen_error(d, f->since_pos, "field '%s' [since %u] comes after '%s' "
                "[since %u]: [since] must not decrease", f->name, f->since,
                prev->name, prev->since);
    prev = f;
    if (f->since > t->max_since)
      t->max_since = f->since;
    gen_check_default(d, t, f);
  }
}

/* Whether field f's encoding reaches an evolving or extensible struct. */
static bool field_evolves(const gen_field *f) {
  const gen_decl *t = f->type.decl;
  return t != NULL && t->kind == D_STRUCT && (t->evolving || t->ext_prefix);
}

/* evolving = is extensible (skips what a newer peer added), has [since]
 * fields, or holds (in any way) a struct that is extensible or evolving: a fixpoint, as structs may hold themselves. */
static void mark_evolving(gen_schema *s) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = 0; i < s->ndecls; i++) {
      gen_decl *t = s->decls[i];
      bool ev = t->max_since > 0 || t->ext_prefix > 0;
      if (t->evolving || (t->kind != D_STRUCT && t->kind != D_MESSAGE))
        continue;
      for (size_t k = 0; k < t->nfields && !ev; k++)
        ev = field_evolves(&t->fields[k]);
      if (ev)
        t->evolving = changed = true;
    }
  }
}

void gen_check_evolution(gen_schema *s, gen_diag *d, gen_pool *pool) {
  (void)pool;
  check_version(s, d);
  check_reserved(s, d);
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_STRUCT || s->decls[i]->kind == D_MESSAGE)
      check_fields(s, d, s->decls[i]);
  mark_evolving(s);
}
