/* The schema descriptor (netfw/desc.h): the `<proto>_descriptor` table the
 * C back end compiles into every protocol equals, member for member, the
 * one gen/desc builds from the .netproto at run time (what netfw-call
 * uses); its values are the schema's (ids, directions, prefixes, indices,
 * defaults as wire bytes, docs); and --descriptor's JSON says the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "all_types.netfw.h"
#include "calls.netfw.h"
#include "chat.netfw.h"
#include "desc/desc.h"
#include "evolution.netfw.h"
#include "file_kit.h"
#include "file_storage.netfw.h"
#include "front/check.h"
#include "gen.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must be defined"
#endif

/* Both NULL, or equal strings. */
static void same_str(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    assert_ptr_equal(a, b);
  else
    assert_string_equal(a, b);
}

static void same_fields(const netfw_desc_field *a, const netfw_desc_field *b,
                        uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    same_str(a[i].name, b[i].name);
    same_str(a[i].doc, b[i].doc);
    assert_int_equal(a[i].kind, b[i].kind);
    assert_int_equal(a[i].mode, b[i].mode);
    assert_int_equal(a[i].prefix, b[i].prefix);
    assert_int_equal(a[i].count_prefix, b[i].count_prefix);
    assert_int_equal(a[i].since, b[i].since);
    assert_int_equal(a[i].type, b[i].type);
    assert_int_equal(a[i].array_len, b[i].array_len);
    assert_int_equal(a[i].def_len, b[i].def_len);
    if (a[i].def_len > 0)
      assert_memory_equal(a[i].def, b[i].def, a[i].def_len);
  }
}

static void same_struct(const netfw_desc_struct *a, const netfw_desc_struct *b) {
  same_str(a->name, b->name);
  same_str(a->doc, b->doc);
  assert_int_equal(a->nfields, b->nfields);
  assert_int_equal(a->ext_prefix, b->ext_prefix);
  same_fields(a->fields, b->fields, a->nfields);
}

/* a and b describe the same schema, member for member. */
static void same_desc(const netfw_desc *a, const netfw_desc *b) {
  assert_int_equal(a->abi, NETFW_DESC_ABI);
  assert_int_equal(b->abi, NETFW_DESC_ABI);
  same_str(a->proto, b->proto);
  same_str(a->doc, b->doc);
  assert_int_equal(a->big_endian, b->big_endian);
  assert_int_equal(a->version, b->version);
  assert_int_equal(a->nenums, b->nenums);
  for (uint32_t i = 0; i < a->nenums; i++) {
    const netfw_desc_enum *x = &a->enums[i], *y = &b->enums[i];
    same_str(x->name, y->name);
    same_str(x->doc, y->doc);
    assert_int_equal(x->size, y->size);
    assert_int_equal(x->open, y->open);
    assert_int_equal(x->nconsts, y->nconsts);
    for (uint32_t k = 0; k < x->nconsts; k++) {
      same_str(x->consts[k].name, y->consts[k].name);
      same_str(x->consts[k].doc, y->consts[k].doc);
      assert_int_equal(x->consts[k].value, y->consts[k].value);
    }
  }
  assert_int_equal(a->nstructs, b->nstructs);
  for (uint32_t i = 0; i < a->nstructs; i++)
    same_struct(&a->structs[i], &b->structs[i]);
  assert_int_equal(a->nmessages, b->nmessages);
  for (uint32_t i = 0; i < a->nmessages; i++) {
    assert_int_equal(a->messages[i].id, b->messages[i].id);
    assert_int_equal(a->messages[i].dir, b->messages[i].dir);
    assert_int_equal(a->messages[i].is_reply, b->messages[i].is_reply);
    assert_int_equal(a->messages[i].nreturns, b->messages[i].nreturns);
    for (uint32_t k = 0; k < a->messages[i].nreturns; k++)
      assert_int_equal(a->messages[i].returns[k], b->messages[i].returns[k]);
    same_struct(&a->messages[i].body, &b->messages[i].body);
  }
}

/* The descriptor gen/desc builds from schema file `rel` (checked without
 * errors), allocated from pool. */
