/* The checker: resolves names and enforces every rule of the language that
 * the grammar cannot (docs/netproto.md lists them), with a back end's name
 * rules plugged in (check.h). It also orders structs by dependency and lays
 * each one out (layout.c) for the back ends. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "evolve.h"
#include "returns.h"
#include "layout.h"

enum {
  MAX_ARRAY = 65535, /* largest fixed array */
  MAX_NESTING = 64,  /* structs inside structs, by value */
};
#define MAX_MEM_SIZE ((uint64_t)16 * 1024 * 1024) /* in-memory struct size */

typedef struct checker {
  gen_schema *s;
  gen_diag *d;
  gen_pool *pool;
  const gen_check_hooks *hooks; /* never NULL */
  gen_map names;                /* declaration name -> gen_decl */
  gen_map ids;                  /* message id (as text) -> gen_decl */
} checker;

static bool reserved_name(checker *c, const char *name, gen_pos pos,
                          const char *what) {
  if (name[0] == '_') {
    gen_error(c->d, pos, "%s '%s' may not start with '_' (reserved in C)", what,
              name);
    return true;
  }
  return false;
}

static const char *kind_name(gen_decl_kind k) {
  switch (k) {
  case D_ENUM:
    return "enum";
  case D_STRUCT:
    return "struct";
  case D_MESSAGE:
    return "message";
  case D_CONST:
    return "const";
  }
  return "?";
}

static bool is_builtin_name(const char *n) {
  return gen_scalar_find(n, strlen(n)) != NULL || strcmp(n, "optional") == 0 ||
         strcmp(n, "repeated") == 0;
}

static void check_names(checker *c) {
  gen_schema *s = c->s;
  for (size_t i = 0; i < s->ndecls; i++) {
    gen_decl *d = s->decls[i];
    gen_decl *old;
    if (reserved_name(c, d->name, d->pos, kind_name(d->kind)))
      continue;
    if (is_builtin_name(d->name)) {
      gen_error(c->d, d->pos, "'%s' is a built-in type name", d->name);
      continue;
    }
    old = gen_map_put(&c->names, d->name, d);
    if (old != NULL)
      gen_error(c->d, d->pos, "duplicate name '%s' (already a %s at %d:%d)",
                d->name, kind_name(old->kind), old->pos.line, old->pos.col);
  }
}

static void check_enum(checker *c, gen_decl *e) {
  uint64_t max = e->underlying == TY_U8    ? 0xff
                 : e->underlying == TY_U16 ? 0xffff
                                           : 0xffffffffu;
  gen_map names = {0};
  gen_map values = {0};
  char key[32];

  if (e->nconsts == 0)
    gen_error(c->d, e->pos, "enum '%s' has no constants", e->name);
  for (size_t i = 0; i < e->nconsts; i++) {
    gen_enum_const *k = &e->consts[i];
    gen_enum_const *old;
    if (reserved_name(c, k->name, k->pos, "enum constant"))
      continue;
    old = gen_map_put(&names, k->name, k);
    if (old != NULL) {
      gen_error(c->d, k->pos, "duplicate enum constant '%s' (also at %d:%d)",
                k->name, old->pos.line, old->pos.col);
      continue;
    }
    if (k->overflow || k->value > max) {
      gen_error(c->d, k->value_pos,
                "value of '%s' does not fit the enum's type %s (0..%llu)",
                k->name, gen_scalar_name(e->underlying),
                (unsigned long long)max);
      continue;
    }
    if (k->value > 0x7fffffff) {
      gen_error(c->d, k->value_pos,
                "value of '%s' is above 2147483647, which a C enum cannot hold",
                k->name);
      continue;
    }
    snprintf(key, sizeof(key), "%llu", (unsigned long long)k->value);
    old = gen_map_put(&values, gen_pool_strndup(c->pool, key, strlen(key)), k);
    if (old != NULL)
      gen_error(c->d, k->value_pos,
                "enum constant '%s' has the same value %s as '%s' (%d:%d)",
                k->name, key, old->name, old->pos.line, old->pos.col);
  }
  gen_map_free(&names);
  gen_map_free(&values);
}

