/* The slow path of encoding in NAME_netfw.py: when the fast encoder
 * _enc_T fails (struct.error, a wrong type, a bad enum value...), encode()
 * runs _chk_T(v, where), which checks every field in order and raises a
 * ValueError naming the first bad one ("ListResp.files[2].name: 300 bytes
 * of UTF-8, more than its u8 length prefix counts"). Also the shared
 * helpers both directions use to build their errors. */
#include <stdio.h>
#include <string.h>

#include "py.h"

#define OUT(...) gen_buf_printf(o->b, __VA_ARGS__)

static const char *const helpers[] = {
    "\n_ENCODE_ERRORS = (ValueError, TypeError, AttributeError, "
    "OverflowError, struct.error)\n"
    "_DECODE_ERRORS = (struct.error, IndexError, KeyError, "
    "UnicodeDecodeError)\n"
    "_RANGES = {\n"
    "    \"u8\": (0, 0xFF), \"u16\": (0, 0xFFFF), \"u32\": (0, 0xFFFFFFFF),\n"
    "    \"u64\": (0, 0xFFFFFFFFFFFFFFFF), \"i8\": (-0x80, 0x7F),\n"
    "    \"i16\": (-0x8000, 0x7FFF), \"i32\": (-0x80000000, 0x7FFFFFFF),\n"
    "    \"i64\": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),\n"
    "}\n"
    "\n\n"
    "def _encode_error(chk, v, where, exc):\n"
    "    \"\"\"The ValueError for a value the fast encoder failed on: chk's, "
    "naming the\n    field, else one quoting exc.\"\"\"\n"
    "    try:\n        chk(v, where)\n    except ValueError as err:\n"
    "        return err\n"
    "    return ValueError(\"%s: cannot encode: %s\" % (where, exc))\n"
    "\n\n"
    "def _decode_error(where, exc):\n"
    "    \"\"\"The DecodeError for what a decoder's read raised.\"\"\"\n"
    "    if isinstance(exc, KeyError):\n"
    "        return DecodeError(\"%s: %r is not a value of its enum\" % "
    "(where, exc.args[0]))\n"
    "    if isinstance(exc, UnicodeDecodeError):\n"
    "        return DecodeError(\"%s: a string is not UTF-8 (%s)\" % "
    "(where, exc.reason))\n"
    "    return DecodeError(\"%s: the payload ends before the last field\" "
    "% where)\n"
    "\n\n",
    "def _what(x):\n"
    "    \"\"\"x for an error message: a number or string as itself, else "
    "its type.\"\"\"\n"
    "    if isinstance(x, (int, float)) or (isinstance(x, str) and len(x) < "
    "40):\n"
    "        return repr(x)\n"
    "    return type(x).__name__\n"
    "\n\n"
    "def _check_int(x, kind, where):\n"
    "    \"\"\"ValueError unless x is an int that fits kind "
    "(\\\"u8\\\"...).\"\"\"\n"
    "    lo, hi = _RANGES[kind]\n"
    "    if not isinstance(x, int):\n"
    "        raise ValueError(\"%s: expected an int, got %s\" % (where, "
    "_what(x)))\n"
    "    if not lo <= x <= hi:\n"
    "        raise ValueError(\"%s: %d does not fit %s (%d..%d)\" % (where, x, "
    "kind, lo, hi))\n"
    "\n\n"
    "def _check_float(x, kind, where):\n"
    "    \"\"\"ValueError unless x is a number that fits kind (\\\"f32\\\" or "
    "\\\"f64\\\").\"\"\"\n"
    "    if not isinstance(x, (int, float)):\n"
    "        raise ValueError(\"%s: expected a float, got %s\" % (where, "
    "_what(x)))\n"
    "    try:\n        struct.pack(\"<f\" if kind == \"f32\" else \"<d\", x)\n"
    "    except OverflowError:\n"
    "        raise ValueError(\"%s: %r does not fit %s\" % (where, x, kind)) "
    "from None\n"
    "\n\n"
    "def _check_bool(x, where):\n"
    "    \"\"\"ValueError unless x is True or False.\"\"\"\n"
    "    if x is not True and x is not False:\n"
    "        raise ValueError(\"%s: expected a bool, got %s\" % (where, "
    "_what(x)))\n"
    "\n\n"
    "def _check_len(n, what, prefix, where):\n"
    "    \"\"\"ValueError if n (bytes or elements) is more than prefix can "
    "count.\"\"\"\n"
    "    if n > _RANGES[prefix][1]:\n"
    "        raise ValueError(\"%s: %d %s, more than its %s prefix counts\" "
    "% (where, n, what, prefix))\n"
    "\n\n"
    "def _check_str(x, prefix, where):\n"
    "    \"\"\"ValueError unless x is a str whose UTF-8 fits a prefix length."
    "\"\"\"\n"
    "    if not isinstance(x, str):\n"
    "        raise ValueError(\"%s: expected a str, got %s\" % (where, "
    "_what(x)))\n"
    "    try:\n        n = len(x.encode(\"utf-8\"))\n"
    "    except UnicodeEncodeError as exc:\n"
    "        raise ValueError(\"%s: not encodable as UTF-8 (%s)\" % (where, "
    "exc.reason)) from None\n"
    "    _check_len(n, \"bytes of UTF-8\", prefix, where)\n"
    "\n\n"
    "def _check_bytes(x, prefix, where):\n"
    "    \"\"\"ValueError unless x is bytes (or a bytearray) that a prefix "
    "length fits.\"\"\"\n"
    "    if not isinstance(x, (bytes, bytearray)):\n"
    "        raise ValueError(\"%s: expected bytes, got %s\" % (where, "
    "_what(x)))\n"
    "    _check_len(len(x), \"bytes\", prefix, where)\n"
    "\n\n",
    "def _check_enum(x, values, name, where):\n"
    "    \"\"\"ValueError unless x is one of a closed enum's values.\"\"\"\n"
    "    if not isinstance(x, int) or x not in values:\n"
    "        raise ValueError(\"%s: %s is not a value of %s\" % (where, "
    "_what(x), name))\n"
    "\n\n"
    "def _check_list(x, size, prefix, where):\n"
    "    \"\"\"ValueError unless x is a list (or tuple) of exactly size "
    "elements\n    (a fixed array) or of at most what prefix counts "
    "(repeated).\"\"\"\n"
    "    if not isinstance(x, (list, tuple)):\n"
    "        raise ValueError(\"%s: expected a list, got %s\" % (where, "
    "_what(x)))\n"
    "    if size is not None and len(x) != size:\n"
    "        raise ValueError(\"%s: %d elements, the array has %d\" % (where, "
    "len(x), size))\n"
    "    if prefix is not None:\n"
    "        _check_len(len(x), \"elements\", prefix, where)\n"
    "\n\n"
    "def _check_struct(x, cls, chk, where):\n"
    "    \"\"\"ValueError unless x is a cls whose fields pass chk.\"\"\"\n"
    "    if not isinstance(x, cls):\n"
    "        raise ValueError(\"%s: expected a %s, got %s\" % (where, "
    "cls.__name__, _what(x)))\n"
    "    chk(x, where)\n"
    "\n\n"
    "def _check_window(v, enc, prefix, where):\n"
    "    \"\"\"ValueError if an extensible struct's fields take more bytes "
    "than its\n    length prefix counts.\"\"\"\n"
    "    try:\n        enc(v, bytearray())\n"
    "    except _ENCODE_ERRORS:\n"
    "        raise ValueError(\n"
    "            \"%s: its fields take more bytes than its %s length counts\" "
    "% (where, prefix)\n        ) from None\n"};