static const netfw_desc *build(const char *rel, gen_pool *pool) {
  char path[1024];
  size_t len;
  gen_schema s;
  gen_diag d;
  char *src;
  snprintf(path, sizeof(path), "%s/%s", NETFW_SOURCE_DIR, rel);
  src = test_read_file(path, &len);
  assert_non_null(src);
  memset(&s, 0, sizeof(s));
  memset(&d, 0, sizeof(d));
  d.path = path;
  d.src = gen_pool_strndup(pool, src, len);
  d.src_len = len;
  free(src);
  gen_parse(&s, d.src, len, &d, pool);
  gen_check(&s, &d, pool, NULL);
  assert_int_equal(d.errors, 0);
  gen_buf_free(&d.out);
  return gen_desc_build(&s, pool);
}

static void table_equals_runtime_build(void **state) {
  static const struct {
    const char *file;
    const netfw_desc *table;
  } cases[] = {
      {"protocols/file_storage.netproto", &file_storage_descriptor},
      {"protocols/chat.netproto", &chat_descriptor},
      {"tests/gen/all_types.netproto", &at_descriptor},
      {"tests/gen/evolution.netproto", &ev_descriptor},
      {"tests/gen/calls.netproto", &calls_descriptor},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    gen_pool pool = {0};
    same_desc(cases[i].table, build(cases[i].file, &pool));
    gen_pool_free(&pool);
  }
}

static void file_storage_values(void **state) {
  const netfw_desc *d = &file_storage_descriptor;
  const netfw_desc_message *ls = &d->messages[5];
  (void)state;
  assert_string_equal(d->proto, "file_storage");
  assert_false(d->big_endian);
  assert_int_equal(d->version, 1);
  assert_int_equal(d->nmessages, 7);
  assert_string_equal(d->messages[0].body.name, "Add");
  assert_int_equal(d->messages[0].id, FILE_STORAGE_ADD_ID);
  assert_int_equal(d->messages[0].dir, NETFW_DESC_TO_SERVER);
  assert_string_equal(d->messages[0].body.fields[0].name, "filename");
  assert_int_equal(d->messages[0].body.fields[0].kind, NETFW_DESC_STRING);
  assert_int_equal(d->messages[0].body.fields[0].prefix, 1);
  assert_int_equal(d->messages[0].body.fields[1].kind, NETFW_DESC_BYTES);
  assert_int_equal(d->messages[0].body.fields[1].prefix, 4);
  assert_int_equal(d->messages[4].body.nfields, 0); /* List {} */
  assert_string_equal(ls->body.name, "ListResp");
  assert_int_equal(ls->dir, NETFW_DESC_TO_CLIENT);
  assert_int_equal(ls->body.fields[0].mode, NETFW_DESC_REPEATED);
  assert_int_equal(ls->body.fields[0].count_prefix, 2);
  assert_int_equal(ls->body.fields[0].kind, NETFW_DESC_STRUCT);
  assert_string_equal(d->structs[ls->body.fields[0].type].name, "FileEntry");
  assert_string_equal(d->enums[0].name, "Rc");
  assert_int_equal(d->enums[0].size, 1);
  assert_false(d->enums[0].open);
  assert_string_equal(d->enums[0].consts[1].name, "OK");
  assert_int_equal(d->enums[0].consts[1].value, 1);
  assert_string_equal(d->enums[0].doc,
                      "Result of ADD and DEL, and of a GET or DEL of a "
                      "missing file.");
}

/* The field of message `msg` of d named `name`. */
static const netfw_desc_field *field_of(const netfw_desc *d, const char *msg,
                                        const char *name) {
  for (uint32_t i = 0; i < d->nmessages; i++) {
    const netfw_desc_struct *b = &d->messages[i].body;
    if (strcmp(b->name, msg) != 0)
      continue;
    for (uint32_t k = 0; k < b->nfields; k++)
      if (strcmp(b->fields[k].name, name) == 0)
        return &b->fields[k];
  }
  fail_msg("no field %s.%s", msg, name);
  return NULL;
}

/* Field f's default is exactly the n bytes at want. */
static void def_is(const netfw_desc_field *f, unsigned since, const char *want,
                   uint32_t n) {
  assert_int_equal(f->since, since);
  assert_int_equal(f->def_len, n);
  assert_memory_equal(f->def, want, n);
}

