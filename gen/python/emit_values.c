/* The parts of the codec emitter (emit_codec.c) that write one value, the
 * elements of a repeated field or a fixed array of variable-size elements,
 * outside a run: the encoder's guards, the decoder's conversions, and the
 * layout helpers (Struct objects, wrapped lines and raises) both use. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "py.h"

const char *py_struct_for(py_codec *c, const char *fmt) {
  py_out *o = c->o;
  char key[2400], name[300];
  const char *have;
  int *count;
  snprintf(key, sizeof(key), "%s/%s", c->T, fmt);
  if ((have = gen_map_get(&o->structs, key)) != NULL)
    return have;
  if ((count = gen_map_get(&o->counts, c->T)) == NULL) {
    count = gen_pool_alloc(o->pool, sizeof(*count));
    (void)gen_map_put(&o->counts, c->T, count);
  }
  snprintf(name, sizeof(name), "_S_%s_%d", c->T, (*count)++);
  gen_buf_printf(&o->defs, "%s = struct.Struct(\"%c%s\")\n", name, c->E, fmt);
  have = gen_pool_strndup(o->pool, name, strlen(name));
  (void)gen_map_put(&o->structs, gen_pool_strndup(o->pool, key, strlen(key)),
                    (void *)have);
  return have;
}

void py_flush_defs(py_out *o) {
  if (o->defs.len > 0)
    gen_buf_append(o->b, o->defs.data, o->defs.len);
  o->defs.len = 0;
}

/* ---- checks and conversions of one fixed value --------------------------- */

/* Encoder: refuse what packs but is wrong (a closed enum's unlisted value,
 * a bool that is not one); expr is the value, what names it. */
void py_enc_guard(py_codec *c, const gen_type *t, const char *expr,
                  const char *what, const char *ind) {
  const char *in = py_cat(c, ind, "    ", "");
  if (py_closed_enum(t)) {
    ENC("%sif %s not in _E_%s:\n", ind, expr, py_tname(c, t));
    py_raise(
        &c->enc, in, "ValueError",
        py_fmt(c, "\"%s.%s: not a value of %s\"", c->T, what, py_tname(c, t)));
  } else if (t->kind == TY_BOOL) {
    ENC("%sif %s is not True and %s is not False:\n", ind, expr, expr);
    py_raise(&c->enc, in, "ValueError",
             py_fmt(c, "\"%s.%s: not a bool\"", c->T, what));
  }
}

/* Decoder: turn the raw number in local L into the field's value. */
void py_dec_convert(py_codec *c, const gen_type *t, const char *L,
                    const char *what, const char *ind) {
  if (py_closed_enum(t))
    DEC("%s%s = _E_%s[%s]\n", ind, L, py_tname(c, t), L);
  else if (py_is_enum(t))
    DEC("%s%s = _E_%s.get(%s, %s)\n", ind, L, py_tname(c, t), L, L);
  else if (t->kind == TY_BOOL) {
    DEC("%sif %s > 1:\n", ind, L);
    py_raise(&c->dec, py_cat(c, ind, "    ", ""), "DecodeError",
             py_fmt(c, "\"%s.%s: bool byte %%d is not 0 or 1\" %% %s", c->T,
                    what, L));
    DEC("%s%s = %s == 1\n", ind, L, L);
  }
}

/* Decoder: the list L of n raw numbers converted likewise. */
void py_dec_convert_list(py_codec *c, const gen_type *t, const char *L,
                         const char *src, const char *what, const char *ind) {
  if (py_closed_enum(t))
    DEC("%s%s = [_E_%s[x] for x in %s]\n", ind, L, py_tname(c, t), src);
  else if (py_is_enum(t))
    DEC("%s%s = [_E_%s.get(x, x) for x in %s]\n", ind, L, py_tname(c, t), src);
  else if (t->kind == TY_BOOL) {
    DEC("%s%s = list(%s)\n%sif any(x > 1 for x in %s):\n", ind, L, src, ind, L);
    py_raise(&c->dec, py_cat(c, ind, "    ", ""), "DecodeError",
             py_fmt(c, "\"%s.%s: a bool byte is not 0 or 1\"", c->T, what));
    DEC("%s%s = [x == 1 for x in %s]\n", ind, L, L);
  } else
    DEC("%s%s = list(%s)\n", ind, L, src);
}

