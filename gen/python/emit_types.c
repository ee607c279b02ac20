/* The first parts of NAME_netfw.py: the module docstring and imports, the
 * protocol's constants and DecodeError, then each enum as an IntEnum and
 * each struct and message as a dataclass whose defaults make `T()` valid,
 * with its encode/decode (and, for a message, frame/to_netframe) methods.
 * Also the Python literals and layout facts the other emitters share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfw/version.h"

#include "py.h"

#define OUT(...) gen_buf_printf(o->b, __VA_ARGS__)

/* ---- literals ------------------------------------------------------------ */

/* The code point of the UTF-8 sequence at s[*i] (valid, checked by the
 * front end), advancing *i past it. */
static unsigned utf8_next(const unsigned char *s, size_t n, size_t *i) {
  unsigned c = s[(*i)++], need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0;
  unsigned cp = need == 3 ? c & 0x07 : need == 2 ? c & 0x0f : c & 0x1f;
  if (need == 0)
    return c;
  for (; need > 0 && *i < n; need--)
    cp = (cp << 6) | (s[(*i)++] & 0x3f);
  return cp;
}

void py_string_body(gen_buf *b, const char *s, size_t n, bool bytes) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    unsigned c = u[i];
    if (c == '"' || c == '\\') {
      gen_buf_printf(b, "\\%c", (char)c);
      i++;
    } else if (c >= 0x20 && c < 0x7f) {
      gen_buf_append(b, s + i, 1);
      i++;
    } else if (c == '\n' || c == '\t' || c == '\r') {
      gen_buf_puts(b, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r");
      i++;
    } else if (bytes || c < 0x80) {
      gen_buf_printf(b, "\\x%02x", c);
      i++;
    } else {
      unsigned cp = utf8_next(u, n, &i);
      gen_buf_printf(b,
                     cp > 0xffff ? "\\U%08x"
                     : cp > 0xff ? "\\u%04x"
                                 : "\\x%02x",
                     cp);
    }
  }
}

/* doc's text escaped for a docstring, lines after the first prefixed with
 * indent (blank lines left blank). */
static void doc_text(gen_buf *b, const char *doc, const char *indent) {
  for (const char *p = doc; *p; p++) {
    if (*p == '\n') {
      gen_buf_printf(b, p[1] == '\n' || p[1] == '\0' ? "\n" : "\n%s", indent);
      continue;
    }
    if (*p == '"' || *p == '\\')
      gen_buf_puts(b, "\\");
    if ((unsigned char)*p < 0x20 && *p != '\t')
      gen_buf_puts(b, " ");
    else
      gen_buf_append(b, p, 1);
  }
}

void py_docstring(gen_buf *b, const char *doc, const char *indent) {
  if (doc == NULL)
    return;
  gen_buf_printf(b, "%s\"\"\"", indent);
  doc_text(b, doc, indent);
  gen_buf_printf(b, strchr(doc, '\n') ? "\n%s\"\"\"\n" : "\"\"\"\n", indent);
}

void py_comment(gen_buf *b, const char *doc, const char *indent) {
  const char *p = doc;
  while (p != NULL && *p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    gen_buf_printf(b, n > 0 ? "%s# " : "%s#", indent);
    for (size_t i = 0; i < n; i++)
      gen_buf_append(b, (unsigned char)p[i] < 0x20 ? " " : p + i, 1);
    gen_buf_puts(b, "\n");
    p = nl ? nl + 1 : NULL;
  }
}

