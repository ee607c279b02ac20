/* The codec of NAME_netfw.py, per struct and message T: module-level
 * struct.Struct objects, each packing a run of consecutive fixed-size
 * items (numbers, bools, enums, fixed arrays of them, and the length,
 * count or presence prefix that ends a run), then
 *   _enc_T(v, out)            appends v's encoding to the bytearray out;
 *   _dec_T(buf, pos, depth)   reads a T from bytes buf at pos and
 *                             returns (value, position after it);
 *   _chk_T(v, where)          the slow path naming a bad field
 *                             (emit_check.c), run when _enc_T fails.
 * Encoder and decoder are written in one walk over the fields so that they
 * share each run's Struct. A short read raises struct.error or IndexError
 * and an unlisted closed-enum value KeyError; decode() turns those into
 * DecodeError (emit_types.c). */
#include <stdio.h>
#include <string.h>

#include "py.h"

/* ---- runs of fixed-size items -----------------------------------------------
 */

/* Encoder, before the pack: the locals and guards of item it. */
static void enc_pre(py_codec *c, const py_item *it, const char *ind) {
  const gen_field *f = it->f;
  const char *L = py_local(c, f), *a = py_attr(c, f);
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  switch (it->kind) {
  case K_VALUE:
    py_enc_guard(c, &f->type, py_cat(c, c->V, ".", a), a, ind);
    break;
  case K_ARRAY:
    ENC("%s%s = %s.%s\n%sif len(%s) != %llu:\n", ind, L, c->V, a, ind, L,
        (unsigned long long)it->n);
    py_raise(&c->enc, in, "ValueError",
             py_fmt(c, "\"%s.%s: %%d elements, the array has %llu\" %% len(%s)",
                    c->T, a, (unsigned long long)it->n, L));
    if (py_closed_enum(&f->type) || f->type.kind == TY_BOOL) {
      ENC("%sfor x in %s:\n", ind, L);
      py_enc_guard(c, &f->type, "x", a, in);
    }
    break;
  case K_LEN:
    ENC("%s%s = %s.%s%s\n", ind, L, c->V, a,
        f->type.kind == TY_STRING ? ".encode(\"utf-8\")" : "");
    break;
  case K_COUNT:
  case K_PRESENT:
    ENC("%s%s = %s.%s\n", ind, L, c->V, a);
    break;
  }
}

/* The argument of item it in the encoder's pack. */
static const char *enc_arg(py_codec *c, const py_item *it) {
  const char *L = py_local(c, it->f);
  switch (it->kind) {
  case K_VALUE:
    return py_cat(c, c->V, ".", py_attr(c, it->f));
  case K_ARRAY:
    return py_cat(c, "*", L, "");
  case K_LEN:
  case K_COUNT:
    return py_cat(c, "len(", L, ")");
  case K_PRESENT:
    return py_cat(c, L, " is not None", "");
  }
  return "";
}

/* Decoder: the local item it is unpacked into. */
static const char *dec_target(py_codec *c, const py_item *it) {
  return it->kind == K_LEN || it->kind == K_COUNT ? "n" : py_local(c, it->f);
}

/* What follows the run's last item: the data, the elements, the value. */
static void run_tail(py_codec *c, const py_item *it, const char *ind) {
  const gen_field *f = it->f;
  const char *L = py_local(c, f), *a = py_attr(c, f);
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  switch (it->kind) {
  case K_LEN:
    if (c->join)
      c->parts[c->nparts++] = L;
    else
      ENC("%sout += %s\n", ind, L);
    DEC("%send = pos + n\n%sif end > len(buf):\n", ind, ind);
    py_raise(&c->dec, in, "DecodeError",
             py_fmt(c,
                    "\"%s.%s: %%d bytes announced, %%d left\" %% (n, "
                    "len(buf) - pos)",
                    c->T, a));
    if (f->type.kind == TY_STRING)
      DEC("%s%s = buf[pos:end].decode(\"utf-8\")\n%spos = end\n", ind, L, ind);
    else
      DEC("%s%s = buf[pos:end]\n%spos = end\n", ind, L, ind);
    break;
  case K_PRESENT:
    ENC("%sif %s is not None:\n", ind, L);
    py_enc_value(c, &f->type, L, a, in);
    DEC("%sif %s == 1:\n", ind, L);
    py_dec_value(c, &f->type, L, a, in);
    DEC("%selif %s == 0:\n%s    %s = None\n%selse:\n", ind, L, ind, L, ind);
    py_raise(&c->dec, in, "DecodeError",
             py_fmt(c, "\"%s.%s: presence byte %%d is not 0 or 1\" %% %s", c->T,
                    a, L));
    break;
  case K_COUNT:
    py_enc_elements(c, f, L, ind);
    py_dec_elements(c, f, L, ind);
    break;
  case K_VALUE:
  case K_ARRAY:
    break;
  }
}