static void defaults_as_wire_bytes(void **state) {
  const netfw_desc *d = &ev_descriptor;
  (void)state;
  assert_int_equal(d->version, 3);
  def_is(field_of(d, "Hello", "delta"), 2, "\xfe\xff", 2);
  def_is(field_of(d, "Hello", "ratio"), 2, "\x00\x00\xc0\x3f", 4);
  def_is(field_of(d, "Hello", "fast"), 2, "\x01", 1);
  def_is(field_of(d, "Hello", "tag"), 2, "\x02\x00\xff", 3);
  def_is(field_of(d, "Hello", "who"), 2, "\x05" "caf\xc3\xa9", 6);
  def_is(field_of(d, "Hello", "rc"), 2, "\x01", 1);
  def_is(field_of(d, "Hello", "ports"), 2, "\x00", 1);
  def_is(field_of(d, "Hello", "pad"), 2, "\x00\x00", 2);
  assert_null(field_of(&file_storage_descriptor, "Add", "file")->def);
}

/* The names of message m's replies, joined by " | ". */
static void replies_are(const netfw_desc *d, uint32_t m, const char *want) {
  char got[256] = "";
  for (uint32_t i = 0; i < d->messages[m].nreturns; i++) {
    if (i > 0)
      strcat(got, " | ");
    strcat(got, d->messages[d->messages[m].returns[i]].body.name);
  }
  assert_string_equal(got, want);
}

static void requests_and_replies(void **state) {
  const netfw_desc *d = &calls_descriptor;
  static const bool reply[] = {false, false, false, true, true, true, false};
  (void)state;
  assert_int_equal(d->nmessages, 7);
  replies_are(d, 0, "Value | Missing");
  replies_are(d, 1, "Done");
  replies_are(d, 2, "");
  assert_null(d->messages[2].returns);
  for (uint32_t i = 0; i < d->nmessages; i++)
    assert_int_equal(d->messages[i].is_reply, reply[i]);
  /* file_storage.netproto: Add, Del, Get, GetResp, List, ListResp, Ack */
  d = &file_storage_descriptor;
  assert_int_equal(d->nmessages, 7);
  replies_are(d, 0, "Ack");
  replies_are(d, 1, "Ack");
  replies_are(d, 2, "GetResp | Ack");
  replies_are(d, 3, "");
  replies_are(d, 4, "ListResp");
  replies_are(d, 5, "");
  replies_are(d, 6, "");
  assert_true(d->messages[3].is_reply && d->messages[5].is_reply &&
              d->messages[6].is_reply);
  assert_false(d->messages[0].is_reply || d->messages[2].is_reply);
}

/* The value at key of object o (asserted present). */
static json_t *at(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (v == NULL)
    fail_msg("no key '%s'", key);
  return v;
}

/* The element of array a whose "name" is name. */
static json_t *named(json_t *a, const char *name) {
  size_t i;
  json_t *v;
  json_array_foreach(a, i, v) {
    if (strcmp(json_string_value(at(v, "name")), name) == 0)
      return v;
  }
  fail_msg("no element named '%s'", name);
  return NULL;
}

/* The --descriptor JSON of schema file `rel`, parsed. */
static json_t *descriptor_of(const char *rel) {
  char path[1024];
  size_t len;
  char *src;
  gen_result r;
  json_error_t err;
  json_t *doc;
  snprintf(path, sizeof(path), "%s/%s", NETFW_SOURCE_DIR, rel);
  src = test_read_file(path, &len);
  assert_non_null(src);
  assert_int_equal(gen_compile(&r, path, src, len), 0);
  doc = json_loadb(r.descriptor.data, r.descriptor.len, JSON_REJECT_DUPLICATES,
                   &err);
  if (doc == NULL)
    fail_msg("descriptor JSON: %s at line %d", err.text, err.line);
  gen_result_free(&r);
  free(src);
  return doc;
}

