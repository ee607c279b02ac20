/* "Did you mean": the name closest to a misspelt one (closest.c). Plain C
 * with no other dependency, so that netfw-gen's front end compiles the same
 * file and both suggest alike. */
#ifndef NETFW_CORE_CLOSEST_H
#define NETFW_CORE_CLOSEST_H

#include <stddef.h>

/* Among n names, the one closest to word by edit distance if close enough
 * to be a likely typo (a name differing only in letter case first, then a
 * distance of 1 for words under 4 characters, else up to len / 3 + 1; not
 * word itself), or NULL. The i-th name is the
 * `const char *` at byte offset i * stride from names (stride
 * sizeof(char *) for an array of names; the size of a struct for a name
 * member of an array of structs); NULL names are skipped. */
const char *netfw__closest(const char *word, const void *names, size_t n,
                           size_t stride);

#endif /* NETFW_CORE_CLOSEST_H */