/* The shortest decimal that reads back as exactly x (Python's repr). */
static void py_float(gen_buf *b, double x) {
  char t[64];
  if (isnan(x) || isinf(x)) {
    gen_buf_printf(b, "float(\"%s\")",
                   isnan(x) ? "nan"
                   : x > 0  ? "inf"
                            : "-inf");
    return;
  }
  int prec = 1, exp;
  for (; prec < 17; prec++) { /* the fewest digits that read back as x */
    snprintf(t, sizeof(t), "%.*e", prec - 1, x);
    if (strtod(t, NULL) == x)
      break;
  }
  snprintf(t, sizeof(t), "%.*e", prec - 1, x);
  exp = atoi(strchr(t, 'e') + 1);
  if (exp >= -4 && exp < 16) /* as Python's repr: 2000.0, 0.001 */
    snprintf(t, sizeof(t), "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, x);
  gen_buf_puts(b, t);
  if (strpbrk(t, ".e") == NULL)
    gen_buf_puts(b, ".0");
}

const gen_enum_const *py_enum_default(const gen_decl *d) {
  for (size_t k = 0; k < d->nconsts; k++)
    if (d->consts[k].value == 0)
      return &d->consts[k];
  return d->nconsts > 0 ? &d->consts[0] : NULL;
}

char py_format_char(const gen_type *t) {
  static const char codes[] = {
      [TY_U8] = 'B',  [TY_U16] = 'H', [TY_U32] = 'I', [TY_U64] = 'Q',
      [TY_I8] = 'b',  [TY_I16] = 'h', [TY_I32] = 'i', [TY_I64] = 'q',
      [TY_F32] = 'f', [TY_F64] = 'd', [TY_BOOL] = 'B'};
  if (t->kind == TY_NAMED)
    return codes[t->decl->underlying];
  return codes[t->kind];
}

char py_prefix_char(int n) {
  return n == 1 ? 'B' : n == 2 ? 'H' : 'I';
}

bool py_may_recurse(const gen_decl *d) {
  for (size_t i = 0; i < d->nfields; i++)
    if (d->fields[i].mode == F_REPEATED && d->fields[i].type.kind == TY_NAMED &&
        d->fields[i].type.decl->kind == D_STRUCT)
      return true;
  return false;
}

/* ---- the prologue ----------------------------------------------------------
 */

static bool has_kind(const gen_schema *s, gen_decl_kind k) {
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == k)
      return true;
  return false;
}

void py_emit_prologue(py_out *o) {
  const gen_schema *s = o->s;
  OUT("\"\"\"Protocol %s for Python 3.9+: its messages as dataclasses with "
      "encode and decode.\n\n"
      "Generated by netfw-gen %s (--lang python) from %s; do not edit.\n"
      "Payload fields are %s-endian; a frame is netframe's 6-byte header "
      "(id u16,\nsize u32, little-endian) and the payload. Standard "
      "library only: netframe is\nimported by the helpers that build its "
      "Messages, when they are called.\n",
      s->proto, NETFW_VERSION_STRING, o->schema_name,
      s->big_endian ? "big" : "little");
  if (s->doc != NULL) {
    OUT("\n");
    doc_text(o->b, s->doc, "");
    OUT("\n");
  }
  OUT("\"\"\"\n\nfrom __future__ import annotations\n\nimport asyncio\n"
      "import dataclasses\n%simport logging\nimport struct\nimport typing\n\n",
      has_kind(s, D_ENUM) ? "import enum\n" : "");
  OUT("PROTOCOL = \"%s\"\nVERSION = %u\nMAX_PAYLOAD = 16 * 1024 * 1024\n",
      s->proto, s->version);
  for (size_t i = 0; i < s->ndecls; i++) {
    const gen_decl *d = s->decls[i];
    if (d->kind != D_CONST)
      continue;
    py_comment(o->b, d->doc, "");
    OUT("%s = %llu\n", py_type_name(o->pool, d), (unsigned long long)d->value);
  }
  OUT("\n_MAX_DEPTH = 128  # recursive structs nest at most this deep\n"
      "_field = dataclasses.field\n_log = logging.getLogger(\"netfw.%s\")\n\n\n"
      "class DecodeError(ValueError):\n"
      "    \"\"\"A payload the decoders refuse: truncated, bad UTF-8, a bool "
      "or presence\n    byte not 0 or 1, a value a closed enum does not "
      "list, a count the bytes\n    left cannot hold, or nesting deeper "
      "than 128 (the C decoder's rules).\"\"\"\n",
      s->proto);
}

/* ---- enums -----------------------------------------------------------------
 */

/* Whether a field of some struct or message has enum type en. */
static bool enum_used(const gen_schema *s, const gen_decl *en) {
  for (size_t i = 0; i < s->ndecls; i++)
    for (size_t k = 0; k < s->decls[i]->nfields; k++)
      if (s->decls[i]->fields[k].type.decl == en)
        return true;
  return false;
}

