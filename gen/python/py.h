/* The Python back end's internals: the emitters of NAME_netfw.py, one per
 * part of the module, and the Python naming they share. It reads the front
 * end's AST and layout only. */
#ifndef NETFW_GEN_PY_H
#define NETFW_GEN_PY_H

#include <stdbool.h>

#include "front/ast.h"
#include "front/check.h"
#include "front/layout.h"

/* What every emitter writes with. */
typedef struct py_out {
  gen_buf *b;
  const gen_schema *s;
  gen_pool *pool;
  const char *schema_name; /* base name of the schema file, for the banner */
} py_out;

/* ---- Python naming (names.c) ------------------------------------------ */

/* Whether s is a Python keyword (3.9 to 3.13, soft keywords excluded). */
bool py_is_keyword(const char *s);
/* The Python spelling of a type or const (module scope): its name, with a
 * '_' after a keyword, a builtin the module uses, or a name the module
 * defines itself ("Connection" -> "Connection_"). */
const char *py_type_name(gen_pool *p, const gen_decl *d);
/* The attribute spelling of field f of struct or message d: its name, with
 * a '_' after a keyword or a member the class defines ("from" -> "from_",
 * "encode" -> "encode_"). */
const char *py_field_name(gen_pool *p, const gen_decl *d, const gen_field *f);
/* The spelling of an enum constant ("None" -> "None_", "name" -> "name_"). */
const char *py_const_name(gen_pool *p, const gen_enum_const *k);
/* The local variable holding field f inside d's codec functions: its
 * attribute spelling, with a '_' in front when that would hide a name the
 * function uses ("pos" -> "_pos"). */
const char *py_local_name(const py_out *o, const gen_decl *d,
                          const gen_field *f);
/* Python's name rules, run by the front end's checker as its hooks. */
extern const gen_check_hooks py_check_hooks;

/* ---- literals and layout (emit_types.c) -------------------------------- */

/* s[0..n) as the body of a Python string (bytes: of a bytes literal)
 * between double quotes, every byte outside printable ASCII escaped. */
void py_string_body(gen_buf *b, const char *s, size_t n, bool bytes);
/* A `///` doc comment as a docstring at indent (nothing if doc is NULL). */
void py_docstring(gen_buf *b, const char *doc, const char *indent);
/* doc as `#` comment lines at indent (nothing if doc is NULL). */
void py_comment(gen_buf *b, const char *doc, const char *indent);
/* The constant of enum d a field holds by default: the one with value 0,
 * else the first. */
const gen_enum_const *py_enum_default(const gen_decl *d);
/* The struct format character of a number, bool or enum type t. */
char py_format_char(const gen_type *t);
/* The struct format character of a length or count prefix of n bytes. */
char py_prefix_char(int n);
/* The struct of d's decoders whose depth is checked (a repeated field may
 * lead back to it). */
bool py_may_recurse(const gen_decl *d);

/* ---- the parts of the module, in order ---------------------------------- */

/* The docstring, imports, PROTOCOL/VERSION/MAX_PAYLOAD, the consts and
 * DecodeError (emit_types.c). */
void py_emit_prologue(py_out *o);
/* Each enum as an IntEnum, each struct and message as a dataclass with its
 * encode/decode (and frame/to_netframe) methods (emit_types.c). */
void py_emit_types(py_out *o);
/* The codec: the shared checks, then per type its precompiled Structs,
 * _enc_T, _dec_T and _chk_T (emit_codec.c, emit_check.c). */
void py_emit_codec(py_out *o);
/* _chk_T of struct or message d: the slow path naming the bad field, run
 * when the fast encoder fails (emit_check.c). */
void py_emit_check(py_out *o, const gen_decl *d);
/* The shared _check_* helpers _chk_T calls (emit_check.c). */
void py_emit_check_helpers(py_out *o);
/* MESSAGES, UnknownMessage, decode_message, read_frames (emit_frames.c). */
void py_emit_frames(py_out *o);
/* from_netframe, ServerHandlers, ClientHandlers and the send helpers
 * (emit_netframe.c). */
void py_emit_netframe(py_out *o);
/* open_connection and Connection over asyncio streams (emit_asyncio.c). */
void py_emit_asyncio(py_out *o);

#endif /* NETFW_GEN_PY_H */
