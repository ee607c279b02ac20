/* py_fixtures SCHEMA: prints the C encoding of the schema's sample values,
 * one "TYPE ok HEX" (or "TYPE err NAME") line each, in the order the Python
 * tests build the same values (test_fixtures.py, test_evolve.py).
 * SCHEMA: fz fs chat atb pyev1 pyev2. Exit status 0, 2 on a usage error. */
#include <stdio.h>

#include "py_helper.h"

int main(int argc, char **argv) {
  const py_schema *s = argc == 2 ? py_schema_find(argv[1]) : NULL;

  if (s == NULL) {
    fprintf(stderr, "usage: py_fixtures fz|fs|chat|atb|pyev1|pyev2\n");
    return 2;
  }
  s->fixtures();
  return fflush(stdout) == 0 ? 0 : 1;
}
