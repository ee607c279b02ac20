/* What `netfw-gen --lang wireshark` writes, without tshark: exact lines of
 * the generated Lua for small schemas (names, abbreviations, byte order,
 * the calls per field mode, [since] groups, Lua keywords as names, string
 * escaping), and the back end's name rule. test_dissector.py runs the
 * result under tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gen.h"

/* Compiles src with the Wireshark back end: the Lua file's text (a static
 * copy), or the diagnostics when the schema has errors (*errors set). */
static const char *lua_of(const char *src, int *errors) {
  static char out[1 << 16];
  gen_result r;
  const gen_backend *b = gen_backend_find("wireshark");

  assert_non_null(b);
  int rc = gen_compile_with(&r, b, "t.netproto", src, strlen(src));
  const gen_buf *text = rc == 0 ? &r.files[0] : &r.diag.out;
  assert_true(text->len < sizeof(out));
  memcpy(out, text->data ? text->data : "", text->len);
  out[text->len] = '\0';
  *errors = r.diag.errors;
  gen_result_free(&r);
  return out;
}

/* Asserts that every line of want (each '\n'-ended) is a whole line of lua. */
static void has_lines(const char *lua, const char *want) {
  char line[512];
  for (const char *p = want; *p != '\0';) {
    size_t n = strcspn(p, "\n");
    assert_true(n + 3 < sizeof(line));
    line[0] = '\n';
    memcpy(line + 1, p, n);
    line[n + 1] = '\n';
    line[n + 2] = '\0';
    if (strstr(lua, line) == NULL)
      fail_msg("line missing: %.*s", (int)n, p);
    p += n + (p[n] == '\n');
  }
}

static const char *const FS =
    "protocol file_storage;\n"
    "enum Rc : u8 { NONE = 0; OK = 1; }\n"
    "struct FileEntry { string<u8> name; u32 size; }\n"
    "/// Store a \"file\", caf\xc3\xa9.\n"
    "message Add = 1 -> server { string<u8> filename; bytes<u32> file; }\n"
    "message ListResp = 6 -> client { repeated<u16> FileEntry files; }\n"
    "message Ack = 7 -> client { Rc rc; optional u16 port; u8 raw[4]; }\n"
    "message List = 5 {}\n";

static void test_file_storage(void **state) {
  int errors;
  const char *lua = lua_of(FS, &errors);
  (void)state;
  assert_int_equal(errors, 0);
  has_lines(lua,
            "local proto = Proto(\"file_storage\", \"netfw file_storage\")\n"
            "local LITTLE_ENDIAN = true -- the payload's byte order (option "
            "endian)\n"
            "local DEFAULT_PORT = 54314\n"
            "enums.Rc = { name = \"Rc\", size = 1, open = false, names = {\n"
            "  [0] = \"NONE\",\n"
            "  [1] = \"OK\",\n"
            "  [6] = \"ListResp\",\n"
            "    \"Store a \\\"file\\\", caf\\195\\169.\"),\n"
            "  rc = ProtoField.uint8(\"file_storage.Ack.rc\",\n"
            "    \"rc\", base.DEC, enums.Rc.names, nil, \"Rc\"),\n"
            "  filename = ProtoField.string(\"file_storage.Add.filename\",\n"
            "    \"filename\", base.UNICODE, \"string<u8>\"),\n"
            "  [7] = ProtoField.none(\"file_storage.Ack\", \"Ack\", "
            "\"message Ack = 7\"),\n"
            "  id = ProtoField.uint16(\"file_storage.id\", \"Message id\", "
            "base.DEC,\n"
            "F.List = {}\n"
            "structs.FileEntry = { name = \"FileEntry\", window = 0 }\n"
            "structs.FileEntry.dissect = function(c, tree)\n"
            "  add_string(c, tree, F.FileEntry.name, 1)\n"
            "  add_number(c, tree, F.FileEntry.size, 4)\n"
            "-- Add (id 1, to the server)\n"
            "function dissect.Add(c, tree)\n"
            "  add_bytes(c, tree, F.Add.file, 4)\n"
            "  add_repeated(c, tree, F.ListResp[\"files.count\"], 2, 5, "
            "function(t, i)\n"
            "    add_struct(c, t, F.ListResp.files, structs.FileEntry, i)\n"
            "  add_enum(c, tree, F.Ack.rc, enums.Rc)\n"
            "  add_optional(c, tree, F.Ack[\"port.present\"], function(t)\n"
            "    add_number(c, t, F.Ack.port, 2)\n"
            "  add_array(c, tree, \"raw\", 4, function(t, i)\n"
            "    add_number(c, t, F.Ack.raw, 1)\n"
            "function dissect.List(c, tree)\n"
            "  [5] = dissect.List,\n"
            "tcp_port:add_for_decode_as(proto)\n"
            "register_port()\n");
}

