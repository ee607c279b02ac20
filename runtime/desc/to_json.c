/* Payload -> JSON: netfw_desc_decode_json(). It walks the payload as the
 * generated decoder does (gen/c/emit_decode.c, docs/netproto.md section 6)
 * and refuses exactly what that decoder refuses, in the same order of
 * checks: every read against the bytes left, UTF-8, bool and presence
 * bytes 00/01, closed enum values, a count against the bytes left times an
 * element's fewest bytes before anything else, an extensible struct's
 * length window, [since] group boundaries, the nesting depth. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "desc_internal.h"
#include "netfw/codec.h"
#include "netfw/error.h"

/* The bytes a value is read from: the payload, an extensible struct's
 * window, or a [since] field's default. */
typedef struct reader {
  const uint8_t *p;
  size_t left;
  const char *what; /* what ends, for the error message */
} reader;

/* Past the generated decoders' own limit (recursive structs, checked only
 * where a struct has a repeated field of structs) a value can only nest as
 * deep as a checked schema lets structs hold each other by value (64);
 * deeper, the descriptor is not one netfw-gen made. */
#define HARD_DEPTH (NETFW_MAX_DECODE_DEPTH + 80)

static int dec_struct(netfw__desc_ctx *c, reader *r, const netfw_desc_struct *s,
                      int depth);

/* The next n bytes, or NULL (the error written: the reader ends before
 * the field, nothing of it read since start, or inside it). */
static const uint8_t *take(netfw__desc_ctx *c, reader *r, size_t n,
                           const uint8_t *start) {
  const uint8_t *b = r->p;
  if (r->left < n) {
    netfw__desc_fail(c, NETFW_EPROTO, "%s ends %s the field", r->what,
                     r->p == start && r->left == 0 ? "before" : "inside");
    return NULL;
  }
  r->p += n;
  r->left -= n;
  return b;
}

/* An integer of kind k read as raw bits: its JSON number (or string). */
static void put_int(netfw__desc_buf *o, uint8_t k, uint64_t raw) {
  int bits = 8 * netfw__desc_kind_size(k);
  bool sign = k >= NETFW_DESC_I8 && k <= NETFW_DESC_I64;
  uint64_t top = (uint64_t)1 << (bits - 1);
  if (sign && (raw & top) != 0) {
    /* two's complement: the magnitude is the low bits negated */
    uint64_t mask = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    netfw__desc_put_int(o, true, ((~raw) & mask) + 1);
    return;
  }
  netfw__desc_put_int(o, false, raw);
}

/* A string or bytes: its length prefix, then that many bytes. */
static int dec_text(netfw__desc_ctx *c, reader *r, const netfw_desc_field *f,
                    const uint8_t *start) {
  const uint8_t *b;
  uint64_t n;
  if ((b = take(c, r, f->prefix, start)) == NULL)
    return NETFW_EPROTO;
  n = netfw__desc_get(b, f->prefix, c->be);
  if ((b = take(c, r, (size_t)n, start)) == NULL)
    return NETFW_EPROTO;
  if (f->kind == NETFW_DESC_BYTES) {
    netfw__desc_put(&c->out, "\"", 1);
    netfw__desc_b64_put(&c->out, b, (size_t)n);
    netfw__desc_put(&c->out, "\"", 1);
    return 0;
  }
  if (!netfw_utf8_check(b, (size_t)n))
    return netfw__desc_fail(c, NETFW_EPROTO, "the string is not valid UTF-8");
  netfw__desc_put_jstr(&c->out, (const char *)b, (size_t)n);
  return 0;
}

/* An enum: a listed value by name, an open enum's other values by number,
 * a closed enum's other values refused. */
static int dec_enum(netfw__desc_ctx *c, reader *r, const netfw_desc_field *f,
                    const uint8_t *start) {
  const netfw_desc_enum *e = netfw__desc_enum_of(c->d, f);
  const netfw_desc_const *k;
  const uint8_t *b;
  uint64_t v;
  if ((b = take(c, r, e->size, start)) == NULL)
    return NETFW_EPROTO;
  v = netfw__desc_get(b, e->size, c->be);
  if ((k = netfw__desc_const_by_value(e, v)) != NULL && k->name != NULL)
    netfw__desc_put_jstr(&c->out, k->name, strlen(k->name));
  else if (e->open)
    netfw__desc_put_int(&c->out, false, v);
  else
    return netfw__desc_fail(c, NETFW_EPROTO,
                            "value %" PRIu64 " is not a constant of enum %s", v,
                            e->name != NULL ? e->name : "?");
  return 0;
}

/* One value of f's type (one element of an array); the field began at
 * start. */
