/* JSON -> payload: netfw_desc_encode_json(). jansson parses the text
 * (duplicate keys refused, \u0000 allowed in strings); the walk below
 * writes each struct's fields in schema order into a buffer, and the
 * payload is appended to the message only once all of it is right, so a
 * refused input leaves the message as it was. Unknown keys are reported
 * before missing ones: a misspelt key is then named with its likely
 * meaning rather than as a missing field. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "desc_internal.h"
#include "netfw/codec.h"
#include "netfw/error.h"

static int enc_struct(netfw__desc_ctx *c, const json_t *v,
                      const netfw_desc_struct *s, int depth);

/* The field of s named key, or NULL. */
static const netfw_desc_field *field_named(const netfw_desc_struct *s,
                                           const char *key) {
  for (uint32_t i = 0; i < s->nfields; i++)
    if (s->fields[i].name != NULL && strcmp(s->fields[i].name, key) == 0)
      return &s->fields[i];
  return NULL;
}

/* Refuses the first key of object v that is not a field of s. */
static int check_keys(netfw__desc_ctx *c, const json_t *v,
                      const netfw_desc_struct *s) {
  const char *key;
  json_t *val;
  /* a key is a C string: jansson refuses a \u0000 in one */
  json_object_foreach((json_t *)v, key, val) {
    const char *near;
    if (field_named(s, key) != NULL)
      continue;
    near = netfw__desc_closest_field(s, key);
    (void)netfw__desc_path_field(c, key); /* the error names the key */
    if (near != NULL)
      return netfw__desc_fail(c, NETFW_EINVAL,
                              "unknown field (did you mean '%s'?)", near);
    return netfw__desc_fail(c, NETFW_EINVAL, "unknown field");
  }
  return 0;
}

/* One value of f (an element of an array), in a struct at depth. */
static int enc_value(netfw__desc_ctx *c, const json_t *v,
                     const netfw_desc_field *f, int depth) {
  if (f->kind == NETFW_DESC_STRUCT)
    return enc_struct(c, v, netfw__desc_struct_of(c->d, f), depth + 1);
  return netfw__desc_enc_scalar(c, v, f);
}

/* The elements of JSON array v, each as a value of f. */
static int enc_elements(netfw__desc_ctx *c, const json_t *v,
                        const netfw_desc_field *f, int depth) {
  for (size_t i = 0; i < json_array_size(v); i++) {
    size_t mark = netfw__desc_path_index(c, i);
    int rc = enc_value(c, json_array_get(v, i), f, depth);
    if (rc != 0)
      return rc;
    netfw__desc_path_pop(c, mark);
  }
  return 0;
}

/* A repeated field: the count (NETFW_E2BIG above what its prefix can
 * say), then the elements. */
static int enc_repeated(netfw__desc_ctx *c, const json_t *v,
                        const netfw_desc_field *f, int depth) {
  uint64_t max = f->count_prefix >= 4
                     ? UINT32_MAX
                     : ((uint64_t)1 << (8 * f->count_prefix)) - 1;
  uint8_t *w;
  if (!json_is_array(v))
    return netfw__desc_fail(c, NETFW_EINVAL, "expected an array");
  if (json_array_size(v) > max)
    return netfw__desc_fail(c, NETFW_E2BIG,
                            "%zu elements are more than its %d-byte count can "
                            "say (%" PRIu64 ")",
                            json_array_size(v), f->count_prefix, max);
  if ((w = netfw__desc_grow(&c->out, f->count_prefix)) != NULL)
    netfw__desc_set(w, f->count_prefix, json_array_size(v), c->be);
  return enc_elements(c, v, f, depth);
}

/* The bytes of a [since] field that the input leaves out: its default. */
static int enc_default(netfw__desc_ctx *c, const netfw_desc_field *f) {
  uint8_t *tmp;
  size_t len;
  const uint8_t *def = netfw__desc_default(c->d, f, &len, &tmp);
  if (def == NULL)
    return netfw__desc_fail(c, NETFW_ENOMEM, "out of memory");
  netfw__desc_put(&c->out, def, len);
  free(tmp);
  return 0;
}

/* Field f of a struct at depth from v, its value in the object (NULL when
 * the key is not there). */