/* Decoder: one unpack of the run into its locals. */
static void dec_run(py_codec *c, const char *S, int size, bool arrays,
                    const char *ind) {
  const char *targets[256];
  size_t n = c->nrun < 256 ? c->nrun : 256;
  if (arrays) {
    size_t at = 0;
    DEC("%st = %s.unpack_from(buf, pos)\n%spos += %d\n", ind, S, ind, size);
    for (size_t i = 0; i < c->nrun; i++) {
      const py_item *it = &c->run[i];
      char src[64];
      if (it->kind == K_ARRAY) {
        snprintf(src, sizeof(src), "t[%zu:%llu]", at,
                 (unsigned long long)(at + it->n));
        py_dec_convert_list(c, &it->f->type, py_local(c, it->f), src,
                            py_attr(c, it->f), ind);
      } else {
        DEC("%s%s = t[%zu]\n", ind, dec_target(c, it), at);
      }
      at += it->n;
    }
    return;
  }
  for (size_t i = 0; i < n; i++)
    targets[i] = dec_target(c, &c->run[i]);
  if (n == 1) {
    DEC("%s%s = %s.unpack_from(buf, pos)[0]\n", ind, targets[0], S);
  } else {
    char tail[300];
    size_t w = strlen(ind) + strlen(S) + 24;
    for (size_t i = 0; i < n; i++)
      w += strlen(targets[i]) + 2;
    /* too long for one line: the targets in parentheses, wrapped */
    snprintf(tail, sizeof(tail), "%s = %s.unpack_from(buf, pos)\n",
             w > 99 ? ")" : "", S);
    py_wrapped(&c->dec, w > 99 ? py_cat(c, ind, "(", "") : ind, targets, n,
               tail);
  }
  DEC("%spos += %d\n", ind, size);
}

/* The f32 value(s) of item it, back bytes before the end of the run:
 * NaNs keep their bits (py_f32_enc, py_f32_dec). */
static void f32_run(py_codec *c, const py_item *it, int back, const char *ind) {
  char at[64], bits[160];
  const char *L = py_local(c, it->f);
  bool list = it->kind == K_ARRAY;
  snprintf(at, sizeof(at), "len(out) - %d", back);
  py_f32_enc(c, list ? L : py_cat(c, c->V, ".", py_attr(c, it->f)), list, at,
             ind);
  if (list) {
    char f[32];
    snprintf(f, sizeof(f), "%lluI", (unsigned long long)it->n);
    snprintf(bits, sizeof(bits), "%s.unpack_from(buf, pos - %d)",
             py_struct_for(c, f), back);
  } else {
    snprintf(bits, sizeof(bits), "%s.unpack_from(buf, pos - %d)[0]",
             py_struct_for(c, "I"), back);
  }
  py_f32_dec(c, L, list, bits, ind);
}

/* S.pack(args...) as one expression: a part of a joined encoder. */
static const char *pack_expr(py_codec *c, const char *S, const char *const *args,
                             size_t n) {
  gen_buf b = {0};
  const char *e;
  gen_buf_printf(&b, "%s.pack(", S);
  for (size_t i = 0; i < n; i++)
    gen_buf_printf(&b, "%s%s", i ? ", " : "", args[i]);
  gen_buf_puts(&b, ")");
  e = gen_pool_strndup(c->o->pool, b.data, b.len);
  gen_buf_free(&b);
  return e;
}

/* Packs and unpacks the pending run with one Struct (a lone byte directly),
 * then writes what follows its last item. */
