/* The Wireshark back end's internals: the emitters of <schema>.lua, one
 * per part of the dissector, and the Lua spellings they share. It reads the
 * front end's AST and layout only. */
#ifndef NETFW_GEN_WS_H
#define NETFW_GEN_WS_H

#include <stdbool.h>

#include "front/ast.h"
#include "front/check.h"
#include "front/layout.h"

/* What every emitter writes with. */
typedef struct ws_out {
  gen_buf *b;
  const gen_schema *s;
  gen_pool *pool;
  const char *schema_name; /* base name of the schema file, for the banner */
  const char *proto;       /* the Wireshark protocol name (lower case) */
} ws_out;

/* ---- names (names.c) ---------------------------------------------------- */

/* The Wireshark protocol (filter) name of s: its protocol name, lower case
 * (Wireshark refuses upper case there). */
const char *ws_proto_name(gen_pool *p, const gen_schema *s);
/* Whether name is a Lua keyword. */
bool ws_is_keyword(const char *name);
/* Appends name as a Lua table key after a table expression: ".name", or
 * "[\"name\"]" when name is a Lua keyword. */
void ws_key(gen_buf *b, const char *name);
/* Appends name as a key in a Lua table constructor: "name", or
 * "[\"name\"]" when name is a Lua keyword. */
void ws_ctor_key(gen_buf *b, const char *name);
/* Appends s as a Lua string literal, quotes included: printable ASCII as
 * is, '"' and '\\' escaped, every other byte as \ddd. */
void ws_lua_string(gen_buf *b, const char *s);
/* doc as `--` comment lines at indent (nothing if doc is NULL). */
void ws_comment(gen_buf *b, const char *doc, const char *indent);
/* The schema spelling of field f's type: "repeated<u16> FileEntry",
 * "optional u32", "string<u8>", "u8[4]". */
const char *ws_type_text(gen_pool *p, const gen_field *f);
/* The dissector's name rules, run by the front end's checker as hooks. */
extern const gen_check_hooks ws_check_hooks;

/* ---- the parts of the file, in order ------------------------------------- */

/* Banner, the Proto, its constants and expert infos (emit_frame.c). */
void ws_emit_prologue(ws_out *o);
/* The enum tables, the message names, every ProtoField and their
 * registration (emit_fields.c). */
void ws_emit_fields(ws_out *o);
/* The helpers the dissect functions call: cursor checks, one per kind of
 * value and per field mode (emit_helpers.c). */
void ws_emit_helpers(ws_out *o);
/* The struct descriptors and one dissect function per struct and message
 * (emit_dissect.c). */
void ws_emit_dissect(ws_out *o);
/* The frame dissector (header, reassembly with dissect_tcp_pdus), the port
 * preference and the registration in tcp.port (emit_frame.c). */
void ws_emit_frame(ws_out *o);

#endif /* NETFW_GEN_WS_H */
