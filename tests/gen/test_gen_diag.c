/* The schema compiler in memory: exact diagnostics (line:col and message)
 * for bad schemas, recovery to several errors, warnings, hostile inputs that
 * must neither crash nor hang, and deterministic output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "c/emit.h"
#include "diag_kit.h"
#include "file_kit.h"
#include "gen.h"
#include "netfw/version.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must be defined"
#endif

#define P "protocol p;\n"
static const bad_case cases[] = {
    {P "message A = 3 {}\nmessage B = 3 {}\n",
     "3:13: error: duplicate message id 3 (also used by 'A' at 2:9)"},
    {P "message A = 70000 {}\n",
     "2:13: error: message id of 'A' is out of range (0..65535)"},
    {P "message A = 99999999999999999999999 {}\n",
     "2:13: error: message id of 'A' is out of range (0..65535)"},
    {P "struct S { u8 a; }\nstruct S { u8 b; }\nmessage M = 1 { S s; }\n",
     "3:8: error: duplicate name 'S' (already a struct at 2:8)"},
    {P "enum X : u8 { A = 0; }\nmessage X = 1 { X x; }\n",
     "3:9: error: duplicate name 'X' (already a enum at 2:6)"},
    {P "message M = 1 { u8 a; u16 a; }\n",
     "2:27: error: duplicate field 'a' in 'M' (also at 2:20)"},
    {P "enum E : u8 { A = 0; A = 1; }\nmessage M = 1 { E e; }\n",
     "2:22: error: duplicate enum constant 'A' (also at 2:15)"},
    {P "enum E : u8 { A = 1; B = 1; }\nmessage M = 1 { E e; }\n",
     "2:26: error: enum constant 'B' has the same value 1 as 'A' (2:15)"},
    {P "message M = 1 { Foo f; }\n", "2:17: error: unknown type 'Foo'"},
    {P "enum E : u8 { A = 256; }\nmessage M = 1 { E e; }\n",
     "2:19: error: value of 'A' does not fit the enum's type u8 (0..255)"},
    {P "enum E : u16 { A = 65536; }\nmessage M = 1 { E e; }\n",
     "2:20: error: value of 'A' does not fit the enum's type u16 (0..65535)"},
    {P "enum E : u32 { A = 4000000000; }\nmessage M = 1 { E e; }\n",
     "2:20: error: value of 'A' is above 2147483647, which a C enum cannot "
     "hold"},
    {P "enum E : i8 { A = 0; }\n",
     "2:10: error: an enum's underlying type must be u8, u16 or u32, found "
     "'i8'"},
    {P "enum E : u8 { }\nmessage M = 1 { E e; }\n",
     "2:6: error: enum 'E' has no constants"},
    {P "message M = 1 { string<u64> s; }\n",
     "2:24: error: a length prefix must be u8, u16 or u32, found 'u64'"},
    {P "message M = 1 { bytes<i16> s; }\n",
     "2:23: error: a length prefix must be u8, u16 or u32, found 'i16'"},
    {P "message M = 1 { repeated<u64> u8 x; }\n",
     "2:26: error: a count prefix must be u8, u16 or u32, found 'u64'"},
    {P "struct A { B b; }\nstruct B { A a; }\nmessage M = 1 { A a; }\n",
     "2:14: error: struct 'A' contains itself (A.b -> B.a -> A); only a "
     "'repeated' field can link a struct to itself"},
    {P "struct A { u8 x; A self; }\nmessage M = 1 { A a; }\n",
     "2:20: error: struct 'A' contains itself (A.self -> A); only a "
     "'repeated' field can link a struct to itself"},
    {P "struct A { optional A next; }\nmessage M = 1 { A a; }\n",
     "2:23: error: struct 'A' contains itself (A.next -> A); only a "
     "'repeated' field can link a struct to itself"},
    {P "message M = 1 { u8 a[0]; }\n",
     "2:22: error: array size of 'a' must be at least 1"},
    {P "message M = 1 { u8 a[70000]; }\n",
     "2:22: error: array size of 'a' is too large (at most 65535; use "
     "repeated)"},
    {P "message M = 1 { u8 a[K]; }\n", "2:22: error: 'K' is not a const"},
    {P "const K = 0;\nmessage M = 1 { u8 a[K]; }\n",
     "3:22: error: array size of 'a' must be at least 1"},
    {P "struct B { u64 a[65535]; }\nmessage M = 1 { B b[65535]; }\n",
     "3:9: error: 'M' takes about 34358689800 bytes in memory (at most "
     "16777216); use repeated instead of large fixed arrays"},
    {P "message M = 1 { u8 int; }\n",
     "2:20: error: field name 'int' is a C keyword"},
    {P "message M = 1 { bool true; }\n",
     "2:22: error: field name 'true' is a C keyword"},
    {P "message M = 1 { u8 _x; }\n",
     "2:20: error: field '_x' may not start with '_' (reserved in C)"},
    {P "struct _S { u8 x; }\n",
     "2:8: error: struct '_S' may not start with '_' (reserved in C)"},
    {P "struct u8 { u8 x; }\n", "2:8: error: 'u8' is a built-in type name"},
    {"message M = 1 {}\n",
     "1:1: error: a schema must start with 'protocol NAME;'"},
    {"// only a comment\n", "2:1: error: empty schema: expected 'protocol NAME;'"},
    {"", "1:1: error: empty schema: expected 'protocol NAME;'"},
    {P "protocol q;\nmessage M = 1 {}\n",
     "2:1: error: 'protocol' may appear only once (first at 1:10)"},
    {"protocol ;\n", "1:10: error: expected a protocol name, found ';'"},
    {"\xef\xbb\xbfprotocol p;\nmessage M = 1 { u8 x; u8 x; }\n",
     "2:26: error: duplicate field 'x' in 'M' (also at 2:20)"},
    {"\xef\xbb\xbf protocol p; message M = 1 {} $\n",
     "1:31: error: unexpected character '$'"},
    {"protocol netfw;\nmessage M = 1 {}\n",
     "1:10: error: protocol name 'netfw' would put its symbols among the "
     "runtime's (netfw_...)"},
    {"protocol _p;\nmessage M = 1 {}\n",
     "1:10: error: protocol name '_p' may not start with '_' (reserved in C)"},
    {P "message List_Resp = 1 {}\nmessage ListResp = 2 {}\n",
     "3:9: error: 'ListResp' generates 'P_LIST_RESP_ID', which 'List_Resp' "
     "(2:9) generates too"},
    {P "struct server_handlers { u8 x; }\nmessage M = 1 { server_handlers s; }\n",
     "2:8: error: 'server_handlers' generates 'p_server_handlers', which 'the "
     "protocol' (1:10) generates too"},
    {P "message unknown = 1 {}\n",
     "2:9: error: 'unknown' generates 'handlers.on_unknown', which 'the "
     "protocol' (1:10) generates too"},
    {P "message M = 1 {}\nmessage M_encode = 2 {}\n",
     "3:9: error: 'M_encode' generates 'p_M_encode', which 'M' (2:9) "
     "generates too"},
    {P "message bus_handlers = 1 {}\n",
     "2:9: error: 'bus_handlers' generates 'p_bus_handlers', which 'the "
     "protocol' (1:10) generates too"},
    {P "message bus_dispatch = 1 {}\n",
     "2:9: error: 'bus_dispatch' generates 'p_bus_dispatch', which 'the "
     "protocol' (1:10) generates too"},
    {P "message publish_M = 1 {}\nmessage M = 2 {}\n",
     "3:9: error: 'M' generates 'p_publish_M', which 'publish_M' (2:9) "
     "generates too"},
    /* calls (emit_calls.c): a request's reply union and callback type */
    {P "message Get = 1 -> server returns Get_reply {}\n"
       "message Get_reply = 2 -> client {}\n",
     "3:9: error: 'Get_reply' generates 'p_Get_reply', which 'Get' (2:9) "
     "generates too"},
    {P "message client_new = 1 -> server {}\n",
     "2:9: error: 'client_new' generates 'p_client_new', which 'the "
     "protocol' (1:10) generates too"},
    {P "message M = 1 { repeated u8 x; u32 x_count; }\n",
     "2:36: error: field 'x_count' collides with the member 'x_count' "
     "generated for 'x' (2:29)"},
    {P "message M = 1 { u8 has_x; optional u8 x; }\n",
     "2:20: error: field 'has_x' collides with the member 'has_x' generated "
     "for 'x' (2:39)"},
    {P "message M = 1 { optional repeated u8 x; }\n",
     "2:26: error: 'optional' cannot be combined with 'repeated'"},
    {P "message M = 1 { optional u8 x[3]; }\n",
     "2:30: error: an optional field cannot also be a fixed array"},
    {P "message M = 1 { repeated u8 x[3]; }\n",
     "2:30: error: a repeated field cannot also be a fixed array"},
    {P "message M = 1 -> nobody {}\n",
     "2:18: error: expected 'server' or 'client' after '->', found 'nobody'"},
    {P "message M {}\n",
     "2:11: error: expected '=' and a message id (message Name = ID { ... }), "
     "found '{'"},
    {P "message M = 1 { u8 a }\n",
     "2:22: error: expected ';' after the field, found '}'"},
    {P "message M = 1 { ; }\n", "2:17: error: expected a field type, found ';'"},
    {P "message M = 1 { Rc a; }\nmessage N = 1 { u8 b; }\n",
     "2:17: error: unknown type 'Rc'"},
    {P "message M = 1 { u8 a; \n",
     "3:1: error: expected '}' to close 'M' (opened at 2:15)"},
    {P "/* never closed\nmessage M = 1 {}\n",
     "2:1: error: unterminated comment"},
    {P "message M = 1 { u8 a; } $\n", "2:25: error: unexpected character '$'"},
    {P "message M = 1 { u8 \xff; }\n", "2:20: error: unexpected byte 0xff"},
    {P "option endian = middle;\n",
     "2:17: error: endian must be 'little' or 'big', found 'middle'"},
    {P "option endian = big;\noption endian = little;\nmessage M = 1 {}\n",
     "3:1: error: option 'endian' is already set at 2:1"},
    {P "option speed = fast;\n",
     "2:8: error: unknown option 'speed' (the options are 'endian' and 'version')"},
    {P "foo bar;\n",
     "2:1: error: expected a statement (protocol, option, reserved, const, "
     "enum, struct or message), found 'foo'"},
    {P "message A = 1 { u8 x; }\nmessage B = 2 { A a; }\n",
     "3:17: error: 'A' is a message; only structs and enums can be field "
     "types"},
    {P "const K = 3;\nmessage B = 2 { K a; }\n",
     "3:17: error: 'K' is a const, not a type"},
    {P "struct E {}\nmessage M = 1 { repeated E e; }\n",
     "3:28: error: elements of repeated field 'e' encode to zero bytes"},
    {P "const K = 99999999999999999999999;\n",
     "2:11: error: value of const 'K' does not fit 64 bits"},
};