static void emit_enum(py_out *o, const gen_decl *d) {
  const char *T = py_type_name(o->pool, d);
  OUT("\n\nclass %s(enum.IntEnum):\n", T);
  if (d->doc != NULL) {
    py_docstring(o->b, d->doc, "    ");
    OUT("\n");
  }
  if (d->open)
    OUT("    # Open: a field of this type holds a plain int for a value not "
        "listed.\n");
  for (size_t k = 0; k < d->nconsts; k++) {
    py_comment(o->b, d->consts[k].doc, "    ");
    OUT("    %s = %llu\n", py_const_name(o->pool, &d->consts[k]),
        (unsigned long long)d->consts[k].value);
  }
  if (enum_used(o->s, d))
    OUT("\n\n_E_%s = {m.value: m for m in %s}  # value -> constant, for the "
        "codec\n",
        T, T);
}

/* ---- dataclasses ------------------------------------------------------------
 */

/* Whether a field of d before field number upto is spelled name, which then
 * hides the global of that name in the class body. */
static bool shadowed(py_out *o, const gen_decl *d, size_t upto,
                     const char *name) {
  for (size_t i = 0; i < upto; i++)
    if (strcmp(py_field_name(o->pool, d, &d->fields[i]), name) == 0)
      return true;
  return false;
}

/* The type hint of one value of t. */
static void hint(py_out *o, const gen_type *t) {
  static const char *const names[] = {
      [TY_U8] = "int",     [TY_U16] = "int",   [TY_U32] = "int",
      [TY_U64] = "int",    [TY_I8] = "int",    [TY_I16] = "int",
      [TY_I32] = "int",    [TY_I64] = "int",   [TY_F32] = "float",
      [TY_F64] = "float",  [TY_BOOL] = "bool", [TY_STRING] = "str",
      [TY_BYTES] = "bytes"};
  if (t->kind != TY_NAMED)
    OUT("%s", names[t->kind]);
  else if (t->decl->kind == D_ENUM && t->decl->open)
    OUT("typing.Union[%s, int]", py_type_name(o->pool, t->decl));
  else
    OUT("%s", py_type_name(o->pool, t->decl));
}

/* An enum constant as an expression. */
static void konst(py_out *o, const gen_decl *en, const gen_enum_const *k) {
  OUT("%s.%s", py_type_name(o->pool, en), py_const_name(o->pool, k));
}

/* The zero value of one element of t (not a struct): 0, "", the enum's
 * default constant... */
static void zero(py_out *o, const gen_type *t) {
  static const char *const z[] = {
      [TY_U8] = "0",       [TY_U16] = "0",      [TY_U32] = "0",
      [TY_U64] = "0",      [TY_I8] = "0",       [TY_I16] = "0",
      [TY_I32] = "0",      [TY_I64] = "0",      [TY_F32] = "0.0",
      [TY_F64] = "0.0",    [TY_BOOL] = "False", [TY_STRING] = "\"\"",
      [TY_BYTES] = "b\"\""};
  if (t->kind == TY_NAMED)
    konst(o, t->decl, py_enum_default(t->decl));
  else
    OUT("%s", z[t->kind]);
}

/* The default of a [since] field of a number, bool, string, bytes or enum
 * type: its literal, else its zero value. */
static void since_default(py_out *o, const gen_field *f) {
  const gen_value *v = &f->def;
  const gen_type *t = &f->type;
  if (t->kind == TY_NAMED) {
    const gen_enum_const *k = v->konst != NULL ? v->konst : f->def_konst;
    for (size_t i = 0; k == NULL && i < t->decl->nconsts; i++)
      if (t->decl->consts[i].value == 0)
        k = &t->decl->consts[i];
    if (k != NULL)
      konst(o, t->decl, k);
    else
      OUT("0"); /* an open enum without a constant 0 */
  } else if (v->kind == V_NONE) {
    zero(o, t);
  } else if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    OUT("%s\"", t->kind == TY_BYTES ? "b" : "");
    py_string_body(o->b, v->str, v->len, t->kind == TY_BYTES);
    OUT("\"");
  } else if (t->kind == TY_BOOL) {
    OUT("%s", v->b ? "True" : "False");
  } else if (t->kind == TY_F32) {
    py_float(o->b, (double)(float)v->f);
  } else if (t->kind == TY_F64) {
    py_float(o->b, v->f);
  } else {
    const char *hex = strstr(v->text, "0x");
    if (hex != NULL) /* as written: 0xbeef */
      OUT("%s0x%s", v->negative ? "-" : "", hex + 2);
    else
      OUT("%s%llu", v->negative ? "-" : "", (unsigned long long)v->u);
  }
}

