/* The C back end's part of schema evolution: the defaults function of a
 * type with [since] fields, the decoder's version boundaries, the decoder's
 * length window of an extensible struct (its encoder's prefix is
 * emit_source.c's one-pass writer), and default values as C literals. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

void gen_emit_c_string(gen_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?')
      gen_buf_append(b, (const char *)&c, 1);
    else
      gen_buf_printf(b, "\\%03o", c);
  }
}

/* An integer default of type k as a C expression. */
static void c_int(gen_buf *b, const gen_value *v, gen_tykind k) {
  static const char *const min[] = {[TY_I8] = "INT8_MIN", [TY_I16] = "INT16_MIN",
                                    [TY_I32] = "INT32_MIN",
                                    [TY_I64] = "INT64_MIN"};
  int bits = gen_scalar_size(k) * 8;
  bool sign = k >= TY_I8 && k <= TY_I64;
  if (v->negative && v->u == (uint64_t)1 << (bits - 1))
    gen_buf_puts(b, min[k]);
  else if (bits == 64)
    gen_buf_printf(b, "%s(%s%llu)", sign ? "INT64_C" : "UINT64_C",
                   v->negative ? "-" : "", (unsigned long long)v->u);
  else
    gen_buf_printf(b, "%s%llu%s", v->negative ? "-" : "",
                   (unsigned long long)v->u, sign ? "" : "u");
}

/* A float default: enough digits to give the value back exactly. */
static void c_float(gen_buf *b, const gen_value *v, gen_tykind k) {
  char x[64];
  if (k == TY_F32)
    snprintf(x, sizeof(x), "%.9g", (double)(float)v->f);
  else
    snprintf(x, sizeof(x), "%.17g", v->f);
  gen_buf_puts(b, x);
  if (strpbrk(x, ".e") == NULL)
    gen_buf_puts(b, ".0");
  if (k == TY_F32)
    gen_buf_puts(b, "f");
}

/* The statements setting [since] field f of *out to its default. */
static void set_default(gen_buf *b, const gen_schema *s, const gen_field *f,
                        gen_pool *pool) {
  const gen_value *v = &f->def;
  const gen_type *t = &f->type;
  const char *n = f->name;
  switch (f->mode) {
  case F_OPTIONAL:
    gen_buf_printf(b, "    out->has_%s = false;\n    memset(&out->%s, 0, "
                   "sizeof(out->%s));\n", n, n, n);
    return;
  case F_REPEATED:
    gen_buf_printf(b, "    out->%s = NULL;\n    out->%s_count = 0;\n", n, n);
    return;
  case F_ARRAY:
    gen_buf_printf(b, "    memset(out->%s, 0, sizeof(out->%s));\n", n, n);
    return;
  case F_PLAIN:
    break;
  }
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    gen_buf_printf(b, "    out->%s.ptr = %s\"", n,
                   t->kind == TY_BYTES ? "(const uint8_t *)" : "");
    gen_emit_c_string(b, v->kind == V_STRING ? v->str : "", v->len);
    gen_buf_printf(b, "\";\n    out->%s.len = %zuu;\n", n, v->len);
    return;
  }
  gen_buf_printf(b, "    out->%s = ", n);
  if (t->kind == TY_NAMED) {
    const gen_enum_const *k = v->konst != NULL ? v->konst : f->def_konst;
    if (k != NULL)
      gen_buf_printf(b, "%s_%s_%s", gen_upper(pool, s->proto),
                     gen_upper(pool, t->decl->name), gen_upper(pool, k->name));
    else
      gen_buf_puts(b, "0"); /* an open enum */
  } else if (v->kind == V_NONE) {
    gen_buf_puts(b, t->kind == TY_BOOL ? "false" : "0");
  } else if (t->kind == TY_BOOL) {
    gen_buf_puts(b, v->b ? "true" : "false");
  } else if (t->kind == TY_F32 || t->kind == TY_F64) {
    c_float(b, v, t->kind);
  } else {
    c_int(b, v, t->kind);
  }
  gen_buf_puts(b, ";\n");
}

void gen_emit_defaults(gen_buf *b, const gen_schema *s, const gen_decl *d,
                       gen_pool *pool) {
  unsigned group = 0;
  if (d->max_since == 0)
    return;
  gen_buf_printf(b,
                 "/* Sets the fields of *out added in version `from` and "
                 "later to their\n * defaults: what a peer of an older "
                 "version did not send. */\n"
                 "static void %s__def_%s(%s_%s *out, unsigned from) {\n",
                 s->proto, d->name, s->proto, d->name);
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    if (f->since == 0)
      continue;
    if (f->since != group) {
      gen_buf_printf(b, "%s  if (from <= %u) {\n", group ? "  }\n" : "",
                     f->since);
      group = f->since;
    }
    set_default(b, s, f, pool);
  }
  gen_buf_puts(b, "  }\n}\n\n");
}

void gen_emit_since_boundary(gen_buf *b, const gen_schema *s,
                             const gen_decl *d, unsigned prev, unsigned next) {
  if (prev > 0)
    gen_buf_printf(b, "  out->present_version = %u;\n", prev);
  if (next > 0)
    gen_buf_printf(b,
                   "  if (r->left == 0) { /* a peer older than version %u */\n"
                   "    %s__def_%s(out, %u);\n    return 0;\n  }\n",
                   next, s->proto, d->name, next);
}

void gen_emit_window_dec(gen_buf *b, const gen_schema *s, const gen_decl *d) {
  int k = d->ext_prefix;
  const char *E = s->big_endian ? "be" : "le";
  gen_buf_printf(b, "  /* the fields come inside a length: an older peer's "
                    "are fewer, a newer\n   * peer's are followed by bytes "
                    "this version skips */\n"
                    "  if ((b = netfw_reader_take(r, %d)) == NULL)\n"
                    "    return NETFW_EPROTO;\n", k);
  if (k == 1)
    gen_buf_puts(b, "  w_.left = b[0];\n");
  else
    gen_buf_printf(b, "  w_.left = netfw_get_u%d%s(b);\n", k * 8, E);
  gen_buf_puts(b, "  if ((w_.p = netfw_reader_take(r, w_.left)) == NULL)\n"
                  "    return NETFW_EPROTO;\n  r = &w_;\n");
}
