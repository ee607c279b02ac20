/* The sample values of py_evolve_v1.netproto (pyev1) and
 * py_evolve_v2.netproto (pyev2), encoded by the C encoders, for
 * test_evolve.py. The first sample of each type is its default: zeros in
 * version 1; in version 2 the schema's defaults of the [since] fields, set
 * here by hand (C zero-initialises, Python's `Cls()` takes the schema's). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "py_evolve_v1.netfw.h"
#include "py_evolve_v2.netfw.h"
#include "py_helper.h"

void py_fixtures_pyev1(void) {
  pyev1_Item i0 = {0}, i1 = {1, s("a")};
  pyev1_Item items[] = {{3, s("c")}};
  pyev1_Hello h0 = {0}, h1 = {7, s("ann")};
  pyev1_Status st0 = {0};
  pyev1_Status st1 = {PYEV1_RC_BUSY, PYEV1_KIND_ONE, {2, s("b")}, false,
                      {0}, items, 1};
  pyev1_Status st2 = {999, PYEV1_KIND_NONE, {0}, true, {4, s("d")}, NULL, 0};
  pyev1_Bye y0 = {0};

  PY_EMIT(pyev1, Item, &i0);
  PY_EMIT(pyev1, Item, &i1);
  PY_EMIT(pyev1, Hello, &h0);
  PY_EMIT(pyev1, Hello, &h1);
  PY_EMIT(pyev1, Status, &st0);
  PY_EMIT(pyev1, Status, &st1);
  PY_EMIT(pyev1, Status, &st2);
  PY_EMIT(pyev1, Bye, &y0);
}

/* Item as `Item()` in Python: the [since] fields at their defaults. */
static pyev2_Item item_default(void) {
  pyev2_Item v = {0, {0}, 7, s("t\"1"), 0};
  return v;
}

void py_fixtures_pyev2(void) {
  pyev2_Item i0 = item_default(), i1 = {1, s("a"), 9, s("L"), 0};
  pyev2_Item items[] = {{3, s("c"), 1, s(""), 0}};
  pyev2_Hello h0 = {0, {0}, -300, 1.5f, b("\x00\x01\xff", 3), true,
                    PYEV2_KIND_TWO, 0};
  pyev2_Hello h1 = {7, s("ann"), -2, 0.25f, b("\xaa\xbb", 2), false,
                    PYEV2_KIND_ONE, 0};
  uint16_t extra_list[] = {1, 2};
  pyev2_Status st0 = {0};
  pyev2_Status st1 = {PYEV2_RC_LATER, PYEV2_KIND_ONE,
                      {2, s("b"), 8, s("x"), 0}, true,
                      item_default(), items, 1,
                      PYEV2_RC_GONE, true, 5, extra_list, 2, 0};
  pyev2_Status st2 = {999, PYEV2_KIND_ONE, {0}, false, {0}, NULL, 0,
                      12345, false, 0, NULL, 0, 0};
  pyev2_Bye y0 = {0};
  pyev2_Extra x0 = {0}, x1 = {5};

  st0.item = item_default();
  st0.more = PYEV2_RC_LATER;
  st1.extra.id = 4;
  st1.extra.name = s("d");
  st2.item = item_default();
  PY_EMIT(pyev2, Item, &i0);
  PY_EMIT(pyev2, Item, &i1);
  PY_EMIT(pyev2, Hello, &h0);
  PY_EMIT(pyev2, Hello, &h1);
  PY_EMIT(pyev2, Status, &st0);
  PY_EMIT(pyev2, Status, &st1);
  PY_EMIT(pyev2, Status, &st2);
  PY_EMIT(pyev2, Bye, &y0);
  PY_EMIT(pyev2, Extra, &x0);
  PY_EMIT(pyev2, Extra, &x1);
}