/* The name a default expression of field f refers to in the class body
 * (hidden by an earlier field of that spelling), or NULL. */
static const char *default_global(py_out *o, const gen_field *f) {
  const gen_type *t = &f->type;
  if (f->mode == F_REPEATED)
    return "list";
  if (f->mode == F_PLAIN && t->kind == TY_NAMED)
    return py_type_name(o->pool, t->decl);
  return NULL;
}

/* The default of field number i of d, after " = ". */
static void field_default(py_out *o, const gen_decl *d, size_t i) {
  const gen_field *f = &d->fields[i];
  const gen_type *t = &f->type;
  const char *g = default_global(o, f);
  bool hidden = g != NULL && shadowed(o, d, i, g);
  bool is_struct = t->kind == TY_NAMED && t->decl->kind == D_STRUCT;
  switch (f->mode) {
  case F_OPTIONAL:
    OUT("None");
    return;
  case F_REPEATED:
    OUT("_field(default_factory=%s)", hidden ? "lambda: []" : "list");
    return;
  case F_ARRAY:
    OUT("_field(default_factory=lambda: ");
    if (is_struct) {
      OUT("[%s() for _ in range(%llu)])", py_type_name(o->pool, t->decl),
          (unsigned long long)f->array_len);
      return;
    }
    OUT("[");
    zero(o, t);
    OUT("] * %llu)", (unsigned long long)f->array_len);
    return;
  case F_PLAIN:
    break;
  }
  if (is_struct) {
    OUT("_field(default_factory=%s%s%s)", hidden ? "lambda: " : "", g,
        hidden ? "()" : "");
    return;
  }
  if (hidden)
    OUT("_field(default_factory=lambda: ");
  if (f->since > 0)
    since_default(o, f);
  else
    zero(o, t);
  if (hidden)
    OUT(")");
}

static void emit_field(py_out *o, const gen_decl *d, size_t i) {
  const gen_field *f = &d->fields[i];
  py_comment(o->b, f->doc, "    ");
  OUT("    %s: ", py_field_name(o->pool, d, f));
  if (f->mode == F_OPTIONAL)
    OUT("typing.Optional[");
  else if (f->mode == F_REPEATED || f->mode == F_ARRAY)
    OUT("typing.List[");
  hint(o, &f->type);
  if (f->mode != F_PLAIN)
    OUT("]");
  OUT(" = ");
  field_default(o, d, i);
  OUT("\n");
}

/* The except clause of encode() and frame(): the slow path's error. */
static void enc_fail(py_out *o, const char *T) {
  OUT("        except _ENCODE_ERRORS as exc:\n"
      "            raise _encode_error(_chk_%s, self, \"%s\", exc) from None\n",
      T, T);
}

static const char encode_doc[] =
    "        \"\"\"The payload; ValueError naming the field for a value the "
    "wire cannot carry.\"\"\"\n";
static const char decode_doc[] =
    "        \"\"\"Decodes payload from its start (bytes after the last "
    "field are ignored);\n        DecodeError if it is malformed.\"\"\"\n";

/* A struct's encode and decode, over its _enc_T and _dec_T. */
static void struct_methods(py_out *o, const char *T) {
  OUT("\n    def encode(self) -> bytes:\n%s"
      "        out = bytearray()\n        try:\n"
      "            _enc_%s(self, out)\n",
      encode_doc, T);
  enc_fail(o, T);
  OUT("        return bytes(out)\n");
  OUT("\n    @classmethod\n    def decode(cls, payload: bytes) -> %s:\n%s"
      "        try:\n"
      "            buf = payload if payload.__class__ is bytes else "
      "bytes(memoryview(payload))\n"
      "            return _dec_%s(buf, 0, 0)[0]\n"
      "        except _DECODE_ERRORS as exc:\n"
      "            raise _decode_error(\"%s\", exc) from None\n",
      T, decode_doc, T, T);
}

