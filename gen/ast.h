/* netfw-gen internals: tokens, the schema AST, diagnostics, output buffers.
 *
 * The pipeline is lexer (lexer.re) -> parser (parser.c) -> checker (check.c)
 * -> emitters (emit_*.c); driver.c strings them together and main.c is the
 * command line. Everything a run allocates lives in one gen_pool and is
 * freed at once. */
#ifndef NETFW_GEN_AST_H
#define NETFW_GEN_AST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define GEN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GEN_PRINTF(f, a)
#endif

/* ---- memory ---------------------------------------------------------- */

typedef struct gen_pool_block gen_pool_block;
typedef struct gen_pool {
  gen_pool_block *head;
} gen_pool;

void *gen_pool_alloc(gen_pool *p, size_t size); /* zeroed; aborts on OOM */
char *gen_pool_strndup(gen_pool *p, const char *s, size_t len);
void gen_pool_free(gen_pool *p);

/* A growable byte buffer (always NUL-terminated when len > 0). */
typedef struct gen_buf {
  char *data;
  size_t len;
  size_t cap;
} gen_buf;

void gen_buf_append(gen_buf *b, const char *s, size_t len);
void gen_buf_puts(gen_buf *b, const char *s);
void gen_buf_printf(gen_buf *b, const char *fmt, ...) GEN_PRINTF(2, 3);
void gen_buf_vprintf(gen_buf *b, const char *fmt, va_list ap)
    GEN_PRINTF(2, 0);
void gen_buf_free(gen_buf *b);

/* A string -> pointer hash map (keys are not copied). */
typedef struct gen_map {
  const char **keys;
  void **vals;
  size_t cap; /* power of two */
  size_t len;
} gen_map;

void *gen_map_get(const gen_map *m, const char *key);
/* Inserts key unless present; returns the existing value or NULL. */
void *gen_map_put(gen_map *m, const char *key, void *val);
void gen_map_free(gen_map *m);

/* ---- diagnostics ------------------------------------------------------ */

typedef struct gen_pos {
  int line; /* 1-based */
  int col;  /* 1-based, in bytes */
} gen_pos;

enum { GEN_MAX_ERRORS = 50 };

typedef struct gen_diag {
  const char *path; /* as shown in messages */
  const char *src;  /* the whole schema text (for source lines) */
  size_t src_len;
  gen_buf out; /* every message, formatted */
  int errors;
  int warnings;
} gen_diag;

void gen_error(gen_diag *d, gen_pos pos, const char *fmt, ...)
    GEN_PRINTF(3, 4);
void gen_warning(gen_diag *d, gen_pos pos, const char *fmt, ...)
    GEN_PRINTF(3, 4);

/* ---- tokens and lexer ------------------------------------------------- */

typedef enum gen_tok_kind {
  TOK_EOF,
  TOK_IDENT,
  TOK_INT,
  TOK_SEMI,
  TOK_LBRACE,
  TOK_RBRACE,
  TOK_LT,
  TOK_GT,
  TOK_EQ,
  TOK_LBRACKET,
  TOK_RBRACKET,
  TOK_COLON,
  TOK_ARROW,
  TOK_DOC /* a `///` comment; the parser attaches it to what follows */
} gen_tok_kind;

typedef struct gen_token {
  gen_tok_kind kind;
  const char *start;
  size_t len;
  gen_pos pos;
  uint64_t value; /* TOK_INT */
  bool overflow;  /* TOK_INT did not fit 64 bits */
} gen_token;

typedef struct gen_lexer {
  const char *cur;
  const char *end; /* *end == '\0' */
  const char *line_start;
  int line;
  gen_diag *diag;
} gen_lexer;

void gen_lexer_init(gen_lexer *lx, const char *src, size_t len, gen_diag *d);
/* Returns the next token; lexical errors are reported and skipped. */
void gen_lex(gen_lexer *lx, gen_token *t);
const char *gen_tok_name(gen_tok_kind k);

/* ---- AST ------------------------------------------------------------- */

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
} gen_field;

typedef struct gen_enum_const {
  const char *name;
  gen_pos pos;
  const char *doc;
  uint64_t value;
  bool overflow;
  gen_pos value_pos;
} gen_enum_const;

