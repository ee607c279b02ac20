/* The Lua and Wireshark spellings the emitters share, and the dissector's
 * name rules, run by the front end's checker as its hooks (see
 * front/check.h): a message's subtree is the Wireshark field
 * "<proto>.<Message>", so a message may not be named like one of the fields
 * the frame itself registers ("<proto>.id", "<proto>.size"...). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ws.h"

static const char *const lua_keywords[] = {
    "and",  "break", "do",     "else",   "elseif", "end",   "false", "for",
    "function", "goto", "if",  "in",     "local",  "nil",   "not",   "or",
    "repeat", "return", "then", "true",  "until",  "while"};

/* The fields the frame registers under "<proto>." (emit_fields.c). */
static const char *const frame_fields[] = {
    "id", "size", "payload", "newer", "malformed", "defaults", "unknown_id",
    "newer_fields"};

/* Whether s is one of the n strings of list. */
static bool in_list(const char *s, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

const char *ws_proto_name(gen_pool *p, const gen_schema *s) {
  char *name = gen_pool_strndup(p, s->proto, strlen(s->proto));
  for (char *c = name; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  return name;
}

bool ws_is_keyword(const char *name) {
  return in_list(name, lua_keywords,
                 sizeof(lua_keywords) / sizeof(lua_keywords[0]));
}

void ws_key(gen_buf *b, const char *name) {
  if (ws_is_keyword(name))
    gen_buf_printf(b, "[\"%s\"]", name);
  else
    gen_buf_printf(b, ".%s", name);
}

void ws_ctor_key(gen_buf *b, const char *name) {
  if (ws_is_keyword(name))
    gen_buf_printf(b, "[\"%s\"]", name);
  else
    gen_buf_puts(b, name);
}

void ws_lua_string(gen_buf *b, const char *s) {
  gen_buf_puts(b, "\"");
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\')
      gen_buf_printf(b, "\\%c", *c);
    else if (*c >= 0x20 && *c < 0x7f)
      gen_buf_append(b, (const char *)c, 1);
    else
      gen_buf_printf(b, "\\%03u", *c);
  }
  gen_buf_puts(b, "\"");
}

void ws_comment(gen_buf *b, const char *doc, const char *indent) {
  gen_buf_comment(b, doc, indent, "-- ");
}

/* The spelling of a length or count prefix of n bytes. */
static const char *prefix_name(int n) {
  return n == 1 ? "u8" : n == 2 ? "u16" : "u32";
}

/* The schema spelling of type t ("string<u8>", "FileEntry"). */
static void type_text(gen_buf *b, const gen_type *t) {
  if (t->kind == TY_NAMED)
    gen_buf_puts(b, t->name);
  else if (t->kind == TY_STRING || t->kind == TY_BYTES)
    gen_buf_printf(b, "%s<%s>", gen_scalar_name(t->kind),
                   prefix_name(t->prefix));
  else
    gen_buf_puts(b, gen_scalar_name(t->kind));
}

const char *ws_type_text(gen_pool *p, const gen_field *f) {
  gen_buf b = {0};
  if (f->mode == F_OPTIONAL)
    gen_buf_puts(&b, "optional ");
  else if (f->mode == F_REPEATED)
    gen_buf_printf(&b, "repeated<%s> ", prefix_name(f->count_prefix));
  type_text(&b, &f->type);
  if (f->mode == F_ARRAY)
    gen_buf_printf(&b, "[%llu]", (unsigned long long)f->array_len);
  const char *s = gen_pool_strndup(p, b.data, b.len);
  gen_buf_free(&b);
  return s;
}

/* A message named like a field of the frame would register its subtree
 * under the same Wireshark abbreviation: an error. */
static void check_schema(gen_diag *d, gen_pool *pool, const gen_schema *s) {
  const char *proto = s->proto ? ws_proto_name(pool, s) : "?";
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *m = s->decls[i];
    if (m->kind == D_MESSAGE &&
        in_list(m->name, frame_fields,
                sizeof(frame_fields) / sizeof(frame_fields[0])))
      gen_error(d, m->pos,
                "message '%s' would be the Wireshark field '%s.%s', which "
                "the dissector uses for the frame; rename the message",
                m->name, proto, m->name);
  }
}

const gen_check_hooks ws_check_hooks = {
    .field_name = NULL, .fields = NULL, .schema = check_schema};
