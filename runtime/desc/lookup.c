/* Lookups in a descriptor: messages by id and name, enum constants, the
 * "did you mean" of an unknown field, a field's sanity, the fewest bytes a
 * value takes (what a decoder checks counts against), [since] defaults. */
#include <stdlib.h>
#include <string.h>

#include "closest.h"
#include "desc_internal.h"

/* ---- messages (the public calls) ----------------------------------------- */

/* Cost: O(messages); a descriptor is small and netfw-call asks once. */
const netfw_desc_message *netfw_desc_message_by_id(const netfw_desc *d,
                                                   uint16_t id) {
  if (d == NULL)
    return NULL;
  for (uint32_t i = 0; i < d->nmessages; i++)
    if (d->messages[i].id == id)
      return &d->messages[i];
  return NULL;
}

const netfw_desc_message *netfw_desc_message_by_name(const netfw_desc *d,
                                                     const char *name) {
  if (d == NULL || name == NULL)
    return NULL;
  for (uint32_t i = 0; i < d->nmessages; i++)
    if (d->messages[i].body.name != NULL &&
        strcmp(d->messages[i].body.name, name) == 0)
      return &d->messages[i];
  return NULL;
}

/* ---- fields -------------------------------------------------------------- */

int netfw__desc_kind_size(uint8_t kind) {
  static const int size[] = {
      [NETFW_DESC_U8] = 1,  [NETFW_DESC_U16] = 2, [NETFW_DESC_U32] = 4,
      [NETFW_DESC_U64] = 8, [NETFW_DESC_I8] = 1,  [NETFW_DESC_I16] = 2,
      [NETFW_DESC_I32] = 4, [NETFW_DESC_I64] = 8, [NETFW_DESC_F32] = 4,
      [NETFW_DESC_F64] = 8, [NETFW_DESC_BOOL] = 1};
  return kind < sizeof(size) / sizeof(size[0]) ? size[kind] : 0;
}

static bool prefix_ok(uint8_t p) {
  return p == 1 || p == 2 || p == 4;
}

const char *netfw__desc_field_check(const netfw_desc *d,
                                    const netfw_desc_field *f) {
  if (f->name == NULL)
    return "a field without a name";
  if (f->mode > NETFW_DESC_ARRAY)
    return "an unknown field mode";
  if (f->mode == NETFW_DESC_REPEATED && !prefix_ok(f->count_prefix))
    return "a count prefix other than 1, 2 or 4 bytes";
  switch (f->kind) {
  case NETFW_DESC_STRING:
  case NETFW_DESC_BYTES:
    return prefix_ok(f->prefix) ? NULL
                                : "a length prefix other than 1, 2 or 4 bytes";
  case NETFW_DESC_ENUM:
    if (f->type >= d->nenums)
      return "an enum index out of range";
    return prefix_ok(d->enums[f->type].size) ? NULL
                                             : "an enum size other than 1, 2 "
                                               "or 4 bytes";
  case NETFW_DESC_STRUCT:
    return f->type < d->nstructs ? NULL : "a struct index out of range";
  default:
    return f->kind <= NETFW_DESC_BOOL ? NULL : "an unknown field kind";
  }
}

const netfw_desc_enum *netfw__desc_enum_of(const netfw_desc *d,
                                           const netfw_desc_field *f) {
  return &d->enums[f->type];
}

const netfw_desc_struct *netfw__desc_struct_of(const netfw_desc *d,
                                               const netfw_desc_field *f) {
  return &d->structs[f->type];
}

/* ---- fewest bytes ------------------------------------------------------
 * As the generator's layout: a struct's fewest bytes are its length prefix
 * and those of its fields without [since] (an older peer leaves those
 * out); an optional takes 1, a repeated field its count, a fixed array N
 * elements. Structs hold each other by value without cycles (the schema
 * checks refuse them), so the recursion ends; a hand-made descriptor with
 * a cycle is cut off at a depth no checked schema reaches (it nests by
 * value at most 64 deep). Sums saturate at UINT64_MAX. */

#define MIN_DEPTH_CAP 80

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t value_min(const netfw_desc *d, const netfw_desc_field *f,
                          uint64_t *memo, int depth);

/* memo (NULL, or one entry per struct of d: 0 unknown, else the fewest
 * bytes + 1, saturated) makes each struct's sum once per call. */