static void test_big_endian_since(void **state) {
  int errors;
  const char *lua =
      lua_of("protocol MyProto;\noption endian = big;\noption version = 3;\n"
             "enum Rc : u16 open { OK = 0; }\n"
             "struct S extensible<u16> { u8 a; u8 b [since 2]; }\n"
             "message M = 2 { S s; Rc rc; u32 k [since 2]; f32 x [since 2];\n"
             "  bool n = true [since 3]; }\n",
             &errors);
  (void)state;
  assert_int_equal(errors, 0);
  has_lines(lua, "local proto = Proto(\"myproto\", \"netfw MyProto\")\n"
                 "local LITTLE_ENDIAN = false -- the payload's byte order "
                 "(option endian)\n"
                 "enums.Rc = { name = \"Rc\", size = 2, open = true, names = {\n"
                 "structs.S = { name = \"S\", window = 2 }\n"
                 "  if ends_before(c, tree, 2, \"b\") then\n"
                 "  if ends_before(c, tree, 2, \"k, x, n\") then\n"
                 "  if ends_before(c, tree, 3, \"n\") then\n"
                 "  add_struct(c, tree, F.M.s, structs.S)\n"
                 "  x = ProtoField.float(\"myproto.M.x\", \"x\", nil, \"f32\"),\n"
                 "  add_bool(c, tree, F.M.n)\n");
}

static void test_lua_keywords(void **state) {
  int errors;
  const char *lua = lua_of("protocol kw;\nenum then : u8 { nil = 0; }\n"
                           "struct end { u8 and; }\n"
                           "message repeat = 1 { end until; then while; }\n",
                           &errors);
  (void)state;
  assert_int_equal(errors, 0);
  has_lines(lua, "enums[\"then\"] = { name = \"then\", size = 1, open = false, "
                 "names = {\n"
                 "F[\"end\"] = {\n"
                 "  [\"and\"] = ProtoField.uint8(\"kw.end.and\", \"and\", "
                 "base.DEC, nil, nil, \"u8\"),\n"
                 "structs[\"end\"].dissect = function(c, tree)\n"
                 "  add_number(c, tree, F[\"end\"][\"and\"], 1)\n"
                 "  add_struct(c, tree, F[\"repeat\"][\"until\"], "
                 "structs[\"end\"])\n"
                 "  add_enum(c, tree, F[\"repeat\"][\"while\"], "
                 "enums[\"then\"])\n"
                 "dissect[\"repeat\"] = function(c, tree)\n"
                 "  [1] = dissect[\"repeat\"],\n");
}

static void test_frame_field_clash(void **state) {
  int errors;
  const char *out = lua_of("protocol p;\nmessage id = 1 {}\n"
                           "message newer = 2 {}\nmessage Size = 3 {}\n",
                           &errors);
  (void)state;
  assert_int_equal(errors, 2);
  assert_non_null(strstr(out, "t.netproto:2:9: error: message 'id' would be "
                              "the Wireshark field 'p.id', which the "
                              "dissector uses for the frame; rename the "
                              "message\n"));
  assert_non_null(strstr(out, "t.netproto:3:9: error: message 'newer' would "
                              "be the Wireshark field 'p.newer'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_file_storage),
      cmocka_unit_test(test_big_endian_since),
      cmocka_unit_test(test_lua_keywords),
      cmocka_unit_test(test_frame_field_clash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
