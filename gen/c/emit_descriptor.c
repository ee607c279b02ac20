/* The schema as data in the generated .c file: `<proto>_descriptor`
 * (netfw/desc.h), written from gen/desc's netfw_desc so that the table and
 * the descriptor netfw-call builds at run time are one thing. */
#include <string.h>

#include "desc.h"
#include "emit.h"

static const char *const kind_c[] = {
    [NETFW_DESC_U8] = "U8",         [NETFW_DESC_U16] = "U16",
    [NETFW_DESC_U32] = "U32",       [NETFW_DESC_U64] = "U64",
    [NETFW_DESC_I8] = "I8",         [NETFW_DESC_I16] = "I16",
    [NETFW_DESC_I32] = "I32",       [NETFW_DESC_I64] = "I64",
    [NETFW_DESC_F32] = "F32",       [NETFW_DESC_F64] = "F64",
    [NETFW_DESC_BOOL] = "BOOL",     [NETFW_DESC_STRING] = "STRING",
    [NETFW_DESC_BYTES] = "BYTES",   [NETFW_DESC_ENUM] = "ENUM",
    [NETFW_DESC_STRUCT] = "STRUCT"};
static const char *const mode_c[] = {
    [NETFW_DESC_PLAIN] = "PLAIN", [NETFW_DESC_OPTIONAL] = "OPTIONAL",
    [NETFW_DESC_REPEATED] = "REPEATED", [NETFW_DESC_ARRAY] = "ARRAY"};
static const char *const dir_c[] = {[NETFW_DESC_BOTH] = "BOTH",
                                    [NETFW_DESC_TO_SERVER] = "TO_SERVER",
                                    [NETFW_DESC_TO_CLIENT] = "TO_CLIENT"};

/* A string as a C literal, or NULL. A doc comment's lines become adjacent
 * literals, one per line of output, so the table stays readable. */
static void lit(gen_buf *b, const char *s) {
  const char *nl;
  if (s == NULL) {
    gen_buf_puts(b, "NULL");
    return;
  }
  while ((nl = strchr(s, '\n')) != NULL && nl[1] != '\0') {
    gen_buf_puts(b, "\"");
    gen_emit_c_string(b, s, (size_t)(nl - s));
    gen_buf_puts(b, "\\n\"\n        ");
    s = nl + 1;
  }
  gen_buf_puts(b, "\"");
  gen_emit_c_string(b, s, strlen(s));
  gen_buf_puts(b, "\"");
}

/* ", .doc = \"...\"" when there is a doc. */
static void doc(gen_buf *b, const char *d) {
  if (d == NULL)
    return;
  gen_buf_puts(b, ", .doc = ");
  lit(b, d);
}

/* One field's initializer. */
static void field(gen_buf *b, const netfw_desc_field *f) {
  gen_buf_puts(b, "    {.name = ");
  lit(b, f->name);
  doc(b, f->doc);
  gen_buf_printf(b, ", .kind = NETFW_DESC_%s, .mode = NETFW_DESC_%s",
                 kind_c[f->kind], mode_c[f->mode]);
  if (f->prefix)
    gen_buf_printf(b, ", .prefix = %u", f->prefix);
  if (f->count_prefix)
    gen_buf_printf(b, ", .count_prefix = %u", f->count_prefix);
  if (f->kind == NETFW_DESC_ENUM || f->kind == NETFW_DESC_STRUCT)
    gen_buf_printf(b, ", .type = %u", f->type);
  if (f->mode == NETFW_DESC_ARRAY)
    gen_buf_printf(b, ", .array_len = %uu", f->array_len);
  if (f->since) {
    gen_buf_printf(b, ", .since = %u,\n     .def = (const uint8_t[]){", f->since);
    for (uint32_t i = 0; i < f->def_len; i++)
      gen_buf_printf(b, "%s0x%02x", i ? ", " : "", f->def[i]);
    gen_buf_printf(b, "%s}, .def_len = %uu", f->def_len ? "" : "0", f->def_len);
  }
  gen_buf_puts(b, "},\n");
}

/* The field array of struct or message body x, named <p>__desc_<name>. */
static void fields(gen_buf *b, const char *p, const netfw_desc_struct *x) {
  if (x->nfields == 0)
    return;
  gen_buf_printf(b, "static const netfw_desc_field %s__desc_%s[] = {\n", p,
                 x->name);
  for (uint32_t i = 0; i < x->nfields; i++)
    field(b, &x->fields[i]);
  gen_buf_puts(b, "};\n\n");
}

/* The constants of enum e, named <p>__desc_<name>. */
static void consts(gen_buf *b, const char *p, const netfw_desc_enum *e) {
  gen_buf_printf(b, "static const netfw_desc_const %s__desc_%s[] = {\n", p,
                 e->name);
  for (uint32_t i = 0; i < e->nconsts; i++) {
    gen_buf_puts(b, "    {.name = ");
    lit(b, e->consts[i].name);
    gen_buf_printf(b, ", .value = %lluu",
                   (unsigned long long)e->consts[i].value);
    doc(b, e->consts[i].doc);
    gen_buf_puts(b, "},\n");
  }
  gen_buf_puts(b, "};\n\n");
}