static void flush(py_codec *c, const char *ind) {
  char fmt[2048] = "";
  const char *args[256];
  int size = 0;
  bool arrays = false;
  const py_item *last;
  if (c->nrun == 0)
    return;
  for (size_t i = 0; i < c->nrun; i++) {
    const py_item *it = &c->run[i];
    size_t at = strlen(fmt);
    enc_pre(c, it, ind);
    if (it->kind == K_ARRAY)
      snprintf(fmt + at, sizeof(fmt) - at, "%llu%c", (unsigned long long)it->n,
               it->code);
    else
      snprintf(fmt + at, sizeof(fmt) - at, "%c", it->code);
    size += it->size * (int)it->n;
    arrays |= it->kind == K_ARRAY;
    if (i < 256)
      args[i] = enc_arg(c, it);
  }
  last = &c->run[c->nrun - 1];
  if (c->join) {
    c->parts[c->nparts++] =
        pack_expr(c, py_struct_for(c, fmt), args, c->nrun < 256 ? c->nrun : 256);
  }
  if (c->nrun == 1 && strcmp(fmt, "B") == 0) {
    if (!c->join)
      ENC("%sout.append(%s)\n", ind, args[0]);
    DEC("%s%s = buf[pos]\n%spos += 1\n", ind, dec_target(c, last), ind);
  } else {
    const char *S = py_struct_for(c, fmt);
    if (!c->join)
      py_wrapped(&c->enc, py_cat(c, ind, "out += ", py_cat(c, S, ".pack(", "")),
                 args, c->nrun < 256 ? c->nrun : 256, ")\n");
    dec_run(c, S, size, arrays, ind);
  }
  for (size_t i = 0; i < c->nrun; i++)
    if (c->run[i].kind == K_VALUE)
      py_dec_convert(c, &c->run[i].f->type, py_local(c, c->run[i].f),
                     py_attr(c, c->run[i].f), ind);
  for (size_t i = 0, off = 0; i < c->nrun;
       off += c->run[i].size * c->run[i].n, i++)
    if (c->run[i].f->type.kind == TY_F32 && c->run[i].kind == K_VALUE)
      f32_run(c, &c->run[i], (int)(size - off), ind);
    else if (c->run[i].f->type.kind == TY_F32 && c->run[i].kind == K_ARRAY)
      f32_run(c, &c->run[i], (int)(size - off), ind);
  c->nrun = 0;
  run_tail(c, last, ind);
}

/* ---- fields -----------------------------------------------------------------
 */

enum { MAX_RUN = 200 }; /* items per Struct: keeps formats and lines sane */

static void add_item(py_codec *c, py_item_kind kind, const gen_field *f,
                     char code, int size, uint64_t n, const char *ind) {
  if (c->nrun >= MAX_RUN)
    flush(c, ind);
  c->run[c->nrun++] = (py_item){kind, f, code, size, n};
}

static void field(py_codec *c, const gen_field *f, const char *ind) {
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  switch (f->mode) {
  case F_PLAIN:
    if (k > 0) {
      add_item(c, K_VALUE, f, py_format_char(t), k, 1, ind);
    } else if (t->kind == TY_STRING || t->kind == TY_BYTES) {
      add_item(c, K_LEN, f, py_prefix_char(t->prefix), t->prefix, 1, ind);
      flush(c, ind);
    } else {
      flush(c, ind);
      ENC("%s_enc_%s(%s.%s, out)\n", ind, py_tname(c, t), c->V, py_attr(c, f));
      DEC("%s%s, pos = _dec_%s(buf, pos, %s)\n", ind, py_local(c, f),
          py_tname(c, t), c->depth1);
    }
    break;
  case F_OPTIONAL:
    add_item(c, K_PRESENT, f, 'B', 1, 1, ind);
    flush(c, ind);
    break;
  case F_REPEATED:
    add_item(c, K_COUNT, f, py_prefix_char(f->count_prefix), f->count_prefix, 1,
             ind);
    flush(c, ind);
    break;
  case F_ARRAY:
    if (k > 0) {
      add_item(c, K_ARRAY, f, py_format_char(t), k, f->array_len, ind);
    } else {
      flush(c, ind);
      py_variable_array(c, f, ind);
    }
    break;
  }
}

/* Decoder: the result, T(<the first upto fields>[, extra]), returned (with
 * the position after it, for a function of its own) or appended. */