typedef enum gen_decl_kind { D_ENUM, D_STRUCT, D_MESSAGE, D_CONST } gen_decl_kind;
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
  /* D_STRUCT, D_MESSAGE */
  gen_field *fields;
  size_t nfields;
  /* D_MESSAGE */
  uint64_t id;
  bool id_overflow;
  gen_pos id_pos;
  gen_dir dir;
  /* D_CONST */
  uint64_t value;
  bool value_overflow;
  /* filled by the checker */
  bool used;
  bool recursive;    /* part of a cycle through `repeated` */
  bool checked_size; /* min_size/mem_size valid */
  uint64_t min_size; /* fewest bytes an encoding takes */
  uint64_t mem_size; /* rough in-memory size, for the sanity limit */
  bool needs_arena;  /* decoding may allocate */
  int nesting;       /* structs held by value inside, deepest chain */
  size_t index;      /* position among structs and messages */
};

typedef struct gen_schema {
  const char *proto; /* NULL when missing */
  gen_pos proto_pos;
  const char *doc;
  bool big_endian;
  bool endian_set;
  gen_pos endian_pos;
  gen_decl **decls; /* in source order */
  size_t ndecls;
  gen_decl **order; /* structs and messages, dependencies first (checker) */
  size_t norder;
} gen_schema;

/* Parses src into s; reports syntax errors to d. */
void gen_parse(gen_schema *s, const char *src, size_t len, gen_diag *d,
               gen_pool *pool);

/* Resolves names and checks every rule; fills the checker fields. */
void gen_check(gen_schema *s, gen_diag *d, gen_pool *pool);

/* ---- naming helpers shared by checker and emitters -------------------- */

const char *gen_upper(gen_pool *p, const char *camel); /* "ListResp" -> "LIST_RESP" */
const char *gen_scalar_name(gen_tykind k);            /* "u8", ... */
int gen_scalar_size(gen_tykind k);                    /* bytes; 0 if not fixed */
bool gen_is_c_keyword(const char *s);

/* ---- emitters --------------------------------------------------------- */

typedef struct gen_out {
  const char *schema_name; /* base name of the schema file, for banners */
  const char *base;        /* output base name: the schema file's, no extension */
  const char *guard;       /* include guard of the header */
} gen_out;

/* Shared by the emitters (emit_header.c). */
const char *gen_ctype(gen_pool *pool, const gen_schema *s, const gen_type *t);
void gen_emit_doc(gen_buf *b, const char *doc, const char *indent);
void gen_emit_banner(gen_buf *b, const gen_schema *s, const gen_out *o,
                     const char *file);
bool gen_receives(const gen_decl *m, bool server);

/* Rewraps long lines of generated C at 80 columns (reflow.c). */
void gen_reflow(gen_buf *b);

void gen_emit_header(gen_buf *b, const gen_schema *s, const gen_out *o,
                     gen_pool *pool);
void gen_emit_source(gen_buf *b, const gen_schema *s, const gen_out *o,
                     gen_pool *pool);
/* The dispatch/app/send-helper part of the .c file (emit_glue.c); called by
 * gen_emit_source after the codec. */
void gen_emit_glue(gen_buf *b, const gen_schema *s, gen_pool *pool);
void gen_emit_stubs(gen_buf *b, const gen_schema *s, const gen_out *o,
                    gen_pool *pool);
void gen_emit_fuzz(gen_buf *b, const gen_schema *s, const gen_out *o,
                   gen_pool *pool);

/* ---- driver (for main.c and the tests) -------------------------------- */

typedef struct gen_result {
  gen_diag diag;
  gen_buf header;
  gen_buf source;
  gen_buf stubs;
  gen_buf fuzz;
  const char *base; /* output base name (points into the pool) */
  gen_pool pool;
} gen_result;

/* Compiles one schema held in memory. Returns 0 when it has no errors (the
 * outputs are then filled), 1 otherwise. Free with gen_result_free(). */
int gen_compile(gen_result *r, const char *path, const char *src, size_t len);
void gen_result_free(gen_result *r);

#endif /* NETFW_GEN_AST_H */
