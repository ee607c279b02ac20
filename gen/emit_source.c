/* Emits <proto>.netfw.c: per type a checker (chk), a sizer (sz), an encoder
 * (enc) writing into space reserved once, and a decoder (dec) reading through
 * a bounds-checked netfw_reader; then the public wrappers, msg_name, the
 * dispatchers, the default hooks, the netfw_app glue and the send helpers. */
#include <stdio.h>
#include <string.h>

#include "ast.h"

typedef struct em {
  gen_buf *out;
  gen_buf body; /* the function being written; locals are declared after */
  const gen_schema *s;
  gen_pool *pool;
  const char *p;  /* "fs" */
  const char *P;  /* "FS" */
  const char *E;  /* "le" / "be" */
  bool use_b, use_rc, use_i;
  bool use_arena, use_depth; /* decoders: parameters the body needs */
} em;

#define OUT(...) gen_buf_printf(&e->body, __VA_ARGS__)

static int enum_bytes(const gen_type *t) {
  return gen_scalar_size(t->decl->underlying);
}

/* Bytes a value of t always takes, or 0 when its size varies. */
static int fixed_size(const gen_type *t) {
  if (t->kind == TY_NAMED)
    return t->decl->kind == D_ENUM ? enum_bytes(t) : 0;
  return gen_scalar_size(t->kind);
}

static uint64_t min_size(const gen_type *t) {
  if (t->kind == TY_STRING || t->kind == TY_BYTES)
    return (uint64_t)t->prefix;
  if (t->kind == TY_NAMED && t->decl->kind == D_STRUCT)
    return t->decl->min_size;
  return (uint64_t)fixed_size(t);
}

static bool needs_chk(const gen_type *t) {
  return t->kind == TY_STRING || t->kind == TY_BYTES || t->kind == TY_NAMED;
}

static const char *maxof(int bytes) {
  return bytes == 1 ? "255u" : bytes == 2 ? "65535u" : "4294967295u";
}

/* ---- checks --------------------------------------------------------- */

static void chk_value(em *e, const gen_type *t, const char *L,
                      const char *ind) {
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    if (t->prefix < 4)
      OUT("%sif (%s.len > %s)\n%s  return NETFW_E2BIG;\n", ind, L,
          maxof(t->prefix), ind);
    if (t->kind == TY_STRING)
      OUT("%sif (%s.len > 0 && (%s.ptr == NULL || !netfw_utf8_check(%s.ptr, "
          "%s.len)))\n%s  return NETFW_EINVAL;\n",
          ind, L, L, L, L, ind);
    else
      OUT("%sif (%s.len > 0 && %s.ptr == NULL)\n%s  return NETFW_EINVAL;\n",
          ind, L, L, ind);
  } else if (t->kind == TY_NAMED && t->decl->kind == D_ENUM) {
    OUT("%sif (!%s__ok_%s((uint32_t)%s))\n%s  return NETFW_EINVAL;\n", ind,
        e->p, t->decl->name, L, ind);
  } else if (t->kind == TY_NAMED) {
    e->use_rc = true;
    OUT("%sif ((rc = %s__chk_%s(&%s)) != 0)\n%s  return rc;\n", ind, e->p,
        t->decl->name, L, ind);
  }
}

static void chk_field(em *e, const gen_field *f) {
  char L[300];
  const gen_type *t = &f->type;
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    chk_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    if (!needs_chk(t))
      break;
    snprintf(L, sizeof(L), "in->%s", f->name);
    OUT("  if (in->has_%s) {\n", f->name);
    chk_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_ARRAY:
    if (!needs_chk(t))
      break;
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    chk_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED:
    if (f->count_prefix < 4)
      OUT("  if (in->%s_count > %s)\n    return NETFW_E2BIG;\n", f->name,
          maxof(f->count_prefix));
    OUT("  if (in->%s_count > 0 && in->%s == NULL)\n    return NETFW_EINVAL;\n",
        f->name, f->name);
    if (!needs_chk(t))
      break;
    e->use_i = true;
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < in->%s_count; i++) {\n", f->name);
    chk_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  }
}

/* ---- sizes ---------------------------------------------------------- */

