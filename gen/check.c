/* The checker: resolves names and enforces every rule of the language that
 * the grammar cannot (docs/netproto.md lists them). It also computes what the
 * emitters need: a dependency order for structs, the fewest bytes each type
 * encodes to (for the decoder's count check) and whether decoding allocates. */
#include <stdio.h>
#include <string.h>

#include "ast.h"

enum {
  MAX_ARRAY = 65535, /* largest fixed array */
  MAX_NESTING = 64,  /* structs inside structs, by value */
};
#define MAX_MEM_SIZE ((uint64_t)16 * 1024 * 1024) /* in-memory struct size */

typedef struct checker {
  gen_schema *s;
  gen_diag *d;
  gen_pool *pool;
  gen_map names;   /* declaration name -> gen_decl */
  gen_map symbols; /* generated C symbol -> struct sym */
  gen_map ids;     /* message id (as text) -> gen_decl */
} checker;

typedef struct sym {
  const char *owner; /* the schema name that generates it */
  gen_pos pos;
} sym;

static bool reserved_name(checker *c, const char *name, gen_pos pos,
                          const char *what) {
  if (name[0] == '_') {
    gen_error(c->d, pos, "%s '%s' may not start with '_' (reserved in C)", what,
              name);
    return true;
  }
  return false;
}

/* Registers a generated symbol; reports a clash with an earlier one. */
static void add_symbol(checker *c, const char *symbol, const char *owner,
                       gen_pos pos) {
  sym *s = gen_pool_alloc(c->pool, sizeof(*s));
  sym *old;
  s->owner = owner;
  s->pos = pos;
  old = gen_map_put(&c->symbols, symbol, s);
  if (old != NULL && strcmp(old->owner, owner) != 0)
    gen_error(c->d, pos,
              "'%s' generates '%s', which '%s' (%d:%d) generates too", owner,
              symbol, old->owner, old->pos.line, old->pos.col);
  else if (old != NULL)
    gen_error(c->d, pos, "'%s' generates '%s' twice", owner, symbol);
}