static void test_gen_diag_bad_schemas(void **state) {
  size_t n = sizeof(cases) / sizeof(cases[0]);
  assert_true(n >= 30);
  for (size_t i = 0; i < n; i++) {
    char want[600];
    int errors = 0;
    const char *got = first_line(cases[i].src, &errors, NULL);
    snprintf(want, sizeof(want), "t.netproto:%s", cases[i].diag);
    if (strcmp(got, want) != 0)
      print_error("case %zu:\n  got:  %s\n  want: %s\n", i, got, want);
    assert_string_equal(got, want);
    assert_true(errors >= 1);
  }
}

static void test_gen_diag_source_line_and_caret(void **state) {
  gen_result r;
  static const char src[] = P "message A = 1 {}\n\tmessage B = 1 {}\n";
  assert_int_equal(gen_compile(&r, "x.netproto", src, strlen(src)), 1);
  assert_string_equal(r.diag.out.data,
                      "x.netproto:3:14: error: duplicate message id 1 (also "
                      "used by 'A' at 2:9)\n"
                      "\tmessage B = 1 {}\n"
                      "\t            ^\n");
  gen_result_free(&r);
}

static void test_gen_diag_byte_order_mark_takes_no_column(void **state) {
  gen_result r;
  static const char src[] = "\xef\xbb\xbfprotocol p; $\nmessage M = 1 {}\n";
  assert_int_equal(gen_compile(&r, "b.netproto", src, strlen(src)), 1);
  assert_string_equal(r.diag.out.data,
                      "b.netproto:1:13: error: unexpected character '$'\n"
                      "protocol p; $\n"
                      "            ^\n");
  gen_result_free(&r);
}

