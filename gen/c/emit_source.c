/* Emits the codec half of <proto>.netfw.c: per type a sizer (sz), a
 * checker that sizes in the same pass (cs), an encoder (enc) writing into
 * space reserved once, and a decoder (dec) reading through a bounds-checked
 * netfw_reader that sets every field (it does not rely on a zeroed output),
 * from the field code of emit_encode.c and emit_decode.c; then the public
 * wrappers (emit_codec_api.c). emit_glue.c appends the rest (msg_name,
 * dispatch, app glue). */
#include <stdio.h>
#include <string.h>

#include "emit.h"

typedef gen_cem em;

#define OUT(...) gen_buf_printf(&e->body, __VA_ARGS__)

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
    gen_cem_sz_field(e, &d->fields[i]);
  gen_buf_printf(o, "static size_t %s__sz_%s(const %s_%s *in) {\n", p, n, p, n);
  finish(e, "  size_t n = 0;\n", body_uses_in(e) ? "" : "  (void)in;\n");
  gen_buf_puts(o, "  return n;\n}\n\n");

  begin(e);
  for (size_t i = 0; i < d->nfields; i++)
    gen_cem_u8_field(e, &d->fields[i]);
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
    gen_cem_cs_field(e, &d->fields[i]);
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
    gen_cem_enc_window(e, d, true);
  for (size_t i = 0; i < d->nfields; i++)
    gen_cem_enc_field(e, &d->fields[i]);
  if (d->ext_prefix > 0)
    gen_cem_enc_window(e, d, false);
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
  gen_cem_dec_fields(e, d);
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
  gen_emit_descriptor(b, s, pool);
}