/* Keeping f32 NaNs' bits (see py_f32_enc), for schemas with f32 fields. */
static const char f32_helpers[] =
    "\n\n_S_F64 = struct.Struct(\"<d\")\n_S_U64 = struct.Struct(\"<Q\")\n"
    "\n\n"
    "def _f32_nan(bits):\n"
    "    \"\"\"The float of f32 NaN bits, keeping them: struct's \"f\" would "
    "quiet a\n    signalling NaN (Python floats are doubles).\"\"\"\n"
    "    b = (bits >> 31) << 63 | 0x7FF << 52 | (bits & 0x7FFFFF) << 29\n"
    "    return _S_F64.unpack(_S_U64.pack(b))[0]\n"
    "\n\n"
    "def _f32_bits(x):\n"
    "    \"\"\"The f32 bits of NaN x: the inverse of _f32_nan.\"\"\"\n"
    "    b = _S_U64.unpack(_S_F64.pack(x))[0]\n"
    "    return (b >> 63) << 31 | 0xFF << 23 | ((b >> 29) & 0x7FFFFF or "
    "0x400000)\n"
    "\n\n"
    "def _f32_nans(values, bits):\n"
    "    \"\"\"values unpacked by \"f\", each NaN rebuilt from its "
    "bits.\"\"\"\n"
    "    return [_f32_nan(b) if x != x else x for x, b in zip(values, bits)]\n"
    "\n\n"
    "def _f32_patch(out, at, values, s):\n"
    "    \"\"\"Rewrites the NaNs among the f32 values packed at out[at:] "
    "with their bits.\"\"\"\n"
    "    for i, x in enumerate(values):\n"
    "        if x != x:\n"
    "            s.pack_into(out, at + 4 * i, _f32_bits(x))\n";

