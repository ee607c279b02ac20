/* The codec of NAME_netfw.py, per struct and message T: module-level
 * struct.Struct objects, each packing a run of consecutive fixed-size
 * items (numbers, bools, enums, fixed arrays of them, and the length,
 * count or presence prefix that ends a run), then
 *   _enc_T(v, out)            appends v's encoding to the bytearray out;
 *   _dec_T(buf, pos, depth)   reads a T from memoryview buf at pos and
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

typedef enum item_kind {
  K_VALUE,   /* a number, bool or enum */
  K_ARRAY,   /* a fixed array of those */
  K_LEN,     /* the length of a string or bytes; the data follows */
  K_COUNT,   /* the count of a repeated field; the elements follow */
  K_PRESENT, /* the presence byte of an optional; the value may follow */
} item_kind;

typedef struct item {
  item_kind kind;
  const gen_field *f;
  char code;  /* struct format character of one element */
  int size;   /* bytes of one element */
  uint64_t n; /* elements (K_ARRAY), else 1 */
} item;

typedef struct codec {
  py_out *o;
  const gen_decl *d;
  const char *T;
  gen_buf enc, dec; /* the two function bodies */
  item *run;        /* the run not yet packed */
  size_t nrun;
  int nstructs;   /* _S_T_<n> written so far */
  gen_map formats; /* format -> its _S_T_<n>, so enc and dec share it */
  char E;       /* '<' or '>' */
} codec;

#define ENC(...) gen_buf_printf(&c->enc, __VA_ARGS__)
#define DEC(...) gen_buf_printf(&c->dec, __VA_ARGS__)

/* The name of the module-level `_S_T_<n> = struct.Struct("<fmt")`,
 * written the first time fmt is asked for. */
static const char *new_struct(codec *c, const char *fmt) {
  char name[300];
  const char *have = gen_map_get(&c->formats, fmt);
  if (have != NULL)
    return have;
  snprintf(name, sizeof(name), "_S_%s_%d", c->T, c->nstructs++);
  gen_buf_printf(c->o->b, "%s = struct.Struct(\"%c%s\")\n", name, c->E, fmt);
  have = gen_pool_strndup(c->o->pool, name, strlen(name));
  (void)gen_map_put(&c->formats, gen_pool_strndup(c->o->pool, fmt, strlen(fmt)),
                    (void *)have);
  return have;
}

static const char *local(codec *c, const gen_field *f) {
  return py_local_name(c->o, c->d, f);
}

static const char *attr(codec *c, const gen_field *f) {
  return py_field_name(c->o->pool, c->d, f);
}

static bool closed_enum(const gen_type *t) {
  return t->kind == TY_NAMED && t->decl->kind == D_ENUM && !t->decl->open;
}

static bool is_enum(const gen_type *t) {
  return t->kind == TY_NAMED && t->decl->kind == D_ENUM;
}

static const char *tname(codec *c, const gen_type *t) {
  return py_type_name(c->o->pool, t->decl);
}

/* ---- checks and conversions of one fixed value --------------------------- */

/* Encoder: refuse what packs but is wrong (a closed enum's unlisted value,
 * a bool that is not one); expr is the value, what names it. */
static void enc_guard(codec *c, const gen_type *t, const char *expr,
                      const char *what, const char *ind) {
  if (closed_enum(t))
    ENC("%sif %s not in _E_%s:\n%s    raise ValueError(\"%s.%s: not a value "
        "of %s\")\n",
        ind, expr, tname(c, t), ind, c->T, what, tname(c, t));
  else if (t->kind == TY_BOOL)
    ENC("%sif %s is not True and %s is not False:\n%s    raise "
        "ValueError(\"%s.%s: not a bool\")\n",
        ind, expr, expr, ind, c->T, what);
}

