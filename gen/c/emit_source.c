/* Emits the codec half of <proto>.netfw.c: per type a sizer (sz), a
 * checker that sizes in the same pass (cs), an encoder (enc) writing into
 * space reserved once, and a decoder (dec) reading through a bounds-checked
 * netfw_reader that sets every field (it does not rely on a zeroed output);
 * then the public wrappers. emit_glue.c appends the rest (msg_name, dispatch, app glue). */
#include <stdio.h>
#include <string.h>

#include "emit.h"

typedef struct em {
  gen_buf *out;
  gen_buf body; /* the function being written; locals are declared after */
  const gen_schema *s;
  gen_pool *pool;
  const char *p;  /* "fs" */
  const char *P;  /* "FS" */
  const char *E;  /* "le" / "be" */
  bool use_b, use_rc, use_i;
  bool in_writer; /* chk_value's refusals: writer's form (netfw__enc_fail) */
  bool use_arena, use_depth; /* decoders: parameters the body needs */
} em;

#define OUT(...) gen_buf_printf(&e->body, __VA_ARGS__)

static bool needs_chk(const gen_type *t) {
  return t->kind == TY_STRING || t->kind == TY_BYTES ||
         (t->kind == TY_NAMED && !t->decl->open);
}

static const char *maxof(int bytes) {
  return bytes == 1 ? "255u" : bytes == 2 ? "65535u" : "4294967295u";
}

/* ---- checks --------------------------------------------------------- */

/* The refusals of one string, bytes or closed enum value, as the encoder's
 * contract lists them. */
/* A bytes' NULL pointer with a length (NETFW_EINVAL), then a length over
 * its prefix (NETFW_E2BIG), or a closed enum's unknown value (NETFW_EINVAL).
 * The writer copies the bytes before the length check (see enc_value), so
 * the checker checks in the same order: both refuse the same way. Strings'
 * pointers and UTF-8 are checked before all of this, in a pass of their
 * own (u8_value). */
static void chk_ptr(em *e, const gen_type *t, const char *L, const char *ind) {
  /* a writer returns its refusal through *rc, a checker returns it */
  const char *r0 = e->in_writer ? "return netfw__enc_fail(rc, " : "return ";
  const char *r1 = e->in_writer ? ")" : "";
  if (t->kind == TY_STRING)
    return; /* the __u8_ pass, before anything else (u8_value) */
  OUT("%sif (%s.len > 0 && %s.ptr == NULL)\n%s  %sNETFW_EINVAL%s;\n", ind, L,
      L, ind, r0, r1);
}

static void chk_len(em *e, const gen_type *t, const char *L, const char *ind) {
  const char *r0 = e->in_writer ? "return netfw__enc_fail(rc, " : "return ";
  const char *r1 = e->in_writer ? ")" : "";
  if (t->prefix < 4)
    OUT("%sif (%s > %s)\n%s  %sNETFW_E2BIG%s;\n", ind, L, maxof(t->prefix),
        ind, r0, r1);
}

static void chk_value(em *e, const gen_type *t, const char *L,
                      const char *ind) {
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    char len[320];
    chk_ptr(e, t, L, ind);
    snprintf(len, sizeof(len), "%s.len", L);
    chk_len(e, t, len, ind);
  } else if (t->kind == TY_NAMED && t->decl->kind == D_ENUM) {
    const char *r0 = e->in_writer ? "return netfw__enc_fail(rc, " : "return ";
    const char *r1 = e->in_writer ? ")" : "";
    if (t->decl->open)
      return; /* any value of its type is one */
    OUT("%sif (!%s__ok_%s((uint32_t)%s))\n%s  %sNETFW_EINVAL%s;\n", ind, e->p,
        t->decl->name, L, ind, r0, r1);
  }
  /* a struct is checked by its __cs_ function (cs_value) or its writer */
}

/* ---- sizes ---------------------------------------------------------- */

static void sz_value(em *e, const gen_type *t, const char *L, const char *ind) {
  int k = gen_wire_fixed(t);
  if (k > 0)
    OUT("%sn += %d;\n", ind, k);
  else if (t->kind == TY_STRING || t->kind == TY_BYTES)
    OUT("%sn += %d + (size_t)%s.len;\n", ind, t->prefix, L);
  else
    OUT("%sn += %s__sz_%s(&%s);\n", ind, e->p, t->decl->name, L);
}