static bool has_f32(const gen_schema *s) {
  for (size_t i = 0; i < s->ndecls; i++)
    for (size_t k = 0; k < s->decls[i]->nfields; k++)
      if (s->decls[i]->fields[k].type.kind == TY_F32)
        return true;
  return false;
}

void py_emit_check_helpers(py_out *o) {
  for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
    gen_buf_puts(o->b, helpers[i]);
  if (has_f32(o->s))
    gen_buf_puts(o->b, f32_helpers);
}

static const char *prefix_name(int n) {
  return n == 1 ? "u8" : n == 2 ? "u16" : "u32";
}

/* The check of one value x of type t; w is the Python expression naming
 * it. */
static void check_value(py_out *o, const gen_type *t, const char *x,
                        const char *w, const char *ind) {
  const char *T = t->kind == TY_NAMED ? py_type_name(o->pool, t->decl) : NULL;
  switch (t->kind) {
  case TY_F32:
  case TY_F64:
    OUT("%s_check_float(%s, \"%s\", %s)\n", ind, x, gen_scalar_name(t->kind),
        w);
    break;
  case TY_BOOL:
    OUT("%s_check_bool(%s, %s)\n", ind, x, w);
    break;
  case TY_STRING:
  case TY_BYTES:
    OUT("%s_check_%s(%s, \"%s\", %s)\n", ind,
        t->kind == TY_STRING ? "str" : "bytes", x, prefix_name(t->prefix), w);
    break;
  case TY_NAMED:
    if (t->decl->kind == D_STRUCT)
      OUT("%s_check_struct(%s, %s, _chk_%s, %s)\n", ind, x, T, T, w);
    else if (!t->decl->open)
      OUT("%s_check_enum(%s, _E_%s, \"%s\", %s)\n", ind, x, T, T, w);
    else
      OUT("%s_check_int(%s, \"%s\", %s)\n", ind, x,
          gen_scalar_name(t->decl->underlying), w);
    break;
  default:
    OUT("%s_check_int(%s, \"%s\", %s)\n", ind, x, gen_scalar_name(t->kind), w);
    break;
  }
}

static void check_field(py_out *o, const gen_decl *d, const gen_field *f) {
  const char *a = py_field_name(o->pool, d, f);
  char x[300], w[300];
  snprintf(x, sizeof(x), "v.%s", a);
  snprintf(w, sizeof(w), "where + \".%s\"", a);
  switch (f->mode) {
  case F_PLAIN:
    check_value(o, &f->type, x, w, "    ");
    return;
  case F_OPTIONAL:
    OUT("    if %s is not None:\n", x);
    check_value(o, &f->type, x, w, "        ");
    return;
  case F_ARRAY:
    OUT("    _check_list(%s, %llu, None, %s)\n", x,
        (unsigned long long)f->array_len, w);
    break;
  case F_REPEATED:
    OUT("    _check_list(%s, None, \"%s\", %s)\n", x,
        prefix_name(f->count_prefix), w);
    break;
  }
  OUT("    for i, x in enumerate(%s):\n", x);
  snprintf(w, sizeof(w), "\"%%s.%s[%%d]\" %% (where, i)", a);
  check_value(o, &f->type, "x", w, "        ");
}

void py_emit_check(py_out *o, const gen_decl *d) {
  const char *T = py_type_name(o->pool, d);
  OUT("\n\ndef _chk_%s(v, where):\n", T);
  for (size_t i = 0; i < d->nfields; i++)
    check_field(o, d, &d->fields[i]);
  if (d->ext_prefix == 1 || d->ext_prefix == 2)
    OUT("    _check_window(v, _enc_%s, \"%s\", where)\n", T,
        prefix_name(d->ext_prefix));
  else if (d->nfields == 0)
    OUT("    pass\n");
}
