/* The declarations of <schema>.lua: the enum tables (value_string tables
 * for Wireshark), the message names by id, the frame's fields and one
 * ProtoField per field of every struct and message, abbreviated
 * "<proto>.<Type>.<field>" so that -T json and -e pick them out, and their
 * registration. */
#include <stdio.h>
#include <string.h>

#include "ws.h"

static void protofield(ws_out *o, const gen_type *t, const char *abbr,
                       const char *label, const char *desc);

/* The enums: constants by value, byte size, open or closed. */
static void enums(ws_out *o) {
  gen_buf *b = o->b;
  gen_buf_puts(b, "-- Each enum's constants by value; an open enum accepts "
                  "other values too.\nlocal enums = {}\n");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_ENUM)
      continue;
    ws_comment(b, d->doc, "");
    gen_buf_puts(b, "enums");
    ws_key(b, d->name);
    gen_buf_printf(b,
                   " = { name = \"%s\", size = %d, open = %s, names = {\n",
                   d->name, gen_scalar_size(d->underlying),
                   d->open ? "true" : "false");
    for (size_t k = 0; k < d->nconsts; k++)
      gen_buf_printf(b, "  [%llu] = \"%s\",\n",
                     (unsigned long long)d->consts[k].value,
                     d->consts[k].name);
    gen_buf_puts(b, "} }\n");
  }
  gen_buf_puts(b, "\n");
}

/* The message names by frame id (the id field's value_string). */
static void message_names(ws_out *o) {
  gen_buf *b = o->b;
  gen_buf_puts(b, "-- Message names by frame id.\nlocal message_names = {\n");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind == D_MESSAGE)
      gen_buf_printf(b, "  [%llu] = \"%s\",\n", (unsigned long long)d->id,
                     d->name);
  }
  gen_buf_puts(b, "}\n\n");
}

/* The fields of the frame itself, and each message's subtree. */
static void frame_fields(ws_out *o) {
  gen_buf *b = o->b;
  const char *p = o->proto;
  gen_buf_printf(
      b,
      "-- The frame's own fields.\n"
      "local HF = {\n"
      "  id = ProtoField.uint16(\"%s.id\", \"Message id\", base.DEC,\n"
      "    message_names, nil, \"u16, little endian: which message the "
      "payload holds\"),\n"
      "  size = ProtoField.uint32(\"%s.size\", \"Payload size\", base.DEC,\n"
      "    nil, nil, \"u32, little endian: the payload's length in bytes\"),\n"
      "  payload = ProtoField.bytes(\"%s.payload\", \"Payload\", base.NONE,\n"
      "    \"The payload of a message id this schema does not have\"),\n"
      "  newer = ProtoField.bytes(\"%s.newer\", \"Newer fields\", base.NONE,\n"
      "    \"Bytes after the fields this schema knows, skipped\"),\n"
      "}\n\n",
      p, p, p, p);
  gen_buf_puts(b, "-- Each message's subtree, by frame id.\n"
                  "local message_fields = {\n");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    gen_type subtree = {.kind = TY_NAMED};
    char abbr[300];
    snprintf(abbr, sizeof(abbr), "%s.%s", p, d->name);
    gen_buf_printf(b, "  [%llu] = ", (unsigned long long)d->id);
    char what[300];
    snprintf(what, sizeof(what), "message %s = %llu", d->name,
             (unsigned long long)d->id);
    protofield(o, &subtree, abbr, d->name, d->doc != NULL ? d->doc : what);
    gen_buf_puts(b, ",\n");
  }
  gen_buf_puts(b, "}\n\n");
}

/* Appends to b the ProtoField constructor for one value of type t, up to
 * its description (the last argument). */
static void constructor(gen_buf *b, const gen_type *t, const char *abbr,
                        const char *label) {
  static const char *const ints[] = {
      [TY_U8] = "uint8", [TY_U16] = "uint16", [TY_U32] = "uint32",
      [TY_U64] = "uint64", [TY_I8] = "int8",  [TY_I16] = "int16",
      [TY_I32] = "int32",  [TY_I64] = "int64"};
  const gen_decl *d = t->kind == TY_NAMED ? t->decl : NULL;
  if (t->kind <= TY_I64) {
    gen_buf_printf(b, "ProtoField.%s(\"%s\", \"%s\", base.DEC, nil, nil, ",
                   ints[t->kind], abbr, label);
  } else if (d != NULL && d->kind == D_ENUM) {
    gen_buf_printf(b, "ProtoField.%s(\"%s\", \"%s\", base.DEC, enums",
                   ints[d->underlying], abbr, label);
    ws_key(b, d->name);
    gen_buf_puts(b, ".names, nil, ");
  } else if (t->kind == TY_F32 || t->kind == TY_F64) {
    gen_buf_printf(b, "ProtoField.%s(\"%s\", \"%s\", nil, ",
                   t->kind == TY_F32 ? "float" : "double", abbr, label);
  } else if (t->kind == TY_BOOL) {
    gen_buf_printf(b, "ProtoField.bool(\"%s\", \"%s\", base.NONE, nil, nil, ",
                   abbr, label);
  } else if (t->kind == TY_STRING) {
    gen_buf_printf(b, "ProtoField.string(\"%s\", \"%s\", base.UNICODE, ", abbr,
                   label);
  } else if (t->kind == TY_BYTES) {
    gen_buf_printf(b, "ProtoField.bytes(\"%s\", \"%s\", base.NONE, ", abbr,
                   label);
  } else {
    gen_buf_printf(b, "ProtoField.none(\"%s\", \"%s\", ", abbr, label);
  }
}

