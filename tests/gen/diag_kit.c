/* Helper of the schema compiler's diagnostics tests: see diag_kit.h. */
#include <stddef.h>
#include <string.h>

#include "diag_kit.h"
#include "gen.h"

const char *first_line(const char *src, int *errors, int *warnings) {
  static char line[600];
  gen_result r;
  const char *out;
  size_t n;

  (void)gen_compile(&r, "t.netproto", src, strlen(src));
  out = r.diag.out.data ? r.diag.out.data : "";
  n = strcspn(out, "\n");
  if (n >= sizeof(line))
    n = sizeof(line) - 1;
  memcpy(line, out, n);
  line[n] = '\0';
  if (errors != NULL)
    *errors = r.diag.errors;
  if (warnings != NULL)
    *warnings = r.diag.warnings;
  gen_result_free(&r);
  return line;
}