static void test_gen_diag_recovers_to_several_errors(void **state) {
  gen_result r;
  static const char src[] = P "message M = 1 { u8 a }\n"
                              "message N = 2 { u8 b; @ }\n"
                              "struct S { Nope n; u8 ok; Nada m; }\n"
                              "message O = 1 { S s; }\n";
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 1);
  assert_int_equal(r.diag.errors, 5);
  assert_non_null(strstr(r.diag.out.data, "t.netproto:2:22: error: expected ';'"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:3:23: error: unexpected character '@'"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:4:12: error: unknown type 'Nope'"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:4:27: error: unknown type 'Nada'"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:5:13: error: duplicate message id 1"));
  gen_result_free(&r);
}

/* Found by fuzz_netproto: a struct name declared twice around a cycle sent
 * the cycle report down a NULL path (SIGSEGV). */
static void test_gen_diag_cycle_with_duplicate_name(void **state) {
  gen_result r;
  static const char src[] = "protocol p;\n"
                            "struct Inner { Point b; }\n"
                            "struct Point { Point c; }\n"
                            "struct Inner { Inner d; }\n";
  (void)state;
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 1);
  assert_non_null(strstr(r.diag.out.data,
                         "t.netproto:4:8: error: duplicate name 'Inner' "
                         "(already a struct at 2:8)"));
  assert_non_null(strstr(r.diag.out.data,
                         "t.netproto:3:22: error: struct 'Point' contains "
                         "itself (Point.c -> Point)"));
  gen_result_free(&r);
}