/* A message's encode, frame, decode and to_netframe; c holds the codec,
 * written into encode and decode themselves (a message is never nested,
 * so there is no call to save). */
static void message_methods(py_out *o, const gen_decl *d, py_codec *c) {
  const char *T = c->T;
  OUT("\n    def encode(self) -> bytes:\n%s", encode_doc);
  if (c->enc.len == 0 && c->nparts == 0) {
    OUT("        return b\"\"\n");
  } else if (c->join) {
    OUT("        try:\n");
    gen_buf_append(o->b, c->enc.data, c->enc.len);
    if (c->nparts == 1)
      OUT("            return %s\n", c->parts[0]);
    else
      py_wrapped(o->b, "            return b\"\".join((", c->parts, c->nparts,
                 "))\n");
    enc_fail(o, T);
  } else {
    OUT("        out = bytearray()\n        try:\n");
    gen_buf_append(o->b, c->enc.data, c->enc.len);
    enc_fail(o, T);
    OUT("        return bytes(out)\n");
  }
  OUT("\n    def frame(self) -> bytes:\n"
      "        \"\"\"The payload after netframe's header: id u16, size u32, "
      "little-endian.\"\"\"\n"
      "        payload = self.encode()\n"
      "        return _S_HEADER.pack(%llu, len(payload)) + payload\n",
      (unsigned long long)d->id);
  OUT("\n    @classmethod\n    def decode(cls, payload: bytes) -> %s:\n%s", T,
      decode_doc);
  if (d->nfields == 0) {
    OUT("        return %s()\n", T);
  } else {
    OUT("        buf = payload if payload.__class__ is bytes else "
        "bytes(memoryview(payload))\n"
        "        pos = 0\n        try:\n");
    gen_buf_append(o->b, c->dec.data, c->dec.len);
    OUT("        except _DECODE_ERRORS as exc:\n"
        "            raise _decode_error(\"%s\", exc) from None\n",
        T);
  }
  OUT("\n    def to_netframe(self, msg):\n"
      "        \"\"\"Sets netframe Message msg's id, appends the payload "
      "and returns msg.\"\"\"\n"
      "        msg.hdr.id = %llu\n        msg.append(self.encode())\n"
      "        return msg\n",
      (unsigned long long)d->id);
}

static void emit_class(py_out *o, const gen_decl *d) {
  const char *T = py_type_name(o->pool, d);
  py_codec c;
  py_codec_init(&c, o, d);
  if (d->kind == D_MESSAGE) {
    c.ind = "            ";
    c.V = "self";
    c.ret_tail = ")\n";
    c.depth1 = "1";
    c.pos_dead = true;
    py_joinable(&c, d);
    py_codec_bodies(&c);
    if (o->defs.len > 0)
      OUT("\n\n");
    py_flush_defs(o); /* its Structs, before the class */
  }
  OUT("\n\n@dataclasses.dataclass\nclass %s:\n", T);
  if (d->doc != NULL) {
    py_docstring(o->b, d->doc, "    ");
    OUT("\n");
  }
  if (d->kind == D_MESSAGE)
    OUT("    ID: typing.ClassVar[int] = %llu\n"
        "    NAME: typing.ClassVar[str] = \"%s\"\n%s",
        (unsigned long long)d->id, d->name, d->nfields > 0 ? "\n" : "");
  for (size_t i = 0; i < d->nfields; i++)
    emit_field(o, d, i);
  if (d->max_since > 0)
    OUT("    # The newest version whose fields the decoder found (like C's "
        "present_version);\n    # encode ignores it.\n"
        "    present_version: int = _field(default=%u, compare=False)\n",
        d->max_since);
  if (d->kind == D_MESSAGE)
    message_methods(o, d, &c);
  else
    struct_methods(o, T);
  py_codec_free(&c);
}

void py_emit_types(py_out *o) {
  const gen_schema *s = o->s;
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_ENUM)
      emit_enum(o, s->decls[i]);
  /* dependencies first: a struct field's default_factory needs its class */
  for (size_t i = 0; i < s->norder; i++)
    emit_class(o, s->order[i]);
}
