/* "Did you mean": see closest.h. */
#include "closest.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Levenshtein distance between a and b, or limit + 1 once it exceeds
 * limit (names are short; one row of at most 64 cells). */
static size_t distance(const char *a, const char *b, size_t limit) {
  size_t la = strlen(a), lb = strlen(b), row[65];
  if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > limit)
    return limit + 1;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0], best;
    row[0] = best = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t sub = diag + (a[i - 1] != b[j - 1]);
      size_t v = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
      row[j] = v < sub ? v : sub;
      diag = up;
      if (row[j] < best)
        best = row[j];
    }
    if (best > limit)
      return limit + 1;
  }
  return row[lb];
}

/* The i-th name of closest()'s table. */
static const char *name_at(const void *names, size_t i, size_t stride) {
  const char *name;
  memcpy(&name, (const char *)names + i * stride, sizeof(name));
  return name;
}

/* Whether a and b differ only in the case of ASCII letters. */
static bool same_but_case(const char *a, const char *b) {
  for (; *a != '\0' && *b != '\0'; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return false;
  return *a == *b;
}

const char *netfw__closest(const char *word, const void *names, size_t n,
                           size_t stride) {
  size_t len = strlen(word);
  size_t limit = len < 4 ? 1 : len / 3 + 1, best = limit + 1;
  const char *r = NULL;
  for (size_t i = 0; i < n; i++) { /* `file` for `FILE` first */
    const char *name = name_at(names, i, stride);
    if (name != NULL && strcmp(name, word) != 0 && same_but_case(name, word))
      return name;
  }
  for (size_t i = 0; i < n; i++) {
    const char *name = name_at(names, i, stride);
    size_t d = name != NULL ? distance(word, name, limit) : limit + 1;
    if (d > 0 && d < best) {
      best = d;
      r = name;
    }
  }
  return r;
}