static uint64_t struct_min(const netfw_desc *d, const netfw_desc_struct *s,
                           uint64_t *memo, int depth) {
  uint64_t min = s->ext_prefix;
  size_t at = (size_t)(s - d->structs);
  if (depth > MIN_DEPTH_CAP)
    return 1;
  if (memo != NULL && memo[at] != 0)
    return memo[at] - 1;
  for (uint32_t i = 0; i < s->nfields; i++) {
    const netfw_desc_field *f = &s->fields[i];
    if (f->since != 0 || netfw__desc_field_check(d, f) != NULL)
      continue;
    switch (f->mode) {
    case NETFW_DESC_OPTIONAL:
      min = sat_add(min, 1);
      break;
    case NETFW_DESC_REPEATED:
      min = sat_add(min, f->count_prefix);
      break;
    case NETFW_DESC_ARRAY:
      min = sat_add(min, sat_mul(value_min(d, f, memo, depth), f->array_len));
      break;
    default:
      min = sat_add(min, value_min(d, f, memo, depth));
    }
  }
  if (memo != NULL)
    memo[at] = min == UINT64_MAX ? UINT64_MAX : min + 1;
  return min;
}

static uint64_t value_min(const netfw_desc *d, const netfw_desc_field *f,
                          uint64_t *memo, int depth) {
  switch (f->kind) {
  case NETFW_DESC_STRING:
  case NETFW_DESC_BYTES:
    return f->prefix;
  case NETFW_DESC_ENUM:
    return netfw__desc_enum_of(d, f)->size;
  case NETFW_DESC_STRUCT:
    return struct_min(d, netfw__desc_struct_of(d, f), memo, depth + 1);
  default:
    return (uint64_t)netfw__desc_kind_size(f->kind);
  }
}

/* Cost: without *memo, the size of the struct's by-value tree; the memo
 * (allocated here on first use, one entry per struct; the caller frees
 * it) makes it once per struct per call. Nothing is kept between calls:
 * the descriptor is constant and may be shared between threads. Without
 * memory for the memo it is computed each time. */
uint64_t netfw__desc_value_min(const netfw_desc *d, const netfw_desc_field *f,
                               uint64_t **memo) {
  if (*memo == NULL && d->nstructs > 0)
    *memo = calloc(d->nstructs, sizeof(**memo));
  return value_min(d, f, *memo, 0);
}

bool netfw__desc_may_recurse(const netfw_desc_struct *s) {
  for (uint32_t i = 0; i < s->nfields; i++)
    if (s->fields[i].mode == NETFW_DESC_REPEATED &&
        s->fields[i].kind == NETFW_DESC_STRUCT)
      return true;
  return false;
}

/* The fewest bytes of field f: zeros of this length decode as its zero
 * value (an absent optional, an empty array, zero numbers). */
static uint64_t field_min(const netfw_desc *d, const netfw_desc_field *f) {
  switch (f->mode) {
  case NETFW_DESC_OPTIONAL:
    return 1;
  case NETFW_DESC_REPEATED:
    return f->count_prefix;
  case NETFW_DESC_ARRAY:
    return sat_mul(value_min(d, f, NULL, 0), f->array_len);
  default:
    return value_min(d, f, NULL, 0);
  }
}

const uint8_t *netfw__desc_default(const netfw_desc *d,
                                   const netfw_desc_field *f, size_t *len,
                                   uint8_t **tmp) {
  uint64_t n;
  *tmp = NULL;
  if (f->def != NULL && f->def_len > 0) { /* every field takes a byte */
    *len = f->def_len;
    return f->def;
  }
  n = field_min(d, f);
  if (n > SIZE_MAX - 1 || (*tmp = calloc(1, (size_t)n + 1)) == NULL)
    return NULL;
  *len = (size_t)n;
  return *tmp;
}

/* ---- enum constants ------------------------------------------------------ */

const netfw_desc_const *netfw__desc_const_by_value(const netfw_desc_enum *e,
                                                   uint64_t v) {
  for (uint32_t i = 0; i < e->nconsts; i++)
    if (e->consts[i].value == v)
      return &e->consts[i];
  return NULL;
}

const netfw_desc_const *netfw__desc_const_by_name(const netfw_desc_enum *e,
                                                  const char *name) {
  for (uint32_t i = 0; i < e->nconsts; i++)
    if (e->consts[i].name != NULL && strcmp(e->consts[i].name, name) == 0)
      return &e->consts[i];
  return NULL;
}

/* ---- did you mean -------------------------------------------------------- */

const char *netfw__desc_closest_field(const netfw_desc_struct *s,
                                      const char *word) {
  if (s->nfields == 0)
    return NULL;
  return netfw__closest(word, &s->fields[0].name, s->nfields,
                        sizeof(s->fields[0]));
}
