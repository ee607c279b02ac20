/* The interface between the front end and a back end (one per target
 * language): its name rules, run inside the checker, and its emitter, run
 * on a schema without errors. The front end knows no back end; the driver
 * (../driver.c) picks one by name. */
#ifndef NETFW_GEN_BACKEND_H
#define NETFW_GEN_BACKEND_H

#include <stdbool.h>

#include "ast.h"
#include "check.h"

enum { GEN_MAX_FILES = 2 };

/* The outcome of compiling one schema. */
typedef struct gen_result {
  gen_diag diag;
  /* The files written into the output directory, named base + suffix (see
   * gen_backend.suffixes); the C back end calls them header and source. */
  union {
    gen_buf files[GEN_MAX_FILES];
    struct {
      gen_buf header;
      gen_buf source;
    };
  };
  gen_buf stubs;    /* --stubs FILE, when the back end has stubs */
  gen_buf client_stubs; /* --client-stubs FILE, likewise */
  gen_buf fuzz;     /* --fuzz-harness FILE, likewise */
  gen_buf descriptor; /* --descriptor FILE: the schema as JSON (any back end) */
  const char *base; /* output base name: the schema file's, no extension */
  gen_pool pool;    /* everything the run allocated */
} gen_result;

typedef struct gen_backend {
  const char *name;    /* --lang NAME */
  const char *summary; /* one line, for --help */
  /* Suffixes of the files it writes (NULL past the last). */
  const char *suffixes[GEN_MAX_FILES];
  bool stubs;                   /* writes a handler skeleton (--stubs) */
  bool fuzz_harness;            /* writes a fuzz harness (--fuzz-harness) */
  const gen_check_hooks *check; /* its name rules (NULL: none) */
  /* Fills r's files (and stubs/fuzz) from s, which checked without errors;
   * schema_file is the schema's file name, for banners. */
  void (*emit)(gen_result *r, const gen_schema *s, const char *schema_file);
} gen_backend;

#endif /* NETFW_GEN_BACKEND_H */
