/* runtime/desc — the reflective JSON codec's internals, shared by its files:
 * a growable buffer, the error path ("fields.files[3].size"), lookups and
 * wire sizes from a descriptor, numbers in either byte order, the JSON
 * text of numbers and strings, and base64. The two directions are
 * to_json.c (payload -> JSON) and from_json.c (JSON -> payload). */
#ifndef NETFW_DESC_INTERNAL_H
#define NETFW_DESC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "netfw/desc.h"
#include "netfw/export.h"

/* ---- a growable byte buffer (text.c) ------------------------------------
 * oom is set by the first allocation that fails; later writes are dropped
 * and the owner reports NETFW_ENOMEM. */
typedef struct netfw__desc_buf {
  uint8_t *p;
  size_t len, cap;
  bool oom;
} netfw__desc_buf;

/* Appends n bytes. */
void netfw__desc_put(netfw__desc_buf *b, const void *s, size_t n);
/* Appends the NUL-terminated s. */
void netfw__desc_puts(netfw__desc_buf *b, const char *s);
/* Appends n bytes left for the caller to fill: where they start, or NULL
 * (and oom set) when out of memory. */
uint8_t *netfw__desc_grow(netfw__desc_buf *b, size_t n);
/* Frees the bytes; the buffer is empty again. */
void netfw__desc_buf_free(netfw__desc_buf *b);

/* ---- one call's state and its error message (text.c) --------------------- */
typedef struct netfw__desc_ctx {
  const netfw_desc *d;
  bool be;              /* d->big_endian */
  netfw__desc_buf out;  /* the JSON text, or the payload */
  netfw__desc_buf path; /* "fields.files[3].size", not NUL-terminated */
  char *err;            /* the caller's, may be NULL */
  size_t errlen;
  uint64_t *min_memo; /* netfw__desc_value_min()'s, freed at the end */
} netfw__desc_ctx;

/* Starts a call on d: c zeroed, err emptied, the path at "fields". Returns
 * 0, or NETFW_EINVAL (with err saying why) when d is NULL, args_ok is
 * false (another argument is NULL) or d was written for another
 * NETFW_DESC_ABI. */
int netfw__desc_start(netfw__desc_ctx *c, const netfw_desc *d, char *err,
                      size_t errlen, bool args_ok);
/* Frees what a call started by netfw__desc_start holds. */
void netfw__desc_end(netfw__desc_ctx *c);
/* Writes "PATH: message" into the caller's err and returns rc. */
int netfw__desc_fail(netfw__desc_ctx *c, int rc, const char *fmt, ...)
    NETFW_PRINTF(3, 4);
/* Writes message alone (no path) into err and returns rc. */
int netfw__desc_fail_bare(netfw__desc_ctx *c, int rc, const char *fmt, ...)
    NETFW_PRINTF(3, 4);
/* Appends ".name" to the path; returns the mark to pop back to. */
size_t netfw__desc_path_field(netfw__desc_ctx *c, const char *name);
/* Appends "[i]" to the path; returns the mark to pop back to. */
size_t netfw__desc_path_index(netfw__desc_ctx *c, uint64_t i);
/* Cuts the path back to mark. */
static inline void netfw__desc_path_pop(netfw__desc_ctx *c, size_t mark) {
  c->path.len = mark;
}

/* ---- JSON text of values (text.c) ---------------------------------------- */

/* s[0..n) (valid UTF-8) as a JSON string, quotes included. */
void netfw__desc_put_jstr(netfw__desc_buf *b, const char *s, size_t n);
/* An integer: a JSON number when |v| <= 2^53, else a decimal string. */
void netfw__desc_put_int(netfw__desc_buf *b, bool negative, uint64_t mag);
/* A double as the shortest JSON number that reads back to the same bits;
 * NaN and the infinities as the strings "NaN", "Infinity", "-Infinity". */
void netfw__desc_put_f64(netfw__desc_buf *b, double v);
/* The same for a float: the shortest text that reads back (through a
 * double, as the encoder reads it) to the same float. */
