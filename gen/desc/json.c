/* The descriptor as a JSON document (--descriptor FILE; the format is
 * docs/descriptor.md). Writing JSON needs no library: strings are escaped
 * here, and nothing is parsed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h" /* runtime/core: plain C, compiled in */
#include "real.h"
#include "desc.h"

static const char *const kind_name[] = {
    [NETFW_DESC_U8] = "u8",         [NETFW_DESC_U16] = "u16",
    [NETFW_DESC_U32] = "u32",       [NETFW_DESC_U64] = "u64",
    [NETFW_DESC_I8] = "i8",         [NETFW_DESC_I16] = "i16",
    [NETFW_DESC_I32] = "i32",       [NETFW_DESC_I64] = "i64",
    [NETFW_DESC_F32] = "f32",       [NETFW_DESC_F64] = "f64",
    [NETFW_DESC_BOOL] = "bool",     [NETFW_DESC_STRING] = "string",
    [NETFW_DESC_BYTES] = "bytes",   [NETFW_DESC_ENUM] = "enum",
    [NETFW_DESC_STRUCT] = "struct"};
static const char *const mode_name[] = {
    [NETFW_DESC_PLAIN] = "plain", [NETFW_DESC_OPTIONAL] = "optional",
    [NETFW_DESC_REPEATED] = "repeated", [NETFW_DESC_ARRAY] = "array"};
static const char *const dir_name[] = {[NETFW_DESC_BOTH] = "both",
                                       [NETFW_DESC_TO_SERVER] = "server",
                                       [NETFW_DESC_TO_CLIENT] = "client"};

/* s[0..n) as a JSON string (\n, \t, \r, other control bytes as \u00XX; the
 * rest as is, since
 * names, docs and checked string literals are UTF-8). */
static void put_str(gen_buf *b, const char *s, size_t n) {
  gen_buf_puts(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      gen_buf_printf(b, "\\%c", c);
    else if (c == '\n')
      gen_buf_puts(b, "\\n");
    else if (c == '\t')
      gen_buf_puts(b, "\\t");
    else if (c == '\r')
      gen_buf_puts(b, "\\r");
    else if (c < 0x20 || c == 0x7f)
      gen_buf_printf(b, "\\u%04x", c);
    else
      gen_buf_append(b, (const char *)&c, 1);
  }
  gen_buf_puts(b, "\"");
}

/* A NUL-terminated string, or null. */
static void put_cstr(gen_buf *b, const char *s) {
  if (s == NULL)
    gen_buf_puts(b, "null");
  else
    put_str(b, s, strlen(s));
}

/* A prefix width in bytes as the type that holds it ("u8", "u16", "u32"). */
static const char *prefix_name(uint8_t bytes) {
  return bytes == 1 ? "u8" : bytes == 2 ? "u16" : "u32";
}

/* A reader over a default's wire bytes. */
typedef struct rd {
  const uint8_t *p;
  bool big;
} rd;

/* The next n bytes as an unsigned number in the schema's byte order. */
static uint64_t take(rd *r, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++)
    v |= (uint64_t)r->p[i] << (8 * (r->big ? n - 1 - i : i));
  r->p += n;
  return v;
}

/* data[0..n) as standard base64 with padding, quoted. */
static void put_base64(gen_buf *b, const uint8_t *data, size_t n) {
  char *text = malloc(NETFW__BASE64_LEN(n) + 1);
  gen_buf_puts(b, "\"");
  if (text != NULL) {
    netfw__base64_encode(text, data, n);
    gen_buf_append(b, text, NETFW__BASE64_LEN(n));
    free(text);
  }
  gen_buf_puts(b, "\"");
}

/* A signed number of n bytes from its bits. */
static int64_t sign_extend(uint64_t v, int n) {
  if (n < 8 && (v >> (8 * n - 1)) & 1)
    v |= ~(uint64_t)0 << (8 * n);
  return (int64_t)v;
}

/* An integer as the JSON mapping writes it: a number up to 2^53, a string
 * beyond. */
static void put_int(gen_buf *b, bool sign, uint64_t bits, int n) {
  int64_t s = sign ? sign_extend(bits, n) : 0;
  bool big = sign ? (s > (1LL << 53) || s < -(1LL << 53)) : bits > (1ULL << 53);
  const char *q = big ? "\"" : "";
  if (sign)
    gen_buf_printf(b, "%s%lld%s", q, (long long)s, q);
  else
    gen_buf_printf(b, "%s%llu%s", q, (unsigned long long)bits, q);
}

