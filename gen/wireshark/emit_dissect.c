/* The dissect functions of <schema>.lua: a descriptor and a function per
 * struct (structs.<S>.dissect, which add_struct calls, recursion included),
 * then one function per message (dissect.<M>) and the table of them by
 * frame id. Each function adds its fields in order with the helpers, and
 * stops before a [since] group when the payload (or window) ends there. */
#include <stdio.h>

#include "ws.h"

/* Appends the Lua expression of f's ProtoField in F (suffix: "" for the
 * value's, ".count" or ".present"). */
static void field_ref(gen_buf *b, const gen_decl *d, const gen_field *f,
                      const char *suffix) {
  gen_buf_puts(b, "F");
  ws_key(b, d->name);
  if (*suffix)
    gen_buf_printf(b, "[\"%s%s\"]", f->name, suffix);
  else
    ws_key(b, f->name);
}

/* Appends the call adding one value of f's type to the subtree `tree`
 * (index: the Lua expression of its position in an array, or NULL). */
static void value_call(ws_out *o, const gen_decl *d, const gen_field *f,
                       const char *tree, const char *index) {
  gen_buf *b = o->b;
  const gen_type *t = &f->type;
  const gen_decl *named = t->kind == TY_NAMED ? t->decl : NULL;
  if (named != NULL && named->kind == D_ENUM)
    gen_buf_printf(b, "add_enum(c, %s, ", tree);
  else if (named != NULL)
    gen_buf_printf(b, "add_struct(c, %s, ", tree);
  else if (t->kind == TY_BOOL)
    gen_buf_printf(b, "add_bool(c, %s, ", tree);
  else if (t->kind == TY_STRING || t->kind == TY_BYTES)
    gen_buf_printf(b, "add_%s(c, %s, ", t->kind == TY_STRING ? "string"
                                                              : "bytes",
                   tree);
  else
    gen_buf_printf(b, "add_number(c, %s, ", tree);
  field_ref(b, d, f, "");
  if (named != NULL) {
    gen_buf_puts(b, named->kind == D_ENUM ? ", enums" : ", structs");
    ws_key(b, named->name);
    if (named->kind == D_STRUCT && index != NULL)
      gen_buf_printf(b, ", %s", index);
  } else if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    gen_buf_printf(b, ", %d", t->prefix);
  } else if (t->kind != TY_BOOL) {
    gen_buf_printf(b, ", %d", gen_scalar_size(t->kind));
  }
  gen_buf_puts(b, ")");
}

/* The statement adding field f of d, in its mode. */
static void field_statement(ws_out *o, const gen_decl *d,
                            const gen_field *f) {
  gen_buf *b = o->b;
  switch (f->mode) {
  case F_PLAIN:
    gen_buf_puts(b, "  ");
    value_call(o, d, f, "tree", NULL);
    gen_buf_puts(b, "\n");
    break;
  case F_OPTIONAL:
    gen_buf_puts(b, "  add_optional(c, tree, ");
    field_ref(b, d, f, ".present");
    gen_buf_puts(b, ", function(t)\n    ");
    value_call(o, d, f, "t", NULL);
    gen_buf_puts(b, "\n  end)\n");
    break;
  case F_REPEATED:
    gen_buf_puts(b, "  add_repeated(c, tree, ");
    field_ref(b, d, f, ".count");
    gen_buf_printf(b, ", %d, %llu, function(t, i)\n    ", f->count_prefix,
                   (unsigned long long)gen_wire_min(&f->type));
    value_call(o, d, f, "t", "i");
    gen_buf_puts(b, "\n  end)\n");
    break;
  case F_ARRAY:
    gen_buf_printf(b, "  add_array(c, tree, \"%s\", %llu, function(t, i)\n    ",
                   f->name, (unsigned long long)f->array_len);
    value_call(o, d, f, "t", "i");
    gen_buf_puts(b, "\n  end)\n");
    break;
  }
}

/* Before the first field of a [since N] group (field k of d): return with
 * the defaults when the payload or window ends there. */
static void since_check(ws_out *o, const gen_decl *d, size_t k) {
  gen_buf *b = o->b;
  gen_buf_printf(b, "  if ends_before(c, tree, %u, \"", d->fields[k].since);
  for (size_t j = k; j < d->nfields; j++)
    gen_buf_printf(b, "%s%s", j > k ? ", " : "", d->fields[j].name);
  gen_buf_puts(b, "\") then\n    return\n  end\n");
}

/* The body of d's dissect function: its fields in order. */
static void body(ws_out *o, const gen_decl *d) {
  for (size_t k = 0; k < d->nfields; k++) {
    const gen_field *f = &d->fields[k];
    if (f->since != 0 && (k == 0 || d->fields[k - 1].since != f->since))
      since_check(o, d, k);
    field_statement(o, d, f);
  }
}

/* The struct descriptors: name and window (extensible prefix bytes). */
static void descriptors(ws_out *o) {
  gen_buf *b = o->b;
  gen_buf_puts(b, "-- Each struct: its name, the length prefix of an extensible "
                  "one (0: not\n-- extensible) and its dissect function.\n"
                  "local structs = {}\n");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_STRUCT)
      continue;
    gen_buf_puts(b, "structs");
    ws_key(b, d->name);
    gen_buf_printf(b, " = { name = \"%s\", window = %d }\n", d->name,
                   d->ext_prefix);
  }
  gen_buf_puts(b, "\n");
}

/* structs.<S>.dissect for every struct. */
static void struct_functions(ws_out *o) {
  gen_buf *b = o->b;
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_STRUCT)
      continue;
    ws_comment(b, d->doc, "");
    gen_buf_puts(b, "structs");
    ws_key(b, d->name);
    gen_buf_puts(b, ".dissect = function(c, tree)\n");
    body(o, d);
    gen_buf_puts(b, "end\n\n");
  }
}

/* dissect.<M> for every message (a table, not locals: Lua allows 200
 * locals in a chunk), and the table of them by id. */
static void message_functions(ws_out *o) {
  gen_buf *b = o->b;
  gen_buf_puts(b, "-- The dissect function of each message.\n"
                  "local dissect = {}\n\n");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    gen_buf_printf(b, "-- %s (id %llu%s)\n", d->name,
                   (unsigned long long)d->id,
                   d->dir == DIR_SERVER   ? ", to the server"
                   : d->dir == DIR_CLIENT ? ", to the client"
                                          : "");
    ws_comment(b, d->doc, "");
    if (ws_is_keyword(d->name))
      gen_buf_printf(b, "dissect[\"%s\"] = function(c, tree)\n", d->name);
    else
      gen_buf_printf(b, "function dissect.%s(c, tree)\n", d->name);
    body(o, d);
    gen_buf_puts(b, "end\n\n");
  }
  gen_buf_puts(b, "-- Each message's dissect function, by frame id.\n"
                  "local dissectors = {\n");
  for (size_t i = 0; i < o->s->ndecls; i++) {
    const gen_decl *d = o->s->decls[i];
    if (d->kind != D_MESSAGE)
      continue;
    gen_buf_printf(b, "  [%llu] = dissect", (unsigned long long)d->id);
    ws_key(b, d->name);
    gen_buf_puts(b, ",\n");
  }
  gen_buf_puts(b, "}\n\n");
}

void ws_emit_dissect(ws_out *o) {
  descriptors(o);
  struct_functions(o);
  message_functions(o);
}