static void dec_return(py_codec *c, size_t upto, const char *extra,
                       const char *ind) {
  const char **args = gen_pool_alloc(c->o->pool, (upto + 1) * sizeof(*args));
  size_t n = 0;
  for (size_t i = 0; i < upto; i++)
    args[n++] = py_local(c, &c->d->fields[i]);
  if (extra != NULL)
    args[n++] = extra;
  py_wrapped(&c->dec, py_cat(c, ind, c->ret_head, py_cat(c, c->T, "(", "")),
             args, n, c->ret_tail);
}

/* Decoder, before the first field (number i) of a [since N] group: no byte
 * left means an older peer; the rest take their defaults. */
static void since_boundary(py_codec *c, size_t i, unsigned prev) {
  char extra[64];
  snprintf(extra, sizeof(extra), "present_version=%u", prev);
  DEC("%sif pos == len(buf):  # a peer older than version %u\n", c->ind,
      c->d->fields[i].since);
  dec_return(c, i, extra, py_cat(c, c->ind, "    ", ""));
}

/* Extensible struct (in a function of its own): the length prefix around
 * the fields. */
static void window_open(py_codec *c) {
  int k = c->d->ext_prefix;
  char f[2] = {py_prefix_char(k), 0};
  ENC("    start = len(out)\n    out += bytes(%d)  # the length, set below\n",
      k);
  DEC("    # the fields come inside a length: an older peer's are fewer, a "
      "newer\n    # peer's are followed by bytes this version skips\n");
  if (k == 1)
    DEC("    stop = pos + 1 + buf[pos]\n");
  else
    DEC("    stop = pos + %d + %s.unpack_from(buf, pos)[0]\n", k,
        py_struct_for(c, f));
  DEC("    if stop > len(buf):\n");
  py_raise(&c->dec, "        ", "DecodeError",
           py_fmt(c,
                  "\"%s: a length of %%d bytes, %%d left\" %% (stop - pos "
                  "- %d, len(buf) - pos - %d)",
                  c->T, k, k));
  DEC("    buf = buf[pos + %d:stop]\n    pos = 0\n", k);
}

static void window_close(py_codec *c) {
  int k = c->d->ext_prefix;
  char f[2] = {py_prefix_char(k), 0};
  if (k == 1)
    ENC("    out[start] = len(out) - start - 1\n");
  else
    ENC("    %s.pack_into(out, start, len(out) - start - %d)\n",
        py_struct_for(c, f), k);
}

/* Decoder whose result goes without the position (a message's decode):
 * the last statement moving pos, before the result, is dead; drop it. */
static void drop_last_pos(py_codec *c) {
  gen_buf *b = &c->dec;
  size_t start = b->len, n = strlen(c->ind);
  if (start == 0)
    return;
  for (start--; start > 0 && b->data[start - 1] != '\n'; start--)
    ;
  if (b->len - start > n && strncmp(b->data + start, c->ind, n) == 0 &&
      (strcmp(b->data + start + n, "pos = end\n") == 0 ||
       strncmp(b->data + start + n, "pos += ", 7) == 0)) {
    b->len = start;
    b->data[start] = '\0';
  }
}

/* Decoder reading len(buf) more than once (buf is never rebound outside a
 * length window): reads it once, into limit, at the start. */
static void hoist_len(py_codec *c, size_t at) {
  static const char use[] = "len(buf)";
  gen_buf b = {0};
  const char *p = c->dec.data + at, *hit;
  int uses = 0;
  for (hit = p; (hit = strstr(hit, use)) != NULL; hit += sizeof(use) - 1)
    uses++;
  if (uses < 2)
    return;
  gen_buf_append(&b, c->dec.data, at);
  gen_buf_printf(&b, "%slimit = len(buf)\n", c->ind);
  while ((hit = strstr(p, use)) != NULL) {
    gen_buf_append(&b, p, (size_t)(hit - p));
    gen_buf_puts(&b, "limit");
    p = hit + sizeof(use) - 1;
  }
  gen_buf_puts(&b, p);
  gen_buf_free(&c->dec);
  c->dec = b;
}

