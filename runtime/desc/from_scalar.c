/* JSON -> payload for one value that is not a struct: integers (a JSON
 * integer or a decimal string), floats (numbers, "NaN", "Infinity",
 * "-Infinity"), bool, strings, base64 bytes, enums (a name or a number).
 * Each writes the bytes the generated encoder writes, in the descriptor's
 * byte order, and refuses what it refuses (NETFW_E2BIG for a length over
 * its prefix), plus every JSON value of the wrong kind (NETFW_EINVAL). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "closest.h"
#include "desc_internal.h"
#include "real.h"
#include "netfw/codec.h"
#include "netfw/error.h"

/* Appends the low n bytes of v. */
static void put_num(netfw__desc_ctx *c, int n, uint64_t v) {
  uint8_t *w = netfw__desc_grow(&c->out, (size_t)n);
  if (w != NULL)
    netfw__desc_set(w, n, v, c->be);
}

/* The largest value a prefix of n bytes can say. */
static uint64_t prefix_max(int n) {
  return n >= 4 ? UINT32_MAX : ((uint64_t)1 << (8 * n)) - 1;
}

/* ---- integers ------------------------------------------------------------ */

/* A string of a plain decimal integer ("-12", "0"; no '+', spaces or
 * leading zeros) as sign and magnitude; false otherwise or above
 * UINT64_MAX. */
static bool decimal_of(const char *s, size_t n, bool *neg, uint64_t *mag) {
  size_t i = 0;
  *neg = n > 0 && s[0] == '-';
  *mag = 0;
  i = *neg ? 1 : 0;
  if (i == n || (s[i] == '0' && n - i > 1))
    return false;
  for (; i < n; i++) {
    unsigned dgt = (unsigned)(unsigned char)s[i] - '0';
    if (dgt > 9 || *mag > (UINT64_MAX - dgt) / 10)
      return false;
    *mag = *mag * 10 + dgt;
  }
  return true;
}

/* v (a JSON integer, or a decimal string) as sign and magnitude. */
static bool int_of(const json_t *v, bool *neg, uint64_t *mag) {
  if (json_is_integer(v)) {
    json_int_t x = json_integer_value(v);
    *neg = x < 0;
    *mag = x < 0 ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
    return true;
  }
  if (json_is_string(v))
    return decimal_of(json_string_value(v), json_string_length(v), neg, mag);
  return false;
}

/* An integer of kind k and `bytes` bytes: its range checked, its two's
 * complement written. */
static int enc_int(netfw__desc_ctx *c, const json_t *v, uint8_t k, int bytes) {
  int bits = 8 * bytes;
  bool sign = k >= NETFW_DESC_I8 && k <= NETFW_DESC_I64, neg;
  uint64_t mag, top = (uint64_t)1 << (bits - 1);
  uint64_t umax = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
  bool ok = int_of(v, &neg, &mag);
  if (ok && sign)
    ok = neg ? mag <= top : mag < top;
  else if (ok)
    ok = (!neg || mag == 0) && mag <= umax;
  if (!ok && sign)
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "expected an integer from -%" PRIu64 " to %" PRIu64,
                            top, top - 1);
  if (!ok)
    return netfw__desc_fail(
        c, NETFW_EINVAL, "expected an unsigned integer up to %" PRIu64, umax);
  put_num(c, bytes, neg ? 0 - mag : mag);
  return 0;
}

/* ---- floats -------------------------------------------------------------- */

#define F64_NAN UINT64_C(0x7ff8000000000000)
#define F32_NAN UINT32_C(0x7fc00000)
#define F32_INF UINT32_C(0x7f800000)
/* The smallest double that rounds to infinity as a float: FLT_MAX and
 * half its last unit; anything below rounds to a finite float. */
#define F32_OVERFLOW 0x1.ffffffp127

/* "NaN" / "Infinity" / "-Infinity" as 1 / 2 / 3; 0 for anything else. */
static int special_of(const json_t *v) {
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (s == NULL)
    return 0;
  if (n == 3 && memcmp(s, "NaN", 3) == 0)
    return 1;
  if (n == 8 && memcmp(s, "Infinity", 8) == 0)
    return 2;
  if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
    return 3;
  return 0;
}

/* An f32 or f64: a JSON real or integer, or one of the three strings. NaN
 * is written as the quiet NaN (its sign and payload are not kept). */
static int enc_float(netfw__desc_ctx *c, const json_t *v, bool f32) {
  int sp = special_of(v);
  double d = json_is_real(v) ? json_real_value(v) : 0;
  if (!json_is_number(v) && sp == 0)
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "expected a number, \"NaN\", \"Infinity\" or "
                            "\"-Infinity\"");
  if (f32) {
    uint32_t u;
    float f = json_is_integer(v) ? (float)json_integer_value(v) : (float)0;
    if (json_is_real(v) && fabs(d) >= F32_OVERFLOW) {
      char x[48];
      netfw__real_text(x, sizeof(x), d, false);
      return netfw__desc_fail(c, NETFW_EINVAL,
                              "%s is beyond the f32 range "
                              "(-3.4028235e+38 to 3.4028235e+38)",
                              x);
    }
    if (json_is_real(v))
      f = (float)d;
    memcpy(&u, &f, 4);
    if (sp != 0)
      u = sp == 1 ? F32_NAN : sp == 2 ? F32_INF : F32_INF | UINT32_C(1) << 31;
    put_num(c, 4, u);
  } else {
    uint64_t u;
    if (json_is_integer(v))
      d = (double)json_integer_value(v);
    memcpy(&u, &d, 8);
    if (sp != 0) {
      double inf = sp == 3 ? -INFINITY : INFINITY;
      memcpy(&u, &inf, 8);
      if (sp == 1)
        u = F64_NAN;
    }
    put_num(c, 8, u);
  }
  return 0;
}