/* ---- single values (optional values, elements) ----------------------------
 */

/* Encoder: appends value expr of type t (not in a run). */
void py_enc_value(py_codec *c, const gen_type *t, const char *expr,
                  const char *what, const char *ind) {
  if (t->kind == TY_NAMED && t->decl->kind == D_STRUCT) {
    ENC("%s_enc_%s(%s, out)\n", ind, py_tname(c, t), expr);
    return;
  }
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    const char *data = expr;
    if (t->kind == TY_STRING) {
      ENC("%sk = %s.encode(\"utf-8\")\n", ind, expr);
      data = "k";
    }
    if (t->prefix == 1) {
      ENC("%sout.append(len(%s))\n", ind, data);
    } else {
      char f[2] = {py_prefix_char(t->prefix), 0};
      ENC("%sout += %s.pack(len(%s))\n", ind, py_struct_for(c, f), data);
    }
    ENC("%sout += %s\n", ind, data);
    return;
  }
  py_enc_guard(c, t, expr, what, ind);
  if (py_format_char(t) == 'B') {
    ENC("%sout.append(%s)\n", ind, expr);
  } else {
    char f[2] = {py_format_char(t), 0};
    ENC("%sout += %s.pack(%s)\n", ind, py_struct_for(c, f), expr);
    if (t->kind == TY_F32)
      py_f32_enc(c, expr, false, "len(out) - 4", ind);
  }
}

/* Decoder: reads one value of type t into local L (not in a run). */
void py_dec_value(py_codec *c, const gen_type *t, const char *L,
                  const char *what, const char *ind) {
  if (t->kind == TY_NAMED && t->decl->kind == D_STRUCT) {
    DEC("%s%s, pos = _dec_%s(buf, pos, %s)\n", ind, L, py_tname(c, t),
        c->depth1);
    return;
  }
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    if (t->prefix == 1) {
      DEC("%sk = buf[pos]\n%spos += 1\n", ind, ind);
    } else {
      char f[2] = {py_prefix_char(t->prefix), 0};
      DEC("%sk = %s.unpack_from(buf, pos)[0]\n%spos += %d\n", ind,
          py_struct_for(c, f), ind, t->prefix);
    }
    DEC("%send = pos + k\n%sif end > len(buf):\n", ind, ind);
    py_raise(&c->dec, py_cat(c, ind, "    ", ""), "DecodeError",
             py_fmt(c,
                    "\"%s.%s: %%d bytes announced, %%d left\" %% (k, "
                    "len(buf) - pos)",
                    c->T, what));
    if (t->kind == TY_STRING)
      DEC("%s%s = buf[pos:end].decode(\"utf-8\")\n", ind, L);
    else
      DEC("%s%s = buf[pos:end]\n", ind, L);
    DEC("%spos = end\n", ind);
    return;
  }
  if (py_format_char(t) == 'B') {
    DEC("%s%s = buf[pos]\n%spos += 1\n", ind, L, ind);
  } else {
    char f[2] = {py_format_char(t), 0};
    DEC("%s%s = %s.unpack_from(buf, pos)[0]\n%spos += %d\n", ind, L,
        py_struct_for(c, f), ind, gen_wire_fixed(t));
    if (t->kind == TY_F32)
      py_f32_dec(
          c, L, false,
          py_cat(c, py_struct_for(c, "I"), ".unpack_from(buf, pos - 4)[0]", ""),
          ind);
  }
  py_dec_convert(c, t, L, what, ind);
}

/* ---- layout helpers ---------------------------------------------------------
 */

/* The column the next character of b goes to. */
static size_t column(const gen_buf *b) {
  size_t n = 0;
  while (n < b->len && b->data[b->len - 1 - n] != '\n')
    n++;
  return n;
}

void py_raise(gen_buf *b, const char *ind, const char *cls, const char *arg) {
  size_t il = strlen(ind), al = strlen(arg);
  const char *pct = strstr(arg, "\" % ");
  if (il + strlen(cls) + al + 8 <= 99)
    gen_buf_printf(b, "%sraise %s(%s)\n", ind, cls, arg);
  else if (il + 5 + al <= 99 || pct == NULL)
    gen_buf_printf(b, "%sraise %s(\n%s    %s)\n", ind, cls, ind, arg);
  else
    gen_buf_printf(b, "%sraise %s(\n%s    %.*s\n%s    %s)\n", ind, cls, ind,
                   (int)(pct + 1 - arg), arg, ind, pct + 2);
}