static void sz_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    sz_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "in->%s", f->name);
    OUT("  n += 1;\n  if (in->has_%s) {\n", f->name);
    sz_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_ARRAY:
    if (k > 0) {
      OUT("  n += (size_t)%llu * %d;\n", (unsigned long long)f->array_len, k);
      break;
    }
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    sz_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED:
    OUT("  n += %d;\n", f->count_prefix);
    if (k > 0) {
      OUT("  n += (size_t)in->%s_count * %d;\n", f->name, k);
      break;
    }
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < in->%s_count; i++) {\n", f->name);
    sz_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  }
}

/* ---- strings first: NULL pointers and UTF-8 ---------------------------
 * Every string of a value is checked (a NULL pointer with a length, invalid
 * UTF-8: NETFW_EINVAL) in a pass of its own before the writer or the
 * checker runs: a tight loop of loads, where the writer's loop is broken by
 * memcpy calls. For a type without strings the pass is empty and inlined
 * away. */

static void u8_value(em *e, const gen_type *t, const char *L, const char *ind) {
  if (t->kind == TY_STRING) {
    OUT("%sif (%s.len > 0 && (%s.ptr == NULL || !netfw_utf8_check(%s.ptr, "
        "%s.len)))\n%s  return NETFW_EINVAL;\n",
        ind, L, L, L, L, ind);
  } else if (t->kind == TY_NAMED && t->decl->kind != D_ENUM) {
    e->use_rc = true;
    OUT("%sif ((rc = %s__u8_%s(&%s)) != 0)\n%s  return rc;\n", ind, e->p,
        t->decl->name, L, ind);
  }
}

static void u8_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  if (t->kind != TY_STRING && !(t->kind == TY_NAMED && t->decl->kind != D_ENUM))
    return;
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    u8_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "in->%s", f->name);
    OUT("  if (in->has_%s) {\n", f->name);
    u8_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_ARRAY:
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    u8_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED:
    /* a NULL array with a count is refused later, in field order */
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  if (in->%s != NULL) {\n    for (i = 0; i < in->%s_count; i++) {\n",
        f->name, f->name);
    u8_value(e, t, L, "      ");
    OUT("    }\n  }\n");
    break;
  }
}

/* ---- checks and sizes in one pass (the encoder's) -------------------- */

/* The checks of chk_value and the size of sz_value on one walk over the
 * value, adding to the local n. */
static void cs_value(em *e, const gen_type *t, const char *L, const char *ind) {
  int k = gen_wire_fixed(t);
  if (t->kind == TY_NAMED && t->decl->kind != D_ENUM) {
    e->use_rc = true;
    OUT("%sif ((rc = %s__cs_%s(&%s, &n)) != 0)\n%s  return rc;\n", ind, e->p,
        t->decl->name, L, ind);
    return;
  }
  chk_value(e, t, L, ind);
  if (k > 0)
    OUT("%sn += %d;\n", ind, k);
  else
    OUT("%sn += %d + (size_t)%s.len;\n", ind, t->prefix, L);
}

static void cs_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  bool walk = needs_chk(t) || k <= 0; /* else a product does */
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    cs_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "in->%s", f->name);
    OUT("  n += 1;\n  if (in->has_%s) {\n", f->name);
    cs_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_ARRAY:
    if (!walk) {
      OUT("  n += (size_t)%llu * %d;\n", (unsigned long long)f->array_len, k);
      break;
    }
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    cs_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED:
    if (f->count_prefix < 4)
      OUT("  if (in->%s_count > %s)\n    return NETFW_E2BIG;\n", f->name,
          maxof(f->count_prefix));
    OUT("  if (in->%s_count > 0 && in->%s == NULL)\n    return NETFW_EINVAL;\n",
        f->name, f->name);
    OUT("  n += %d;\n", f->count_prefix);
    if (!walk) {
      OUT("  n += (size_t)in->%s_count * %d;\n", f->name, k);
      break;
    }
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < in->%s_count; i++) {\n", f->name);
    cs_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  }
}

/* ---- encoding ------------------------------------------------------- */

/* The writer checks what the checker checks, in the same order, and the
 * room before each store: it writes into [w, end) in one pass and returns
 * the new w, or NULL with *rc set to a refusal or NETFW__ENC_NOROOM. */

