/* --check-compat below the messages: the fields of a message or struct
 * position by position (names only explain what moved), and the structs
 * and enums they use by shape, not by name, all the way down (enums:
 * compare_enums.c). Every
 * (old, new) pair of types is queued once and compared once: findings
 * inside a struct are reported once however many fields use it, a struct
 * that reaches itself (through `repeated` or `optional`) ends the walk, and
 * a chain of types as long as the schema allows costs no stack. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

/* A type or field as written, for messages ("repeated<u16> Entry"); each
 * longer than what it holds, so nothing is cut but an absurd name. */
typedef struct text {
  char s[128];
} text;
typedef struct text2 {
  char s[192];
} text2;
typedef struct text3 {
  char s[256];
} text3;

/* The prefix type of a width in bytes: 1 -> "u8". */
static const char *prefix_name(int bytes) {
  return bytes == 1 ? "u8" : bytes == 2 ? "u16" : bytes == 4 ? "u32" : "u?";
}

const char *compat_scalar_name(gen_tykind k) {
  static const char *const names[] = {
      [TY_U8] = "u8",      [TY_U16] = "u16",   [TY_U32] = "u32",
      [TY_U64] = "u64",    [TY_I8] = "i8",     [TY_I16] = "i16",
      [TY_I32] = "i32",    [TY_I64] = "i64",   [TY_F32] = "f32",
      [TY_F64] = "f64",    [TY_BOOL] = "bool", [TY_STRING] = "string",
      [TY_BYTES] = "bytes"};
  return k < TY_NAMED ? names[k] : "?";
}

/* "string<u8>", "Entry", "u32" */
static text type_text(const gen_type *t) {
  text r;
  if (t->kind == TY_NAMED)
    snprintf(r.s, sizeof(r.s), "%s", t->name);
  else if (t->kind == TY_STRING || t->kind == TY_BYTES)
    snprintf(r.s, sizeof(r.s), "%s<%s>", compat_scalar_name(t->kind),
             prefix_name(t->prefix));
  else
    snprintf(r.s, sizeof(r.s), "%s", compat_scalar_name(t->kind));
  return r;
}

/* "optional u32", "repeated<u16> Entry", "u8[4]" */
static text2 field_type(const gen_field *f) {
  text t = type_text(&f->type);
  text2 r;
  if (f->mode == F_OPTIONAL)
    snprintf(r.s, sizeof(r.s), "optional %s", t.s);
  else if (f->mode == F_REPEATED)
    snprintf(r.s, sizeof(r.s), "repeated<%s> %s", prefix_name(f->count_prefix),
             t.s);
  else if (f->mode == F_ARRAY)
    snprintf(r.s, sizeof(r.s), "%s[%" PRIu64 "]", t.s, f->array_len);
  else
    snprintf(r.s, sizeof(r.s), "%s", t.s);
  return r;
}

/* "'u32 x'", "'u8 key[16]'": a field as written, for notes */
static text3 field_decl(const gen_field *f) {
  text3 r;
  if (f->mode == F_ARRAY)
    snprintf(r.s, sizeof(r.s), "'%s %s[%" PRIu64 "]'", type_text(&f->type).s,
             f->name, f->array_len);
  else
    snprintf(r.s, sizeof(r.s), "'%s %s'", field_type(f).s, f->name);
  return r;
}

/* "message" or "struct", for messages about its fields. */
static const char *kind_name(const gen_decl *d) {
  return d->kind == D_MESSAGE ? "message" : "struct";
}

/* A field mode in words, for field-mode-changed. */
static const char *mode_name(gen_field_mode m) {
  return m == F_OPTIONAL   ? "optional"
         : m == F_REPEATED ? "repeated"
         : m == F_ARRAY    ? "a fixed array"
                           : "a plain field";
}

/* Queues the pair (o, n) for compat_compare_queued() unless it was queued
 * before. */
static void enqueue(compat_ctx *c, const gen_decl *o, const gen_decl *n) {
  size_t lo = strlen(o->name), ln = strlen(n->name);
  char *key = gen_pool_alloc(&c->pool, lo + ln + 2);

  /* type names are unique in a valid schema and have no newline */
  memcpy(key, o->name, lo);
  key[lo] = '\n';
  memcpy(key + lo + 1, n->name, ln + 1);
  if (gen_map_put(&c->seen, key, key) != NULL)
    return;
  if (c->nseen == c->capseen) {
    size_t cap = c->capseen ? c->capseen * 2 : 16;
    const gen_decl **a = realloc(c->seen_old, cap * sizeof(*a));
    const gen_decl **b;
    if (a == NULL)
      abort(); /* out of memory, as gen_pool_alloc */
    c->seen_old = a;
    b = realloc(c->seen_new, cap * sizeof(*b));
    if (b == NULL)
      abort();
    c->seen_new = b;
    c->capseen = cap;
  }
  c->seen_old[c->nseen] = o;
  c->seen_new[c->nseen++] = n;
}