static const char *cat(checker *c, const char *a, const char *b,
                       const char *d) {
  size_t la = strlen(a), lb = strlen(b), ld = strlen(d);
  char *r = gen_pool_alloc(c->pool, la + lb + ld + 1);
  memcpy(r, a, la);
  memcpy(r + la, b, lb);
  memcpy(r + la + lb, d, ld);
  return r;
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
  static const char *const b[] = {
      "u8",  "u16", "u32",  "u64",    "i8",    "i16",      "i32",     "i64",
      "f32", "f64", "bool", "string", "bytes", "optional", "repeated"};
  for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
    if (strcmp(n, b[i]) == 0)
      return true;
  return false;
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

static void resolve_field(checker *c, gen_field *f) {
  if (f->type.kind == TY_NAMED) {
    gen_decl *t = gen_map_get(&c->names, f->type.name);
    if (t == NULL) {
      gen_error(c->d, f->type.pos, "unknown type '%s'", f->type.name);
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
        gen_error(c->d, f->array_pos, "'%s' is not a const", f->array_const);
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
    if (gen_is_c_keyword(f->name)) {
      gen_error(c->d, f->pos, "field name '%s' is a C keyword", f->name);
      continue;
    }
    old = gen_map_put(&fields, f->name, f);
    if (old != NULL)
      gen_error(c->d, f->pos, "duplicate field '%s' in '%s' (also at %d:%d)",
                f->name, d->name, old->pos.line, old->pos.col);
  }
  /* The members the C struct adds: x_count for repeated, has_x for optional. */
  for (size_t i = 0; i < d->nfields; i++) {
    gen_field *f = &d->fields[i];
    const char *extra = NULL;
    gen_field *old;
    if (f->mode == F_REPEATED)
      extra = cat(c, f->name, "_count", "");
    else if (f->mode == F_OPTIONAL)
      extra = cat(c, "has_", f->name, "");
    if (extra == NULL)
      continue;
    old = gen_map_get(&fields, extra);
    if (old != NULL)
      gen_error(c->d, old->pos,
                "field '%s' collides with the member '%s' generated for '%s' "
                "(%d:%d)",
                old->name, extra, f->name, f->pos.line, f->pos.col);
  }
  gen_map_free(&fields);
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Fewest encoded bytes and rough C size of one value of type t. */
static void type_sizes(const gen_type *t, uint64_t *min, uint64_t *mem) {
  if (t->kind == TY_STRING || t->kind == TY_BYTES) {
    *min = (uint64_t)t->prefix;
    *mem = 16;
  } else if (t->kind != TY_NAMED) {
    *min = (uint64_t)gen_scalar_size(t->kind);
    *mem = *min;
  } else if (t->decl != NULL && t->decl->kind == D_ENUM) {
    *min = (uint64_t)gen_scalar_size(t->decl->underlying);
    *mem = 4;
  } else if (t->decl != NULL) {
    *min = t->decl->min_size;
    *mem = t->decl->mem_size;
  } else {
    *min = 1;
    *mem = 1;
  }
}

/* By-value struct dependency of a field (NULL if none). */
static gen_decl *value_dep(const gen_field *f) {
  if (f->mode == F_REPEATED || f->type.decl == NULL ||
      f->type.decl->kind != D_STRUCT)
    return NULL;
  return f->type.decl;
}

static void compute_sizes(checker *c, gen_decl *d) {
  uint64_t min = 0, mem = 0;
  int depth = 0;
  for (size_t i = 0; i < d->nfields; i++) {
    gen_field *f = &d->fields[i];
    gen_decl *dep = value_dep(f);
    uint64_t tmin, tmem;
    type_sizes(&f->type, &tmin, &tmem);
    switch (f->mode) {
    case F_PLAIN:
      break;
    case F_OPTIONAL:
      tmin = 1;
      tmem = sat_add(tmem, 8);
      break;
    case F_ARRAY:
      tmin = sat_mul(tmin, f->array_len);
      tmem = sat_mul(tmem, f->array_len);
      break;
    case F_REPEATED:
      tmin = (uint64_t)f->count_prefix;
      tmem = 16;
      d->needs_arena = true;
      break;
    }
    min = sat_add(min, tmin);
    mem = sat_add(mem, tmem);
    if (dep != NULL) {
      if (dep->needs_arena)
        d->needs_arena = true;
      if (dep->nesting + 1 > depth)
        depth = dep->nesting + 1;
    }
  }
  d->min_size = min;
  d->mem_size = mem == 0 ? 1 : mem;
  d->checked_size = true;
  d->nesting = depth;
  if (depth > MAX_NESTING)
    gen_error(c->d, d->pos, "'%s' nests structs %d levels deep (at most %d)",
              d->name, depth, MAX_NESTING);
  if (mem > MAX_MEM_SIZE)
    gen_error(c->d, d->pos,
              "'%s' takes about %llu bytes in memory (at most %llu); use "
              "repeated instead of large fixed arrays",
              d->name, (unsigned long long)mem,
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
      gen_decl *dep = value_dep(&d->fields[i]);
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
      gen_decl *dep = value_dep(&d->fields[i]);
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
      gen_decl *dep = value_dep(&d->fields[i]);
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
        nedges += value_dep(&s->decls[i]->fields[k]) != NULL;
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
      gen_decl *dep = value_dep(&d->fields[k]);
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
        gen_decl *dep = value_dep(&types[t]->fields[k]);
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
    uint64_t min, mem;
    if (f->mode != F_REPEATED)
      continue;
    type_sizes(&f->type, &min, &mem);
    if (min == 0)
      gen_error(c->d, f->pos,
                "elements of repeated field '%s' encode to zero bytes",
                f->name);
  }
}

/* Every C symbol the output will define, so two never clash. */
static void check_symbols(checker *c) {
  gen_schema *s = c->s;
  const char *p = s->proto;
  const char *P = gen_upper(c->pool, p);
  static const char *const fixed[] = {"msg_name",
                                      "server_handlers",
                                      "client_handlers",
                                      "server_dispatch",
                                      "client_dispatch",
                                      "server_default_unknown",
                                      "server_default_malformed",
                                      "client_default_unknown",
                                      "client_default_malformed",
                                      "server_app",
                                      "server_config_init",
                                      "netfw_app",
                                      "client_recv"};

  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    add_symbol(c, cat(c, p, "_", fixed[i]), "the protocol", s->proto_pos);
  add_symbol(c, "handlers.on_unknown", "the protocol", s->proto_pos);
  add_symbol(c, "handlers.on_malformed", "the protocol", s->proto_pos);
  for (size_t i = 0; i < s->ndecls; i++) {
    gen_decl *d = s->decls[i];
    const char *t = cat(c, p, "_", d->name);
    const char *U = cat(c, P, "_", gen_upper(c->pool, d->name));
    switch (d->kind) {
    case D_CONST:
      add_symbol(c, U, d->name, d->pos);
      break;
    case D_ENUM:
      add_symbol(c, t, d->name, d->pos);
      for (size_t k = 0; k < d->nconsts; k++)
        add_symbol(c, cat(c, U, "_", gen_upper(c->pool, d->consts[k].name)),
                   d->name, d->consts[k].pos);
      break;
    case D_MESSAGE:
      add_symbol(c, cat(c, U, "_ID", ""), d->name, d->pos);
      add_symbol(c, cat(c, p, "_send_", d->name), d->name, d->pos);
      add_symbol(c, cat(c, p, "_client_send_", d->name), d->name, d->pos);
      add_symbol(c, cat(c, "handlers.on_", d->name, ""), d->name, d->pos);
      /* fall through */
    case D_STRUCT:
      add_symbol(c, t, d->name, d->pos);
      add_symbol(c, cat(c, t, "_encode", ""), d->name, d->pos);
      add_symbol(c, cat(c, t, "_decode", ""), d->name, d->pos);
      add_symbol(c, cat(c, t, "_encoded_size", ""), d->name, d->pos);
      break;
    }
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

void gen_check(gen_schema *s, gen_diag *d, gen_pool *pool) {
  checker c;

  memset(&c, 0, sizeof(c));
  c.s = s;
  c.d = d;
  c.pool = pool;
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
  order_types(&c);
  for (size_t i = 0; i < s->ndecls; i++)
    if (s->decls[i]->kind == D_STRUCT || s->decls[i]->kind == D_MESSAGE)
      check_repeated(&c, s->decls[i]);
  if (s->proto != NULL && s->proto[0] != '_')
    check_symbols(&c);
  warn_unused(&c);
  gen_map_free(&c.names);
  gen_map_free(&c.symbols);
  gen_map_free(&c.ids);
}