/* One value of field f's type read from r, in the JSON mapping. */
static void put_value(gen_buf *b, const netfw_desc *d, const netfw_desc_field *f,
                      rd *r) {
  static const int size[] = {1, 2, 4, 8, 1, 2, 4, 8, 4, 8, 1};
  if (f->kind == NETFW_DESC_STRING || f->kind == NETFW_DESC_BYTES) {
    size_t n = (size_t)take(r, f->prefix);
    if (f->kind == NETFW_DESC_STRING)
      put_str(b, (const char *)r->p, n);
    else
      put_base64(b, r->p, n);
    r->p += n;
  } else if (f->kind == NETFW_DESC_ENUM) {
    const netfw_desc_enum *e = &d->enums[f->type];
    uint64_t v = take(r, e->size);
    for (uint32_t i = 0; i < e->nconsts; i++)
      if (e->consts[i].value == v) {
        put_cstr(b, e->consts[i].name);
        return;
      }
    gen_buf_printf(b, "%llu", (unsigned long long)v);
  } else if (f->kind == NETFW_DESC_BOOL) {
    gen_buf_puts(b, take(r, 1) ? "true" : "false");
  } else if (f->kind == NETFW_DESC_F32 || f->kind == NETFW_DESC_F64) {
    uint64_t bits = take(r, size[f->kind]);
    double x;
    if (f->kind == NETFW_DESC_F32) {
      uint32_t u = (uint32_t)bits;
      float g;
      memcpy(&g, &u, sizeof(g));
      x = g;
    } else {
      memcpy(&x, &bits, sizeof(x));
    }
    char text[48];
    netfw__real_text(text, sizeof(text), x, f->kind == NETFW_DESC_F32);
    gen_buf_puts(b, text);
  } else {
    put_int(b, f->kind >= NETFW_DESC_I8, take(r, size[f->kind]), size[f->kind]);
  }
}

/* A [since] field's default: in the JSON mapping, then as wire hex. */
static void put_default(gen_buf *b, const netfw_desc *d,
                        const netfw_desc_field *f) {
  rd r = {f->def, d->big_endian};
  gen_buf_puts(b, ", \"default\": ");
  if (f->mode == NETFW_DESC_OPTIONAL)
    gen_buf_puts(b, "null");
  else if (f->mode == NETFW_DESC_REPEATED)
    gen_buf_puts(b, "[]");
  else if (f->mode == NETFW_DESC_ARRAY) {
    gen_buf_puts(b, "[");
    for (uint32_t i = 0; i < f->array_len; i++) {
      gen_buf_puts(b, i ? ", " : "");
      put_value(b, d, f, &r);
    }
    gen_buf_puts(b, "]");
  } else
    put_value(b, d, f, &r);
  gen_buf_puts(b, ", \"default_wire\": \"");
  for (uint32_t i = 0; i < f->def_len; i++)
    gen_buf_printf(b, "%02x", f->def[i]);
  gen_buf_puts(b, "\"");
}

/* The name of field f's type as a schema spells it. */
static const char *type_name(const netfw_desc *d, const netfw_desc_field *f) {
  if (f->kind == NETFW_DESC_ENUM)
    return d->enums[f->type].name;
  if (f->kind == NETFW_DESC_STRUCT)
    return d->structs[f->type].name;
  return kind_name[f->kind];
}

/* One field object. */
static void put_field(gen_buf *b, const netfw_desc *d, const netfw_desc_field *f) {
  gen_buf_puts(b, "        {\"name\": ");
  put_cstr(b, f->name);
  gen_buf_printf(b, ", \"kind\": \"%s\", \"type\": ", kind_name[f->kind]);
  put_cstr(b, type_name(d, f));
  if (f->kind == NETFW_DESC_STRING || f->kind == NETFW_DESC_BYTES)
    gen_buf_printf(b, ", \"prefix\": \"%s\"", prefix_name(f->prefix));
  gen_buf_printf(b, ", \"mode\": \"%s\"", mode_name[f->mode]);
  if (f->mode == NETFW_DESC_REPEATED)
    gen_buf_printf(b, ", \"count_prefix\": \"%s\"", prefix_name(f->count_prefix));
  if (f->mode == NETFW_DESC_ARRAY)
    gen_buf_printf(b, ", \"length\": %u", f->array_len);
  gen_buf_printf(b, ", \"since\": %u", f->since);
  if (f->since > 0)
    put_default(b, d, f);
  gen_buf_puts(b, ", \"doc\": ");
  put_cstr(b, f->doc);
  gen_buf_puts(b, "}");
}