/* ---- structs ---------------------------------------------------------- */

/* Where `extensible` is, or the struct's name when it is not. */
static gen_pos ext_pos(const gen_decl *s) {
  return s->ext_prefix != 0 ? s->ext_pos : s->pos;
}

/* "extensible<u32>" or "not extensible", for notes. */
static text ext_text(const gen_decl *s) {
  text r;
  if (s->ext_prefix == 0)
    snprintf(r.s, sizeof(r.s), "not extensible");
  else
    snprintf(r.s, sizeof(r.s), "extensible<%s>", prefix_name(s->ext_prefix));
  return r;
}

static void compare_struct(compat_ctx *c, const gen_decl *so,
                           const gen_decl *sn) {
  compat_finding *f;

  if ((so->ext_prefix == 0) != (sn->ext_prefix == 0)) {
    f = compat_err(c, "struct-extensibility-changed", ext_pos(sn),
                   "struct '%s' is %s (its encoding %s a length prefix)",
                   sn->name,
                   sn->ext_prefix ? "now extensible" : "no longer extensible",
                   sn->ext_prefix ? "gains" : "loses");
    compat_was(c, f, ext_pos(so), "was %s", ext_text(so).s);
    return; /* the layouts differ from the first byte on */
  }
  if (so->ext_prefix != sn->ext_prefix) {
    f = compat_err(c, "prefix-width-changed", ext_pos(sn),
                   "struct '%s' changed its length prefix from %s to %s",
                   sn->name, prefix_name(so->ext_prefix),
                   prefix_name(sn->ext_prefix));
    compat_was(c, f, ext_pos(so), "was %s", ext_text(so).s);
  }
  compat_compare_fields(c, so, sn);
}

/* ---- one field -------------------------------------------------------- */

/* Whether t is an open enum whose values are k's: the same bytes, any
 * value accepted, as k itself. */
static bool open_enum_over(const gen_type *t, gen_tykind k) {
  return t->kind == TY_NAMED && t->decl->kind == D_ENUM && t->decl->open &&
         t->decl->underlying == k;
}

/* Types of fo and fn (same mode); false after a finding about the field
 * itself (what a struct or enum it uses reports does not count). */
static bool compare_type(compat_ctx *c, const gen_decl *n, const gen_field *fo,
                         const gen_field *fn) {
  const gen_type *ot = &fo->type, *nt = &fn->type;
  compat_finding *f;

  if (open_enum_over(ot, nt->kind) || open_enum_over(nt, ot->kind)) {
    f = compat_warn(c, "field-type-changed", nt->pos,
                    "field '%s' of %s '%s' changed type from %s to %s (the "
                    "same bytes, an open enum takes any value; the C type "
                    "changes)",
                    fn->name, kind_name(n), n->name, type_text(ot).s,
                    type_text(nt).s);
    compat_was(c, f, ot->pos, "was %s", field_decl(fo).s);
    return true;
  }
  if (ot->kind != nt->kind ||
      (ot->kind == TY_NAMED && ot->decl->kind != nt->decl->kind)) {
    f = compat_err(c, "field-type-changed", nt->pos,
                   "field '%s' of %s '%s' changed type from %s to %s", fn->name,
                   kind_name(n), n->name, type_text(ot).s, type_text(nt).s);
    compat_was(c, f, ot->pos, "was %s", field_decl(fo).s);
    return false;
  }
  if ((ot->kind == TY_STRING || ot->kind == TY_BYTES) &&
      ot->prefix != nt->prefix) {
    f = compat_err(c, "prefix-width-changed", nt->pos,
                   "field '%s' of %s '%s' changed its length prefix from "
                   "%s to %s",
                   fn->name, kind_name(n), n->name, prefix_name(ot->prefix),
                   prefix_name(nt->prefix));
    compat_was(c, f, ot->pos, "was %s", field_decl(fo).s);
    return false;
  }
  if (ot->kind == TY_NAMED)
    enqueue(c, ot->decl, nt->decl);
  return true;
}

/* Mode, array length, count prefix, and the type; false after a finding
 * about the field itself. */
