/* Helper of the schema compiler's diagnostics tests: see diag_kit.h. */
#include <stddef.h>
#include <stdio.h>
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

int failed_cases(const bad_case *cases, size_t n) {
  int failed = 0;
  for (size_t i = 0; i < n; i++) {
    char want[700];
    int errors = 0;
    const char *got = first_line(cases[i].src, &errors, NULL);
    snprintf(want, sizeof(want), "t.netproto:%s", cases[i].diag);
    if (strcmp(got, want) != 0 || errors != 1) {
      fprintf(stderr, "case %zu:\n  got:  %s (%d errors)\n  want: %s (1)\n",
              i, got, errors, want);
      failed++;
    }
  }
  return failed;
}