/* Gives up unless `bytes` (an expression) more bytes fit. */
static void room(em *e, const char *bytes, const char *ind) {
  OUT("%sif ((size_t)(end - w) < %s)\n%s  return netfw__enc_fail(rc, "
      "NETFW__ENC_NOROOM);\n",
      ind, bytes, ind);
}

/* Stores the unsigned value expr of `bytes` bytes at w and advances w (the
 * room checked before). */
static void put_uint(em *e, int bytes, const char *expr, const char *ind) {
  if (bytes == 1)
    OUT("%s*w++ = (uint8_t)(%s);\n", ind, expr);
  else
    OUT("%snetfw_put_u%d%s(w, (uint%d_t)(%s));\n%sw += %d;\n", ind, bytes * 8,
        e->E, bytes * 8, expr, ind, bytes);
}

static void room_k(em *e, int k, const char *ind) {
  char x[16];
  snprintf(x, sizeof(x), "%d", k);
  room(e, x, ind);
}

static void enc_value(em *e, const gen_type *t, const char *L,
                      const char *ind) {
  char x[340];
  switch (t->kind) {
  case TY_U8: case TY_U16: case TY_U32: case TY_U64:
  case TY_I8: case TY_I16: case TY_I32: case TY_I64:
    room_k(e, gen_scalar_size(t->kind), ind);
    put_uint(e, gen_scalar_size(t->kind), L, ind);
    break;
  case TY_BOOL:
    room_k(e, 1, ind);
    snprintf(x, sizeof(x), "%s ? 1 : 0", L);
    put_uint(e, 1, x, ind);
    break;
  case TY_F32:
  case TY_F64: {
    int k = gen_scalar_size(t->kind);
    room_k(e, k, ind);
    OUT("%s{\n%s  uint%d_t v_;\n%s  memcpy(&v_, &%s, %d);\n", ind, ind, k * 8,
        ind, L, k);
    OUT("%s  netfw_put_u%d%s(w, v_);\n%s}\n%sw += %d;\n", ind, k * 8, e->E,
        ind, ind, k);
    break;
  }
  case TY_STRING:
  case TY_BYTES: {
    /* ptr and len read once, before the stores through w (which may alias
     * anything, so the compiler would read them again after each) */
    char in2[64];
    chk_ptr(e, t, L, ind);
    OUT("%s{\n%s  uint32_t n_ = %s.len;\n%s  const void *p_ = %s.ptr;\n\n", ind,
        ind, L, ind, L);
    snprintf(in2, sizeof(in2), "%s  ", ind);
    snprintf(x, sizeof(x), "%d + (size_t)n_", t->prefix);
    room(e, x, in2);
    put_uint(e, t->prefix, "n_", in2);
    OUT("%s  if (n_ > 0)\n%s    memcpy(w, p_, n_);\n", ind, ind);
    /* the length refused after the copy (which the room check bounds):
     * checked before it, the bound (255) makes gcc expand the memcpy into
     * `rep movsq`, slower than libc's for short strings */
    chk_len(e, t, "n_", in2);
    OUT("%s  w += n_;\n%s}\n", ind, ind);
    break;
  }
  case TY_NAMED:
    if (t->decl->kind == D_ENUM) {
      chk_value(e, t, L, ind);
      room_k(e, gen_wire_fixed(t), ind);
      put_uint(e, gen_wire_fixed(t), L, ind);
    } else {
      OUT("%sif ((w = %s__enc_%s(&%s, w, end, rc)) == NULL)\n%s  return NULL;\n",
          ind, e->p, t->decl->name, L, ind);
    }
    break;
  }
}

static void enc_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    enc_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "in->%s", f->name);
    room_k(e, 1, "  ");
    OUT("  *w++ = (uint8_t)(in->has_%s ? 1 : 0);\n  if (in->has_%s) {\n",
        f->name, f->name);
    enc_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_ARRAY:
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    enc_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED:
    /* the array and its count read once, before the stores through w */
    e->use_i = true;
    OUT("  {\n    const %s *a_ = in->%s;\n    uint32_t c_ = in->%s_count;\n\n",
        gen_ctype(e->pool, e->s, t), f->name, f->name);
    if (f->count_prefix < 4)
      OUT("    if (c_ > %s)\n      return netfw__enc_fail(rc, NETFW_E2BIG);\n",
          maxof(f->count_prefix));
    OUT("    if (c_ > 0 && a_ == NULL)\n      return netfw__enc_fail(rc, "
        "NETFW_EINVAL);\n");
    room_k(e, f->count_prefix, "    ");
    put_uint(e, f->count_prefix, "c_", "    ");
    OUT("    for (i = 0; i < c_; i++) {\n");
    enc_value(e, t, "a_[i]", "      ");
    OUT("    }\n  }\n");
    break;
  }
}

