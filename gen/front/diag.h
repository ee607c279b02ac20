/* Diagnostics: "path:line:col: error: message", the source line, a caret
 * (diag.c). Every message of a run is collected in one buffer. */
#ifndef NETFW_GEN_DIAG_H
#define NETFW_GEN_DIAG_H

#include <stddef.h>

#include "util.h"

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

/* Reports an error at pos (printed up to GEN_MAX_ERRORS, always counted). */
void gen_error(gen_diag *d, gen_pos pos, const char *fmt, ...) GEN_PRINTF(3, 4);
/* Reports a warning at pos (printed up to GEN_MAX_ERRORS, always counted). */
void gen_warning(gen_diag *d, gen_pos pos, const char *fmt, ...)
    GEN_PRINTF(3, 4);

#endif /* NETFW_GEN_DIAG_H */