static bool compare_shape(compat_ctx *c, const gen_decl *n, const gen_field *fo,
                          const gen_field *fn) {
  compat_finding *f = NULL;

  if (fo->mode != fn->mode)
    f = compat_err(c, "field-mode-changed", fn->type.pos,
                   "field '%s' of %s '%s' changed from %s to %s", fn->name,
                   kind_name(n), n->name, mode_name(fo->mode),
                   mode_name(fn->mode));
  else if (fn->mode == F_ARRAY && fo->array_len != fn->array_len)
    f = compat_err(c, "array-length-changed", fn->type.pos,
                   "field '%s' of %s '%s' changed its array length from "
                   "%" PRIu64 " to %" PRIu64,
                   fn->name, kind_name(n), n->name, fo->array_len,
                   fn->array_len);
  else if (fn->mode == F_REPEATED && fo->count_prefix != fn->count_prefix)
    f = compat_err(c, "prefix-width-changed", fn->type.pos,
                   "field '%s' of %s '%s' changed its count prefix from %s "
                   "to %s",
                   fn->name, kind_name(n), n->name,
                   prefix_name(fo->count_prefix),
                   prefix_name(fn->count_prefix));
  if (f != NULL)
    compat_was(c, f, fo->type.pos, "was %s", field_decl(fo).s);
  /* the element type too: a struct it uses may have changed as well */
  return compare_type(c, n, fo, fn) && f == NULL;
}

/* The default a [since] field takes when a payload ends before it. */
typedef struct dflt {
  bool neg;
  uint64_t u; /* integers, enums, bools */
  double f;
  const char *str; /* strings, bytes */
  size_t len;
  const char *text; /* as written, or the zero value's */
} dflt;

/* fl's default: its literal, or the zero value of its type. */
static dflt default_of(const gen_field *fl) {
  const gen_value *v = &fl->def;
  const gen_tykind k = fl->type.kind;
  dflt d = {.text = v->text != NULL ? v->text : "0", .str = ""};

  if (v->kind == V_NONE) {
    bool is_enum = k == TY_NAMED && fl->type.decl->kind == D_ENUM;
    d.text = k == TY_BOOL                       ? "false"
             : k == TY_STRING || k == TY_BYTES  ? "\"\""
             : k == TY_F32 || k == TY_F64       ? "0.0"
             : is_enum && fl->def_konst != NULL ? fl->def_konst->name
                                                : "0";
    if (is_enum && fl->def_konst != NULL)
      d.u = fl->def_konst->value;
    return d;
  }
  d.neg = v->negative && v->u != 0;
  d.u = v->kind == V_BOOL                       ? (uint64_t)v->b
        : v->kind == V_NAME && v->konst != NULL ? v->konst->value
                                                : v->u;
  d.f = v->negative && v->f > 0 ? -v->f : v->f;
  if (v->kind == V_STRING) {
    d.str = v->str;
    d.len = v->len;
  }
  return d;
}

/* Whether a and b are the same value of fl's type (1 and 1.0 are). */
static bool same_default(const gen_field *fl, dflt a, dflt b) {
  switch (fl->type.kind) {
  case TY_F32:
  case TY_F64:
    return a.f == b.f;
  case TY_STRING:
  case TY_BYTES:
    return a.len == b.len && memcmp(a.str, b.str, a.len) == 0;
  default:
    return a.neg == b.neg && a.u == b.u;
  }
}

/* A [since] plain field's default: peers of each version would fill in a
 * different value for the same missing bytes. */
static void compare_default(compat_ctx *c, const gen_decl *n,
                            const gen_field *fo, const gen_field *fn) {
  dflt a, b;
  compat_finding *f;

  if (fn->mode != F_PLAIN ||
      (fn->type.kind == TY_NAMED && fn->type.decl->kind == D_STRUCT))
    return; /* absent, empty, zeros: no literal possible */
  a = default_of(fo);
  b = default_of(fn);
  if (same_default(fn, a, b))
    return;
  f = compat_warn(c, "field-default-changed",
                  fn->def.kind != V_NONE ? fn->def.pos : fn->pos,
                  "default of field '%s' of %s '%s' changed from %s to %s",
                  fn->name, kind_name(n), n->name, a.text, b.text);
  compat_was(c, f, fo->def.kind != V_NONE ? fo->def.pos : fo->pos, "was %s",
             a.text);
}

/* "[since 2]" or "no [since]". */
static text since_text(unsigned since) {
  text r;
  if (since == 0)
    snprintf(r.s, sizeof(r.s), "no [since]");
  else
    snprintf(r.s, sizeof(r.s), "[since %u]", since);
  return r;
}

/* Where f's [since] is, or its name when it has none. */
static gen_pos since_pos(const gen_field *f) {
  return f->since != 0 ? f->since_pos : f->pos;
}

/* Two fields at the same position (possibly renamed). */
static void compare_field(compat_ctx *c, const gen_decl *n, const gen_field *fo,
                          const gen_field *fn) {
  bool same = compare_shape(c, n, fo, fn);
  compat_finding *f;

  if (fo->since != fn->since) {
    f = compat_err(c, "field-since-changed", since_pos(fn),
                   "field '%s' of %s '%s' changed from %s to %s", fn->name,
                   kind_name(n), n->name, since_text(fo->since).s,
                   since_text(fn->since).s);
    compat_was(c, f, since_pos(fo), "was %s", since_text(fo->since).s);
  } else if (same && fn->since != 0) {
    compare_default(c, n, fo, fn);
  }
}