static void test_gen_diag_warnings(void **state) {
  gen_result r;
  static const char src[] = P "struct Unused { u8 a; }\nconst K = 4;\n"
                              "enum E : u8 { A = 1; }\n";
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 0);
  assert_int_equal(r.diag.errors, 0);
  assert_int_equal(r.diag.warnings, 4);
  assert_non_null(strstr(r.diag.out.data, "t.netproto:2:8: warning: struct 'Unused' is never used"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:3:7: warning: const 'K' is never used"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:4:6: warning: enum 'E' is never used"));
  assert_non_null(strstr(r.diag.out.data, "t.netproto:1:10: warning: protocol 'p' defines no messages"));
  assert_true(r.header.len > 0 && r.source.len > 0);
  gen_result_free(&r);
}

/* Hostile inputs: each must end with errors, quickly, without a crash. */
static void expect_rejected(const char *src, size_t len) {
  gen_result r;
  assert_int_equal(gen_compile(&r, "t.netproto", src, len), 1);
  assert_true(r.diag.errors >= 1);
  /* output is bounded: at most GEN_MAX_ERRORS messages are printed */
  assert_true(r.diag.out.len < (size_t)GEN_MAX_ERRORS * 1024);
  gen_result_free(&r);
}

static void test_gen_diag_hostile_inputs(void **state) {
  size_t big = 1u << 20;
  char *buf = malloc(big + 64);
  uint32_t x = 12345;

  assert_non_null(buf);
  expect_rejected("", 0);
  expect_rejected("\0\0\0", 3);
  /* 1 MB of binary garbage */
  for (size_t i = 0; i < big; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (char)(x >> 16);
  }
  expect_rejected(buf, big);
  /* 1 MB of printable garbage made of the language's own tokens */
  for (size_t i = 0; i < big; i++) {
    static const char tok[] = "{}<>;=[]:-> a1_\n";
    x = x * 1103515245u + 12345u;
    buf[i] = tok[(x >> 16) % (sizeof(tok) - 1)];
  }
  expect_rejected(buf, big);
  /* deep nesting: a million '{' */
  memcpy(buf, P "message M = 1 ", 26);
  memset(buf + 26, '{', big - 26);
  expect_rejected(buf, big);
  memset(buf, '<', big);
  expect_rejected(buf, big);
  /* a million '[' inside a field */
  memcpy(buf, P "message M = 1 { u8 a", 32);
  memset(buf + 32, '[', big - 32);
  expect_rejected(buf, big);
  /* a 1 MB name, quoted in a message: the message is cut */
  memcpy(buf, P "message M = 1 { ", 28);
  memset(buf + 28, 'A', big - 28);
  memcpy(buf + big - 6, " x; }", 6);
  expect_rejected(buf, big - 1);
  /* an unterminated comment of 1 MB */
  memcpy(buf, "/*", 2);
  memset(buf + 2, '*', big - 2);
  expect_rejected(buf, big);
  free(buf);
}