static void descriptor_json(void **state) {
  json_t *doc = descriptor_of("tests/gen/evolution.netproto"), *hello, *f;
  (void)state;
  assert_int_equal(json_integer_value(at(doc, "netfw_descriptor")), 1);
  assert_string_equal(json_string_value(at(doc, "protocol")), "ev");
  assert_string_equal(json_string_value(at(doc, "endian")), "little");
  assert_int_equal(json_integer_value(at(doc, "version")), 3);
  hello = named(at(doc, "messages"), "Hello");
  assert_int_equal(json_integer_value(at(hello, "id")), 6);
  assert_string_equal(json_string_value(at(hello, "direction")), "both");
  assert_string_equal(json_string_value(at(hello, "doc")),
                      "Every field added later: an empty payload is a "
                      "version-1 Hello.");
  f = named(at(hello, "fields"), "ratio");
  assert_true(json_real_value(at(f, "default")) == 1.5);
  assert_string_equal(json_string_value(at(f, "default_wire")), "0000c03f");
  f = named(at(hello, "fields"), "tag");
  assert_string_equal(json_string_value(at(f, "default")), "AP8=");
  assert_string_equal(json_string_value(at(f, "prefix")), "u8");
  f = named(at(hello, "fields"), "rc");
  assert_string_equal(json_string_value(at(f, "default")), "DENIED");
  assert_string_equal(json_string_value(at(f, "type")), "Rc");
  assert_string_equal(json_string_value(at(f, "kind")), "enum");
  f = named(at(hello, "fields"), "pad");
  assert_string_equal(json_string_value(at(f, "mode")), "array");
  assert_int_equal(json_integer_value(at(f, "length")), 2);
  assert_int_equal(json_array_size(at(f, "default")), 2);
  f = named(at(hello, "fields"), "ports");
  assert_string_equal(json_string_value(at(f, "count_prefix")), "u8");
  assert_int_equal(json_array_size(at(f, "default")), 0);
  assert_true(json_is_true(at(named(at(doc, "enums"), "Rc"), "open")));
  assert_string_equal(
      json_string_value(at(named(at(doc, "structs"), "Entry"), "extensible")),
      "u8");
  json_decref(doc);
}

/* The --descriptor text of schema src (compiled in memory). */
static char *descriptor_text(const char *src) {
  gen_result r;
  char *text;
  assert_int_equal(gen_compile(&r, "t.netproto", src, strlen(src)), 0);
  text = strdup(r.descriptor.data);
  gen_result_free(&r);
  return text;
}

/* Defaults print as the JSON codec prints values: the shortest text that
 * reads back, ".0" on an integral real; docs escape a newline as \n. */
static void descriptor_json_floats(void **state) {
  char *t = descriptor_text(
      "protocol p;\noption version = 2;\n/// two\n/// lines\n"
      "message M = 1 { u8 a; f64 x = 0.1 [since 2]; f64 y = 2 [since 2]; "
      "f32 z = 0.3 [since 2]; f64 w = -0.0 [since 2]; }\n");
  (void)state;
  assert_non_null(strstr(t, "\"name\": \"x\", \"kind\": \"f64\", \"type\": "
                            "\"f64\", \"mode\": \"plain\", \"since\": 2, "
                            "\"default\": 0.1, \"default_wire\": "
                            "\"9a9999999999b93f\""));
  assert_non_null(strstr(t, "\"default\": 2.0, "));
  assert_non_null(strstr(t, "\"default\": 0.3, "));
  assert_non_null(strstr(t, "\"default\": -0.0, "));
  assert_non_null(strstr(t, "\"doc\": \"two\\nlines\""));
  free(t);
}

static void descriptor_json_calls(void **state) {
  json_t *doc = descriptor_of("tests/gen/calls.netproto"), *m;
  (void)state;
  m = at(doc, "messages");
  assert_int_equal(json_array_size(at(named(m, "Get"), "returns")), 2);
  assert_string_equal(
      json_string_value(json_array_get(at(named(m, "Get"), "returns"), 1)),
      "Missing");
  assert_true(json_is_false(at(named(m, "Get"), "reply")));
  assert_int_equal(json_array_size(at(named(m, "Forget"), "returns")), 0);
  assert_true(json_is_true(at(named(m, "Done"), "reply")));
  assert_true(json_is_false(at(named(m, "Changed"), "reply")));
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(table_equals_runtime_build),
      cmocka_unit_test(file_storage_values),
      cmocka_unit_test(defaults_as_wire_bytes),
      cmocka_unit_test(requests_and_replies),
      cmocka_unit_test(descriptor_json),
      cmocka_unit_test(descriptor_json_calls),
      cmocka_unit_test(descriptor_json_floats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