const char *py_fmt(py_codec *c, const char *fmt, ...) {
  char t[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t, sizeof(t), fmt, ap);
  va_end(ap);
  return gen_pool_strndup(c->o->pool, t, strlen(t));
}

void py_f32_enc(py_codec *c, const char *expr, bool list, const char *at,
                const char *ind) {
  const char *S = py_struct_for(c, "I");
  if (list)
    ENC("%sif any(x != x for x in %s):  # NaNs keep their bits\n"
        "%s    _f32_patch(out, %s, %s, %s)\n",
        ind, expr, ind, at, expr, S);
  else
    ENC("%sif %s != %s:  # a NaN keeps its bits\n"
        "%s    %s.pack_into(out, %s, _f32_bits(%s))\n",
        ind, expr, expr, ind, S, at, expr);
}

void py_f32_dec(py_codec *c, const char *L, bool list, const char *bits,
                const char *ind) {
  if (list)
    DEC("%sif any(x != x for x in %s):  # NaNs keep their bits\n"
        "%s    %s = _f32_nans(%s, %s)\n",
        ind, L, ind, L, L, bits);
  else
    DEC("%sif %s != %s:  # a NaN keeps its bits\n%s    %s = _f32_nan(%s)\n",
        ind, L, L, ind, L, bits);
}

void py_wrapped(gen_buf *b, const char *head, const char *const *args, size_t n,
                const char *tail) {
  size_t align, col;
  gen_buf_puts(b, head);
  align = col = column(b);
  for (size_t i = 0; i < n; i++) {
    size_t w = strlen(args[i]) + (i + 1 < n ? 1 : strcspn(tail, "\n"));
    if (i > 0 && col + 2 + w > 99) {
      gen_buf_printf(b, ",\n%*s", (int)align, "");
      col = align;
    } else if (i > 0) {
      gen_buf_puts(b, ", ");
      col += 2;
    }
    gen_buf_puts(b, args[i]);
    col += strlen(args[i]);
  }
  gen_buf_puts(b, tail);
}

const char *py_cat(py_codec *c, const char *a, const char *b, const char *z) {
  size_t la = strlen(a), lb = strlen(b), lz = strlen(z);
  char *r = gen_pool_alloc(c->o->pool, la + lb + lz + 1);
  memcpy(r, a, la);
  memcpy(r + la, b, lb);
  memcpy(r + la + lb, z, lz);
  return r;
}

/* ---- repeated fields and arrays of variable size --------------------------
 */

/* Encoder: the elements of list L (its count already written). */
/* The element struct of repeated field f when its codec goes inside the
 * loop (py_inlinable, and no local of its fields is the list's own local L
 * or a local of the enclosing type's fields, which the loop would
 * overwrite); else NULL. */
static const gen_decl *inlined(py_codec *c, const gen_field *f, const char *L) {
  const gen_decl *e = f->type.kind == TY_NAMED ? f->type.decl : NULL;
  if (e == NULL || !py_inlinable(e))
    return NULL;
  for (size_t i = 0; i < e->nfields; i++) {
    const char *n = py_local_name(c->o, e, &e->fields[i]);
    if (strcmp(n, L) == 0)
      return NULL;
    for (size_t k = 0; k < c->d->nfields; k++)
      if (strcmp(n, py_local(c, &c->d->fields[k])) == 0)
        return NULL;
  }
  return e;
}

/* The codec of element struct e inside the loop over list L at ind. */
static void inline_codec(py_codec *in, py_codec *c, const gen_decl *e,
                         const char *L, const char *ind) {
  py_codec_init(in, c->o, e);
  in->hoist_len = false; /* the enclosing body does */
  in->ind = py_cat(c, ind, "    ", "");
  in->V = "x";
  in->ret_head = py_cat(c, L, ".append(", "");
  in->ret_tail = "))\n";
  py_codec_bodies(in);
}

