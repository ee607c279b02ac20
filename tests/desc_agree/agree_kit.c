/* The agreement checks of agree.h: the reflective codec against the
 * generated one on one payload or one JSON text. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "netfw/netfw.h"

#define MAX_STRUCTS 256

static netfw_arena arena; /* zeroed = initialised */

static int broken(char *why, size_t whylen, const char *fmt, ...)
    NETFW_PRINTF(3, 4);

/* Writes the printf-style reason into why and returns AGREE_BROKEN. */
static int broken(char *why, size_t whylen, const char *fmt, ...) {
  va_list ap;
  if (why != NULL && whylen > 0) {
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
  }
  return AGREE_BROKEN;
}

const netfw_desc_message *agree_harness_pick(const agree_schema *s,
                                             uint8_t first) {
  return netfw_desc_message_by_name(s->desc, s->types[first % s->ntypes]);
}

/* Whether field f is a [since] field or holds an evolving struct (ev
 * says which structs are). */
static bool field_evolves(const netfw_desc_field *f, const bool *ev) {
  return f->since != 0 || (f->kind == NETFW_DESC_STRUCT && ev[f->type]);
}

/* Whether fields[0..n) have a [since] field or hold an evolving struct. */
static bool fields_evolve(const netfw_desc_field *fields, uint32_t n,
                          const bool *ev) {
  for (uint32_t i = 0; i < n; i++)
    if (field_evolves(&fields[i], ev))
      return true;
  return false;
}

/* Whether message m of d may fill defaults or skip bytes when decoding
 * (netfw-gen's "evolving"): it or a struct it holds has [since] fields or
 * is extensible -- a fixpoint, as structs may hold themselves. */
static bool message_evolves(const netfw_desc *d, const netfw_desc_message *m) {
  bool ev[MAX_STRUCTS] = {false}, changed = true;

  if (d->nstructs > MAX_STRUCTS)
    return true; /* too many to tell: check only the canonical form */
  while (changed) {
    changed = false;
    for (uint32_t i = 0; i < d->nstructs; i++) {
      const netfw_desc_struct *s = &d->structs[i];
      if (!ev[i] &&
          (s->ext_prefix != 0 || fields_evolve(s->fields, s->nfields, ev))) {
        ev[i] = true;
        changed = true;
      }
    }
  }
  return fields_evolve(m->body.fields, m->body.nfields, ev);
}

/* Whether a holds exactly the n bytes b. */
static bool same_bytes(const netfw_msg *a, const uint8_t *b, size_t n) {
  return netfw_msg_size(a) == n &&
         (n == 0 || memcmp(netfw_msg_payload(a), b, n) == 0);
}

/* The generated decoder of m on p[0..n): its result, the bytes it read in
 * *used and its re-encoding in out (encoder result in *enc_rc). */
static int generated(const agree_schema *s, const netfw_desc_message *m,
                     const uint8_t *p, size_t n, netfw_msg *out, size_t *used,
                     int *enc_rc) {
  netfw_msg in;
  int rc;

  netfw_msg_init(&in, m->id);
  if (n > 0 && netfw_msg_append(&in, p, n) != 0)
    abort();
  netfw_arena_reset(&arena);
  *enc_rc = 0;
  rc = s->codec(m->id, &in, out, &arena, enc_rc);
  *used = n - netfw_msg_remaining(&in);
  netfw_msg_release(&in);
  return rc;
}

/* The bytes b[0..n) (canonical, from netfw_desc_encode_json of json): the
 * generated decoder must read them whole and re-encode them as they are,
 * and the reflective decoder must give json back. */
static int check_canonical(const agree_schema *s, const netfw_desc_message *m,
                           const uint8_t *b, size_t n, const char *json,
                           char *why, size_t whylen) {
  netfw_msg again;
  size_t used;
  int enc_rc, rc;
  char *json2 = NULL, err[256];

  netfw_msg_init(&again, 0);
  rc = generated(s, m, b, n, &again, &used, &enc_rc);
  if (rc != 0 || used != n || enc_rc != 0 || !same_bytes(&again, b, n))
    rc = broken(why, whylen,
                "%s.%s: the generated decoder reads the reflective encoding "
                "(%zu bytes) with %d, %zu bytes used, re-encoded %d to %u "
                "bytes",
                s->proto, m->body.name, n, rc, used, enc_rc,
                netfw_msg_size(&again));
  else if ((rc = netfw_desc_decode_json(s->desc, m, b, n, &json2, err,
                                        sizeof(err))) != 0)
    rc = broken(why, whylen, "%s.%s: its own encoding decodes with %d: %s",
                s->proto, m->body.name, rc, err);
  else if (strcmp(json, json2) != 0)
    rc = broken(why, whylen, "%s.%s: JSON %s comes back as %s", s->proto,
                m->body.name, json, json2);
  free(json2);
  netfw_msg_release(&again);
  return rc;
}