void netfw__desc_put_f32(netfw__desc_buf *b, float v);

/* ---- base64, standard alphabet, padded (base64.c) ------------------------ */

/* Appends s[0..n) in base64 (no quotes). */
void netfw__desc_b64_put(netfw__desc_buf *b, const uint8_t *s, size_t n);
/* Checks s[0..n) is padded standard base64 with no whitespace and no
 * stray bits: the decoded length, or -1 with *why saying what is wrong. */
long long netfw__desc_b64_check(const char *s, size_t n, const char **why);
/* Decodes s[0..n), which netfw__desc_b64_check() accepted, into out. */
void netfw__desc_b64_decode(const char *s, size_t n, uint8_t *out);

/* ---- the descriptor (lookup.c) ------------------------------------------- */

/* Bytes of a fixed-size kind on the wire (an enum's: its size), else 0. */
int netfw__desc_kind_size(uint8_t kind);
/* NULL when field f of d is well formed (kind, mode, prefixes, type index,
 * enum size), else what is wrong with it. */
const char *netfw__desc_field_check(const netfw_desc *d,
                                    const netfw_desc_field *f);
/* The enum or struct field f (checked) names. */
const netfw_desc_enum *netfw__desc_enum_of(const netfw_desc *d,
                                           const netfw_desc_field *f);
const netfw_desc_struct *netfw__desc_struct_of(const netfw_desc *d,
                                               const netfw_desc_field *f);
/* The fewest bytes one value of f's type takes (an element of a repeated
 * field, of a fixed array): what a count is checked against. *memo starts
 * NULL; the caller frees it once done (a per-call cache of struct sizes). */
uint64_t netfw__desc_value_min(const netfw_desc *d, const netfw_desc_field *f,
                               uint64_t **memo);
/* Whether s may hold itself: it has a repeated field of structs (the
 * generated decoder checks the depth only there). */
bool netfw__desc_may_recurse(const netfw_desc_struct *s);
/* e's constant of that value / that name, or NULL. */
const netfw_desc_const *netfw__desc_const_by_value(const netfw_desc_enum *e,
                                                   uint64_t v);
const netfw_desc_const *netfw__desc_const_by_name(const netfw_desc_enum *e,
                                                  const char *name);
/* The field of s closest to word by edit distance when close enough to be
 * a typo ("did you mean"), else NULL. */
const char *netfw__desc_closest_field(const netfw_desc_struct *s,
                                      const char *word);
/* The bytes a [since] field takes when a payload stops before it: its def,
 * or (a descriptor without one: NULL or empty) zeros, the field's fewest
 * bytes, in *tmp (malloc'd, the caller frees it; NULL when def is used).
 * NULL when out of memory. */
const uint8_t *netfw__desc_default(const netfw_desc *d,
                                   const netfw_desc_field *f, size_t *len,
                                   uint8_t **tmp);

/* ---- JSON -> payload: one value (from_scalar.c) -------------------------- */

/* Appends to c->out the bytes of JSON value v as one value of field f, whose
 * kind is not STRUCT: 0, or NETFW_EINVAL / NETFW_E2BIG with the message in
 * c->err. */
int netfw__desc_enc_scalar(netfw__desc_ctx *c, const json_t *v,
                           const netfw_desc_field *f);

/* ---- numbers in the descriptor's byte order (inline) --------------------- */

/* The unsigned of n (1, 2, 4, 8) bytes at b. */
static inline uint64_t netfw__desc_get(const uint8_t *b, int n, bool be) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++)
    v |= (uint64_t)b[be ? n - 1 - i : i] << (8 * i);
  return v;
}

/* Writes the low n bytes of v at b. */
static inline void netfw__desc_set(uint8_t *b, int n, uint64_t v, bool be) {
  for (int i = 0; i < n; i++)
    b[be ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

#endif /* NETFW_DESC_INTERNAL_H */