/* 20000 structs, each holding the next by value (declared last-first). */
static void test_gen_diag_long_struct_chain(void **state) {
  gen_buf b = {0};
  gen_result r;
  gen_buf_puts(&b, P);
  for (int i = 20000; i > 0; i--)
    gen_buf_printf(&b, "struct S%d { S%d next; }\n", i, i + 1);
  gen_buf_puts(&b, "struct S20001 { u8 x; }\nmessage M = 1 { S1 s; }\n");
  assert_int_equal(gen_compile(&r, "t.netproto", b.data, b.len), 1);
  assert_non_null(strstr(r.diag.out.data, "nests structs 65 levels deep (at most 64)"));
  gen_result_free(&r);
  gen_buf_free(&b);
}

/* 20000 unused structs: 20000 warnings counted, only the first 50 printed. */
static void test_gen_diag_many_warnings_are_capped(void **state) {
  gen_buf b = {0};
  gen_result r;
  gen_buf_puts(&b, P "message M = 1 {}\n");
  for (int i = 0; i < 20000; i++)
    gen_buf_printf(&b, "struct S%d { u8 x; }\n", i);
  assert_int_equal(gen_compile(&r, "t.netproto", b.data, b.len), 0);
  assert_int_equal(r.diag.warnings, 20000);
  assert_true(r.diag.out.len < 100 * 200);
  gen_result_free(&r);
  gen_buf_free(&b);
}

static void test_gen_diag_output_is_deterministic(void **state) {
  static const char *const schemas[] = {
      NETFW_SOURCE_DIR "/protocols/file_storage.netproto",
      NETFW_SOURCE_DIR "/protocols/chat.netproto",
      NETFW_SOURCE_DIR "/tests/gen/all_types.netproto"};
  for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
    size_t len;
    char *src = test_read_file(schemas[i], &len);
    gen_result a, b;
    assert_int_equal(gen_compile(&a, schemas[i], src, len), 0);
    assert_int_equal(gen_compile(&b, schemas[i], src, len), 0);
    assert_int_equal(a.diag.errors + a.diag.warnings, 0);
    assert_int_equal(a.header.len, b.header.len);
    assert_int_equal(a.source.len, b.source.len);
    assert_memory_equal(a.header.data, b.header.data, a.header.len);
    assert_memory_equal(a.source.data, b.source.data, a.source.len);
    assert_memory_equal(a.stubs.data, b.stubs.data, a.stubs.len);
    /* a banner with the version, no timestamp */
    assert_non_null(strstr(a.header.data, "generated by netfw-gen " NETFW_VERSION_STRING));
    assert_null(strstr(a.header.data, "2026"));
    gen_result_free(&a);
    gen_result_free(&b);
    free(src);
  }
}