/* A struct body's initializer: name, doc, fields. */
static void body(gen_buf *b, const char *p, const netfw_desc_struct *x) {
  gen_buf_puts(b, "{.name = ");
  lit(b, x->name);
  doc(b, x->doc);
  if (x->nfields)
    gen_buf_printf(b, ", .fields = %s__desc_%s, .nfields = %u", p, x->name,
                   x->nfields);
  if (x->ext_prefix)
    gen_buf_printf(b, ", .ext_prefix = %u", x->ext_prefix);
  gen_buf_puts(b, "}");
}

/* A request's replies, as message indices. */
static void replies(gen_buf *b, const netfw_desc_message *m) {
  if (m->nreturns == 0)
    return;
  gen_buf_puts(b, ",\n     .returns = (const uint16_t[]){");
  for (uint32_t i = 0; i < m->nreturns; i++)
    gen_buf_printf(b, "%s%u", i ? ", " : "", m->returns[i]);
  gen_buf_printf(b, "}, .nreturns = %u", m->nreturns);
}

/* The enums, structs and messages arrays, each named <p>__desc_<what>. */
static void tables(gen_buf *b, const char *p, const netfw_desc *d) {
  if (d->nenums) {
    gen_buf_printf(b, "static const netfw_desc_enum %s__desc_enums[] = {\n", p);
    for (uint32_t i = 0; i < d->nenums; i++) {
      const netfw_desc_enum *e = &d->enums[i];
      gen_buf_puts(b, "    {.name = ");
      lit(b, e->name);
      doc(b, e->doc);
      gen_buf_printf(b, ", .size = %u, .open = %s, .consts = %s__desc_%s, "
                        ".nconsts = %u},\n",
                     e->size, e->open ? "true" : "false", p, e->name, e->nconsts);
    }
    gen_buf_puts(b, "};\n\n");
  }
  if (d->nstructs) {
    gen_buf_printf(b, "static const netfw_desc_struct %s__desc_structs[] = {\n", p);
    for (uint32_t i = 0; i < d->nstructs; i++) {
      gen_buf_puts(b, "    ");
      body(b, p, &d->structs[i]);
      gen_buf_puts(b, ",\n");
    }
    gen_buf_puts(b, "};\n\n");
  }
  if (d->nmessages) {
    gen_buf_printf(b, "static const netfw_desc_message %s__desc_messages[] = {\n", p);
    for (uint32_t i = 0; i < d->nmessages; i++) {
      const netfw_desc_message *m = &d->messages[i];
      gen_buf_printf(b, "    {.id = %u, .dir = NETFW_DESC_%s%s,\n     .body = ",
                     m->id, dir_c[m->dir], m->is_reply ? ", .is_reply = true" : "");
      body(b, p, &m->body);
      replies(b, m);
      gen_buf_puts(b, "},\n");
    }
    gen_buf_puts(b, "};\n\n");
  }
}

/* The descriptor itself. */
static void top(gen_buf *b, const char *p, const netfw_desc *d) {
  gen_buf_printf(b, "const netfw_desc %s_descriptor = {\n    .abi = NETFW_DESC_ABI,\n"
                    "    .proto = ", p);
  lit(b, d->proto);
  if (d->doc != NULL) {
    gen_buf_puts(b, ",\n    .doc = ");
    lit(b, d->doc);
  }
  gen_buf_printf(b, ",\n    .big_endian = %s,\n    .version = %u",
                 d->big_endian ? "true" : "false", d->version);
  if (d->nenums)
    gen_buf_printf(b, ",\n    .enums = %s__desc_enums,\n    .nenums = %u", p,
                   d->nenums);
  if (d->nstructs)
    gen_buf_printf(b, ",\n    .structs = %s__desc_structs,\n    .nstructs = %u",
                   p, d->nstructs);
  if (d->nmessages)
    gen_buf_printf(b, ",\n    .messages = %s__desc_messages,\n"
                      "    .nmessages = %u", p, d->nmessages);
  gen_buf_puts(b, "};\n");
}

void gen_emit_descriptor(gen_buf *b, const gen_schema *s, gen_pool *pool) {
  const netfw_desc *d = gen_desc_build(s, pool);
  const char *p = s->proto;
  gen_buf_puts(b, "\n/* ---- the schema as data (netfw/desc.h) ---- */\n\n");
  for (uint32_t i = 0; i < d->nenums; i++)
    consts(b, p, &d->enums[i]);
  for (uint32_t i = 0; i < d->nstructs; i++)
    fields(b, p, &d->structs[i]);
  for (uint32_t i = 0; i < d->nmessages; i++)
    fields(b, p, &d->messages[i].body);
  tables(b, p, d);
  top(b, p, d);
}