/* ---- the field lists -------------------------------------------------- */

/* The position of the field called name in d, or -1. */
static long field_index(const gen_decl *d, const char *name) {
  for (size_t i = 0; i < d->nfields; i++)
    if (strcmp(d->fields[i].name, name) == 0)
      return (long)i;
  return -1;
}

/* Position i holds differently named fields: if either name is found
 * elsewhere in the other list, a field was inserted, removed or moved
 * (reported; true). Otherwise it is a rename (false: compare shapes). */
static bool misplaced(compat_ctx *c, const gen_decl *o, const gen_decl *n,
                      size_t i) {
  const gen_field *fo = &o->fields[i], *fn = &n->fields[i];
  long fo_in_new = field_index(n, fo->name);
  long fn_in_old = field_index(o, fn->name);
  compat_finding *f;

  if (fo_in_new >= 0 && fn_in_old >= 0) {
    f = compat_err(c, "field-order-changed", fn->pos,
                   "field '%s' of %s '%s' moved before '%s'", fn->name,
                   kind_name(n), n->name, fo->name);
    compat_was(c, f, o->fields[fn_in_old].pos, "was %s",
               field_decl(&o->fields[fn_in_old]).s);
  } else if (fo_in_new >= 0) {
    f = compat_err(c, "field-inserted", fn->pos,
                   "field '%s' of %s '%s' inserted before '%s' (fields are "
                   "added at the end, with [since])",
                   fn->name, kind_name(n), n->name, fo->name);
    compat_was(c, f, fo->pos, "was %s", field_decl(fo).s);
  } else if (fn_in_old >= 0) {
    f = compat_err(c, "field-removed", fn->pos, "field '%s' of %s '%s' removed",
                   fo->name, kind_name(n), n->name);
    compat_was(c, f, fo->pos, "was %s", field_decl(fo).s);
  } else {
    return false;
  }
  return true;
}

/* A field of NEW after OLD's last: old decoders skip it (messages,
 * extensible structs), new decoders need its [since] group to start where
 * an old payload ends. */
static void check_added(compat_ctx *c, const gen_decl *o, const gen_decl *n,
                        const gen_field *fn) {
  unsigned old_version = c->old->version;
  compat_finding *f;

  if (fn->since == 0) {
    if (n->kind == D_STRUCT && n->ext_prefix == 0)
      f = compat_err(c, "field-added-without-since", fn->pos,
                     "field '%s' added to struct '%s', which is not "
                     "extensible",
                     fn->name, n->name);
    else
      f = compat_err(c, "field-added-without-since", fn->pos,
                     "field '%s' added to %s '%s' without [since N]", fn->name,
                     kind_name(n), n->name);
    compat_was(c, f, o->pos, "was %s '%s' without it", kind_name(o), o->name);
  } else if (fn->since <= old_version) {
    f = compat_err(c, "field-since-not-new", fn->since_pos,
                   "field '%s' added to %s '%s' with [since %u], not above "
                   "the old version %u",
                   fn->name, kind_name(n), n->name, fn->since, old_version);
    compat_was(c, f,
               c->old->s.version_set ? c->old->s.version_pos
                                     : c->old->s.proto_pos,
               "was version %u%s", old_version,
               c->old->s.version_set ? "" : " (the default)");
  }
}

void compat_compare_fields(compat_ctx *c, const gen_decl *o,
                           const gen_decl *n) {
  size_t i;
  compat_finding *f;

  for (i = 0; i < o->nfields && i < n->nfields; i++) {
    if (strcmp(o->fields[i].name, n->fields[i].name) != 0 &&
        misplaced(c, o, n, i))
      return; /* what follows is shifted: one finding says it */
    compare_field(c, n, &o->fields[i], &n->fields[i]);
  }
  for (size_t j = i; j < o->nfields; j++) {
    f = compat_err(c, "field-removed", n->pos, "field '%s' of %s '%s' removed",
                   o->fields[j].name, kind_name(n), n->name);
    compat_was(c, f, o->fields[j].pos, "was %s", field_decl(&o->fields[j]).s);
  }
  for (size_t j = i; j < n->nfields; j++)
    check_added(c, o, n, &n->fields[j]);
}

void compat_compare_queued(compat_ctx *c) {
  for (; c->ndone < c->nseen; c->ndone++) {
    const gen_decl *o = c->seen_old[c->ndone], *n = c->seen_new[c->ndone];
    if (o->kind == D_ENUM)
      compat_compare_enum(c, o, n);
    else
      compare_struct(c, o, n); /* may queue more */
  }
}