/* An extensible struct's length prefix: room for it first, its value
 * (refused above what it can say, after the fields, as the checker does)
 * once the fields are written. */
static void enc_window(em *e, const gen_decl *d, bool open) {
  int k = d->ext_prefix;
  if (open) {
    OUT("  uint8_t *len_ = w; /* the length, written last */\n\n");
    room_k(e, k, "  ");
    OUT("  w += %d;\n", k);
    return;
  }
  if (k < 4)
    OUT("  if ((size_t)(w - len_ - %d) > %s)\n    return netfw__enc_fail(rc, "
        "NETFW_E2BIG); /* more than its length prefix can say */\n",
        k, k == 1 ? "255u" : "65535u");
  if (k == 1)
    OUT("  *len_ = (uint8_t)(w - len_ - 1);\n");
  else
    OUT("  netfw_put_u%d%s(len_, (uint%d_t)(w - len_ - %d));\n", k * 8, e->E,
        k * 8, k);
}

/* ---- decoding ------------------------------------------------------- */

static void take(em *e, int bytes, const char *ind) {
  e->use_b = true;
  OUT("%sif ((b = netfw_reader_take(r, %d)) == NULL)\n%s  return "
      "NETFW_EPROTO;\n",
      ind, bytes, ind);
}

/* The expression reading an unsigned of `bytes` bytes at b. */
static const char *get_uint(em *e, int bytes) {
  char x[64];
  if (bytes == 1)
    return "b[0]";
  snprintf(x, sizeof(x), "netfw_get_u%d%s(b)", bytes * 8, e->E);
  return gen_pool_strndup(e->pool, x, strlen(x));
}

static void dec_value(em *e, const gen_type *t, const char *L,
                      const char *ind) {
  static const char *const ct[] = {"uint8_t", "uint16_t", "uint32_t",
                                   "uint64_t", "int8_t",  "int16_t",
                                   "int32_t",  "int64_t"};
  switch (t->kind) {
  case TY_U8: case TY_U16: case TY_U32: case TY_U64:
  case TY_I8: case TY_I16: case TY_I32: case TY_I64: {
    int k = gen_scalar_size(t->kind);
    take(e, k, ind);
    OUT("%s%s = (%s)%s;\n", ind, L, ct[t->kind], get_uint(e, k));
    break;
  }
  case TY_BOOL:
    take(e, 1, ind);
    OUT("%sif (b[0] > 1)\n%s  return NETFW_EPROTO;\n%s%s = b[0] == 1;\n", ind,
        ind, ind, L);
    break;
  case TY_F32:
  case TY_F64: {
    int k = gen_scalar_size(t->kind);
    take(e, k, ind);
    OUT("%s{\n%s  uint%d_t v_ = %s;\n%s  memcpy(&%s, &v_, %d);\n%s}\n", ind,
        ind, k * 8, get_uint(e, k), ind, L, k, ind);
    break;
  }
  case TY_STRING:
  case TY_BYTES:
    take(e, t->prefix, ind);
    OUT("%s{\n%s  uint32_t n_ = %s;\n", ind, ind, get_uint(e, t->prefix));
    OUT("%s  if ((b = netfw_reader_take(r, n_)) == NULL)\n%s    return "
        "NETFW_EPROTO;\n",
        ind, ind);
    if (t->kind == TY_STRING)
      OUT("%s  if (!netfw_utf8_check(b, n_))\n%s    return NETFW_EPROTO;\n"
          "%s  %s.ptr = (const char *)b;\n",
          ind, ind, ind, L);
    else
      OUT("%s  %s.ptr = b;\n", ind, L);
    OUT("%s  %s.len = n_;\n%s}\n", ind, L, ind);
    break;
  case TY_NAMED:
    if (t->decl->kind == D_ENUM && t->decl->open) {
      int k = gen_wire_fixed(t);
      take(e, k, ind);
      OUT("%s%s = (%s_%s)%s; /* open: any value */\n", ind, L, e->p,
          t->decl->name, get_uint(e, k));
    } else if (t->decl->kind == D_ENUM) {
      int k = gen_wire_fixed(t);
      take(e, k, ind);
      OUT("%s{\n%s  uint32_t v_ = %s;\n%s  if (!%s__ok_%s(v_))\n%s    return "
          "NETFW_EPROTO;\n%s  %s = (%s_%s)v_;\n%s}\n",
          ind, ind, get_uint(e, k), ind, e->p, t->decl->name, ind, ind, L,
          e->p, t->decl->name, ind);
    } else {
      e->use_rc = e->use_arena = e->use_depth = true;
      OUT("%sif ((rc = %s__dec_%s(r, &%s, arena, depth + 1)) != 0)\n%s  "
          "return rc;\n",
          ind, e->p, t->decl->name, L, ind);
    }
    break;
  }
}

