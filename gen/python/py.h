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
  gen_buf defs;    /* Struct definitions not yet written (py_flush_defs) */
  gen_map structs; /* "T/fmt" -> the name of its Struct */
  gen_map counts;  /* T -> Structs named after T so far (an int) */
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

/* ---- the codec emitter's internals (emit_codec.c, emit_values.c) ------ */

typedef enum py_item_kind {
  K_VALUE,   /* a number, bool or enum */
  K_ARRAY,   /* a fixed array of those */
  K_LEN,     /* the length of a string or bytes; the data follows */
  K_COUNT,   /* the count of a repeated field; the elements follow */
  K_PRESENT, /* the presence byte of an optional; the value may follow */
} py_item_kind;

typedef struct py_item {
  py_item_kind kind;
  const gen_field *f;
  char code;  /* struct format character of one element */
  int size;   /* bytes of one element */
  uint64_t n; /* elements (K_ARRAY), else 1 */
} py_item;

typedef struct py_codec {
  py_out *o;
  const gen_decl *d;
  const char *T;
  gen_buf enc, dec; /* the two bodies */
  py_item *run;     /* the run not yet packed */
  size_t nrun;
  char E; /* '<' or '>' */
  /* Where the bodies go: a function of their own (_enc_T/_dec_T), a
   * message's encode/decode methods, or the loop over a repeated field. */
  const char *ind;      /* the indent of their first statements */
  const char *V;        /* the value encoded: "v", "self", "x" */
  const char *ret_head; /* the decoder's result: "return " or "L.append(" */
  const char *ret_tail; /* after T(...): "), pos\n", ")\n", "))\n"... */
  const char *depth1;   /* the depth of a nested struct: "depth + 1" */
  bool pos_dead;        /* nothing reads pos after the result */
  bool hoist_len;       /* read len(buf) once (not inside another body) */
  /* A flat message's encoder (py_joinable): the expressions of its
   * payload's parts, which encode() joins once, instead of appending them
   * to a bytearray and copying that into bytes */
  bool join;
  const char **parts;
  size_t nparts;
} py_codec;

/* Sets up c to write the codec of d in its own functions _enc_T/_dec_T. */
void py_codec_init(py_codec *c, py_out *o, const gen_decl *d);
/* Writes the bodies of c's encoder and decoder into c->enc and c->dec
 * (the Structs they use into o->defs). */
void py_codec_bodies(py_codec *c);
/* Frees what c holds. */
void py_codec_free(py_codec *c);
/* Whether struct d's codec may go inside a loop over a repeated field:
 * plain and optional fields only, none a struct; no [since] fields, no
 * length window. */
bool py_inlinable(const gen_decl *d);
/* Whether message d's encoder can be one b"".join of its parts: every field
 * a single number, bool, enum, string or bytes, or a fixed array of
 * numbers, bools or enums; no f32 (whose NaN bits are patched in after the
 * pack). Sets up c for it when c is not NULL. */
bool py_joinable(py_codec *c, const gen_decl *d);
/* Writes the Struct definitions collected in o->defs at module level. */
void py_flush_defs(py_out *o);

#define ENC(...) gen_buf_printf(&c->enc, __VA_ARGS__)
#define DEC(...) gen_buf_printf(&c->dec, __VA_ARGS__)

/* The local variable and the attribute of field f in c's functions. */
static inline const char *py_local(py_codec *c, const gen_field *f) {
  return py_local_name(c->o, c->d, f);
}
static inline const char *py_attr(py_codec *c, const gen_field *f) {
  return py_field_name(c->o->pool, c->d, f);
}
static inline bool py_is_enum(const gen_type *t) {
  return t->kind == TY_NAMED && t->decl->kind == D_ENUM;
}
static inline bool py_closed_enum(const gen_type *t) {
  return py_is_enum(t) && !t->decl->open;
}
/* The Python name of named type t. */
static inline const char *py_tname(py_codec *c, const gen_type *t) {
  return py_type_name(c->o->pool, t->decl);
}

/* The name of the module-level `_S_T_<n> = struct.Struct("<fmt")`, written
 * the first time c asks for fmt (so encoder and decoder share it). */
const char *py_struct_for(py_codec *c, const char *fmt);
/* a + b + z, and printf-formatted text, in the pool. */
const char *py_cat(py_codec *c, const char *a, const char *b, const char *z);
const char *py_fmt(py_codec *c, const char *fmt, ...) GEN_PRINTF(2, 3);
/* head, then args separated by ", ", then tail; an arg that would pass
 * column 99 starts a new line aligned after head's last '(' (PEP 8). */
void py_wrapped(gen_buf *b, const char *head, const char *const *args, size_t n,
                const char *tail);
/* `raise cls(arg)` at indent ind, broken before arg, then before its
 * " % ", when past column 99. */
void py_raise(gen_buf *b, const char *ind, const char *cls, const char *arg);
/* Encoder: refuse what packs but is wrong (a closed enum's unlisted value,
 * a bool that is not one); expr is the value, what names the field. */
void py_enc_guard(py_codec *c, const gen_type *t, const char *expr,
                  const char *what, const char *ind);
/* Decoder: turn the raw number in local L (or each of the numbers src into
 * list L) into the field's value: an enum constant, a bool. */
void py_dec_convert(py_codec *c, const gen_type *t, const char *L,
                    const char *what, const char *ind);
void py_dec_convert_list(py_codec *c, const gen_type *t, const char *L,
                         const char *src, const char *what, const char *ind);
/* One value of type t outside a run: appended from expr, or read into L. */
void py_enc_value(py_codec *c, const gen_type *t, const char *expr,
                  const char *what, const char *ind);
void py_dec_value(py_codec *c, const gen_type *t, const char *L,
                  const char *what, const char *ind);
/* The elements of repeated field f (its count is written/read as n): from
 * list L, or into it after checking that the bytes left can hold them. */
void py_enc_elements(py_codec *c, const gen_field *f, const char *L,
                     const char *ind);
void py_dec_elements(py_codec *c, const gen_field *f, const char *L,
                     const char *ind);
/* f32 NaNs keep their bits, which struct's "f" would change (Python
 * floats are doubles; converting a signalling NaN quiets it). Encoder:
 * after packing f32 value expr (or list), at out[at] (an expression).
 * Decoder: after unpacking into L, bits being the expression unpacking
 * the same bytes as u32 (or a tuple of them). */
void py_f32_enc(py_codec *c, const char *expr, bool list, const char *at,
                const char *ind);
void py_f32_dec(py_codec *c, const char *L, bool list, const char *bits,
                const char *ind);
/* A fixed array of strings, bytes or structs: a loop over exactly N. */
void py_variable_array(py_codec *c, const gen_field *f, const char *ind);

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