void py_codec_init(py_codec *c, py_out *o, const gen_decl *d) {
  memset(c, 0, sizeof(*c));
  c->o = o;
  c->d = d;
  c->T = py_type_name(o->pool, d);
  c->E = o->s->big_endian ? '>' : '<';
  c->run = gen_pool_alloc(o->pool, MAX_RUN * sizeof(*c->run));
  c->ind = "    ";
  c->V = "v";
  c->ret_head = "return ";
  c->ret_tail = d->ext_prefix > 0 ? "), stop\n" : "), pos\n";
  c->depth1 = "depth + 1";
  c->hoist_len = true;
}

void py_codec_free(py_codec *c) {
  gen_buf_free(&c->enc);
  gen_buf_free(&c->dec);
}

bool py_joinable(py_codec *c, const gen_decl *d) {
  if (d->kind != D_MESSAGE || d->nfields == 0)
    return false;
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    bool fixed = gen_wire_fixed(&f->type) > 0 && f->type.kind != TY_F32;
    bool data = f->type.kind == TY_STRING || f->type.kind == TY_BYTES;
    if (!(f->mode == F_PLAIN && (fixed || data)) &&
        !(f->mode == F_ARRAY && fixed))
      return false;
  }
  if (c != NULL) {
    c->join = true;
    c->parts = gen_pool_alloc(c->o->pool, (2 * d->nfields + 1) * sizeof(*c->parts));
  }
  return true;
}

bool py_inlinable(const gen_decl *d) {
  if (d->kind != D_STRUCT || d->ext_prefix > 0 || d->max_since > 0)
    return false;
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    if ((f->mode != F_PLAIN && f->mode != F_OPTIONAL) ||
        (f->type.kind == TY_NAMED && f->type.decl->kind == D_STRUCT))
      return false; /* a loop of its own, or a depth to count */
  }
  return true;
}

void py_codec_bodies(py_codec *c) {
  const gen_decl *d = c->d;
  unsigned group = 0;
  size_t at;
  if (py_may_recurse(d) && d->kind == D_STRUCT) {
    DEC("%sif depth > _MAX_DEPTH:\n", c->ind);
    py_raise(&c->dec, py_cat(c, c->ind, "    ", ""), "DecodeError",
             py_fmt(c, "\"%s: nested deeper than %%d\" %% _MAX_DEPTH", c->T));
  }
  at = c->dec.len; /* after the depth check */
  if (d->ext_prefix > 0)
    window_open(c);
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    if (f->since != group) {
      flush(c, c->ind);
      since_boundary(c, i, group > 0 ? group : 1);
      group = f->since;
    }
    field(c, f, c->ind);
  }
  flush(c, c->ind);
  if (d->ext_prefix > 0)
    window_close(c);
  if (c->pos_dead)
    drop_last_pos(c);
  dec_return(c, d->nfields, NULL, c->ind);
  if (c->hoist_len && d->ext_prefix == 0)
    hoist_len(c, at);
}

/* A struct's _enc_T, _dec_T and _chk_T; a message's _chk_T (its codec is
 * in its methods, emit_types.c). */
static void emit_type(py_out *o, const gen_decl *d) {
  py_codec c;
  py_codec_init(&c, o, d);
  if (d->kind == D_STRUCT)
    py_codec_bodies(&c);
  gen_buf_printf(o->b, "\n\n# %s: %s\n", c.T,
                 d->kind == D_STRUCT
                     ? "its Structs, encoder, decoder and checks"
                     : "the checks of its encoder (the codec is in its class)");
  py_flush_defs(o);
  if (d->kind == D_STRUCT) {
    gen_buf_printf(o->b, "\n\ndef _enc_%s(v, out):\n", c.T);
    if (c.enc.len == 0)
      gen_buf_puts(o->b, "    pass\n");
    gen_buf_append(o->b, c.enc.data, c.enc.len);
    gen_buf_printf(o->b, "\n\ndef _dec_%s(buf, pos, depth):\n", c.T);
    gen_buf_append(o->b, c.dec.data, c.dec.len);
  }
  py_emit_check(o, d);
  py_codec_free(&c);
}

void py_emit_codec(py_out *o) {
  gen_buf_puts(o->b, "\n\n# ---- the codec "
                     "--------------------------------------------------------"
                     "----\n");
  py_emit_check_helpers(o);
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind == D_STRUCT || d->kind == D_MESSAGE)
      emit_type(o, d);
  }
}