/* The "fields" array of a struct or message body. */
static void put_fields(gen_buf *b, const netfw_desc *d,
                       const netfw_desc_struct *s) {
  gen_buf_puts(b, ", \"fields\": [");
  for (uint32_t i = 0; i < s->nfields; i++) {
    gen_buf_puts(b, i ? ",\n" : "\n");
    put_field(b, d, &s->fields[i]);
  }
  gen_buf_puts(b, s->nfields ? "\n      ]}" : "]}");
}

/* The "enums" array. */
static void put_enums(gen_buf *b, const netfw_desc *d) {
  gen_buf_puts(b, "  \"enums\": [");
  for (uint32_t i = 0; i < d->nenums; i++) {
    const netfw_desc_enum *e = &d->enums[i];
    gen_buf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
    put_cstr(b, e->name);
    gen_buf_printf(b, ", \"type\": \"%s\", \"open\": %s, \"doc\": ",
                   prefix_name(e->size), e->open ? "true" : "false");
    put_cstr(b, e->doc);
    gen_buf_puts(b, ", \"values\": [");
    for (uint32_t k = 0; k < e->nconsts; k++) {
      gen_buf_puts(b, k ? ",\n      {\"name\": " : "\n      {\"name\": ");
      put_cstr(b, e->consts[k].name);
      gen_buf_printf(b, ", \"value\": %llu, \"doc\": ",
                     (unsigned long long)e->consts[k].value);
      put_cstr(b, e->consts[k].doc);
      gen_buf_puts(b, "}");
    }
    gen_buf_puts(b, e->nconsts ? "\n    ]}" : "]}");
  }
  gen_buf_puts(b, d->nenums ? "\n  ],\n" : "],\n");
}

/* The "structs" array. */
static void put_structs(gen_buf *b, const netfw_desc *d) {
  gen_buf_puts(b, "  \"structs\": [");
  for (uint32_t i = 0; i < d->nstructs; i++) {
    const netfw_desc_struct *s = &d->structs[i];
    gen_buf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
    put_cstr(b, s->name);
    if (s->ext_prefix)
      gen_buf_printf(b, ", \"extensible\": \"%s\"", prefix_name(s->ext_prefix));
    else
      gen_buf_puts(b, ", \"extensible\": null");
    gen_buf_puts(b, ", \"doc\": ");
    put_cstr(b, s->doc);
    put_fields(b, d, s);
  }
  gen_buf_puts(b, d->nstructs ? "\n  ],\n" : "],\n");
}

/* The "messages" array. */
static void put_messages(gen_buf *b, const netfw_desc *d) {
  gen_buf_puts(b, "  \"messages\": [");
  for (uint32_t i = 0; i < d->nmessages; i++) {
    const netfw_desc_message *m = &d->messages[i];
    gen_buf_puts(b, i ? ",\n    {\"name\": " : "\n    {\"name\": ");
    put_cstr(b, m->body.name);
    gen_buf_printf(b, ", \"id\": %u, \"direction\": \"%s\", \"returns\": [",
                   m->id, dir_name[m->dir]);
    for (uint32_t k = 0; k < m->nreturns; k++) {
      gen_buf_puts(b, k ? ", " : "");
      put_cstr(b, d->messages[m->returns[k]].body.name);
    }
    gen_buf_printf(b, "], \"reply\": %s, \"doc\": ",
                   m->is_reply ? "true" : "false");
    put_cstr(b, m->body.doc);
    put_fields(b, d, &m->body);
  }
  gen_buf_puts(b, d->nmessages ? "\n  ]\n" : "]\n");
}

void gen_desc_json(gen_buf *out, const netfw_desc *d) {
  gen_buf_printf(out, "{\n  \"netfw_descriptor\": %u,\n  \"protocol\": ",
                 d->abi);
  put_cstr(out, d->proto);
  gen_buf_printf(out, ",\n  \"endian\": \"%s\",\n  \"version\": %u,\n"
                      "  \"doc\": ",
                 d->big_endian ? "big" : "little", d->version);
  put_cstr(out, d->doc);
  gen_buf_puts(out, ",\n");
  put_enums(out, d);
  put_structs(out, d);
  put_messages(out, d);
  gen_buf_puts(out, "}\n");
}
