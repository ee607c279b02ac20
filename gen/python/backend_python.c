/* The Python back end as the driver sees it: its name rules and its
 * emitter, which writes the module's parts in a fixed order. */
#include "backend_python.h"
#include "py.h"

static void emit_python(gen_result *r, const gen_schema *s,
                        const char *schema_file) {
  py_out o = {
      .b = &r->files[0], .s = s, .pool = &r->pool, .schema_name = schema_file};
  py_emit_prologue(&o);
  py_emit_types(&o);
  py_emit_codec(&o);
  py_emit_frames(&o);
  py_emit_netframe(&o);
  py_emit_asyncio(&o);
  gen_buf_free(&o.defs);
  gen_map_free(&o.structs);
  gen_map_free(&o.counts);
}

const gen_backend gen_backend_python = {
    .name = "python",
    .summary = "Python 3.9+: NAME_netfw.py, dataclasses and codec, no "
               "dependencies",
    .suffixes = {"_netfw.py"},
    .stubs = false,
    .fuzz_harness = false,
    .check = &py_check_hooks,
    .emit = emit_python,
};