static void dec_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "out->%s", f->name);
    dec_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "out->%s", f->name);
    take(e, 1, "  ");
    OUT("  if (b[0] > 1)\n    return NETFW_EPROTO;\n"
        "  out->has_%s = b[0] == 1;\n  if (out->has_%s) {\n",
        f->name, f->name);
    dec_value(e, t, L, "    ");
    OUT("  } else {\n    memset(&out->%s, 0, sizeof(out->%s));\n  }\n", f->name,
        f->name);
    break;
  case F_ARRAY:
    e->use_i = true;
    snprintf(L, sizeof(L), "out->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    dec_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED: {
    uint64_t m = gen_wire_min(t);
    e->use_i = e->use_arena = true;
    take(e, f->count_prefix, "  ");
    OUT("  {\n    uint32_t c_ = %s;\n", get_uint(e, f->count_prefix));
    OUT("    /* every element takes at least %llu byte%s: refuse a count the "
        "payload\n     * cannot hold before allocating anything */\n",
        (unsigned long long)m, m == 1 ? "" : "s");
    OUT("    if (c_ > r->left / %llu)\n      return NETFW_EPROTO;\n",
        (unsigned long long)(m == 0 ? 1 : m));
    OUT("    if (c_ > 0) {\n      if (arena == NULL)\n        return "
        "NETFW_EINVAL;\n");
    OUT("      out->%s = netfw_arena_alloc_array(arena, c_, sizeof(*out->%s));\n"
        "      if (out->%s == NULL)\n        return NETFW_ENOMEM;\n",
        f->name, f->name, f->name);
    snprintf(L, sizeof(L), "out->%s[i]", f->name);
    OUT("      for (i = 0; i < c_; i++) {\n");
    dec_value(e, t, L, "        ");
    OUT("      }\n    } else {\n      out->%s = NULL;\n    }\n"
        "    out->%s_count = c_;\n  }\n",
        f->name, f->name);
    break;
  }
  }
}

/* The decoder's body: the window of an extensible struct, the fields, and
 * a boundary before each [since] group where an older peer's bytes end.
 * Every member of *out is set on success (an absent optional's value and an
 * empty array's pointer to zero), so the caller need not zero it first. */
static void dec_fields(em *e, const gen_decl *d) {
  unsigned group = 0;
  if (d->ext_prefix > 0) {
    e->use_b = true;
    gen_emit_window_dec(&e->body, e->s, d);
  }
  if (d->max_since > 0)
    OUT("  out->present_version = 1;\n");
  if (d->nfields == 0)
    OUT("  out->empty_ = 0;\n");
  for (size_t i = 0; i < d->nfields; i++) {
    const gen_field *f = &d->fields[i];
    if (f->since != group) {
      gen_emit_since_boundary(&e->body, e->s, d, group, f->since);
      group = f->since;
    }
    dec_field(e, f);
  }
  if (group > 0)
    gen_emit_since_boundary(&e->body, e->s, d, group, 0);
}

/* ---- per-type functions --------------------------------------------- */

static void begin(em *e) {
  e->body.len = 0;
  if (e->body.data)
    e->body.data[0] = '\0';
  e->use_b = e->use_rc = e->use_i = false;
  e->use_arena = e->use_depth = false;
}

