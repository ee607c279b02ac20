/* netfw-gen's driver: the back ends it knows, and one schema compiled by
 * the front end and one back end, all in memory (driver.c). For main.c,
 * the tests and the fuzz target. */
#ifndef NETFW_GEN_GEN_H
#define NETFW_GEN_GEN_H

#include <stddef.h>

#include "front/backend.h"

/* The known back ends, NULL-terminated; the first is the default. */
extern const gen_backend *const gen_backends[];

/* The back end called name ("c"), or NULL. */
const gen_backend *gen_backend_find(const char *name);

/* Compiles one schema held in memory with back end b. Returns 0 when it has
 * no errors (r's outputs are then filled), 1 otherwise. Free r with
 * gen_result_free() either way. */
int gen_compile_with(gen_result *r, const gen_backend *b, const char *path,
                     const char *src, size_t len);

/* gen_compile_with() and the default (C) back end. */
int gen_compile(gen_result *r, const char *path, const char *src, size_t len);

/* Frees what a compilation left in r. */
void gen_result_free(gen_result *r);

#endif /* NETFW_GEN_GEN_H */
