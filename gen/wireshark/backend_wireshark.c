/* The Wireshark back end as the driver sees it: its name rules and its
 * emitter, which writes the dissector's parts in a fixed order (each part
 * uses only what the ones before it defined). */
#include "backend_wireshark.h"
#include "ws.h"

static void emit_wireshark(gen_result *r, const gen_schema *s,
                           const char *schema_file) {
  ws_out o = {.b = &r->files[0],
              .s = s,
              .pool = &r->pool,
              .schema_name = schema_file,
              .proto = ws_proto_name(&r->pool, s)};
  ws_emit_prologue(&o);
  ws_emit_fields(&o);
  ws_emit_helpers(&o);
  ws_emit_dissect(&o);
  ws_emit_frame(&o);
}

const gen_backend gen_backend_wireshark = {
    .name = "wireshark",
    .summary = "Wireshark: NAME.lua, a Lua dissector (tshark -X "
               "lua_script:NAME.lua)",
    .suffixes = {".lua"},
    .stubs = false,
    .fuzz_harness = false,
    .check = &ws_check_hooks,
    .emit = emit_wireshark,
};