void py_enc_elements(py_codec *c, const gen_field *f, const char *L,
                     const char *ind) {
  const gen_decl *e = inlined(c, f, L);
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  if (t->kind == TY_U8) {
    ENC("%sout += bytes(%s)\n", ind, L);
  } else if (k > 0) {
    if (py_closed_enum(t) || t->kind == TY_BOOL) {
      ENC("%sfor x in %s:\n", ind, L);
      py_enc_guard(c, t, "x", py_attr(c, f), in);
    }
    ENC("%sout += struct.pack(\"%c%%d%c\" %% len(%s), *%s)\n", ind, c->E,
        py_format_char(t), L, L);
    if (t->kind == TY_F32)
      py_f32_enc(c, L, true, py_cat(c, "len(out) - 4 * len(", L, ")"), ind);
  } else if (e != NULL) { /* a struct's codec in the loop: no call */
    py_codec inner;
    inline_codec(&inner, c, e, L, ind);
    ENC("%sfor x in %s:\n", ind, L);
    if (inner.enc.len == 0)
      ENC("%spass\n", in);
    gen_buf_append(&c->enc, inner.enc.data, inner.enc.len);
    py_codec_free(&inner);
  } else {
    ENC("%sfor x in %s:\n", ind, L);
    py_enc_value(c, t, "x", py_attr(c, f), in);
  }
}

/* Decoder: n elements into list L, after checking that the bytes left can
 * hold them. */
void py_dec_elements(py_codec *c, const gen_field *f, const char *L,
                     const char *ind) {
  const gen_decl *e = inlined(c, f, L);
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  unsigned long long m = gen_wire_min(t);
  char in[32], src[64], cond[48];
  snprintf(in, sizeof(in), "%s    ", ind);
  if (m > 1)
    snprintf(cond, sizeof(cond), "n * %llu", m);
  else
    snprintf(cond, sizeof(cond), "n");
  DEC("%sif %s > len(buf) - pos:  # checked before building the list\n", ind,
      cond);
  py_raise(&c->dec, in, "DecodeError",
           py_fmt(c,
                  "\"%s.%s: %%d elements cannot fit in %%d bytes\" %% (n, "
                  "len(buf) - pos)",
                  c->T, py_attr(c, f)));
  if (t->kind == TY_U8) {
    DEC("%s%s = list(buf[pos:pos + n])\n%spos += n\n", ind, L, ind);
  } else if (k > 0) {
    snprintf(src, sizeof(src), "struct.unpack_from(\"%c%%d%c\" %% n, buf, pos)",
             c->E, py_format_char(t));
    py_dec_convert_list(c, t, L, src, py_attr(c, f), ind);
    if (t->kind == TY_F32) {
      snprintf(src, sizeof(src),
               "struct.unpack_from(\"%c%%dI\" %% n, buf, pos)", c->E);
      py_f32_dec(c, L, true, src, ind);
    }
    DEC("%spos += n * %d\n", ind, k);
  } else if (e != NULL) {
    py_codec inner;
    inline_codec(&inner, c, e, L, ind);
    DEC("%s%s = []\n%sfor _ in range(n):\n", ind, L, ind);
    gen_buf_append(&c->dec, inner.dec.data, inner.dec.len);
    py_codec_free(&inner);
  } else {
    DEC("%s%s = []\n%sfor _ in range(n):\n", ind, L, ind);
    py_dec_value(c, t, "x", py_attr(c, f), in);
    DEC("%s    %s.append(x)\n", ind, L);
  }
}

/* A fixed array of strings, bytes or structs: a loop over exactly N. */
void py_variable_array(py_codec *c, const gen_field *f, const char *ind) {
  const char *L = py_local(c, f), *a = py_attr(c, f);
  unsigned long long n = (unsigned long long)f->array_len;
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  ENC("%s%s = %s.%s\n%sif len(%s) != %llu:\n", ind, L, c->V, a, ind, L, n);
  py_raise(&c->enc, in, "ValueError",
           py_fmt(c, "\"%s.%s: %%d elements, the array has %llu\" %% len(%s)",
                  c->T, a, n, L));
  ENC("%sfor x in %s:\n", ind, L);
  py_enc_value(c, &f->type, "x", a, in);
  DEC("%s%s = []\n%sfor _ in range(%llu):\n", ind, L, ind, n);
  py_dec_value(c, &f->type, "x", a, in);
  DEC("%s    %s.append(x)\n", ind, L);
}
