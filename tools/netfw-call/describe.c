/* --list and --describe: the schema as the descriptor has it, written in
 * the schema's own syntax (every prefix width spelled out, array lengths
 * as numbers); a [since] field's default literal is taken from the source
 * as written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"

/* "u8", "u16", "u32" for a prefix of n bytes. */
static const char *width(unsigned n) {
  return n == 1 ? "u8" : n == 2 ? "u16" : "u32";
}

static const char *const scalar_names[] = {
    [NETFW_DESC_U8] = "u8",    [NETFW_DESC_U16] = "u16",
    [NETFW_DESC_U32] = "u32",  [NETFW_DESC_U64] = "u64",
    [NETFW_DESC_I8] = "i8",    [NETFW_DESC_I16] = "i16",
    [NETFW_DESC_I32] = "i32",  [NETFW_DESC_I64] = "i64",
    [NETFW_DESC_F32] = "f32",  [NETFW_DESC_F64] = "f64",
    [NETFW_DESC_BOOL] = "bool"};

/* Writes a /// comment of doc (NULL: nothing), each line indented. */
static void put_doc(const char *doc, const char *indent) {
  while (doc != NULL) {
    const char *nl = strchr(doc, '\n');
    int n = nl != NULL ? (int)(nl - doc) : (int)strlen(doc);
    printf("%s///%s%.*s\n", indent, n > 0 ? " " : "", n, doc);
    doc = nl != NULL ? nl + 1 : NULL;
  }
}

/* Writes the type of one value of f: "string<u8>", "FileEntry", ... */
static void put_type(const netfw_desc *d, const netfw_desc_field *f) {
  switch (f->kind) {
  case NETFW_DESC_STRING:
    printf("string<%s>", width(f->prefix));
    break;
  case NETFW_DESC_BYTES:
    printf("bytes<%s>", width(f->prefix));
    break;
  case NETFW_DESC_ENUM:
    printf("%s", d->enums[f->type].name);
    break;
  case NETFW_DESC_STRUCT:
    printf("%s", d->structs[f->type].name);
    break;
  default:
    printf("%s", f->kind <= NETFW_DESC_BOOL ? scalar_names[f->kind] : "?");
  }
}

/* The declaration named name (a struct or message) in the AST, or NULL. */
static const gen_decl *ast_decl(const call_schema *s, const char *name) {
  for (size_t i = 0; i < s->ast.ndecls; i++) {
    const gen_decl *d = s->ast.decls[i];
    if ((d->kind == D_STRUCT || d->kind == D_MESSAGE) &&
        strcmp(d->name, name) == 0)
      return d;
  }
  return NULL;
}

/* Writes field i of a body (ast: its declaration, for default literals). */
static void put_field(const netfw_desc *d, const netfw_desc_field *f,
                      const gen_decl *ast, uint32_t i) {
  const gen_field *af =
      ast != NULL && i < ast->nfields ? &ast->fields[i] : NULL;
  put_doc(f->doc, "    ");
  printf("    ");
  if (f->mode == NETFW_DESC_OPTIONAL)
    printf("optional ");
  else if (f->mode == NETFW_DESC_REPEATED)
    printf("repeated<%s> ", width(f->count_prefix));
  put_type(d, f);
  printf(" %s", f->name);
  if (f->mode == NETFW_DESC_ARRAY)
    printf("[%u]", (unsigned)f->array_len);
  if (af != NULL && strcmp(af->name, f->name) == 0 && af->def.kind != V_NONE &&
      af->def.text != NULL)
    printf(" = %s", af->def.text);
  if (f->since > 0)
    printf(" [since %u]", (unsigned)f->since);
  printf(";\n");
}

/* Writes the fields of body b between braces. */
static void put_body(const call_schema *s, const netfw_desc_struct *b) {
  const gen_decl *ast = ast_decl(s, b->name);

  if (b->nfields == 0) {
    printf(" {}\n");
    return;
  }
  printf(" {\n");
  for (uint32_t i = 0; i < b->nfields; i++)
    put_field(s->desc, &b->fields[i], ast, i);
  printf("}\n");
}

/* "message Get = 3 -> server returns GetResp | Ack" (no newline). */
static void message_head(const netfw_desc *d, const netfw_desc_message *m) {
  printf("message %s = %u%s", m->body.name, (unsigned)m->id,
         m->dir == NETFW_DESC_TO_SERVER   ? " -> server"
         : m->dir == NETFW_DESC_TO_CLIENT ? " -> client"
                                          : "");
  for (uint32_t i = 0; i < m->nreturns; i++)
    printf("%s%s", i == 0 ? " returns " : " | ",
           d->messages[m->returns[i]].body.name);
}