static void check_message_id(checker *c, gen_decl *m) {
  char key[32];
  gen_decl *old;
  if (m->id_overflow || m->id > 65535) {
    gen_error(c->d, m->id_pos, "message id of '%s' is out of range (0..65535)",
              m->name);
    return;
  }
  snprintf(key, sizeof(key), "%u", (unsigned)m->id);
  old = gen_map_put(&c->ids, gen_pool_strndup(c->pool, key, strlen(key)), m);
  if (old != NULL)
    gen_error(c->d, m->id_pos,
              "duplicate message id %s (also used by '%s' at %d:%d)", key,
              old->name, old->pos.line, old->pos.col);
}

/* " (did you mean 'X'?)" for a name of kind k (D_STRUCT stands for any
 * type: structs, enums and the built-in types) close to name, or "". */
static const char *did_you_mean(checker *c, const char *name,
                                gen_decl_kind k) {
  static const char *const builtin[] = {
      "u8",  "u16",  "u32", "u64",  "i8",     "i16",   "i32",
      "i64", "f32",  "f64", "bool", "string", "bytes"};
  size_t nb = k == D_STRUCT ? sizeof(builtin) / sizeof(builtin[0]) : 0;
  const char **names =
      gen_pool_alloc(c->pool, (c->s->ndecls + nb + 1) * sizeof(*names));
  size_t n = 0;
  const char *best;
  char *r;
  for (size_t i = 0; i < nb; i++)
    names[n++] = builtin[i];
  for (size_t i = 0; i < c->s->ndecls; i++) {
    gen_decl_kind dk = c->s->decls[i]->kind;
    if (dk == k || (k == D_STRUCT && dk == D_ENUM))
      names[n++] = c->s->decls[i]->name;
  }
  best = gen_closest(name, names, n);
  if (best == NULL)
    return "";
  r = gen_pool_alloc(c->pool, strlen(best) + 24);
  sprintf(r, " (did you mean '%s'?)", best);
  return r;
}

static void resolve_field(checker *c, gen_field *f) {
  if (f->type.kind == TY_NAMED) {
    gen_decl *t = gen_map_get(&c->names, f->type.name);
    if (t == NULL) {
      gen_error(c->d, f->type.pos, "unknown type '%s'%s", f->type.name,
                did_you_mean(c, f->type.name, D_STRUCT));
    } else if (t->kind == D_MESSAGE) {
      gen_error(c->d, f->type.pos,
                "'%s' is a message; only structs and enums can be field types",
                t->name);
    } else if (t->kind == D_CONST) {
      gen_error(c->d, f->type.pos, "'%s' is a const, not a type", t->name);
    } else {
      f->type.decl = t;
      t->used = true;
    }
  }
  if (f->mode == F_ARRAY) {
    uint64_t n = f->array_len;
    bool overflow = f->array_overflow;
    if (f->array_const != NULL) {
      gen_decl *k = gen_map_get(&c->names, f->array_const);
      if (k == NULL || k->kind != D_CONST) {
        gen_error(c->d, f->array_pos, "'%s' is not a const%s",
                  f->array_const, did_you_mean(c, f->array_const, D_CONST));
        return;
      }
      k->used = true;
      n = k->value;
      overflow = k->value_overflow;
      f->array_len = n;
    }
    if (!overflow && n == 0)
      gen_error(c->d, f->array_pos, "array size of '%s' must be at least 1",
                f->name);
    else if (overflow || n > MAX_ARRAY)
      gen_error(c->d, f->array_pos,
                "array size of '%s' is too large (at most %d; use repeated)",
                f->name, MAX_ARRAY);
  }
}

static void check_fields(checker *c, gen_decl *d) {
  gen_map fields = {0};
  for (size_t i = 0; i < d->nfields; i++) {
    gen_field *f = &d->fields[i];
    gen_field *old;
    resolve_field(c, f);
    if (reserved_name(c, f->name, f->pos, "field"))
      continue;
    if (c->hooks->field_name != NULL && c->hooks->field_name(c->d, f))
      continue;
    old = gen_map_put(&fields, f->name, f);
    if (old != NULL)
      gen_error(c->d, f->pos, "duplicate field '%s' in '%s' (also at %d:%d)",
                f->name, d->name, old->pos.line, old->pos.col);
  }
  gen_map_free(&fields);
  if (c->hooks->fields != NULL)
    c->hooks->fields(c->d, d);
}