/* Decoder: turn the raw number in local L into the field's value. */
static void dec_convert(codec *c, const gen_type *t, const char *L,
                        const char *what, const char *ind) {
  if (closed_enum(t))
    DEC("%s%s = _E_%s[%s]\n", ind, L, tname(c, t), L);
  else if (is_enum(t))
    DEC("%s%s = _E_%s.get(%s, %s)\n", ind, L, tname(c, t), L, L);
  else if (t->kind == TY_BOOL)
    DEC("%sif %s > 1:\n%s    raise DecodeError(\"%s.%s: bool byte %%d is not "
        "0 or 1\" %% %s)\n%s%s = %s == 1\n",
        ind, L, ind, c->T, what, L, ind, L, L);
}

/* Decoder: the list L of n raw numbers converted likewise. */
static void dec_convert_list(codec *c, const gen_type *t, const char *L,
                             const char *src, const char *what,
                             const char *ind) {
  if (closed_enum(t))
    DEC("%s%s = [_E_%s[x] for x in %s]\n", ind, L, tname(c, t), src);
  else if (is_enum(t))
    DEC("%s%s = [_E_%s.get(x, x) for x in %s]\n", ind, L, tname(c, t), src);
  else if (t->kind == TY_BOOL)
    DEC("%s%s = list(%s)\n%sif any(x > 1 for x in %s):\n%s    raise "
        "DecodeError(\"%s.%s: a bool byte is not 0 or 1\")\n"
        "%s%s = [x == 1 for x in %s]\n",
        ind, L, src, ind, L, ind, c->T, what, ind, L, L);
  else
    DEC("%s%s = list(%s)\n", ind, L, src);
}

/* ---- single values (optional values, elements) ---------------------------- */

/* Encoder: appends value expr of type t (not in a run). */
static void enc_value(codec *c, const gen_type *t, const char *expr,
                      const char *what, const char *ind) {
  if (t->kind == TY_NAMED && t->decl->kind == D_STRUCT) {
    ENC("%s_enc_%s(%s, out)\n", ind, tname(c, t), expr);
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
      ENC("%sout += %s.pack(len(%s))\n", ind, new_struct(c, f), data);
    }
    ENC("%sout += %s\n", ind, data);
    return;
  }
  enc_guard(c, t, expr, what, ind);
  if (py_format_char(t) == 'B') {
    ENC("%sout.append(%s)\n", ind, expr);
  } else {
    char f[2] = {py_format_char(t), 0};
    ENC("%sout += %s.pack(%s)\n", ind, new_struct(c, f), expr);
  }
}

/* Decoder: reads one value of type t into local L (not in a run). */
static void dec_value(codec *c, const gen_type *t, const char *L,
                      const char *what, const char *ind) {
  if (t->kind == TY_NAMED && t->decl->kind == D_STRUCT) {
    DEC("%s%s, pos = _dec_%s(buf, pos, depth + 1)\n", ind, L, tname(c, t));
    return;
  }
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    if (t->prefix == 1) {
      DEC("%sk = buf[pos]\n%spos += 1\n", ind, ind);
    } else {
      char f[2] = {py_prefix_char(t->prefix), 0};
      DEC("%sk = %s.unpack_from(buf, pos)[0]\n%spos += %d\n", ind,
          new_struct(c, f), ind, t->prefix);
    }
    DEC("%send = pos + k\n%sif end > len(buf):\n%s    raise DecodeError(\"%s.%s: "
        "%%d bytes announced, %%d left\" %% (k, len(buf) - pos))\n",
        ind, ind, ind, c->T, what);
    if (t->kind == TY_STRING)
      DEC("%s%s = str(buf[pos:end], \"utf-8\")\n", ind, L);
    else
      DEC("%s%s = bytes(buf[pos:end])\n", ind, L);
    DEC("%spos = end\n", ind);
    return;
  }
  if (py_format_char(t) == 'B') {
    DEC("%s%s = buf[pos]\n%spos += 1\n", ind, L, ind);
  } else {
    char f[2] = {py_format_char(t), 0};
    DEC("%s%s = %s.unpack_from(buf, pos)[0]\n%spos += %d\n", ind, L,
        new_struct(c, f), ind, gen_wire_fixed(t));
  }
  dec_convert(c, t, L, what, ind);
}

