/* A finite double as the shortest decimal text that reads back to it:
 * see real.h. */
#include "real.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text of finite v with p significant digits, as JSON: the decimal
 * point a '.' whatever the locale, and ".0" added to an integral value so
 * that it still reads as a real. */
static void real_text(char *x, size_t cap, double v, int p) {
  char *comma;
  snprintf(x, cap, "%.*g", p, v);
  if ((comma = strchr(x, ',')) != NULL) /* a locale's decimal comma */
    *comma = '.';
  if (strpbrk(x, ".e") == NULL && strlen(x) + 3 <= cap)
    strcat(x, ".0");
}

/* Whether x, the snprintf text of v (in the locale's own form, which
 * strtod reads), reads back as v: through a double, then as a float when
 * f32, as the encoder reads an f32. */
static bool reads_back(const char *x, double v, bool f32) {
  double back = strtod(x, NULL);
  if (f32) {
    float f = (float)back, g = (float)v;
    return memcmp(&f, &g, sizeof(f)) == 0;
  }
  return memcmp(&back, &v, sizeof(back)) == 0;
}

/* Cost: at most four snprintf/strtod pairs. The first precision tried
 * (15 digits for a double, 6 for a float) gives distinct values for
 * distinct decimals of that many digits, so if a shorter text reads back,
 * this one is it with its trailing zeros removed (%g drops them): the
 * first precision that reads back gives the shortest text (subnormals,
 * with fewer bits, may get a digit or two more). The last precision (17,
 * 9) always reads back. */
void netfw__real_text(char *x, size_t cap, double v, bool f32) {
  int p = f32 ? 6 : 15, last = f32 ? 9 : 17;
  for (; p < last; p++) {
    snprintf(x, cap, "%.*g", p, v);
    if (reads_back(x, v, f32))
      break;
  }
  real_text(x, cap, v, p);
}