/* Lays d out and checks the limits on its size and nesting. */
static void compute_sizes(checker *c, gen_decl *d) {
  gen_layout_decl(d);
  if (d->nesting > MAX_NESTING)
    gen_error(c->d, d->pos, "'%s' nests structs %d levels deep (at most %d)",
              d->name, d->nesting, MAX_NESTING);
  if (d->mem_size > MAX_MEM_SIZE)
    gen_error(c->d, d->pos,
              "'%s' takes about %llu bytes in memory (at most %llu); use "
              "repeated instead of large fixed arrays",
              d->name, (unsigned long long)d->mem_size,
              (unsigned long long)MAX_MEM_SIZE);
}

/* Reports one cycle through the types left over by order_types(), starting
 * from start, and marks its members so it is reported once. seen[] holds,
 * per type index, the number of the last walk that met it (walk > 0). */
static void report_cycle(checker *c, gen_decl *start, size_t *seen,
                         size_t walk) {
  gen_decl *d = start;
  gen_buf path = {0};
  gen_field *first = NULL;
  size_t steps = 0;

  /* Follow leftover dependencies until a type repeats: that one is on a
   * cycle (every leftover type has a leftover dependency). Types are told
   * apart by their index, not their name: a name declared twice is two
   * types. */
  while (d != NULL && seen[d->index] != walk) {
    gen_decl *next = NULL;
    seen[d->index] = walk;
    for (size_t i = 0; i < d->nfields && next == NULL; i++) {
      gen_decl *dep = gen_value_dep(&d->fields[i]);
      if (dep != NULL && !dep->checked_size)
        next = dep;
    }
    d = next;
  }
  if (d == NULL) { /* only depends on a cycle reported already */
    start->checked_size = true;
    start->min_size = start->mem_size = 1;
    return;
  }
  start = d;
  do {
    gen_field *via = NULL;
    for (size_t i = 0; i < d->nfields && via == NULL; i++) {
      gen_decl *dep = gen_value_dep(&d->fields[i]);
      if (dep != NULL && !dep->checked_size)
        via = &d->fields[i];
    }
    if (via == NULL)
      break; /* cannot happen: d lies on a cycle */
    if (first == NULL)
      first = via;
    if (steps < 8)
      gen_buf_printf(&path, "%s.%s -> ", d->name, via->name);
    else if (steps == 8)
      gen_buf_puts(&path, "... -> ");
    d = via->type.decl;
    steps++;
  } while (d != start);
  gen_error(c->d, first != NULL ? first->pos : start->pos,
            "struct '%s' contains itself (%s%s); only a 'repeated' field can "
            "link a struct to itself",
            start->name, path.data, start->name);
  gen_buf_free(&path);
  /* Mark the whole cycle as done so it is reported once. */
  d = start;
  do {
    gen_decl *next = NULL;
    for (size_t i = 0; i < d->nfields && next == NULL; i++) {
      gen_decl *dep = gen_value_dep(&d->fields[i]);
      if (dep != NULL && !dep->checked_size)
        next = dep;
    }
    d->checked_size = true;
    d->min_size = d->mem_size = 1;
    d = next;
  } while (d != NULL && !d->checked_size);
}

/* Orders structs and messages so each comes after the structs it holds by
 * value (Kahn's algorithm over an edge list, no recursion; ties in source
 * order so the output is deterministic). Types left over lie on a cycle. */