/* Writes the locals the body used, then the body. */
static void finish(em *e, const char *locals_extra, const char *casts) {
  if (e->use_b)
    gen_buf_puts(e->out, "  const uint8_t *b;\n");
  if (e->use_rc)
    gen_buf_puts(e->out, "  int rc;\n");
  if (e->use_i)
    gen_buf_puts(e->out, "  uint32_t i;\n");
  if (locals_extra)
    gen_buf_puts(e->out, locals_extra);
  if (casts)
    gen_buf_puts(e->out, casts);
  if (e->body.len)
    gen_buf_append(e->out, e->body.data, e->body.len);
}

static bool body_uses_in(const em *e) {
  return e->body.len > 0 && strstr(e->body.data, "in->") != NULL;
}

static bool may_recurse(const gen_decl *d) {
  for (size_t i = 0; i < d->nfields; i++)
    if (d->fields[i].mode == F_REPEATED && d->fields[i].type.kind == TY_NAMED &&
        d->fields[i].type.decl->kind == D_STRUCT)
      return true;
  return false;
}

static void emit_type_statics(em *e, const gen_decl *d) {
  const char *p = e->p, *n = d->name;
  gen_buf *o = e->out;

  gen_buf_printf(o, "/* %s */\n\n", n);

  begin(e);
  if (d->ext_prefix > 0)
    OUT("  n += %d; /* the length prefix */\n", d->ext_prefix);
  for (size_t i = 0; i < d->nfields; i++)
    sz_field(e, &d->fields[i]);
  gen_buf_printf(o, "static size_t %s__sz_%s(const %s_%s *in) {\n", p, n, p, n);
  finish(e, "  size_t n = 0;\n", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  return n;\n}\n\n");

  begin(e);
  for (size_t i = 0; i < d->nfields; i++)
    u8_field(e, &d->fields[i]);
  gen_buf_printf(o,
                 "/* Refuses a NULL string with a length and invalid UTF-8 "
                 "anywhere in *in. */\n"
                 "static inline int %s__u8_%s(const %s_%s *in) {\n",
                 p, n, p, n);
  finish(e, "", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  return 0;\n}\n\n");

  /* the encoder's pass: chk's refusals in chk's order, sz's sum */
  begin(e);
  for (size_t i = 0; i < d->nfields; i++)
    cs_field(e, &d->fields[i]);
  if (d->ext_prefix > 0) {
    const char *max = d->ext_prefix == 1 ? "255u"
                      : d->ext_prefix == 2 ? "65535u"
                                           : NULL;
    if (max != NULL)
      OUT("  if (n > %s)\n    return NETFW_E2BIG; /* more than its length "
          "prefix can say */\n", max);
    OUT("  n += %d; /* the length prefix */\n", d->ext_prefix);
  }
  gen_buf_printf(o,
                 "/* Refuses what cannot be encoded and adds %s__sz_%s(in) "
                 "to *np. */\n"
                 "static inline int %s__cs_%s(const %s_%s *in, size_t *np) {\n",
                 p, n, p, n, p, n);
  finish(e, "  size_t n = 0;\n", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  *np += n;\n  return 0;\n}\n\n");

  begin(e);
  e->in_writer = true;
  if (d->ext_prefix > 0)
    enc_window(e, d, true);
  for (size_t i = 0; i < d->nfields; i++)
    enc_field(e, &d->fields[i]);
  if (d->ext_prefix > 0)
    enc_window(e, d, false);
  e->in_writer = false;
  gen_buf_printf(o,
                 "/* Writes *in into [w, end) in one pass: the new w, or NULL "
                 "with *rc a\n * refusal or NETFW__ENC_NOROOM. */\n"
                 "static inline uint8_t *%s__enc_%s(const %s_%s *in, uint8_t "
                 "*w,\n"
                 "                                 const uint8_t *end, int "
                 "*rc) {\n",
                 p, n, p, n);
  {
    char casts[96];
    bool uses_end = e->body.len > 0 && (strstr(e->body.data, "(end - w)") ||
                                        strstr(e->body.data, "w, end, rc)"));
    bool uses_rc = e->body.len > 0 && (strstr(e->body.data, "(rc, ") ||
                                       strstr(e->body.data, "w, end, rc)"));
    snprintf(casts, sizeof(casts), "%s%s%s",
             body_uses_in(e) ? "" : "  (void)in;\n",
             uses_end ? "" : "  (void)end;\n", uses_rc ? "" : "  (void)rc;\n");
    finish(e, "", casts);
  }
  gen_buf_puts(o, "  return w;\n}\n\n");

  gen_emit_defaults(o, e->s, d, e->pool);
  begin(e);
  if (may_recurse(d)) {
    e->use_depth = true;
    OUT("  if (depth > NETFW_MAX_DECODE_DEPTH)\n    return NETFW_EPROTO;\n");
  }
  dec_fields(e, d);
  gen_buf_printf(o,
                 "static inline int %s__dec_%s(netfw_reader *r, %s_%s *out, "
                 "netfw_arena *arena,\n"
                 "                      int depth) {\n",
                 p, n, p, n);
  {
    char casts[128];
    snprintf(casts, sizeof(casts), "%s%s%s%s",
             d->ext_prefix > 0 ? "  netfw_reader w_;\n" : "",
             d->nfields > 0         ? ""
             : d->ext_prefix > 0    ? "  (void)out;\n"
                                    : "  (void)r;\n  (void)out;\n",
             e->use_arena ? "" : "  (void)arena;\n",
             e->use_depth ? "" : "  (void)depth;\n");
    finish(e, "", casts);
  }
  gen_buf_puts(o, "  return 0;\n}\n\n");
}

