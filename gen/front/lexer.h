/* The front end's tokens and lexer (lexer.re), used by the parser only. */
#ifndef NETFW_GEN_LEXER_H
#define NETFW_GEN_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

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
  TOK_COMMA,
  TOK_MINUS,
  TOK_PIPE,   /* '|' between the replies of `returns` */
  TOK_FLOAT,  /* 1.5, 2e3: the text only; the parser converts it */
  TOK_STRING, /* "...": start/len include the quotes, escapes undone later */
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

/* Starts lexing src[0..len), which must be followed by a NUL. */
void gen_lexer_init(gen_lexer *lx, const char *src, size_t len, gen_diag *d);
/* Returns the next token; lexical errors are reported and skipped. */
void gen_lex(gen_lexer *lx, gen_token *t);
/* "';'", "a name"...: how a token kind is named in messages. */
const char *gen_tok_name(gen_tok_kind k);

#endif /* NETFW_GEN_LEXER_H */