static int dec_value(netfw__desc_ctx *c, reader *r, const netfw_desc_field *f,
                     int depth, const uint8_t *start) {
  const uint8_t *b;
  int k = netfw__desc_kind_size(f->kind);
  switch (f->kind) {
  case NETFW_DESC_STRING:
  case NETFW_DESC_BYTES:
    return dec_text(c, r, f, start);
  case NETFW_DESC_ENUM:
    return dec_enum(c, r, f, start);
  case NETFW_DESC_STRUCT:
    return dec_struct(c, r, netfw__desc_struct_of(c->d, f), depth + 1);
  default:
    break;
  }
  if ((b = take(c, r, (size_t)k, start)) == NULL)
    return NETFW_EPROTO;
  if (f->kind == NETFW_DESC_BOOL) {
    if (b[0] > 1)
      return netfw__desc_fail(c, NETFW_EPROTO,
                              "bool byte 0x%02x is neither 00 nor 01", b[0]);
    netfw__desc_puts(&c->out, b[0] ? "true" : "false");
  } else if (f->kind == NETFW_DESC_F32) {
    uint32_t u = (uint32_t)netfw__desc_get(b, 4, c->be);
    float v;
    memcpy(&v, &u, 4);
    netfw__desc_put_f32(&c->out, v);
  } else if (f->kind == NETFW_DESC_F64) {
    uint64_t u = netfw__desc_get(b, 8, c->be);
    double v;
    memcpy(&v, &u, 8);
    netfw__desc_put_f64(&c->out, v);
  } else {
    put_int(&c->out, f->kind, netfw__desc_get(b, k, c->be));
  }
  return 0;
}

/* n values of f in a JSON array: a fixed array's, or a repeated field's
 * after its count was checked. */
static int dec_elements(netfw__desc_ctx *c, reader *r,
                        const netfw_desc_field *f, uint64_t n, int depth,
                        const uint8_t *start) {
  netfw__desc_put(&c->out, "[", 1);
  for (uint64_t i = 0; i < n; i++) {
    size_t mark = netfw__desc_path_index(c, i);
    int rc;
    if (i > 0)
      netfw__desc_put(&c->out, ",", 1);
    if ((rc = dec_value(c, r, f, depth, start)) != 0)
      return rc;
    netfw__desc_path_pop(c, mark);
  }
  netfw__desc_put(&c->out, "]", 1);
  return 0;
}

/* A repeated field: its count, checked against what the bytes left can
 * hold before any element is read (the generated decoder allocates
 * there). */
static int dec_repeated(netfw__desc_ctx *c, reader *r,
                        const netfw_desc_field *f, int depth) {
  const uint8_t *b, *start = r->p;
  uint64_t n, min;
  if ((b = take(c, r, f->count_prefix, start)) == NULL)
    return NETFW_EPROTO;
  n = netfw__desc_get(b, f->count_prefix, c->be);
  min = netfw__desc_value_min(c->d, f, &c->min_memo);
  if (n > r->left / (min == 0 ? 1 : min))
    return netfw__desc_fail(c, NETFW_EPROTO,
                            "count %" PRIu64 " is more than the %zu bytes left "
                            "can hold (%" PRIu64 " or more bytes each)",
                            n, r->left, min);
  return dec_elements(c, r, f, n, depth, start);
}

/* Field f of a struct at depth, with its key already written. */
static int dec_field(netfw__desc_ctx *c, reader *r, const netfw_desc_field *f,
                     int depth) {
  const uint8_t *b, *start = r->p;
  const char *bad = netfw__desc_field_check(c->d, f);
  if (bad != NULL)
    return netfw__desc_fail(c, NETFW_EINVAL, "descriptor: %s", bad);
  switch (f->mode) {
  case NETFW_DESC_OPTIONAL:
    if ((b = take(c, r, 1, start)) == NULL)
      return NETFW_EPROTO;
    if (b[0] > 1)
      return netfw__desc_fail(
          c, NETFW_EPROTO, "presence byte 0x%02x is neither 00 nor 01", b[0]);
    if (b[0] == 0) {
      netfw__desc_puts(&c->out, "null");
      return 0;
    }
    return dec_value(c, r, f, depth, start);
  case NETFW_DESC_REPEATED:
    return dec_repeated(c, r, f, depth);
  case NETFW_DESC_ARRAY:
    return dec_elements(c, r, f, f->array_len, depth, start);
  default:
    return dec_value(c, r, f, depth, start);
  }
}

/* Writes the key of f: `"name":`, after a comma unless it is the first. */
static void put_key(netfw__desc_ctx *c, const netfw_desc_field *f, bool first) {
  if (!first)
    netfw__desc_put(&c->out, ",", 1);
  netfw__desc_put_jstr(&c->out, f->name, strlen(f->name));
  netfw__desc_put(&c->out, ":", 1);
}

/* Fields i.. of s, which the sender's version did not have: each from its
 * [since] default's bytes. A default that does not decode is the
 * descriptor's fault (NETFW_EINVAL). */