/* ---- strings and bytes --------------------------------------------------- */

/* A string: its length as the prefix, then its UTF-8 bytes. */
static int enc_string(netfw__desc_ctx *c, const json_t *v,
                      const netfw_desc_field *f) {
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (s == NULL)
    return netfw__desc_fail(c, NETFW_EINVAL, "expected a string");
  if (n > prefix_max(f->prefix))
    return netfw__desc_fail(c, NETFW_E2BIG,
                            "a string of %zu bytes is longer than its %d-byte "
                            "length can count (%" PRIu64 ")",
                            n, f->prefix, prefix_max(f->prefix));
  if (!netfw_utf8_valid(s, n)) /* jansson's strings are; checked anyway */
    return netfw__desc_fail(c, NETFW_EINVAL, "the string is not valid UTF-8");
  put_num(c, f->prefix, n);
  netfw__desc_put(&c->out, s, n);
  return 0;
}

/* Bytes: a base64 string, decoded after its length prefix. */
static int enc_bytes(netfw__desc_ctx *c, const json_t *v,
                     const netfw_desc_field *f) {
  const char *s = json_string_value(v), *why = NULL;
  size_t n = json_string_length(v);
  long long len;
  uint8_t *w;
  if (s == NULL)
    return netfw__desc_fail(c, NETFW_EINVAL, "expected a base64 string");
  if ((len = netfw__desc_b64_check(s, n, &why)) < 0)
    return netfw__desc_fail(c, NETFW_EINVAL, "invalid base64: %s", why);
  if ((uint64_t)len > prefix_max(f->prefix))
    return netfw__desc_fail(c, NETFW_E2BIG,
                            "%lld bytes are more than its %d-byte length can "
                            "count (%" PRIu64 ")",
                            len, f->prefix, prefix_max(f->prefix));
  put_num(c, f->prefix, (uint64_t)len);
  if ((w = netfw__desc_grow(&c->out, (size_t)len)) != NULL)
    netfw__desc_b64_decode(s, n, w);
  return 0;
}

/* ---- enums --------------------------------------------------------------- */

/* Refuses s, not a constant of e: with the likely constant, or the hint
 * that a number goes without quotes. */
static int unknown_const(netfw__desc_ctx *c, const netfw_desc_enum *e,
                         const char *s) {
  const char *en = e->name != NULL ? e->name : "?";
  const char *near =
      e->nconsts > 0 ? netfw__closest(s, &e->consts[0].name, e->nconsts,
                                      sizeof(e->consts[0]))
                     : NULL;
  if (near != NULL)
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "unknown constant '%s' of enum %s (did you mean "
                            "'%s'?)",
                            s, en, near);
  if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s))
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "unknown constant '%s' of enum %s (a number goes "
                            "without quotes)",
                            s, en);
  return netfw__desc_fail(c, NETFW_EINVAL, "unknown constant '%s' of enum %s",
                          s, en);
}

/* An enum: a constant's name, or a number (a closed enum's must be
 * listed). */
static int enc_enum(netfw__desc_ctx *c, const json_t *v,
                    const netfw_desc_field *f) {
  const netfw_desc_enum *e = netfw__desc_enum_of(c->d, f);
  const char *en = e->name != NULL ? e->name : "?";
  const netfw_desc_const *k;
  uint64_t max = prefix_max(e->size), x;
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    k = strlen(s) == json_string_length(v) ? netfw__desc_const_by_name(e, s)
                                           : NULL;
    if (k == NULL)
      return unknown_const(c, e, s);
    put_num(c, e->size, k->value);
    return 0;
  }
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      (uint64_t)json_integer_value(v) > max)
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "expected a constant of enum %s or a number up to "
                            "%" PRIu64,
                            en, max);
  x = (uint64_t)json_integer_value(v);
  if (!e->open && netfw__desc_const_by_value(e, x) == NULL)
    return netfw__desc_fail(c, NETFW_EINVAL,
                            "value %" PRIu64 " is not a constant of enum %s", x,
                            en);
  put_num(c, e->size, x);
  return 0;
}

/* ---- the dispatch -------------------------------------------------------- */

int netfw__desc_enc_scalar(netfw__desc_ctx *c, const json_t *v,
                           const netfw_desc_field *f) {
  switch (f->kind) {
  case NETFW_DESC_F32:
  case NETFW_DESC_F64:
    return enc_float(c, v, f->kind == NETFW_DESC_F32);
  case NETFW_DESC_BOOL:
    if (!json_is_boolean(v))
      return netfw__desc_fail(c, NETFW_EINVAL, "expected true or false");
    put_num(c, 1, json_is_true(v) ? 1 : 0);
    return 0;
  case NETFW_DESC_STRING:
    return enc_string(c, v, f);
  case NETFW_DESC_BYTES:
    return enc_bytes(c, v, f);
  case NETFW_DESC_ENUM:
    return enc_enum(c, v, f);
  default:
    return enc_int(c, v, f->kind, netfw__desc_kind_size(f->kind));
  }
}