/* ---- layout helpers --------------------------------------------------------- */

/* The column the next character of b goes to. */
static size_t column(const gen_buf *b) {
  size_t n = 0;
  while (n < b->len && b->data[b->len - 1 - n] != '\n')
    n++;
  return n;
}

/* head, then args separated by ", ", then tail; an arg that would pass
 * column 99 starts a new line aligned after head's last '(' (PEP 8). */
static void wrapped(gen_buf *b, const char *head, const char *const *args,
                    size_t n, const char *tail) {
  size_t align, col;
  gen_buf_puts(b, head);
  align = col = column(b);
  for (size_t i = 0; i < n; i++) {
    size_t w = strlen(args[i]) + (i + 1 < n ? 1 : strlen(tail));
    if (i > 0 && col + 1 + w > 99) {
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

/* a + b + z in the pool. */
static const char *cat(codec *c, const char *a, const char *b, const char *z) {
  size_t la = strlen(a), lb = strlen(b), lz = strlen(z);
  char *r = gen_pool_alloc(c->o->pool, la + lb + lz + 1);
  memcpy(r, a, la);
  memcpy(r + la, b, lb);
  memcpy(r + la + lb, z, lz);
  return r;
}

/* ---- repeated fields and arrays of variable size -------------------------- */

/* Encoder: the elements of list L (its count already written). */
static void enc_elements(codec *c, const gen_field *f, const char *L,
                         const char *ind) {
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  if (t->kind == TY_U8) {
    ENC("%sout += bytes(%s)\n", ind, L);
  } else if (k > 0) {
    if (closed_enum(t) || t->kind == TY_BOOL) {
      ENC("%sfor x in %s:\n", ind, L);
      enc_guard(c, t, "x", attr(c, f), in);
    }
    ENC("%sout += struct.pack(\"%c%%d%c\" %% len(%s), *%s)\n", ind, c->E,
        py_format_char(t), L, L);
  } else {
    ENC("%sfor x in %s:\n", ind, L);
    enc_value(c, t, "x", attr(c, f), in);
  }
}

/* Decoder: n elements into list L, after checking that the bytes left can
 * hold them. */
static void dec_elements(codec *c, const gen_field *f, const char *L,
                         const char *ind) {
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  unsigned long long m = gen_wire_min(t);
  char in[32], src[64];
  snprintf(in, sizeof(in), "%s    ", ind);
  char cond[48];
  if (m > 1)
    snprintf(cond, sizeof(cond), "n * %llu", m);
  else
    snprintf(cond, sizeof(cond), "n");
  DEC("%sif %s > len(buf) - pos:  # checked before building the list\n"
      "%s    raise DecodeError(\"%s.%s: %%d elements cannot fit in %%d bytes\" "
      "%% (n, len(buf) - pos))\n",
      ind, cond, ind, c->T, attr(c, f));
  if (t->kind == TY_U8) {
    DEC("%s%s = buf[pos:pos + n].tolist()\n%spos += n\n", ind, L, ind);
  } else if (k > 0) {
    snprintf(src, sizeof(src), "struct.unpack_from(\"%c%%d%c\" %% n, buf, pos)",
             c->E, py_format_char(t));
    dec_convert_list(c, t, L, src, attr(c, f), ind);
    DEC("%spos += n * %d\n", ind, k);
  } else {
    DEC("%s%s = []\n%sfor _ in range(n):\n", ind, L, ind);
    dec_value(c, t, "x", attr(c, f), in);
    DEC("%s    %s.append(x)\n", ind, L);
  }
}

/* ---- runs of fixed-size items ----------------------------------------------- */

/* Encoder, before the pack: the locals and guards of item it. */
static void enc_pre(codec *c, const item *it, const char *ind) {
  const gen_field *f = it->f;
  const char *L = local(c, f), *a = attr(c, f);
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  switch (it->kind) {
  case K_VALUE:
    enc_guard(c, &f->type, cat(c, "v.", a, ""), a, ind);
    break;
  case K_ARRAY:
    ENC("%s%s = v.%s\n%sif len(%s) != %llu:\n%s    raise ValueError(\"%s.%s: "
        "%%d elements, the array has %llu\" %% len(%s))\n",
        ind, L, a, ind, L, (unsigned long long)it->n, ind, c->T, a,
        (unsigned long long)it->n, L);
    if (closed_enum(&f->type) || f->type.kind == TY_BOOL) {
      ENC("%sfor x in %s:\n", ind, L);
      enc_guard(c, &f->type, "x", a, in);
    }
    break;
  case K_LEN:
    ENC("%s%s = v.%s%s\n", ind, L, a,
        f->type.kind == TY_STRING ? ".encode(\"utf-8\")" : "");
    break;
  case K_COUNT:
  case K_PRESENT:
    ENC("%s%s = v.%s\n", ind, L, a);
    break;
  }
}

/* The argument of item it in the encoder's pack. */
static const char *enc_arg(codec *c, const item *it) {
  const char *L = local(c, it->f);
  switch (it->kind) {
  case K_VALUE:
    return cat(c, "v.", attr(c, it->f), "");
  case K_ARRAY:
    return cat(c, "*", L, "");
  case K_LEN:
  case K_COUNT:
    return cat(c, "len(", L, ")");
  case K_PRESENT:
    return cat(c, L, " is not None", "");
  }
  return "";
}

/* Decoder: the local item it is unpacked into. */
static const char *dec_target(codec *c, const item *it) {
  return it->kind == K_LEN || it->kind == K_COUNT ? "n" : local(c, it->f);
}

/* What follows the run's last item: the data, the elements, the value. */
static void run_tail(codec *c, const item *it, const char *ind) {
  const gen_field *f = it->f;
  const char *L = local(c, f), *a = attr(c, f);
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  switch (it->kind) {
  case K_LEN:
    ENC("%sout += %s\n", ind, L);
    DEC("%send = pos + n\n%sif end > len(buf):\n%s    raise DecodeError(\"%s.%s: "
        "%%d bytes announced, %%d left\" %% (n, len(buf) - pos))\n",
        ind, ind, ind, c->T, a);
    if (f->type.kind == TY_STRING)
      DEC("%s%s = str(buf[pos:end], \"utf-8\")\n%spos = end\n", ind, L, ind);
    else
      DEC("%s%s = bytes(buf[pos:end])\n%spos = end\n", ind, L, ind);
    break;
  case K_PRESENT:
    ENC("%sif %s is not None:\n", ind, L);
    enc_value(c, &f->type, L, a, in);
    DEC("%sif %s == 1:\n", ind, L);
    dec_value(c, &f->type, L, a, in);
    DEC("%selif %s == 0:\n%s    %s = None\n%selse:\n%s    raise "
        "DecodeError(\"%s.%s: presence byte %%d is not 0 or 1\" %% %s)\n",
        ind, L, ind, L, ind, ind, c->T, a, L);
    break;
  case K_COUNT:
    enc_elements(c, f, L, ind);
    dec_elements(c, f, L, ind);
    break;
  case K_VALUE:
  case K_ARRAY:
    break;
  }
}

/* Decoder: one unpack of the run into its locals. */
static void dec_run(codec *c, const char *S, int size, bool arrays,
                    const char *ind) {
  const char *targets[256];
  size_t n = c->nrun < 256 ? c->nrun : 256;
  if (arrays) {
    size_t at = 0;
    DEC("%st = %s.unpack_from(buf, pos)\n%spos += %d\n", ind, S, ind, size);
    for (size_t i = 0; i < c->nrun; i++) {
      const item *it = &c->run[i];
      char src[64];
      if (it->kind == K_ARRAY) {
        snprintf(src, sizeof(src), "t[%zu:%llu]", at,
                 (unsigned long long)(at + it->n));
        dec_convert_list(c, &it->f->type, local(c, it->f), src,
                         attr(c, it->f), ind);
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
    snprintf(tail, sizeof(tail), " = %s.unpack_from(buf, pos)\n", S);
    wrapped(&c->dec, ind, targets, n, tail);
  }
  DEC("%spos += %d\n", ind, size);
}

/* Packs and unpacks the pending run with one Struct (a lone byte directly),
 * then writes what follows its last item. */
static void flush(codec *c, const char *ind) {
  char fmt[2048] = "";
  const char *args[256];
  int size = 0;
  bool arrays = false;
  const item *last;
  if (c->nrun == 0)
    return;
  for (size_t i = 0; i < c->nrun; i++) {
    const item *it = &c->run[i];
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
  if (c->nrun == 1 && strcmp(fmt, "B") == 0) {
    ENC("%sout.append(%s)\n", ind, args[0]);
    DEC("%s%s = buf[pos]\n%spos += 1\n", ind, dec_target(c, last), ind);
  } else {
    const char *S = new_struct(c, fmt);
    wrapped(&c->enc, cat(c, ind, "out += ", cat(c, S, ".pack(", "")), args,
            c->nrun < 256 ? c->nrun : 256, ")\n");
    dec_run(c, S, size, arrays, ind);
  }
  for (size_t i = 0; i < c->nrun; i++)
    if (c->run[i].kind == K_VALUE)
      dec_convert(c, &c->run[i].f->type, local(c, c->run[i].f),
                  attr(c, c->run[i].f), ind);
  c->nrun = 0;
  run_tail(c, last, ind);
}

/* ---- fields ----------------------------------------------------------------- */

enum { MAX_RUN = 200 }; /* items per Struct: keeps formats and lines sane */

static void add_item(codec *c, item_kind kind, const gen_field *f, char code,
                     int size, uint64_t n, const char *ind) {
  if (c->nrun >= MAX_RUN)
    flush(c, ind);
  c->run[c->nrun++] = (item){kind, f, code, size, n};
}

/* A fixed array of strings, bytes or structs: a loop over exactly N. */
static void variable_array(codec *c, const gen_field *f, const char *ind) {
  const char *L = local(c, f), *a = attr(c, f);
  unsigned long long n = (unsigned long long)f->array_len;
  char in[32];
  snprintf(in, sizeof(in), "%s    ", ind);
  ENC("%s%s = v.%s\n%sif len(%s) != %llu:\n%s    raise ValueError(\"%s.%s: %%d "
      "elements, the array has %llu\" %% len(%s))\n%sfor x in %s:\n",
      ind, L, a, ind, L, n, ind, c->T, a, n, L, ind, L);
  enc_value(c, &f->type, "x", a, in);
  DEC("%s%s = []\n%sfor _ in range(%llu):\n", ind, L, ind, n);
  dec_value(c, &f->type, "x", a, in);
  DEC("%s    %s.append(x)\n", ind, L);
}

static void field(codec *c, const gen_field *f, const char *ind) {
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
      ENC("%s_enc_%s(v.%s, out)\n", ind, tname(c, t), attr(c, f));
      DEC("%s%s, pos = _dec_%s(buf, pos, depth + 1)\n", ind, local(c, f),
          tname(c, t));
    }
    break;
  case F_OPTIONAL:
    add_item(c, K_PRESENT, f, 'B', 1, 1, ind);
    flush(c, ind);
    break;
  case F_REPEATED:
    add_item(c, K_COUNT, f, py_prefix_char(f->count_prefix), f->count_prefix,
             1, ind);
    flush(c, ind);
    break;
  case F_ARRAY:
    if (k > 0) {
      add_item(c, K_ARRAY, f, py_format_char(t), k, f->array_len, ind);
    } else {
      flush(c, ind);
      variable_array(c, f, ind);
    }
    break;
  }
}

/* Decoder: `return T(<the first upto fields>[, extra]), <pos>`. */
static void dec_return(codec *c, size_t upto, const char *extra,
                       const char *ind) {
  const char **args = gen_pool_alloc(c->o->pool, (upto + 1) * sizeof(*args));
  size_t n = 0;
  for (size_t i = 0; i < upto; i++)
    args[n++] = local(c, &c->d->fields[i]);
  if (extra != NULL)
    args[n++] = extra;
  wrapped(&c->dec, cat(c, ind, "return ", cat(c, c->T, "(", "")), args, n,
          c->d->ext_prefix > 0 ? "), stop\n" : "), pos\n");
}

/* Decoder, before the first field (number i) of a [since N] group: no byte
 * left means an older peer; the rest take their defaults. */
static void since_boundary(codec *c, size_t i, unsigned prev) {
  char extra[64];
  snprintf(extra, sizeof(extra), "present_version=%u", prev);
  DEC("    if pos == len(buf):  # a peer older than version %u\n",
      c->d->fields[i].since);
  dec_return(c, i, extra, "        ");
}

/* Extensible struct: the length prefix around the fields. */
static void window_open(codec *c) {
  int k = c->d->ext_prefix;
  char f[2] = {py_prefix_char(k), 0};
  ENC("    start = len(out)\n    out += bytes(%d)  # the length, set below\n", k);
  DEC("    # the fields come inside a length: an older peer's are fewer, a "
      "newer\n    # peer's are followed by bytes this version skips\n");
  if (k == 1)
    DEC("    stop = pos + 1 + buf[pos]\n");
  else
    DEC("    stop = pos + %d + %s.unpack_from(buf, pos)[0]\n", k,
        new_struct(c, f));
  DEC("    if stop > len(buf):\n        raise DecodeError(\"%s: a length of "
      "%%d bytes, %%d left\" %% (stop - pos - %d, len(buf) - pos - %d))\n"
      "    buf = buf[pos + %d:stop]\n    pos = 0\n",
      c->T, k, k, k);
}

static void window_close(codec *c) {
  int k = c->d->ext_prefix;
  char f[2] = {py_prefix_char(k), 0};
  if (k == 1)
    ENC("    out[start] = len(out) - start - 1\n");
  else
    ENC("    %s.pack_into(out, start, len(out) - start - %d)\n",
        new_struct(c, f), k);
}

/* The bodies of _enc_T and _dec_T (Structs are written as they come). */
static void bodies(codec *c) {
  const gen_decl *d = c->d;
  unsigned group = 0;
  if (py_may_recurse(d))
    DEC("    if depth > _MAX_DEPTH:\n        raise DecodeError(\"%s: nested "
        "deeper than %%d\" %% _MAX_DEPTH)\n",
        c->T);
  if (d->ext_prefix > 0)
    window_open(c);
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    if (f->since != group) {
      flush(c, "    ");
      since_boundary(c, i, group > 0 ? group : 1);
      group = f->since;
    }
    field(c, f, "    ");
  }
  flush(c, "    ");
  if (d->ext_prefix > 0)
    window_close(c);
  if (c->enc.len == 0)
    ENC("    pass\n");
  dec_return(c, d->nfields, NULL, "    ");
}

static void emit_type(py_out *o, const gen_decl *d) {
  codec c;
  memset(&c, 0, sizeof(c));
  c.o = o;
  c.d = d;
  c.T = py_type_name(o->pool, d);
  c.E = o->s->big_endian ? '>' : '<';
  c.run = gen_pool_alloc(o->pool, MAX_RUN * sizeof(*c.run));
  gen_buf_printf(o->b, "\n\n# %s: its Structs, encoder, decoder and checks\n",
                 c.T);
  bodies(&c);
  gen_buf_printf(o->b, "\n\ndef _enc_%s(v, out):\n", c.T);
  gen_buf_append(o->b, c.enc.data, c.enc.len);
  gen_buf_printf(o->b, "\n\ndef _dec_%s(buf, pos, depth):\n", c.T);
  gen_buf_append(o->b, c.dec.data, c.dec.len);
  py_emit_check(o, d);
  gen_buf_free(&c.enc);
  gen_buf_free(&c.dec);
  gen_map_free(&c.formats);
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