/* The column the end of b is at. */
static size_t column(const gen_buf *b) {
  size_t n = 0;
  while (n < b->len && b->data[b->len - 1 - n] != '\n')
    n++;
  return n;
}

/* Appends the ProtoField constructor call for one value of type t, broken
 * to stay within 80 columns where it can: before the description, and
 * after the abbreviation if that is not enough. */
static void protofield(ws_out *o, const gen_type *t, const char *abbr,
                       const char *label, const char *desc) {
  gen_buf call = {0}, lit = {0};
  constructor(&call, t, abbr, label);
  ws_lua_string(&lit, desc);
  size_t col = column(o->b);
  if (col + call.len + lit.len + 2 > 80 && col + call.len > 81) {
    /* after the abbreviation: `ProtoField.x("abbr",` */
    size_t head = (size_t)(strstr(call.data, "\", ") - call.data) + 2;
    gen_buf_append(o->b, call.data, head);
    gen_buf_puts(o->b, "\n    ");
    memmove(call.data, call.data + head + 1, call.len - head);
    call.len -= head + 1;
    col = 4;
  }
  if (col + call.len + lit.len + 2 > 80) {
    gen_buf_append(o->b, call.data, call.len - 1); /* no trailing space */
    gen_buf_puts(o->b, "\n    ");
  } else {
    gen_buf_append(o->b, call.data, call.len);
  }
  gen_buf_append(o->b, lit.data, lit.len);
  gen_buf_puts(o->b, ")");
  gen_buf_free(&call);
  gen_buf_free(&lit);
}

/* The description of field f, on one line: its schema type, then its doc
 * comment. */
static const char *describe(ws_out *o, const gen_field *f, const char *what) {
  gen_buf t = {0};
  gen_buf_puts(&t, ws_type_text(o->pool, f));
  if (what != NULL)
    gen_buf_printf(&t, ": %s", what);
  if (f->doc != NULL)
    gen_buf_printf(&t, ". %s", f->doc);
  for (size_t i = 0; i < t.len; i++) /* one line: -G fields is a table */
    if (t.data[i] == '\n')
      t.data[i] = ' ';
  const char *s = gen_pool_strndup(o->pool, t.data, t.len);
  gen_buf_free(&t);
  return s;
}

/* The ProtoFields of field f of d: the value's, and the count's of a
 * repeated field or the presence byte's of an optional one. */
static void field_fields(ws_out *o, const gen_decl *d, const gen_field *f) {
  gen_buf *b = o->b;
  char abbr[512], extra[560], label[300];
  snprintf(abbr, sizeof(abbr), "%s.%s.%s", o->proto, d->name, f->name);
  if (f->mode == F_REPEATED) {
    gen_type count = {.kind = f->count_prefix == 1   ? TY_U8
                              : f->count_prefix == 2 ? TY_U16
                                                     : TY_U32};
    snprintf(extra, sizeof(extra), "%s.count", abbr);
    gen_buf_printf(b, "  [\"%s.count\"] = ", f->name);
    protofield(o, &count, extra, f->name, describe(o, f, "the count"));
    gen_buf_puts(b, ",\n");
  } else if (f->mode == F_OPTIONAL) {
    gen_type flag = {.kind = TY_BOOL};
    snprintf(extra, sizeof(extra), "%s.present", abbr);
    snprintf(label, sizeof(label), "%s present", f->name);
    gen_buf_printf(b, "  [\"%s.present\"] = ", f->name);
    protofield(o, &flag, extra, label, describe(o, f, "the presence byte"));
    gen_buf_puts(b, ",\n");
  }
  gen_buf_puts(b, "  ");
  ws_ctor_key(b, f->name);
  gen_buf_puts(b, " = ");
  protofield(o, &f->type, abbr, f->name, describe(o, f, NULL));
  gen_buf_puts(b, ",\n");
}

/* F.<Type>: the fields of every struct and message. */
static void type_fields(ws_out *o) {
  gen_buf *b = o->b;
  gen_buf_printf(b, "-- The fields of each struct and message: "
                    "%s.<Type>.<field>.\nlocal F = {}\n",
                 o->proto);
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_STRUCT && d->kind != D_MESSAGE)
      continue;
    gen_buf_puts(b, "F");
    ws_key(b, d->name);
    gen_buf_puts(b, d->nfields > 0 ? " = {\n" : " = {}\n");
    for (size_t k = 0; k < d->nfields; k++)
      field_fields(o, d, &d->fields[k]);
    if (d->nfields > 0)
      gen_buf_puts(b, "}\n");
  }
  gen_buf_puts(b, "\n");
}

/* proto.fields, and WHAT: each field's name in expert messages. */
static void registration(ws_out *o) {
  gen_buf_puts(
      o->b,
      "-- Every field registered; WHAT names each in expert messages\n"
      "-- (\"ListResp.files\").\n"
      "local WHAT = {}\n"
      "do\n"
      "  local all = { HF.id, HF.size, HF.payload, HF.newer }\n"
      "  for _, field in pairs(message_fields) do\n"
      "    all[#all + 1] = field\n"
      "  end\n"
      "  for type_name, fields in pairs(F) do\n"
      "    for key, field in pairs(fields) do\n"
      "      all[#all + 1] = field\n"
      "      WHAT[field] = type_name .. \".\" .. key\n"
      "    end\n"
      "  end\n"
      "  proto.fields = all\n"
      "end\n\n");
}

void ws_emit_fields(ws_out *o) {
  enums(o);
  message_names(o);
  frame_fields(o);
  type_fields(o);
  registration(o);
}
