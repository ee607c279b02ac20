/* The encoder half of the codec emitter (see emit_source.c): per field,
 * its size (sz), its strings' NULL and UTF-8 checks done first (u8), its
 * other checks summed with its size in one pass (cs), and its writing into
 * the room reserved once (enc), with an extensible struct's length. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

typedef gen_cem em;

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

/* What one pass writes for one value (sz_value, u8_value, cs_value,
 * enc_value): at L, indented by ind. */
typedef void (*value_fn)(em *e, const gen_type *t, const char *L,
                         const char *ind);

/* value() on plain, optional and fixed-array field f, the way every pass
 * walks them: in->f; inside `if (in->has_f)` (after what the caller wrote
 * for the presence); in a loop over in->f[i]. A repeated field's walk
 * differs per pass: the caller writes it. */
static void field_values(em *e, const gen_field *f, value_fn value) {
  char L[300];
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    value(e, &f->type, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "in->%s", f->name);
    OUT("  if (in->has_%s) {\n", f->name);
    value(e, &f->type, L, "    ");
    OUT("  }\n");
    break;
  case F_ARRAY:
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    value(e, &f->type, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED:
    break;
  }
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

void gen_cem_sz_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  if (f->mode == F_OPTIONAL)
    OUT("  n += 1;\n");
  if (f->mode == F_ARRAY && k > 0)
    OUT("  n += (size_t)%llu * %d;\n", (unsigned long long)f->array_len, k);
  else if (f->mode != F_REPEATED)
    field_values(e, f, sz_value);
  if (f->mode != F_REPEATED)
    return;
  OUT("  n += %d;\n", f->count_prefix);
  if (k > 0) {
    OUT("  n += (size_t)in->%s_count * %d;\n", f->name, k);
    return;
  }
  e->use_i = true;
  snprintf(L, sizeof(L), "in->%s[i]", f->name);
  OUT("  for (i = 0; i < in->%s_count; i++) {\n", f->name);
  sz_value(e, t, L, "    ");
  OUT("  }\n");
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

void gen_cem_u8_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  if (t->kind != TY_STRING && !(t->kind == TY_NAMED && t->decl->kind != D_ENUM))
    return;
  if (f->mode != F_REPEATED) {
    field_values(e, f, u8_value);
    return;
  }
  /* a NULL array with a count is refused later, in field order */
  e->use_i = true;
  snprintf(L, sizeof(L), "in->%s[i]", f->name);
  OUT("  if (in->%s != NULL) {\n    for (i = 0; i < in->%s_count; i++) {\n",
      f->name, f->name);
  u8_value(e, t, L, "      ");
  OUT("    }\n  }\n");
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

void gen_cem_cs_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  int k = gen_wire_fixed(t);
  bool walk = needs_chk(t) || k <= 0; /* else a product does */
  if (f->mode == F_OPTIONAL)
    OUT("  n += 1;\n");
  if (f->mode == F_ARRAY && !walk)
    OUT("  n += (size_t)%llu * %d;\n", (unsigned long long)f->array_len, k);
  else if (f->mode != F_REPEATED)
    field_values(e, f, cs_value);
  if (f->mode != F_REPEATED)
    return;
  if (f->count_prefix < 4)
    OUT("  if (in->%s_count > %s)\n    return NETFW_E2BIG;\n", f->name,
        maxof(f->count_prefix));
  OUT("  if (in->%s_count > 0 && in->%s == NULL)\n    return NETFW_EINVAL;\n",
      f->name, f->name);
  OUT("  n += %d;\n", f->count_prefix);
  if (!walk) {
    OUT("  n += (size_t)in->%s_count * %d;\n", f->name, k);
    return;
  }
  e->use_i = true;
  snprintf(L, sizeof(L), "in->%s[i]", f->name);
  OUT("  for (i = 0; i < in->%s_count; i++) {\n", f->name);
  cs_value(e, t, L, "    ");
  OUT("  }\n");
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

void gen_cem_enc_field(em *e, const gen_field *f) {
  const gen_type *t = &f->type;
  if (f->mode == F_OPTIONAL) {
    room_k(e, 1, "  ");
    OUT("  *w++ = (uint8_t)(in->has_%s ? 1 : 0);\n", f->name);
  }
  if (f->mode != F_REPEATED) {
    field_values(e, f, enc_value);
    return;
  }
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
}

/* An extensible struct's length prefix: room for it first, its value
 * (refused above what it can say, after the fields, as the checker does)
 * once the fields are written. */
void gen_cem_enc_window(em *e, const gen_decl *d, bool open) {
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
