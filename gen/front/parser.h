/* The parser's state and the helpers its three files share: parser.c (the
 * top level, helpers, the one-line statements), parse_decl.c (enum, struct
 * and message heads) and parse_field.c (fields, types and literals). */
#ifndef NETFW_GEN_PARSER_H
#define NETFW_GEN_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "lexer.h"

typedef struct parser {
  gen_lexer lx;
  gen_token tok;
  const char *prev_end; /* just after the token before tok */
  gen_diag *d;
  gen_pool *pool;
  gen_schema *s;
  gen_buf doc; /* pending `///` lines */
  bool missing_protocol_reported;
  size_t decl_cap;
  size_t reserved_cap;
} parser;

/* Grows a pool array when full (pool arrays are never freed one by one). */
void *par_grow(gen_pool *pool, void *arr, size_t n, size_t *cap, size_t elem);
/* Moves to the next token, gathering doc comments on the way. */
void par_next(parser *p);
/* The pending doc comment (NULL if none), which is then cleared. */
const char *par_take_doc(parser *p);
/* Whether the current token is the name w. */
bool par_is_word(const parser *p, const char *w);
/* Describes the current token for "found ..." in messages. */
const char *par_found(parser *p);
/* Consumes a token of kind k, or reports "expected k<context>". */
bool par_expect(parser *p, gen_tok_kind k, const char *context);
/* Consumes a name into name and pos, or reports "expected <what>". */
bool par_expect_name(parser *p, const char *what, const char **name,
                     gen_pos *pos);
/* Skips a broken member: past the next ';' or up to the body's '}'. */
void par_recover_member(parser *p);
/* Skips a broken statement: past its ';' or its body. */
void par_recover_statement(parser *p);
/* Parses one member of d's body into d (cap: its array's capacity); false
 * after reporting an error, and the caller skips to the next member. */
typedef bool (*par_member_fn)(parser *p, gen_decl *d, size_t *cap);
/* '{' member* '}' [';']: the body of d, each member parsed by member. */
void par_body(parser *p, gen_decl *d, par_member_fn member);
/* Appends a declaration of kind to the schema. */
gen_decl *par_new_decl(parser *p, gen_decl_kind kind, const char *doc);

/* u8/u16/u32 as a prefix: its byte count, 0 after an error. */
int par_prefix_type(parser *p, const char *what);
/* '<' prefix '>' if present (default u32): byte count, 0 after an error. */
int par_opt_prefix(parser *p, const char *what);
/* '{' field* '}' [';'] of a struct or message. */
void par_fields(parser *p, gen_decl *d);

/* enum NAME ':' P [open] '{' ... '}' */
void par_enum(parser *p, const char *doc);
/* struct NAME [extensible ['<' P '>']] body */
void par_struct(parser *p, const char *doc);
/* message NAME '=' ID ['->' side] body */
void par_message(parser *p, const char *doc);

#endif /* NETFW_GEN_PARSER_H */