static void order_types(checker *c) {
  gen_schema *s = c->s;
  size_t n = 0, nedges = 0, head = 0, tail = 0;
  gen_decl **types, **queue;
  size_t *indeg, *first, *users;

  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_STRUCT || s->decls[i]->kind == D_MESSAGE) {
      s->decls[i]->index = n++;
      for (size_t k = 0; k < s->decls[i]->nfields; k++)
        nedges += gen_value_dep(&s->decls[i]->fields[k]) != NULL;
    }
  types = gen_pool_alloc(c->pool, (n + 1) * sizeof(*types));
  queue = gen_pool_alloc(c->pool, (n + 1) * sizeof(*queue));
  indeg = gen_pool_alloc(c->pool, (n + 1) * sizeof(*indeg));
  first = gen_pool_alloc(c->pool, (n + 2) * sizeof(*first));
  users = gen_pool_alloc(c->pool, (nedges + 1) * sizeof(*users));
  for (size_t i = 0; i < s->ndecls; i++) {
    gen_decl *d = s->decls[i];
    if (d->kind != D_STRUCT && d->kind != D_MESSAGE)
      continue;
    types[d->index] = d;
    for (size_t k = 0; k < d->nfields; k++) {
      gen_decl *dep = gen_value_dep(&d->fields[k]);
      if (dep != NULL) {
        indeg[d->index]++;
        first[dep->index + 1]++;
      }
    }
  }
  /* users of type t: users[first[t] .. first[t+1]) (counting sort) */
  for (size_t t = 0; t < n; t++)
    first[t + 1] += first[t];
  {
    size_t *fill = gen_pool_alloc(c->pool, (n + 1) * sizeof(*fill));
    memcpy(fill, first, n * sizeof(*fill));
    for (size_t t = 0; t < n; t++)
      for (size_t k = 0; k < types[t]->nfields; k++) {
        gen_decl *dep = gen_value_dep(&types[t]->fields[k]);
        if (dep != NULL)
          users[fill[dep->index]++] = t;
      }
  }
  for (size_t t = 0; t < n; t++)
    if (indeg[t] == 0)
      queue[tail++] = types[t];
  while (head < tail) {
    gen_decl *d = queue[head++];
    compute_sizes(c, d);
    for (size_t u = first[d->index]; u < first[d->index + 1]; u++)
      if (--indeg[users[u]] == 0)
        queue[tail++] = types[users[u]];
  }
  s->order = queue;
  s->norder = tail;
  memset(indeg, 0,
         (n + 1) * sizeof(*indeg)); /* reused as report_cycle's marks */
  for (size_t t = 0, walk = 1; t < n; t++)
    if (!types[t]->checked_size)
      report_cycle(c, types[t], indeg, walk++);
}

/* Elements of a repeated field must take at least one byte, or a tiny
 * payload could claim billions of them. */
static void check_repeated(checker *c, gen_decl *d) {
  for (size_t i = 0; i < d->nfields; i++) {
    gen_field *f = &d->fields[i];
    if (f->mode == F_REPEATED && gen_wire_min(&f->type) == 0)
      gen_error(c->d, f->pos,
                "elements of repeated field '%s' encode to zero bytes",
                f->name);
  }
}

static void warn_unused(checker *c) {
  size_t messages = 0;
  for (size_t i = 0; i < c->s->ndecls; i++) {
    gen_decl *d = c->s->decls[i];
    if (d->kind == D_MESSAGE)
      messages++;
    else if (!d->used)
      gen_warning(c->d, d->pos, "%s '%s' is never used", kind_name(d->kind),
                  d->name);
  }
  if (messages == 0 && c->s->proto != NULL)
    gen_warning(c->d, c->s->proto_pos, "protocol '%s' defines no messages",
                c->s->proto);
}

void gen_check(gen_schema *s, gen_diag *d, gen_pool *pool,
               const gen_check_hooks *hooks) {
  static const gen_check_hooks none;
  checker c;

  memset(&c, 0, sizeof(c));
  c.s = s;
  c.d = d;
  c.pool = pool;
  c.hooks = hooks != NULL ? hooks : &none;
  if (s->proto != NULL &&
      !reserved_name(&c, s->proto, s->proto_pos, "protocol name") &&
      (strcmp(s->proto, "netfw") == 0 || strncmp(s->proto, "netfw_", 6) == 0))
    gen_error(d, s->proto_pos,
              "protocol name '%s' would put its symbols among the runtime's "
              "(netfw_...)",
              s->proto);
  check_names(&c);
  for (size_t i = 0; i < s->ndecls; i++) {
    gen_decl *decl = s->decls[i];
    if (decl->kind == D_ENUM)
      check_enum(&c, decl);
    else if (decl->kind == D_STRUCT || decl->kind == D_MESSAGE)
      check_fields(&c, decl);
    if (decl->kind == D_MESSAGE)
      check_message_id(&c, decl);
    if (decl->kind == D_CONST && decl->value_overflow)
      gen_error(d, decl->id_pos, "value of const '%s' does not fit 64 bits",
                decl->name);
  }
  gen_check_evolution(s, d, pool);
  gen_check_returns(s, d);
  order_types(&c);
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_STRUCT || s->decls[i]->kind == D_MESSAGE)
      check_repeated(&c, s->decls[i]);
  if (c.hooks->schema != NULL)
    c.hooks->schema(d, pool, s);
  warn_unused(&c);
  gen_map_free(&c.names);
  gen_map_free(&c.ids);
}

bool gen_receives(const gen_decl *m, bool server) {
  return m->dir == DIR_BOTH || m->dir == (server ? DIR_SERVER : DIR_CLIENT);
}
