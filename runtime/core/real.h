/* A finite double as the shortest decimal text that reads back to the
 * same bits (real.c), the JSON form of f32/f64 everywhere: the JSON codec,
 * the descriptor's defaults (netfw-gen compiles this plain-C file in). */
#ifndef NETFW_CORE_REAL_H
#define NETFW_CORE_REAL_H

#include <stdbool.h>
#include <stddef.h>

/* The shortest text (at most 32 bytes; cap >= 48) of finite v that reads
 * back to the same double (f32: through a double to the same float), as
 * a JSON number: '.' whatever the locale, ".0" after an integral value.
 * Subnormals may get a digit or two more than the shortest. */
void netfw__real_text(char *x, size_t cap, double v, bool f32);

#endif /* NETFW_CORE_REAL_H */
