/* Diagnostics: "path:line:col: error: message", the source line, a caret
 * (diag.c). Every message of a run is collected in one buffer. */
#ifndef NETFW_GEN_DIAG_H
#define NETFW_GEN_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

typedef struct gen_pos {
  int line; /* 1-based */
  int col;  /* 1-based, in bytes */
} gen_pos;

enum { GEN_MAX_ERRORS = 50 };

/* Where one message starts in gen_diag.out, and the position it is about. */
typedef struct gen_diag_mark {
  gen_pos pos;
  bool warning; /* warnings follow the errors */
  size_t at;
} gen_diag_mark;

typedef struct gen_diag {
  const char *path; /* as shown in messages */
  const char *src;  /* the whole schema text (for source lines) */
  size_t src_len;
  gen_buf out; /* every message: errors, then warnings, each in line and
               * column order */
  int errors;
  int warnings;
  size_t nmarks; /* the messages in out, in order */
  gen_diag_mark marks[2 * GEN_MAX_ERRORS + 1];
} gen_diag;

/* Reports an error at pos (printed up to GEN_MAX_ERRORS, always counted). */
void gen_error(gen_diag *d, gen_pos pos, const char *fmt, ...) GEN_PRINTF(3, 4);
/* Reports a warning at pos (printed up to GEN_MAX_ERRORS, always counted). */
void gen_warning(gen_diag *d, gen_pos pos, const char *fmt, ...)
    GEN_PRINTF(3, 4);

#endif /* NETFW_GEN_DIAG_H */