/* "struct Entry extensible<u8>" (no newline). */
static void struct_head(const netfw_desc_struct *st) {
  printf("struct %s", st->name);
  if (st->ext_prefix != 0)
    printf(" extensible<%s>", width(st->ext_prefix));
}

/* "enum Rc : u8 open" (no newline). */
static void enum_head(const netfw_desc_enum *e) {
  printf("enum %s : %s%s", e->name, width(e->size), e->open ? " open" : "");
}

int call_list(const call_schema *s) {
  const netfw_desc *d = s->desc;

  for (uint32_t i = 0; i < d->nmessages; i++) {
    message_head(d, &d->messages[i]);
    printf("\n");
  }
  for (uint32_t i = 0; i < d->nstructs; i++) {
    struct_head(&d->structs[i]);
    printf("\n");
  }
  for (uint32_t i = 0; i < d->nenums; i++) {
    enum_head(&d->enums[i]);
    printf("\n");
  }
  return CALL_OK;
}

/* Writes enum e with its constants. */
static void put_enum(const netfw_desc_enum *e) {
  put_doc(e->doc, "");
  enum_head(e);
  if (e->nconsts == 0) {
    printf(" {}\n");
    return;
  }
  printf(" {\n");
  for (uint32_t i = 0; i < e->nconsts; i++) {
    put_doc(e->consts[i].doc, "    ");
    printf("    %s = %llu;\n", e->consts[i].name,
           (unsigned long long)e->consts[i].value);
  }
  printf("}\n");
}

/* Complains that name is none of d's declarations (did you mean?). */
static void unknown_name(const netfw_desc *d, const char *name) {
  size_t n = d->nmessages + d->nstructs + d->nenums, k = 0;
  const char **names = calloc(n + 1, sizeof(*names));
  const char *near = NULL;

  if (names != NULL) {
    for (uint32_t i = 0; i < d->nmessages; i++)
      names[k++] = d->messages[i].body.name;
    for (uint32_t i = 0; i < d->nstructs; i++)
      names[k++] = d->structs[i].name;
    for (uint32_t i = 0; i < d->nenums; i++)
      names[k++] = d->enums[i].name;
    near = gen_closest(name, names, k);
  }
  free(names);
  if (near != NULL)
    fprintf(stderr,
            "netfw-call: no message, struct or enum '%s' (did you mean "
            "'%s'?)\n",
            name, near);
  else
    fprintf(stderr,
            "netfw-call: no message, struct or enum '%s' in protocol %s "
            "(--list shows them)\n",
            name, d->proto);
}

/* Writes message m with its doc and fields. */
static void put_message(const call_schema *s, const netfw_desc_message *m) {
  put_doc(m->body.doc, "");
  message_head(s->desc, m);
  put_body(s, &m->body);
}

/* Writes struct st with its doc and fields. */
static void put_struct(const call_schema *s, const netfw_desc_struct *st) {
  put_doc(st->doc, "");
  struct_head(st);
  put_body(s, st);
}

/* Writes the whole schema: the protocol line and its options, then every
 * enum, struct and message, a blank line between declarations. */
static void put_schema(const call_schema *s) {
  const netfw_desc *d = s->desc;

  put_doc(d->doc, "");
  printf("protocol %s;\n", d->proto);
  if (d->big_endian)
    printf("option endian = big;\n");
  if (d->version != 1)
    printf("option version = %u;\n", (unsigned)d->version);
  for (uint32_t i = 0; i < d->nenums; i++) {
    printf("\n");
    put_enum(&d->enums[i]);
  }
  for (uint32_t i = 0; i < d->nstructs; i++) {
    printf("\n");
    put_struct(s, &d->structs[i]);
  }
  for (uint32_t i = 0; i < d->nmessages; i++) {
    printf("\n");
    put_message(s, &d->messages[i]);
  }
}

int call_describe(const call_schema *s, const char *name) {
  const netfw_desc *d = s->desc;
  const netfw_desc_message *m = netfw_desc_message_by_name(d, name);

  if (m != NULL) {
    put_message(s, m);
    return CALL_OK;
  }
  for (uint32_t i = 0; i < d->nstructs; i++)
    if (strcmp(d->structs[i].name, name) == 0) {
      put_struct(s, &d->structs[i]);
      return CALL_OK;
    }
  for (uint32_t i = 0; i < d->nenums; i++)
    if (strcmp(d->enums[i].name, name) == 0) {
      put_enum(&d->enums[i]);
      return CALL_OK;
    }
  if (strcmp(d->proto, name) == 0) {
    put_schema(s);
    return CALL_OK;
  }
  unknown_name(d, name);
  return CALL_USAGE;
}

int call_describe_schema(const call_schema *s) {
  put_schema(s);
  return CALL_OK;
}
