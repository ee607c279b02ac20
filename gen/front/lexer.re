/* The .netproto lexer, written for re2c (turned into lexer.c at build time).
 *
 * The whole schema sits in memory and ends with a NUL, so there is no
 * refilling: the NUL rule tells the real end from a stray NUL byte. Errors
 * (a stray character, an unterminated comment) are reported here and
 * skipped, so the parser only ever sees good tokens. */
#include <stdio.h>
#include <string.h>

#include "lexer.h"

void gen_lexer_init(gen_lexer *lx, const char *src, size_t len, gen_diag *d) {
  /* A UTF-8 byte-order mark (some editors write one) is not part of the text
   * and takes no column. */
  lx->end = src + len;
  if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0)
    src += 3;
  lx->cur = src;
  lx->line_start = src;
  lx->line = 1;
  lx->diag = d;
}

static gen_pos pos_of(const gen_lexer *lx, const char *p) {
  gen_pos pos;
  pos.line = lx->line;
  pos.col = (int)(p - lx->line_start) + 1;
  return pos;
}

static void newline(gen_lexer *lx, const char *after) {
  lx->line++;
  lx->line_start = after;
}

/* Skips a block comment whose "/ *" starts at start; cur is after it. */
static void block_comment(gen_lexer *lx, const char *start) {
  gen_pos pos = pos_of(lx, start);
  const char *p = lx->cur;

  for (; p < lx->end; p++) {
    if (*p == '\n') {
      newline(lx, p + 1);
    } else if (p[0] == '*' && p + 1 < lx->end && p[1] == '/') {
      lx->cur = p + 2;
      return;
    }
  }
  lx->cur = lx->end;
  gen_error(lx->diag, pos, "unterminated comment");
}

static uint64_t parse_int(const char *s, const char *e, bool *overflow) {
  uint64_t v = 0;
  int base = 10;

  *overflow = false;
  if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  for (; s < e; s++) {
    unsigned d = (unsigned)(*s >= '0' && *s <= '9'   ? *s - '0'
                            : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                                     : *s - 'A' + 10);
    if (v > (UINT64_MAX - d) / (uint64_t)base)
      *overflow = true;
    else
      v = v * (uint64_t)base + d;
  }
  return v;
}

static void stray(gen_lexer *lx, const char *p) {
  unsigned char c = (unsigned char)*p;
  if (c == 0)
    gen_error(lx->diag, pos_of(lx, p), "unexpected NUL byte");
  else if (c >= 0x21 && c < 0x7f)
    gen_error(lx->diag, pos_of(lx, p), "unexpected character '%c'", c);
  else
    gen_error(lx->diag, pos_of(lx, p), "unexpected byte 0x%02x", c);
}

void gen_lex(gen_lexer *lx, gen_token *t) {
  const unsigned char *cur = (const unsigned char *)lx->cur;
  const unsigned char *mar;

  for (;;) {
    const char *start = (const char *)cur;
    t->start = start;
    t->pos = pos_of(lx, start);
    t->value = 0;
    t->overflow = false;
#define SYNC() (lx->cur = (const char *)cur)
#define TOK(k)                                                                 \
  do {                                                                         \
    SYNC();                                                                    \
    t->kind = (k);                                                             \
    t->len = (size_t)(lx->cur - start);                                        \
    return;                                                                    \
  } while (0)
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:define:YYCURSOR = "cur";
      re2c:define:YYMARKER = "mar";
      re2c:yyfill:enable = 0;

      ident = [A-Za-z_][A-Za-z0-9_]*;
      dec   = [0-9]+;
      hex   = "0" [xX] [0-9a-fA-F]+;
      exp   = [eE] [+-]? [0-9]+;
      float = [0-9]+ "." [0-9]+ exp? | [0-9]+ exp;
      str   = "\"" ([^"\\\n\x00] | "\\" [^\n\x00])* "\"";

      "\x00"              { if (start >= lx->end) { cur = (const unsigned char *)lx->end;
                                                  TOK(TOK_EOF); }
                            SYNC(); stray(lx, start); continue; }
      "\n"                { SYNC(); newline(lx, lx->cur); continue; }
      [ \t\r\f\v]+        { continue; }
      "///" [^\n\x00]*    { TOK(TOK_DOC); }
      "//" [^\n\x00]*     { continue; }
      "/*"                { SYNC(); block_comment(lx, start);
                            cur = (const unsigned char *)lx->cur; continue; }
      ident               { TOK(TOK_IDENT); }
      dec | hex           { t->value = parse_int(start, (const char *)cur, &t->overflow);
                            TOK(TOK_INT); }
      float               { TOK(TOK_FLOAT); }
      str                 { TOK(TOK_STRING); }
      "\"" ([^"\\\n\x00] | "\\" [^\n\x00])*
                          { SYNC(); gen_error(lx->diag, pos_of(lx, start),
                                              "unterminated string literal");
                            continue; }
      ";"                 { TOK(TOK_SEMI); }
      "{"                 { TOK(TOK_LBRACE); }
      "}"                 { TOK(TOK_RBRACE); }
      "<"                 { TOK(TOK_LT); }
      ">"                 { TOK(TOK_GT); }
      "="                 { TOK(TOK_EQ); }
      "["                 { TOK(TOK_LBRACKET); }
      "]"                 { TOK(TOK_RBRACKET); }
      ":"                 { TOK(TOK_COLON); }
      "->"                { TOK(TOK_ARROW); }
      ","                 { TOK(TOK_COMMA); }
      "-"                 { TOK(TOK_MINUS); }
      "|"                 { TOK(TOK_PIPE); }
      *                   { SYNC(); stray(lx, start); continue; }
    */
#undef TOK
#undef SYNC
  }
}

const char *gen_tok_name(gen_tok_kind k) {
  switch (k) {
  case TOK_EOF: return "end of file";
  case TOK_IDENT: return "a name";
  case TOK_INT: return "a number";
  case TOK_SEMI: return "';'";
  case TOK_LBRACE: return "'{'";
  case TOK_RBRACE: return "'}'";
  case TOK_LT: return "'<'";
  case TOK_GT: return "'>'";
  case TOK_EQ: return "'='";
  case TOK_LBRACKET: return "'['";
  case TOK_RBRACKET: return "']'";
  case TOK_COLON: return "':'";
  case TOK_ARROW: return "'->'";
  case TOK_COMMA: return "','";
  case TOK_MINUS: return "'-'";
  case TOK_PIPE: return "'|'";
  case TOK_FLOAT: return "a decimal number";
  case TOK_STRING: return "a string";
  case TOK_DOC: return "a doc comment";
  }
  return "?";
}
