/* The decoder half of the codec emitter (see emit_source.c): per field, a
 * read through the bounds-checked netfw_reader that sets every member, an
 * extensible struct's window, and the [since] groups' boundaries. */
#include <stdio.h>
#include <string.h>

#include "emit.h"

typedef gen_cem em;

#define OUT(...) gen_buf_printf(&e->body, __VA_ARGS__)

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
void gen_cem_dec_fields(em *e, const gen_decl *d) {
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