static void sz_value(em *e, const gen_type *t, const char *L, const char *ind) {
  int k = fixed_size(t);
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
  int k = fixed_size(t);
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

/* ---- encoding ------------------------------------------------------- */

/* Stores the unsigned value expr of `bytes` bytes at w and advances w. */
static void put_uint(em *e, int bytes, const char *expr, const char *ind) {
  if (bytes == 1)
    OUT("%s*w++ = (uint8_t)(%s);\n", ind, expr);
  else
    OUT("%snetfw_put_u%d%s(w, (uint%d_t)(%s));\n%sw += %d;\n", ind, bytes * 8,
        e->E, bytes * 8, expr, ind, bytes);
}

static void enc_value(em *e, const gen_type *t, const char *L,
                      const char *ind) {
  char x[340];
  switch (t->kind) {
  case TY_U8: case TY_U16: case TY_U32: case TY_U64:
  case TY_I8: case TY_I16: case TY_I32: case TY_I64:
    put_uint(e, gen_scalar_size(t->kind), L, ind);
    break;
  case TY_BOOL:
    snprintf(x, sizeof(x), "%s ? 1 : 0", L);
    put_uint(e, 1, x, ind);
    break;
  case TY_F32:
  case TY_F64: {
    int k = gen_scalar_size(t->kind);
    OUT("%s{\n%s  uint%d_t v_;\n%s  memcpy(&v_, &%s, %d);\n", ind, ind, k * 8,
        ind, L, k);
    OUT("%s  netfw_put_u%d%s(w, v_);\n%s}\n%sw += %d;\n", ind, k * 8, e->E,
        ind, ind, k);
    break;
  }
  case TY_STRING:
  case TY_BYTES:
    snprintf(x, sizeof(x), "%s.len", L);
    put_uint(e, t->prefix, x, ind);
    OUT("%sif (%s.len > 0)\n%s  memcpy(w, %s.ptr, %s.len);\n%sw += %s.len;\n",
        ind, L, ind, L, L, ind, L);
    break;
  case TY_NAMED:
    if (t->decl->kind == D_ENUM)
      put_uint(e, enum_bytes(t), L, ind);
    else
      OUT("%sw = %s__enc_%s(&%s, w);\n", ind, e->p, t->decl->name, L);
    break;
  }
}

static void enc_field(em *e, const gen_field *f) {
  char L[300], x[340];
  const gen_type *t = &f->type;
  switch (f->mode) {
  case F_PLAIN:
    snprintf(L, sizeof(L), "in->%s", f->name);
    enc_value(e, t, L, "  ");
    break;
  case F_OPTIONAL:
    snprintf(L, sizeof(L), "in->%s", f->name);
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
    e->use_i = true;
    snprintf(x, sizeof(x), "in->%s_count", f->name);
    put_uint(e, f->count_prefix, x, "  ");
    snprintf(L, sizeof(L), "in->%s[i]", f->name);
    OUT("  for (i = 0; i < in->%s_count; i++) {\n", f->name);
    enc_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  }
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
    if (t->decl->kind == D_ENUM) {
      int k = enum_bytes(t);
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
    OUT("  }\n");
    break;
  case F_ARRAY:
    e->use_i = true;
    snprintf(L, sizeof(L), "out->%s[i]", f->name);
    OUT("  for (i = 0; i < %llu; i++) {\n", (unsigned long long)f->array_len);
    dec_value(e, t, L, "    ");
    OUT("  }\n");
    break;
  case F_REPEATED: {
    uint64_t m = min_size(t);
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
    OUT("      }\n    }\n    out->%s_count = c_;\n  }\n", f->name);
    break;
  }
  }
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
  for (size_t i = 0; i < d->nfields; i++)
    chk_field(e, &d->fields[i]);
  gen_buf_printf(o, "static int %s__chk_%s(const %s_%s *in) {\n", p, n, p, n);
  finish(e, "", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  return 0;\n}\n\n");

  begin(e);
  for (size_t i = 0; i < d->nfields; i++)
    sz_field(e, &d->fields[i]);
  gen_buf_printf(o, "static size_t %s__sz_%s(const %s_%s *in) {\n", p, n, p, n);
  finish(e, "  size_t n = 0;\n", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  return n;\n}\n\n");

  begin(e);
  for (size_t i = 0; i < d->nfields; i++)
    enc_field(e, &d->fields[i]);
  gen_buf_printf(o, "static uint8_t *%s__enc_%s(const %s_%s *in, uint8_t *w) {\n",
                 p, n, p, n);
  finish(e, "", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  return w;\n}\n\n");

  begin(e);
  if (may_recurse(d)) {
    e->use_depth = true;
    OUT("  if (depth > NETFW_MAX_DECODE_DEPTH)\n    return NETFW_EPROTO;\n");
  }
  for (size_t i = 0; i < d->nfields; i++)
    dec_field(e, &d->fields[i]);
  gen_buf_printf(o,
                 "static int %s__dec_%s(netfw_reader *r, %s_%s *out, "
                 "netfw_arena *arena,\n"
                 "                      int depth) {\n",
                 p, n, p, n);
  {
    char casts[128];
    snprintf(casts, sizeof(casts), "%s%s%s",
             d->nfields == 0 ? "  (void)r;\n  (void)out;\n" : "",
             e->use_arena ? "" : "  (void)arena;\n",
             e->use_depth ? "" : "  (void)depth;\n");
    finish(e, "", casts);
  }
  gen_buf_puts(o, "  return 0;\n}\n\n");
}

static void emit_type_public(em *e, const gen_decl *d) {
  const char *p = e->p, *n = d->name;
  bool msg = d->kind == D_MESSAGE;
  gen_buf *o = e->out;

  gen_buf_printf(o,
                 "int %s_%s_encode(const %s_%s *in, netfw_msg *out) {\n"
                 "  size_t n;\n  uint8_t *w;\n  int rc;\n\n"
                 "  if (in == NULL || out == NULL)\n    return NETFW_EINVAL;\n"
                 "  rc = %s__chk_%s(in);\n  if (rc != 0)\n    return rc;\n"
                 "  n = %s__sz_%s(in);\n"
                 "  if (n > UINT32_MAX - netfw_msg_size(out))\n"
                 "    return NETFW_E2BIG;\n"
                 "  w = netfw_msg_append_space(out, n);\n"
                 "  if (w == NULL)\n    return NETFW_ENOMEM;\n",
                 p, n, p, n, p, n, p, n);
  if (msg)
    gen_buf_printf(o, "  netfw_msg_set_id(out, %s_%s_ID);\n", e->P,
                   gen_upper(e->pool, n));
  gen_buf_printf(o, "  %s__enc_%s(in, w);\n  return 0;\n}\n\n", p, n);

  gen_buf_printf(o,
                 "int %s_%s_decode(netfw_msg *in, %s_%s *out, netfw_arena "
                 "*arena) {\n"
                 "  netfw_reader r;\n  size_t start;\n  int rc;\n\n"
                 "  if (in == NULL || out == NULL)\n    return NETFW_EINVAL;\n",
                 p, n, p, n);
  if (msg)
    gen_buf_puts(o, "  start = 0;\n");
  else
    gen_buf_puts(o, "  start = netfw_msg_size(in) - netfw_msg_remaining(in);\n");
  gen_buf_printf(o,
                 "  r.p = netfw_msg_payload(in);\n"
                 "  r.p = r.p != NULL ? r.p + start : (const uint8_t *)\"\";\n"
                 "  r.left = netfw_msg_size(in) - start;\n"
                 "  memset(out, 0, sizeof(*out));\n"
                 "  rc = %s__dec_%s(&r, out, arena, 0);\n"
                 "  if (rc != 0) {\n    memset(out, 0, sizeof(*out));\n"
                 "    return rc;\n  }\n"
                 "  netfw_msg_rewind(in);\n"
                 "  (void)netfw_msg_pop(in, NULL, netfw_msg_size(in) - r.left);\n"
                 "  return 0;\n}\n\n",
                 p, n);

  gen_buf_printf(o,
                 "size_t %s_%s_encoded_size(const %s_%s *in) {\n"
                 "  return in != NULL ? %s__sz_%s(in) : 0;\n}\n\n",
                 p, n, p, n, p, n);
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

static void emit_msg_name(em *e) {
  const gen_schema *s = e->s;
  gen_buf *o = e->out;
  gen_buf_printf(o, "const char *%s_msg_name(uint16_t id) {\n  switch (id) {\n",
                 e->p);
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE)
      gen_buf_printf(o, "  case %s_%s_ID:\n    return \"%s\";\n", e->P,
                     gen_upper(e->pool, s->decls[i]->name), s->decls[i]->name);
  gen_buf_puts(o, "  default:\n    return NULL;\n  }\n}\n");
}

/* The switch shared by both dispatchers. */
static void emit_dispatch_cases(em *e, bool server) {
  const gen_schema *s = e->s;
  gen_buf *o = e->out;
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, server))
      continue;
    gen_buf_printf(o,
                   "  case %s_%s_ID: {\n    %s_%s m;\n"
                   "    if (h->on_%s == NULL)\n      break;\n"
                   "    rc = %s_%s_decode(msg, &m, arena);\n"
                   "    if (rc != 0)\n      goto failed_decode;\n"
                   "    h->on_%s(%s, &m);\n    return 0;\n  }\n",
                   e->P, gen_upper(e->pool, d->name), e->p, d->name, d->name,
                   e->p, d->name, d->name,
                   server ? "app, conn" : "user");
  }
}