/* The w bytes at p (4 or 8) as an integer of the schema's byte order. */
static uint64_t word(const uint8_t *p, size_t w, bool big) {
  uint64_t v = 0;
  for (size_t k = 0; k < w; k++)
    v |= (uint64_t)p[big ? w - 1 - k : k] << (8 * k);
  return v;
}

/* Whether the w bytes at p (f32: 4, f64: 8) are a NaN. */
static bool is_nan(const uint8_t *p, size_t w, bool big) {
  uint64_t v = word(p, w, big);
  if (w == 4)
    return (v & 0x7f800000u) == 0x7f800000u && (v & 0x7fffffu) != 0;
  return (v & 0x7ff0000000000000u) == 0x7ff0000000000000u &&
         (v & 0xfffffffffffffu) != 0;
}

/* Whether the w bytes at p are the quiet NaN the codec writes for "NaN". */
static bool is_quiet_nan(const uint8_t *p, size_t w, bool big) {
  return word(p, w, big) == (w == 4 ? 0x7fc00000u : 0x7ff8000000000000u);
}

/* Whether byte i of r and g (n bytes each) lies in a 4 or 8 byte window
 * that is the quiet NaN in r and a NaN in g. */
static bool in_nan_window(const uint8_t *r, const uint8_t *g, size_t n,
                          size_t i, bool big) {
  for (size_t w = 4; w <= 8; w += 4)
    for (size_t s = i + 1 >= w ? i + 1 - w : 0; s <= i && s + w <= n; s++)
      if (is_quiet_nan(r + s, w, big) && is_nan(g + s, w, big))
        return true;
  return false;
}

/* Whether the reflective encoding r and the generated one g (n bytes
 * each) differ only inside NaNs: the JSON mapping writes every NaN as
 * "NaN", which encodes as the quiet NaN (docs/json-mapping.md: sign and
 * payload are not kept), where the generated encoder keeps the bits. The
 * first other difference goes to *at. */
static bool differ_in_nans_only(const uint8_t *r, const uint8_t *g, size_t n,
                                bool big, size_t *at) {
  for (size_t i = 0; i < n; i++)
    if (r[i] != g[i] && !in_nan_window(r, g, n, i, big)) {
      *at = i;
      return false;
    }
  return true;
}

unsigned agree_nan_rewrites;

/* json (the reflective decoding of an accepted payload) must encode to
 * exactly the n bytes want (the generated re-encoding), NaN bits aside. */
static int check_encode(const agree_schema *s, const netfw_desc_message *m,
                        const char *json, const uint8_t *want, size_t n,
                        char *why, size_t whylen) {
  netfw_msg out;
  char err[256];
  size_t at = 0;
  int rc;

  netfw_msg_init(&out, 0);
  rc = netfw_desc_encode_json(s->desc, m, json, strlen(json), &out, err,
                              sizeof(err));
  if (rc != 0)
    rc = broken(why, whylen, "%s.%s: %s does not encode (%d: %s)", s->proto,
                m->body.name, json, rc, err);
  else if (netfw_msg_id(&out) != m->id || netfw_msg_size(&out) != n)
    rc = broken(why, whylen,
                "%s.%s: %s encodes to %u bytes (id %u), the generated "
                "encoder writes %zu",
                s->proto, m->body.name, json, netfw_msg_size(&out),
                netfw_msg_id(&out), n);
  else if (same_bytes(&out, want, n))
    rc = check_canonical(s, m, want, n, json, why, whylen);
  else if (differ_in_nans_only(netfw_msg_payload(&out), want, n,
                               s->desc->big_endian, &at)) {
    agree_nan_rewrites++;
    rc = check_canonical(s, m, netfw_msg_payload(&out), n, json, why, whylen);
  } else
    rc = broken(why, whylen,
                "%s.%s: %s encodes to other bytes than the generated "
                "encoder's from byte %zu: %02x, not %02x",
                s->proto, m->body.name, json, at, netfw_msg_payload(&out)[at],
                want[at]);
  netfw_msg_release(&out);
  return rc;
}