static void test_gen_diag_names_and_docs(void **state) {
  gen_result r;
  static const char src[] =
      "/// Top doc */ with a comment end\nprotocol fs;\n"
      "enum ErrorCode : u16 { FileExists = 2; HTTPError = 3; }\n"
      "/// The add message\nmessage AddFile = 513 -> server { ErrorCode c; }\n";
  assert_int_equal(gen_compile(&r, "dir/my-fs.netproto", src, strlen(src)), 0);
  assert_string_equal(r.base, "my-fs");
  assert_non_null(strstr(r.header.data, "#ifndef MY_FS_NETFW_H\n"));
  assert_non_null(strstr(r.header.data, "#define FS_ADD_FILE_ID 513\n"));
  assert_non_null(strstr(r.header.data, "  FS_ERROR_CODE_FILE_EXISTS = 2,\n"));
  assert_non_null(strstr(r.header.data, "  FS_ERROR_CODE_HTTP_ERROR = 3\n"));
  assert_non_null(strstr(r.header.data, "/* Top doc * / with a comment end */\n"));
  assert_non_null(strstr(r.header.data, "/* The add message */\n"));
  assert_non_null(strstr(r.header.data, "typedef struct fs_AddFile fs_AddFile;\n"));
  assert_non_null(strstr(r.header.data, "int fs_client_send_AddFile(netfw_client *c, const fs_AddFile *m);"));
  assert_null(strstr(r.header.data, "fs_server_send_AddFile"));
  assert_non_null(strstr(r.source.data, "#include \"my-fs.netfw.h\"\n"));
  assert_non_null(strstr(r.stubs.data, "static void on_AddFile(void *app, netfw_conn *conn, const fs_AddFile *msg)"));
  gen_result_free(&r);
}

static void test_gen_reflow_wraps_under_the_paren(void **state) {
  gen_buf b = {0};
  gen_buf_puts(&b,
               "int a_rather_long_function_name(const some_type *first, void "
               "*second, netfw_msg *third,\n    netfw_arena *fourth);\n"
               "  netfw_log(NETFW_LOG_WARN, \"x: a, b, c, d, e, f, g, h, i, j, "
               "k, l, m, n, o, p, q\", id, ip);\n"
               "/* a comment, long, long, long, long, long, long, long, long, "
               "long, long, long */\n");
  gen_reflow(&b);
  assert_string_equal(
      b.data,
      "int a_rather_long_function_name(const some_type *first, void *second,\n"
      "                                netfw_msg *third, netfw_arena *fourth);\n"
      "  netfw_log(NETFW_LOG_WARN,\n"
      "            \"x: a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q\", id, "
      "ip);\n"
      "/* a comment, long, long, long, long, long, long, long, long, long, "
      "long, long */\n");
  gen_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gen_diag_bad_schemas),
      cmocka_unit_test(test_gen_diag_source_line_and_caret),
      cmocka_unit_test(test_gen_diag_byte_order_mark_takes_no_column),
      cmocka_unit_test(test_gen_diag_recovers_to_several_errors),
      cmocka_unit_test(test_gen_diag_cycle_with_duplicate_name),
      cmocka_unit_test(test_gen_diag_warnings),
      cmocka_unit_test(test_gen_diag_hostile_inputs),
      cmocka_unit_test(test_gen_diag_long_struct_chain),
      cmocka_unit_test(test_gen_diag_many_warnings_are_capped),
      cmocka_unit_test(test_gen_diag_output_is_deterministic),
      cmocka_unit_test(test_gen_diag_names_and_docs),
      cmocka_unit_test(test_gen_reflow_wraps_under_the_paren),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