static int dec_defaults(netfw__desc_ctx *c, const netfw_desc_struct *s,
                        uint32_t i, int depth) {
  for (; i < s->nfields; i++) {
    const netfw_desc_field *f = &s->fields[i];
    size_t mark = netfw__desc_path_field(c, f->name != NULL ? f->name : "?");
    uint8_t *tmp;
    reader dr = {NULL, 0, "default"};
    int rc;
    if (netfw__desc_field_check(c->d, f) != NULL)
      return dec_field(c, &dr, f, depth); /* reports it */
    dr.p = netfw__desc_default(c->d, f, &dr.left, &tmp);
    if (dr.p == NULL)
      return netfw__desc_fail(c, NETFW_ENOMEM, "out of memory");
    put_key(c, f, i == 0);
    rc = dec_field(c, &dr, f, depth);
    free(tmp);
    if (rc != 0)
      return rc == NETFW_EPROTO ? NETFW_EINVAL : rc;
    netfw__desc_path_pop(c, mark);
  }
  return 0;
}

/* An extensible struct's window: its length, checked against the bytes
 * left, becomes the reader of its fields; the outer reader moves past it
 * (the bytes after the fields this version knows are skipped). */
static int open_window(netfw__desc_ctx *c, reader *r,
                       const netfw_desc_struct *s, reader *w) {
  const uint8_t *b;
  uint64_t n;
  if ((b = take(c, r, s->ext_prefix, r->p)) == NULL)
    return NETFW_EPROTO;
  n = netfw__desc_get(b, s->ext_prefix, c->be);
  if (n > r->left)
    return netfw__desc_fail(c, NETFW_EPROTO,
                            "the extensible struct's length %" PRIu64
                            " is larger than the %zu bytes left",
                            n, r->left);
  w->p = r->p;
  w->left = (size_t)n;
  w->what = "extensible struct's length";
  r->p += n;
  r->left -= (size_t)n;
  return 0;
}

/* A struct (or a message's body, depth 0) as a JSON object. Before the
 * first field of each [since] group, a reader with nothing left means an
 * older sender: that group and the later ones take their defaults. */
static int dec_struct(netfw__desc_ctx *c, reader *r, const netfw_desc_struct *s,
                      int depth) {
  reader w;
  unsigned group = 0;
  int rc;
  if (depth > HARD_DEPTH ||
      (depth > NETFW_MAX_DECODE_DEPTH && netfw__desc_may_recurse(s)))
    return netfw__desc_fail(c, NETFW_EPROTO,
                            "structs nest deeper than %d (NETFW_MAX_DECODE_"
                            "DEPTH)",
                            NETFW_MAX_DECODE_DEPTH);
  if (s->ext_prefix != 0) {
    if ((rc = open_window(c, r, s, &w)) != 0)
      return rc;
    r = &w;
  }
  netfw__desc_put(&c->out, "{", 1);
  for (uint32_t i = 0; i < s->nfields; i++) {
    const netfw_desc_field *f = &s->fields[i];
    size_t mark;
    if (f->since != group && f->since > 0 && r->left == 0) {
      if ((rc = dec_defaults(c, s, i, depth)) != 0)
        return rc;
      break;
    }
    group = f->since;
    mark = netfw__desc_path_field(c, f->name != NULL ? f->name : "?");
    if (f->name != NULL)
      put_key(c, f, i == 0);
    if ((rc = dec_field(c, r, f, depth)) != 0)
      return rc;
    netfw__desc_path_pop(c, mark);
  }
  netfw__desc_put(&c->out, "}", 1);
  return 0;
}

/* Checks the arguments once, then decodes the body; *json is NULL on
 * error. */
int netfw_desc_decode_json(const netfw_desc *d, const netfw_desc_message *m,
                           const uint8_t *payload, size_t len, char **json,
                           char *err, size_t errlen) {
  netfw__desc_ctx c;
  reader r = {payload, len, "payload"};
  int rc;

  if (json != NULL)
    *json = NULL;
  rc = netfw__desc_start(&c, d, err, errlen,
                         m != NULL && json != NULL && (payload != NULL || len == 0));
  if (rc != 0)
    return rc;
  if (r.p == NULL)
    r.p = (const uint8_t *)"";
  rc = dec_struct(&c, &r, &m->body, 0);
  if (rc == 0 && (c.out.oom || netfw__desc_grow(&c.out, 1) == NULL))
    rc = netfw__desc_fail_bare(&c, NETFW_ENOMEM, "out of memory");
  if (rc == 0) {
    c.out.p[c.out.len - 1] = '\0';
    *json = (char *)c.out.p;
    c.out.p = NULL;
  }
  netfw__desc_end(&c);
  return rc;
}