static bool any_received(const gen_schema *s, bool server) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_MESSAGE && gen_receives(s->decls[i], server))
      return true;
  return false;
}

static void emit_server(em *e) {
  const char *p = e->p;
  gen_buf *o = e->out;
  bool any = any_received(e->s, true);

  gen_buf_printf(o, "\n/* ---- server side ---- */\n\n");
  gen_buf_printf(
      o,
      "static const char *%s__name_or(uint16_t id) {\n"
      "  const char *n = %s_msg_name(id);\n  return n != NULL ? n : \"?\";\n}\n\n",
      p, p);
  gen_buf_printf(
      o,
      "void %s_server_default_unknown(void *app, netfw_conn *conn, netfw_msg "
      "*msg) {\n"
      "  char ip[64] = \"?\";\n  uint16_t port = 0;\n\n  (void)app;\n"
      "  if (netfw_conn_addr(conn, ip, sizeof(ip), &port) != 0)\n"
      "    strcpy(ip, \"?\");\n"
      "  netfw_log(NETFW_LOG_WARN,\n"
      "            \"%s: unexpected message id %%u (%%s) from %%s:%%u, closing "
      "the connection\",\n"
      "            (unsigned)netfw_msg_id(msg), %s__name_or(netfw_msg_id(msg)), "
      "ip,\n            (unsigned)port);\n"
      "  netfw_conn_shutdown(conn);\n}\n\n",
      p, p, p);
  gen_buf_printf(
      o,
      "void %s_server_default_malformed(void *app, netfw_conn *conn, "
      "netfw_msg *msg,\n                                 int err) {\n"
      "  char ip[64] = \"?\";\n  uint16_t port = 0;\n\n  (void)app;\n"
      "  if (netfw_conn_addr(conn, ip, sizeof(ip), &port) != 0)\n"
      "    strcpy(ip, \"?\");\n"
      "  netfw_log(NETFW_LOG_WARN,\n"
      "            \"%s: malformed %%s (id %%u, %%u bytes) from %%s:%%u: %%s, "
      "closing the connection\",\n"
      "            %s__name_or(netfw_msg_id(msg)), (unsigned)netfw_msg_id(msg),\n"
      "            (unsigned)netfw_msg_size(msg), ip, (unsigned)port, "
      "netfw_strerror(err));\n"
      "  netfw_conn_shutdown(conn);\n}\n\n",
      p, p, p);
  gen_buf_printf(o,
                 "int %s_server_dispatch(const %s_server_handlers *h, void "
                 "*app, netfw_conn *conn,\n"
                 "                       netfw_msg *msg, netfw_arena *arena) {\n",
                 p, p);
  if (any)
    gen_buf_puts(o, "  int rc;\n\n");
  gen_buf_printf(o,
                 "  if (h == NULL || msg == NULL)\n    return NETFW_EINVAL;\n"
                 "  if (arena != NULL)\n    netfw_arena_reset(arena);\n"
                 "  switch (netfw_msg_id(msg)) {\n");
  emit_dispatch_cases(e, true);
  gen_buf_printf(o,
                 "  default:\n    break;\n  }\n"
                 "  if (h->on_unknown != NULL)\n    h->on_unknown(app, conn, msg);\n"
                 "  else\n    %s_server_default_unknown(app, conn, msg);\n"
                 "  return NETFW_EPROTO;\n",
                 p);
  if (any)
    gen_buf_printf(o,
                   "\nfailed_decode:\n"
                   "  if (h->on_malformed != NULL)\n"
                   "    h->on_malformed(app, conn, msg, rc);\n"
                   "  else\n    %s_server_default_malformed(app, conn, msg, rc);\n"
                   "  return rc;\n",
                   p);
  gen_buf_puts(o, "}\n\n");

  /* netfw_app glue */
  gen_buf_printf(
      o,
      "typedef struct %s__worker {\n  const %s_server_app *def;\n  void *app;\n"
      "  netfw_arena arena;\n} %s__worker;\n\n"
      "static void *%s__create(void *context) {\n"
      "  const %s_server_app *def = context;\n"
      "  %s__worker *w = malloc(sizeof(*w));\n\n"
      "  if (w == NULL)\n    return NULL;\n  w->def = def;\n"
      "  netfw_arena_init(&w->arena);\n"
      "  w->app = def->create != NULL ? def->create(def->context) : "
      "def->context;\n  return w;\n}\n\n"
      "static bool %s__connect(void *app, netfw_conn *client) {\n"
      "  %s__worker *w = app;\n"
      "  return w == NULL || w->def->on_connect == NULL ||\n"
      "         w->def->on_connect(w->app, client);\n}\n\n"
      "static void %s__disconnect(void *app, netfw_conn *client) {\n"
      "  %s__worker *w = app;\n"
      "  if (w != NULL && w->def->on_disconnect != NULL)\n"
      "    w->def->on_disconnect(w->app, client);\n}\n\n"
      "static void %s__message(void *app, netfw_owned_msg *m) {\n"
      "  %s__worker *w = app;\n"
      "  if (w == NULL) {\n    netfw_conn_shutdown(m->owner);\n    return;\n  }\n"
      "  (void)%s_server_dispatch(w->def->handlers, w->app, m->owner, m->msg,\n"
      "                           &w->arena);\n}\n\n"
      "static void %s__destroy(void *app) {\n"
      "  %s__worker *w = app;\n  if (w == NULL)\n    return;\n"
      "  if (w->def->destroy != NULL)\n    w->def->destroy(w->app);\n"
      "  netfw_arena_free(&w->arena);\n  free(w);\n}\n\n"
      "const netfw_app %s_netfw_app = {%s__create, %s__connect, "
      "%s__disconnect,\n                                 %s__message, "
      "%s__destroy};\n\n"
      "void %s_server_config_init(netfw_config *cfg, const %s_server_app "
      "*app) {\n"
      "  netfw_config_init(cfg, &%s_netfw_app);\n"
      "  cfg->context = (void *)(uintptr_t)app; /* netfw only passes it back */\n}\n\n",
      p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);

  for (size_t i = 0; i < e->s->ndecls; i++) {
    const gen_decl *d = e->s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, false))
      continue;
    gen_buf_printf(o,
                   "int %s_send_%s(netfw_conn *conn, const %s_%s *m) {\n"
                   "  netfw_msg msg;\n  int rc;\n\n"
                   "  netfw_msg_init(&msg, %s_%s_ID);\n"
                   "  rc = %s_%s_encode(m, &msg);\n"
                   "  if (rc == 0)\n    rc = netfw_conn_send(conn, &msg);\n"
                   "  netfw_msg_release(&msg);\n  return rc;\n}\n\n",
                   p, d->name, p, d->name, e->P, gen_upper(e->pool, d->name),
                   p, d->name);
  }
}

