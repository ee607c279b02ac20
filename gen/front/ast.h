/* The schema AST that the parser builds and the checker completes: what
 * every back end reads (with layout.h), and nothing of any target language.
 *
 * The front end is lexer (lexer.re) -> parser (parser.c) -> checker
 * (check.c, layout.c); ../README.md tells how the back ends plug in.
 * Everything a run allocates lives in one gen_pool and is freed at once. */
#ifndef NETFW_GEN_AST_H
#define NETFW_GEN_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "util.h"

typedef enum gen_tykind {
  TY_U8,
  TY_U16,
  TY_U32,
  TY_U64,
  TY_I8,
  TY_I16,
  TY_I32,
  TY_I64,
  TY_F32,
  TY_F64,
  TY_BOOL,
  TY_STRING,
  TY_BYTES,
  TY_NAMED /* an enum or a struct, resolved by the checker */
} gen_tykind;

typedef struct gen_decl gen_decl;

typedef struct gen_type {
  gen_tykind kind;
  int prefix;       /* TY_STRING/TY_BYTES: length prefix bytes 1, 2, 4 */
  const char *name; /* TY_NAMED */
  gen_pos pos;
  gen_decl *decl; /* TY_NAMED after checking */
} gen_type;

typedef enum gen_field_mode { F_PLAIN, F_OPTIONAL, F_REPEATED, F_ARRAY } gen_field_mode;

/* A literal in a schema: a field's default (`u32 mode = 420 [since 2];`). */
typedef enum gen_value_kind {
  V_NONE,   /* no literal written */
  V_INT,    /* 42, 0x2a, -7: magnitude in u, sign in negative */
  V_FLOAT,  /* 0.5, 1e-3, -2.5e10: in f (and V_INT's value as f too) */
  V_BOOL,   /* true, false */
  V_STRING, /* "...": the bytes after escapes, in str/len */
  V_NAME    /* an enum constant's name, in str */
} gen_value_kind;

typedef struct gen_value {
  gen_value_kind kind;
  gen_pos pos;
  bool negative;
  uint64_t u;
  bool overflow; /* V_INT magnitude did not fit 64 bits */
  double f;
  bool b;
  const char *str; /* V_STRING (may hold NULs: use len), V_NAME */
  size_t len;
  const char *text; /* the literal as written, for messages */
  const struct gen_enum_const *konst; /* V_NAME after checking */
} gen_value;

typedef struct gen_field {
  const char *name;
  gen_pos pos;
  const char *doc;
  gen_type type;
  gen_field_mode mode;
  int count_prefix;         /* F_REPEATED: 1, 2, 4 */
  uint64_t array_len;       /* F_ARRAY */
  const char *array_const;  /* F_ARRAY sized by a const name */
  gen_pos array_pos;
  bool array_overflow;
  /* Schema evolution (docs/netproto.md "Evolving a schema"). */
  unsigned since;    /* [since N]: the version that added it; 0: none */
  gen_pos since_pos; /* of N */
  bool since_overflow;
  gen_value def; /* `= literal`; V_NONE: the zero value (see below) */
  /* filled by the checker for a [since] field of a closed-enum type
   * without a literal: the constant with value 0 */
  const struct gen_enum_const *def_konst;
} gen_field;

typedef struct gen_enum_const gen_enum_const;
struct gen_enum_const {
  const char *name;
  gen_pos pos;
  const char *doc;
  uint64_t value;
  bool overflow;
  gen_pos value_pos;
};

typedef enum gen_decl_kind { D_ENUM, D_STRUCT, D_MESSAGE, D_CONST } gen_decl_kind;

/* One reply a request names: `-> server returns GetResp | Ack`. */
typedef struct gen_reply {
  const char *name;
  gen_pos pos;
  const gen_decl *decl; /* the message, after checking; NULL if unknown */
} gen_reply;
typedef enum gen_dir { DIR_BOTH, DIR_SERVER, DIR_CLIENT } gen_dir;

struct gen_decl {
  gen_decl_kind kind;
  const char *name;
  gen_pos pos;
  const char *doc;
  /* D_ENUM */
  gen_tykind underlying;
  gen_pos underlying_pos;
  gen_enum_const *consts;
  size_t nconsts;
  bool open; /* `enum E : u8 open {}`: values not listed are accepted */
  gen_pos open_pos;
  /* D_STRUCT: `struct S extensible<P> {}`: encoded after a length prefix
   * of ext_prefix bytes (1, 2, 4; 0: not extensible) */
  int ext_prefix;
  gen_pos ext_pos;
  /* D_STRUCT, D_MESSAGE */
  gen_field *fields;
  size_t nfields;
  /* D_MESSAGE */
  uint64_t id;
  bool id_overflow;
  gen_pos id_pos;
  gen_dir dir;
  /* `returns A | B`: the messages answering this request, as written */
  gen_reply *returns;
  size_t nreturns;
  gen_pos returns_pos;
  bool is_reply; /* named in some request's returns (checker) */
  /* D_CONST */
  uint64_t value;
  bool value_overflow;
  /* filled by the checker */
  bool used;
  size_t index; /* position among structs and messages */
  /* the wire layout of a struct or message (layout.c), filled by the
   * checker in dependency order */
  bool checked_size; /* min_size/mem_size valid */
  uint64_t min_size; /* fewest bytes an encoding takes */
  uint64_t mem_size; /* rough in-memory size, for the sanity limit */
  bool needs_arena;  /* decoding may allocate */
  int nesting;       /* structs held by value inside, deepest chain */
  /* filled by the checker (evolve.c) */
  unsigned max_since; /* the highest [since] among the fields; 0: none */
  /* its encoding reaches a [since] field or an extensible struct, so the
   * decoder may fill defaults or skip bytes (see the fuzz property) */
  bool evolving;
};

/* `reserved 4, 9;` (message ids) or `reserved name Foo;` (message names). */
typedef struct gen_reserved {
  bool is_name;
  uint64_t id; /* !is_name */
  bool overflow;
  const char *name; /* is_name */
  gen_pos pos;
} gen_reserved;

typedef struct gen_schema {
  const char *proto; /* NULL when missing */
  gen_pos proto_pos;
  const char *doc;
  bool big_endian;
  bool endian_set;
  gen_pos endian_pos;
  unsigned version; /* option version = N; 1 when not set */
  bool version_set;
  gen_pos version_pos;
  bool version_overflow;
  gen_reserved *reserved; /* in source order */
  size_t nreserved;
  gen_decl **decls; /* in source order */
  size_t ndecls;
  gen_decl **order; /* structs and messages, dependencies first (checker) */
  size_t norder;
} gen_schema;

/* The message of s with wire id `id`, or named `name`; NULL if none. */
const gen_decl *gen_message_by_id(const gen_schema *s, uint64_t id);
const gen_decl *gen_message_by_name(const gen_schema *s, const char *name);
/* The reserved entry of s for message id `id` / name `name`, or NULL. */
const gen_reserved *gen_reserved_id(const gen_schema *s, uint64_t id);
const gen_reserved *gen_reserved_name(const gen_schema *s, const char *name);

/* Parses src into s; reports syntax errors to d. */
void gen_parse(gen_schema *s, const char *src, size_t len, gen_diag *d,
               gen_pool *pool);

/* Whether the server (or, if !server, the client) receives message m. */
bool gen_receives(const gen_decl *m, bool server);

#endif /* NETFW_GEN_AST_H */