/* The verdicts of both decoders on a payload, and what the generated one
 * read and wrote back, compared; then the JSON's way back. */
static int compare(const agree_schema *s, const netfw_desc_message *m,
                   const uint8_t *p, size_t n, netfw_msg *gen, char *why,
                   size_t whylen) {
  size_t used;
  int enc_rc, rc_g, rc_r, rc;
  char *json = NULL, err[256];

  rc_g = generated(s, m, p, n, gen, &used, &enc_rc);
  rc_r = netfw_desc_decode_json(s->desc, m, p, n, &json, err, sizeof(err));
  if (rc_g != 0 && rc_g != NETFW_EPROTO)
    rc = broken(why, whylen, "%s.%s: the generated decoder returns %d",
                s->proto, m->body.name, rc_g);
  else if (rc_g != 0 && rc_r == NETFW_EPROTO)
    rc = 1; /* both refuse */
  else if (rc_g != 0 || rc_r != 0)
    rc = broken(why, whylen,
                "%s.%s: %zu bytes: the generated decoder returns %d, the "
                "reflective one %d (%s)",
                s->proto, m->body.name, n, rc_g, rc_r, rc_r ? err : json);
  else if (enc_rc != 0)
    rc = broken(why, whylen, "%s.%s: the generated encoder returns %d",
                s->proto, m->body.name, enc_rc);
  else if (!message_evolves(s->desc, m) && !same_bytes(gen, p, used))
    rc = broken(why, whylen, "%s.%s: re-encoded, %zu bytes read differ",
                s->proto, m->body.name, used);
  else
    rc = check_encode(s, m, json, netfw_msg_payload(gen), netfw_msg_size(gen),
                      why, whylen);
  free(json);
  return rc == 1 ? AGREE_REFUSED : rc == 0 ? AGREE_ACCEPTED : AGREE_BROKEN;
}

int agree_payload(const agree_schema *s, const netfw_desc_message *m,
                  const uint8_t *p, size_t n, char *why, size_t whylen) {
  netfw_msg gen;
  int rc;

  netfw_msg_init(&gen, 0);
  rc = compare(s, m, p, n, &gen, why, whylen);
  netfw_msg_release(&gen);
  return rc;
}

int agree_json(const agree_schema *s, const netfw_desc_message *m,
               const char *j, size_t n, char *why, size_t whylen) {
  static const uint8_t mark[] = {0xa5, 0x5a};
  netfw_msg out;
  char err[256], *json = NULL;
  int rc;

  netfw_msg_init(&out, 0xbeef);
  if (netfw_msg_append(&out, mark, sizeof(mark)) != 0)
    abort();
  rc = netfw_desc_encode_json(s->desc, m, j, n, &out, err, sizeof(err));
  if (rc == NETFW_EINVAL || rc == NETFW_E2BIG)
    rc = netfw_msg_id(&out) == 0xbeef && same_bytes(&out, mark, sizeof(mark))
             ? 1 /* refused, out untouched */
             : broken(why, whylen, "%s.%s: refused (%d), out changed", s->proto,
                      m->body.name, rc);
  else if (rc != 0)
    rc = broken(why, whylen, "%s.%s: encode_json returns %d: %s", s->proto,
                m->body.name, rc, err);
  else if (netfw_msg_id(&out) != m->id || netfw_msg_size(&out) < 2 ||
           memcmp(netfw_msg_payload(&out), mark, sizeof(mark)) != 0)
    rc = broken(why, whylen, "%s.%s: the payload was not appended", s->proto,
                m->body.name);
  else if ((rc = netfw_desc_decode_json(s->desc, m, netfw_msg_payload(&out) + 2,
                                        netfw_msg_size(&out) - 2, &json, err,
                                        sizeof(err))) != 0)
    rc = broken(why, whylen, "%s.%s: its own encoding decodes with %d: %s",
                s->proto, m->body.name, rc, err);
  else
    rc = check_encode(s, m, json, netfw_msg_payload(&out) + 2,
                      netfw_msg_size(&out) - 2, why, whylen);
  free(json);
  netfw_msg_release(&out);
  return rc == 1 ? AGREE_REFUSED : rc == 0 ? AGREE_ACCEPTED : AGREE_BROKEN;
}

void agree_free(void) {
  netfw_arena_free(&arena);
}