static void emit_client(em *e) {
  const char *p = e->p;
  gen_buf *o = e->out;
  bool any = any_received(e->s, false);

  gen_buf_printf(o, "/* ---- client side ---- */\n\n");
  gen_buf_printf(
      o,
      "void %s_client_default_unknown(void *user, netfw_msg *msg) {\n"
      "  (void)user;\n"
      "  netfw_log(NETFW_LOG_WARN, \"%s: unexpected message id %%u (%%s) from "
      "the server\",\n"
      "            (unsigned)netfw_msg_id(msg), %s__name_or(netfw_msg_id(msg)));\n"
      "}\n\n"
      "void %s_client_default_malformed(void *user, netfw_msg *msg, int err) {\n"
      "  (void)user;\n"
      "  netfw_log(NETFW_LOG_WARN, \"%s: malformed %%s (id %%u, %%u bytes) from "
      "the server: %%s\",\n"
      "            %s__name_or(netfw_msg_id(msg)), (unsigned)netfw_msg_id(msg),\n"
      "            (unsigned)netfw_msg_size(msg), netfw_strerror(err));\n}\n\n",
      p, p, p, p, p, p);
  gen_buf_printf(o,
                 "int %s_client_dispatch(const %s_client_handlers *h, void "
                 "*user, netfw_msg *msg,\n"
                 "                       netfw_arena *arena) {\n",
                 p, p);
  if (any)
    gen_buf_puts(o, "  int rc;\n\n");
  gen_buf_puts(o, "  if (h == NULL || msg == NULL)\n    return NETFW_EINVAL;\n"
                  "  if (arena != NULL)\n    netfw_arena_reset(arena);\n"
                  "  switch (netfw_msg_id(msg)) {\n");
  emit_dispatch_cases(e, false);
  gen_buf_printf(o,
                 "  default:\n    break;\n  }\n"
                 "  if (h->on_unknown != NULL)\n    h->on_unknown(user, msg);\n"
                 "  else\n    %s_client_default_unknown(user, msg);\n"
                 "  return NETFW_EPROTO;\n",
                 p);
  if (any)
    gen_buf_printf(o,
                   "\nfailed_decode:\n"
                   "  if (h->on_malformed != NULL)\n"
                   "    h->on_malformed(user, msg, rc);\n"
                   "  else\n    %s_client_default_malformed(user, msg, rc);\n"
                   "  return rc;\n",
                   p);
  gen_buf_puts(o, "}\n\n");
  gen_buf_printf(o,
                 "int %s_client_recv(netfw_client *c, const %s_client_handlers "
                 "*h, void *user,\n"
                 "                   netfw_arena *arena, int timeout_ms) {\n"
                 "  netfw_msg *msg = NULL;\n"
                 "  int rc = netfw_client_recv(c, &msg, timeout_ms);\n\n"
                 "  if (rc != 0)\n    return rc;\n"
                 "  rc = %s_client_dispatch(h, user, msg, arena);\n"
                 "  netfw_msg_free(msg);\n  return rc;\n}\n",
                 p, p, p);
  for (size_t i = 0; i < e->s->ndecls; i++) {
    const gen_decl *d = e->s->decls[i];
    if (d->kind != D_MESSAGE || !gen_receives(d, true))
      continue;
    gen_buf_printf(o,
                   "\nint %s_client_send_%s(netfw_client *c, const %s_%s *m) {\n"
                   "  netfw_msg msg;\n  int rc;\n\n"
                   "  netfw_msg_init(&msg, %s_%s_ID);\n"
                   "  rc = %s_%s_encode(m, &msg);\n"
                   "  if (rc == 0)\n    rc = netfw_client_send(c, &msg);\n"
                   "  netfw_msg_release(&msg);\n  return rc;\n}\n",
                   p, d->name, p, d->name, e->P, gen_upper(e->pool, d->name),
                   p, d->name);
  }
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
  gen_buf_printf(b, "#include <stdlib.h>\n#include <string.h>\n\n"
                    "#include \"%s.netfw.h\"\n\n",
                 o->base);

  gen_buf_puts(b, "/* ---- helpers, in declaration order ---- */\n\n");
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind == D_ENUM && enum_referenced(s, d))
      emit_enum_check(&e, d);
  }
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    const char *p = e.p, *n = d->name;
    if (d->kind != D_STRUCT && d->kind != D_MESSAGE)
      continue;
    gen_buf_printf(b,
                   "static int %s__chk_%s(const %s_%s *in);\n"
                   "static size_t %s__sz_%s(const %s_%s *in);\n"
                   "static uint8_t *%s__enc_%s(const %s_%s *in, uint8_t *w);\n"
                   "static int %s__dec_%s(netfw_reader *r, %s_%s *out, "
                   "netfw_arena *arena,\n                      int depth);\n",
                   p, n, p, n, p, n, p, n, p, n, p, n, p, n, p, n);
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
      emit_type_public(&e, d);
  }
  emit_msg_name(&e);
  gen_buf_puts(b, "\n#ifndef NETFW_GEN_CODEC_ONLY\n");
  emit_server(&e);
  emit_client(&e);
  gen_buf_puts(b, "#endif /* NETFW_GEN_CODEC_ONLY */\n");
  gen_buf_free(&e.body);
}