static int enc_field(netfw__desc_ctx *c, const json_t *v,
                     const netfw_desc_field *f, int depth) {
  const char *bad = netfw__desc_field_check(c->d, f);
  if (bad != NULL)
    return netfw__desc_fail(c, NETFW_EINVAL, "descriptor: %s", bad);
  if (v == NULL && f->mode != NETFW_DESC_OPTIONAL) {
    if (f->since == 0)
      return netfw__desc_fail(c, NETFW_EINVAL, "missing");
    return enc_default(c, f);
  }
  switch (f->mode) {
  case NETFW_DESC_OPTIONAL:
    netfw__desc_put(&c->out, v == NULL || json_is_null(v) ? "\0" : "\1", 1);
    return v == NULL || json_is_null(v) ? 0 : enc_value(c, v, f, depth);
  case NETFW_DESC_REPEATED:
    return enc_repeated(c, v, f, depth);
  case NETFW_DESC_ARRAY:
    if (!json_is_array(v) || json_array_size(v) != f->array_len) {
      if (json_is_array(v))
        return netfw__desc_fail(c, NETFW_EINVAL,
                                "expected an array of %" PRIu32
                                " elements, got %zu",
                                f->array_len, json_array_size(v));
      return netfw__desc_fail(c, NETFW_EINVAL,
                              "expected an array of %" PRIu32 " elements",
                              f->array_len);
    }
    return enc_elements(c, v, f, depth);
  default:
    return enc_value(c, v, f, depth);
  }
}

/* An extensible struct's length, once its fields are written after the
 * prefix at mark: NETFW_E2BIG when the prefix cannot say it. */
static int close_window(netfw__desc_ctx *c, const netfw_desc_struct *s,
                        size_t mark) {
  int k = s->ext_prefix;
  uint64_t max = k >= 4 ? UINT32_MAX : ((uint64_t)1 << (8 * k)) - 1;
  uint64_t n = c->out.len - mark - (size_t)k;
  if (c->out.oom)
    return 0;
  if (n > max)
    return netfw__desc_fail(c, NETFW_E2BIG,
                            "the extensible struct's fields take %" PRIu64
                            " bytes, more than its %d-byte length can say",
                            n, k);
  netfw__desc_set(c->out.p + mark, k, n, c->be);
  return 0;
}

/* A struct (or a message's body, depth 0) from JSON object v: unknown
 * keys refused, then each field in schema order; an extensible struct's
 * fields after their length. Recursive structs nested deeper than the
 * decoders accept are refused, as a decoder would refuse the bytes. */
static int enc_struct(netfw__desc_ctx *c, const json_t *v,
                      const netfw_desc_struct *s, int depth) {
  size_t mark = c->out.len;
  int rc;
  if (!json_is_object(v))
    return netfw__desc_fail(c, NETFW_EINVAL, "expected an object");
  if (depth > NETFW_MAX_DECODE_DEPTH && netfw__desc_may_recurse(s))
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "structs nest deeper than %d (NETFW_MAX_DECODE_"
                            "DEPTH): no decoder would accept the message",
                            NETFW_MAX_DECODE_DEPTH);
  if ((rc = check_keys(c, v, s)) != 0)
    return rc;
  if (s->ext_prefix != 0)
    (void)netfw__desc_grow(&c->out, s->ext_prefix);
  for (uint32_t i = 0; i < s->nfields; i++) {
    const netfw_desc_field *f = &s->fields[i];
    const char *name = f->name != NULL ? f->name : "?";
    size_t pm = netfw__desc_path_field(c, name);
    if ((rc = enc_field(c, json_object_get(v, name), f, depth)) != 0)
      return rc;
    netfw__desc_path_pop(c, pm);
  }
  return s->ext_prefix != 0 ? close_window(c, s, mark) : 0;
}

/* Parses the text, refusing what is not JSON with jansson's position. */
static json_t *parse(netfw__desc_ctx *c, const char *text, size_t len) {
  json_error_t je;
  json_t *v =
      json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
  if (v == NULL)
    netfw__desc_fail_bare(c, NETFW_EINVAL,
                          "invalid JSON at line %d, column %d: %s", je.line,
                          je.column, je.text);
  return v;
}

/* Checks the arguments once, encodes into a buffer, appends it to out. */
int netfw_desc_encode_json(const netfw_desc *d, const netfw_desc_message *m,
                           const char *json, size_t len, netfw_msg *out,
                           char *err, size_t errlen) {
  netfw__desc_ctx c;
  json_t *root;
  int rc;

  rc = netfw__desc_start(&c, d, err, errlen,
                         m != NULL && out != NULL && (json != NULL || len == 0));
  if (rc != 0)
    return rc;
  if ((root = parse(&c, json != NULL ? json : "", len)) == NULL) {
    netfw__desc_end(&c);
    return NETFW_EINVAL;
  }
  rc = enc_struct(&c, root, &m->body, 0);
  json_decref(root);
  if (rc == 0 && c.out.oom)
    rc = netfw__desc_fail_bare(&c, NETFW_ENOMEM, "out of memory");
  if (rc == 0 && c.out.len > UINT32_MAX - netfw_msg_size(out))
    rc = netfw__desc_fail_bare(&c, NETFW_E2BIG,
                               "the payload would pass 4294967295 bytes");
  if (rc == 0 && (rc = netfw_msg_append(out, c.out.p, c.out.len)) != 0)
    netfw__desc_fail_bare(&c, rc, "%s", netfw_strerror(rc));
  if (rc == 0)
    netfw_msg_set_id(out, m->id);
  netfw__desc_end(&c);
  return rc;
}