static void emit_enum_check(em *e, const gen_decl *d) {
  gen_buf *o = e->out;
  gen_buf_printf(o, "static bool %s__ok_%s(uint32_t v) {\n  switch (v) {\n",
                 e->p, d->name);
  for (size_t k = 0; k < d->nconsts; k++)
    gen_buf_printf(o, "  case %lluu:\n", (unsigned long long)d->consts[k].value);
  gen_buf_puts(o, "    return true;\n  default:\n    return false;\n  }\n}\n\n");
}

static bool enum_referenced(const gen_schema *s, const gen_decl *en) {
  for (size_t i = 0; i < s->ndecls; i++)
    for (size_t k = 0; k < s->decls[i]->nfields; k++)
      if (s->decls[i]->fields[k].type.decl == en)
        return true;
  return false;
}

void gen_emit_source(gen_buf *b, const gen_schema *s, const gen_out *o,
                     gen_pool *pool) {
  em e;
  char file[512];

  memset(&e, 0, sizeof(e));
  e.out = b;
  e.s = s;
  e.pool = pool;
  e.p = s->proto;
  e.P = gen_upper(pool, s->proto);
  e.E = s->big_endian ? "be" : "le";

  snprintf(file, sizeof(file), "%s.netfw.c", o->base);
  gen_emit_banner(b, s, o, file);
  gen_buf_printf(b,
                 "#include <stdio.h>\n#include <stdlib.h>\n"
                 "#include <string.h>\n\n#include \"%s.netfw.h\"\n\n",
                 o->base);

  gen_buf_puts(b, "/* ---- helpers, in declaration order ---- */\n\n");
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_ENUM && !d->open && enum_referenced(s, d))
      emit_enum_check(&e, d);
  }
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    const char *p = e.p, *n = d->name;
    if (d->kind != D_STRUCT && d->kind != D_MESSAGE)
      continue;
    gen_buf_printf(b,
                   "static size_t %s__sz_%s(const %s_%s *in);\n"
                   "static inline int %s__u8_%s(const %s_%s *in);\n"
                   "static inline int %s__cs_%s(const %s_%s *in, size_t *np);\n"
                   "static inline uint8_t *%s__enc_%s(const %s_%s *in, uint8_t "
                   "*w,\n                                 const uint8_t *end, "
                   "int *rc);\n"
                   "static inline int %s__dec_%s(netfw_reader *r, %s_%s *out, "
                   "netfw_arena *arena,\n                      int depth);\n",
                   p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, n);
  }
  gen_buf_puts(b, "\n");
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_STRUCT || d->kind == D_MESSAGE)
      emit_type_statics(&e, d);
  }
  gen_buf_puts(b, "/* ---- encode / decode ---- */\n\n");
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_STRUCT || d->kind == D_MESSAGE)
      gen_emit_codec_api(b, s, d, pool);
  }
  gen_buf_free(&e.body);
  gen_emit_glue(b, s, pool);
}
