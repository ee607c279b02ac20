/* Prints the exposition of a sample snapshot (stats_sample.h) on stdout:
 * "small" or "full" (the default), for `expose_sample | promtool check
 * metrics` and for regenerating expose_small.golden by hand. */
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "stats_sample.h"
#include "text.h"

int main(int argc, char **argv) {
  netfw_stats st;
  netfw__text t = {0};
  int rc;

  if (argc > 1 && strcmp(argv[1], "small") == 0)
    sample_stats_small(&st);
  else
    sample_stats_full(&st);
  rc = netfw__metrics_expose(&st, &t);
  if (rc == 0)
    fwrite(t.buf, 1, t.len, stdout);
  netfw__text_free(&t);
  return rc == 0 ? 0 : 1;
}
