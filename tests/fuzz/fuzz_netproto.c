/* Fuzz target: the .netproto front end and emitters (lexer, parser,
 * checker, every generator output) on arbitrary text, all in memory. It must
 * never crash, hang or leak; a schema it accepts must produce non-empty C. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  gen_result r;
  /* the compiler reads a NUL-terminated buffer, as netfw-gen gives it */
  char *src = malloc(size + 1);

  if (src == NULL)
    return 0;
  memcpy(src, data, size);
  src[size] = '\0';
  if (gen_compile(&r, "fuzz.netproto", src, size) == 0 &&
      (r.header.len == 0 || r.source.len == 0))
    abort();
  gen_result_free(&r);
  free(src);
  return 0;
}
