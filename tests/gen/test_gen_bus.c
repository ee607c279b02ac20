/* Generated message-bus code: <p>_bus_dispatch decodes every message of
 * all_types.netproto, encoded by its own encoder, into its typed handler
 * with exact field values; unknown ids, NULL handlers and a NULL handler
 * table go to on_bus untouched; malformed payloads are logged and dropped;
 * the netfw_app glue's on_bus runs the dispatch with the worker's state;
 * the publish helpers return the encoder's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "all_types.netfw.h"
#include "chat.netfw.h"
#include "netfw/bus.h"
#include "netfw/netfw.h"

#define CHANNEL "room/42"

static netfw_str str(const char *s) {
  netfw_str r = {s, (uint32_t)strlen(s)};
  return r;
}

static bool str_eq(netfw_str a, const char *s) {
  return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

static bool bytes_eq(netfw_bytes a, const void *b, size_t n) {
  return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

/* ---- what the handlers saw -------------------------------------------- */

enum { N_MSGS = 9 }; /* indexed by message id, 1..8 */

typedef struct record {
  int typed[N_MSGS]; /* typed handler calls, by message id */
  int untyped;       /* on_bus calls */
  void *app;         /* the last app any handler got */
  const char *channel;
  uint16_t untyped_id;
  uint8_t untyped_payload[64];
  uint32_t untyped_size;
  int warnings; /* WARN lines logged */
  char last_warning[256];
} record;

static int typed_total(const record *r) {
  int n = 0;
  for (int i = 0; i < N_MSGS; i++)
    n += r->typed[i];
  return n;
}

/* Counts a typed call of message id and checks the app and channel. */
static void saw(void *app, const char *channel, uint16_t id) {
  record *r = app;
  r->typed[id]++;
  r->app = app;
  r->channel = channel;
}

/* ---- the values published: one per message ---------------------------- */

static const uint8_t blob8[] = {0, 1, 2, 0xff};
static const uint8_t blob16[] = {0xde, 0xad, 0xbe, 0xef, 0};
static uint32_t nums[] = {0, 1, 0xffffffffu};
static at_Point points[] = {{-1, 1}, {INT32_MIN, INT32_MAX}};
static at_Color colors[] = {AT_COLOR_BLUE, AT_COLOR_RED, AT_COLOR_GREEN};

static void on_scalars(void *app, const char *channel, const at_Scalars *m) {
  saw(app, channel, AT_SCALARS_ID);
  assert_int_equal(m->a, 0xab);
  assert_int_equal(m->b, 0xabcd);
  assert_int_equal(m->c, 0xdeadbeefu);
  assert_true(m->d == 0x0123456789abcdefull);
  assert_int_equal(m->e, -128);
  assert_int_equal(m->f, -32768);
  assert_int_equal(m->g, INT32_MIN);
  assert_true(m->h == INT64_MIN);
  assert_true(m->i == 1.5f);
  assert_true(m->j == -0.25);
  assert_true(m->k);
}

static void on_texts(void *app, const char *channel, const at_Texts *m) {
  saw(app, channel, AT_TEXTS_ID);
  assert_true(str_eq(m->s8, "h\xc3\xa9llo"));
  assert_true(str_eq(m->s16, ""));
  assert_true(str_eq(m->s32, "a longer string, 32-bit prefix"));
  assert_true(bytes_eq(m->b8, blob8, sizeof(blob8)));
  assert_true(bytes_eq(m->b16, blob16, sizeof(blob16)));
  assert_true(bytes_eq(m->b32, NULL, 0));
}

static void on_enums(void *app, const char *channel, const at_Enums *m) {
  saw(app, channel, AT_ENUMS_ID);
  assert_int_equal(m->color, AT_COLOR_BLUE);
  assert_int_equal(m->wide, AT_WIDE_HIGH);
  assert_int_equal(m->big, AT_BIG_TOP);
}

static void on_arrays(void *app, const char *channel, const at_Arrays *m) {
  saw(app, channel, AT_ARRAYS_ID);
  assert_int_equal(m->fixed[0], 7);
  assert_int_equal(m->fixed[1], 0);
  assert_int_equal(m->fixed[2], 65535);
  assert_int_equal(m->pts[0].x, 3);
  assert_int_equal(m->pts[0].y, -4);
  assert_int_equal(m->pts[1].x, 0);
  assert_int_equal(m->pts[1].y, 9);
  assert_true(str_eq(m->names[0], "left"));
  assert_true(str_eq(m->names[1], "right"));
}

static void on_repeats(void *app, const char *channel, const at_Repeats *m) {
  saw(app, channel, AT_REPEATS_ID);
  assert_int_equal(m->nums_count, 3);
  assert_memory_equal(m->nums, nums, sizeof(nums));
  assert_int_equal(m->words_count, 2);
  assert_true(str_eq(m->words[0], "one"));
  assert_true(str_eq(m->words[1], ""));
  assert_int_equal(m->points_count, 2);
  assert_int_equal(m->points[1].x, INT32_MIN);
  assert_int_equal(m->points[1].y, INT32_MAX);
  assert_int_equal(m->points[0].x, -1);
  assert_int_equal(m->colors_count, 3);
  assert_int_equal(m->colors[0], AT_COLOR_BLUE);
  assert_int_equal(m->colors[2], AT_COLOR_GREEN);
}

static void on_optionals(void *app, const char *channel,
                         const at_Optionals *m) {
  saw(app, channel, AT_OPTIONALS_ID);
  assert_true(m->has_maybe);
  assert_int_equal(m->maybe, 0);
  assert_false(m->has_note);
  assert_true(m->has_where);
  assert_int_equal(m->where.x, 5);
  assert_int_equal(m->where.y, 6);
  assert_true(m->has_inner);
  assert_false(m->inner.has_p);
  assert_int_equal(m->inner.c, AT_COLOR_GREEN);
}

static void on_nested(void *app, const char *channel, const at_Nested *m) {
  saw(app, channel, AT_NESTED_ID);
  assert_true(str_eq(m->tree.label, "root"));
  assert_int_equal(m->tree.kids_count, 2);
  assert_true(str_eq(m->tree.kids[0].label, "a"));
  assert_int_equal(m->tree.kids[0].kids_count, 0);
  assert_true(str_eq(m->tree.kids[1].label, "b"));
  assert_int_equal(m->tree.kids[1].kids_count, 1);
  assert_true(str_eq(m->tree.kids[1].kids[0].label, "b.1"));
  assert_true(m->inner.has_p);
  assert_int_equal(m->inner.p.x, 10);
  assert_int_equal(m->inner.p.y, 20);
  assert_int_equal(m->inner.c, AT_COLOR_RED);
}

static void on_empty(void *app, const char *channel, const at_Empty *m) {
  (void)m;
  saw(app, channel, AT_EMPTY_ID);
}

static void on_untyped(void *app, const char *channel, netfw_msg *msg) {
  record *r = app;
  r->untyped++;
  r->app = app;
  r->channel = channel;
  r->untyped_id = netfw_msg_id(msg);
  r->untyped_size = netfw_msg_size(msg);
  assert_true(r->untyped_size <= sizeof(r->untyped_payload));
  if (r->untyped_size > 0)
    memcpy(r->untyped_payload, netfw_msg_payload(msg), r->untyped_size);
}

static const at_bus_handlers all_handlers = {.on_Scalars = on_scalars,
                                             .on_Texts = on_texts,
                                             .on_Enums = on_enums,
                                             .on_Arrays = on_arrays,
                                             .on_Repeats = on_repeats,
                                             .on_Optionals = on_optionals,
                                             .on_Nested = on_nested,
                                             .on_Empty = on_empty};

/* Encodes the test value of message id into m with its generated encoder. */
static void encode_value(uint16_t id, netfw_msg *m) {
  at_Tree b_kids[1] = {{str("b.1"), NULL, 0}};
  at_Tree kids[2] = {{str("a"), NULL, 0}, {str("b"), b_kids, 1}};
  netfw_str words[2] = {str("one"), str("")};
  int rc = -1;

  switch (id) {
  case AT_SCALARS_ID: {
    at_Scalars v = {0xab, 0xabcd, 0xdeadbeefu, 0x0123456789abcdefull,
                    -128, -32768, INT32_MIN,   INT64_MIN,
                    1.5f, -0.25,  true};
    rc = at_Scalars_encode(&v, m);
    break;
  }
  case AT_TEXTS_ID: {
    at_Texts v = {str("h\xc3\xa9llo"),
                  str(""),
                  str("a longer string, 32-bit prefix"),
                  {blob8, sizeof(blob8)},
                  {blob16, sizeof(blob16)},
                  {NULL, 0}};
    rc = at_Texts_encode(&v, m);
    break;
  }
  case AT_ENUMS_ID: {
    at_Enums v = {AT_COLOR_BLUE, AT_WIDE_HIGH, AT_BIG_TOP};
    rc = at_Enums_encode(&v, m);
    break;
  }
  case AT_ARRAYS_ID: {
    at_Arrays v = {
        {7, 0, 65535}, {{3, -4}, {0, 9}}, {str("left"), str("right")}};
    rc = at_Arrays_encode(&v, m);
    break;
  }
  case AT_REPEATS_ID: {
    at_Repeats v = {nums, 3, words, 2, points, 2, colors, 3};
    rc = at_Repeats_encode(&v, m);
    break;
  }
  case AT_OPTIONALS_ID: {
    at_Optionals v = {true, 0,      false, {NULL, 0},
                      true, {5, 6}, true,  {false, {0, 0}, AT_COLOR_GREEN}};
    rc = at_Optionals_encode(&v, m);
    break;
  }
  case AT_NESTED_ID: {
    at_Nested v = {{str("root"), kids, 2}, {true, {10, 20}, AT_COLOR_RED}};
    rc = at_Nested_encode(&v, m);
    break;
  }
  case AT_EMPTY_ID: {
    at_Empty v = {0};
    rc = at_Empty_encode(&v, m);
    break;
  }
  }
  assert_int_equal(rc, 0);
  assert_int_equal(netfw_msg_id(m), id);
}

static void capture_warn(netfw_log_level level, const char *line, void *arg) {
  record *r = arg;
  if (level != NETFW_LOG_WARN)
    return;
  r->warnings++;
  strncpy(r->last_warning, line, sizeof(r->last_warning) - 1);
}

static int log_setup(void **state) {
  (void)state;
  netfw_log_set_level(NETFW_LOG_WARN);
  return 0;
}

static int log_teardown(void **state) {
  (void)state;
  netfw_log_set_sink(NULL, NULL);
  return 0;
}

/* ---- typed dispatch --------------------------------------------------- */

static void test_bus_every_message_reaches_its_typed_handler(void **state) {
  record r = {0};
  const at_server_app def = {.bus_handlers = &all_handlers,
                             .on_bus = on_untyped};
  netfw_arena arena;

  (void)state;
  netfw_arena_init(&arena);
  for (uint16_t id = 1; id < N_MSGS; id++) {
    netfw_msg m;
    netfw_msg_init(&m, 0);
    encode_value(id, &m);
    r.app = NULL;
    r.channel = NULL;
    assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 0);
    assert_int_equal(r.typed[id], 1);
    assert_int_equal(typed_total(&r), id);
    assert_ptr_equal(r.app, &r);
    assert_string_equal(r.channel, CHANNEL);
    /* the same message again, on the same (reset) arena */
    assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 0);
    assert_int_equal(r.typed[id], 2);
    r.typed[id] = 1;
    netfw_msg_release(&m);
  }
  assert_int_equal(r.untyped, 0);
  netfw_arena_free(&arena);
}

static void test_bus_unknown_id_goes_to_on_bus(void **state) {
  static const uint8_t payload[] = {'o', 'p', 'a', 'q', 'u', 'e', 0, 0xff};
  record r = {0};
  const at_server_app def = {.bus_handlers = &all_handlers,
                             .on_bus = on_untyped};
  netfw_arena arena;
  netfw_msg m;

  (void)state;
  netfw_arena_init(&arena);
  netfw_msg_init(&m, 999); /* not in the schema */
  assert_int_equal(netfw_msg_append(&m, payload, sizeof(payload)), 0);
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 1);
  assert_int_equal(r.untyped, 1);
  assert_int_equal(typed_total(&r), 0);
  assert_ptr_equal(r.app, &r);
  assert_string_equal(r.channel, CHANNEL);
  assert_int_equal(r.untyped_id, 999);
  assert_int_equal(r.untyped_size, sizeof(payload));
  assert_memory_equal(r.untyped_payload, payload, sizeof(payload));

  netfw_msg_set_id(&m, 0); /* id 0: not in the schema either */
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 1);
  assert_int_equal(r.untyped, 2);
  assert_int_equal(r.untyped_id, 0);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_bus_null_handlers_go_to_on_bus(void **state) {
  const at_bus_handlers only_scalars = {.on_Scalars = on_scalars};
  record r = {0};
  at_server_app def = {.bus_handlers = &only_scalars, .on_bus = on_untyped};
  netfw_arena arena;
  netfw_msg m;

  (void)state;
  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  encode_value(AT_ENUMS_ID, &m); /* a known id whose handler is NULL */
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 1);
  assert_int_equal(r.untyped, 1);
  assert_int_equal(r.untyped_id, AT_ENUMS_ID);
  assert_int_equal(r.untyped_size, 1 + 2 + 4);
  assert_memory_equal(r.untyped_payload, netfw_msg_payload(&m), 7);
  assert_int_equal(typed_total(&r), 0);

  def.bus_handlers = NULL; /* no table: everything is untyped */
  netfw_msg_release(&m);
  netfw_msg_init(&m, 0);
  encode_value(AT_SCALARS_ID, &m);
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 1);
  assert_int_equal(r.untyped, 2);
  assert_int_equal(r.untyped_id, AT_SCALARS_ID);
  assert_int_equal(typed_total(&r), 0);

  def.on_bus = NULL; /* nobody: dropped */
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 1);
  assert_int_equal(r.untyped, 2);
  def.bus_handlers = &only_scalars; /* the typed handler still runs */
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena), 0);
  assert_int_equal(r.typed[AT_SCALARS_ID], 1);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

static void test_bus_malformed_is_logged_and_dropped(void **state) {
  static const uint8_t bad_enum[] = {7, 0, 0, 0, 0, 0, 0};      /* Color 7 */
  static const uint8_t bad_utf8[] = {1, 0xff, 0, 0, 0, 0, 0, 0, /* s8 "\xff" */
                                     0, 0,    0, 0, 0, 0, 0, 0};
  record r = {0};
  const at_server_app def = {.bus_handlers = &all_handlers,
                             .on_bus = on_untyped};
  netfw_arena arena;
  netfw_msg m;

  (void)state;
  netfw_log_set_sink(capture_warn, &r);
  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  encode_value(AT_SCALARS_ID, &m);
  /* every truncation of a valid Scalars payload */
  for (uint32_t n = 0; n < netfw_msg_size(&m); n++) {
    netfw_msg cut;
    netfw_msg_init(&cut, AT_SCALARS_ID);
    assert_int_equal(netfw_msg_append(&cut, netfw_msg_payload(&m), n), 0);
    assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &cut, &arena),
                     NETFW_EPROTO);
    netfw_msg_release(&cut);
  }
  assert_int_equal(r.warnings, (int)netfw_msg_size(&m));
  assert_non_null(strstr(r.last_warning, "at: malformed Scalars (id 1, 42 "
                                         "bytes) on bus channel 'room/42'"));
  netfw_msg_release(&m);

  netfw_msg_init(&m, AT_ENUMS_ID);
  assert_int_equal(netfw_msg_append(&m, bad_enum, sizeof(bad_enum)), 0);
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena),
                   NETFW_EPROTO);
  netfw_msg_release(&m);
  netfw_msg_init(&m, AT_TEXTS_ID);
  assert_int_equal(netfw_msg_append(&m, bad_utf8, sizeof(bad_utf8)), 0);
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, &arena),
                   NETFW_EPROTO);
  netfw_msg_release(&m);

  assert_int_equal(typed_total(&r), 0);
  assert_int_equal(r.untyped, 0); /* not passed on */
  assert_non_null(strstr(r.last_warning, "malformed Texts (id 2"));
  netfw_log_set_sink(NULL, NULL);
  netfw_arena_free(&arena);
}

static void test_bus_dispatch_rejects_null_arguments(void **state) {
  record r = {0};
  const at_server_app def = {.bus_handlers = &all_handlers,
                             .on_bus = on_untyped};
  netfw_msg m;

  (void)state;
  netfw_msg_init(&m, 0);
  encode_value(AT_EMPTY_ID, &m);
  assert_int_equal(at_bus_dispatch(NULL, &r, CHANNEL, &m, NULL), NETFW_EINVAL);
  assert_int_equal(at_bus_dispatch(&def, &r, NULL, &m, NULL), NETFW_EINVAL);
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, NULL, NULL),
                   NETFW_EINVAL);
  assert_int_equal(typed_total(&r) + r.untyped, 0);
  /* no arena is fine for a message without arrays */
  assert_int_equal(at_bus_dispatch(&def, &r, CHANNEL, &m, NULL), 0);
  assert_int_equal(r.typed[AT_EMPTY_ID], 1);
  netfw_msg_release(&m);
}

/* ---- the netfw_app glue ----------------------------------------------- */

static int creates;

static void *glue_create(void *context) {
  creates++;
  return context; /* the record */
}

static void test_bus_glue_on_bus_runs_the_dispatch(void **state) {
  record r = {0};
  const at_server_app def = {.bus_handlers = &all_handlers,
                             .create = glue_create,
                             .context = &r,
                             .on_bus = on_untyped};
  void *worker;
  netfw_msg m;

  (void)state;
  assert_non_null(at_netfw_app.on_bus);
  worker = at_netfw_app.create((void *)(uintptr_t)&def);
  assert_non_null(worker);
  assert_int_equal(creates, 1);
  for (uint16_t id = 1; id < N_MSGS; id++) {
    netfw_msg_init(&m, 0);
    encode_value(id, &m);
    at_netfw_app.on_bus(worker, CHANNEL, &m);
    assert_int_equal(r.typed[id], 1);
    assert_ptr_equal(r.app, &r);
    netfw_msg_release(&m);
  }
  netfw_msg_init(&m, 4242);
  at_netfw_app.on_bus(worker, CHANNEL, &m);
  assert_int_equal(r.untyped, 1);
  assert_int_equal(r.untyped_id, 4242);
  netfw_msg_release(&m);
  at_netfw_app.destroy(worker);
  at_netfw_app.on_bus(NULL, CHANNEL, &m); /* failed create: dropped */
}

/* ---- publish ---------------------------------------------------------- */

static void test_bus_publish_returns_encoder_errors(void **state) {
  char long_name[257];
  at_Texts texts = {0};
  at_Enums bad = {(at_Color)7, AT_WIDE_LOW, AT_BIG_ZERO};
  at_Scalars ok = {0};

  (void)state;
  memset(long_name, 'x', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  texts.s8 = str(long_name); /* 256 bytes behind a u8 prefix */
  assert_int_equal(at_publish_Texts(CHANNEL, &texts, 0), NETFW_E2BIG);
  texts.s8 = str("\xff");
  assert_int_equal(at_publish_Texts(CHANNEL, &texts, 0), NETFW_EINVAL);
  assert_int_equal(at_publish_Enums(CHANNEL, &bad, NETFW_BUS_ECHO),
                   NETFW_EINVAL);
  assert_int_equal(at_publish_Scalars(CHANNEL, NULL, 0), NETFW_EINVAL);
  /* encoded, then refused by the bus: this is not a worker */
  assert_int_equal(at_publish_Scalars(CHANNEL, &ok, 0), NETFW_ESTATE);
}

/* ---- a chat-like relay: what an app on the bus looks like ------------- */

typedef struct relay {
  int lines;
  char last[64];
} relay;

static void relay_on_line(void *app, const char *channel, const chat_Line *m) {
  relay *r = app;
  (void)channel;
  r->lines++;
  assert_true(m->from.len + 2 + m->text.len < sizeof(r->last));
  memcpy(r->last, m->from.ptr, m->from.len);
  memcpy(r->last + m->from.len, ": ", 2);
  memcpy(r->last + m->from.len + 2, m->text.ptr, m->text.len);
  r->last[m->from.len + 2 + m->text.len] = '\0';
}

static const chat_bus_handlers relay_bus = {.on_Line = relay_on_line};
static const chat_server_app relay_app = {.bus_handlers = &relay_bus};

static void test_bus_chat_relay(void **state) {
  chat_Line line = {str("ann"), str("hi all")};
  relay r = {0};
  netfw_arena arena;
  netfw_msg m;

  (void)state;
  netfw_arena_init(&arena);
  netfw_msg_init(&m, 0);
  assert_int_equal(chat_Line_encode(&line, &m), 0);
  assert_int_equal(chat_bus_dispatch(&relay_app, &r, "chat", &m, &arena), 0);
  assert_int_equal(r.lines, 1);
  assert_string_equal(r.last, "ann: hi all");
  netfw_msg_release(&m);
  /* Join goes to the server only on the wire, yet the bus carries it too */
  netfw_msg_init(&m, 0);
  {
    chat_Join join = {str("bob")};
    assert_int_equal(chat_Join_encode(&join, &m), 0);
  }
  assert_int_equal(chat_bus_dispatch(&relay_app, &r, "chat", &m, &arena), 1);
  assert_int_equal(r.lines, 1);
  netfw_msg_release(&m);
  netfw_arena_free(&arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bus_every_message_reaches_its_typed_handler),
      cmocka_unit_test(test_bus_unknown_id_goes_to_on_bus),
      cmocka_unit_test(test_bus_null_handlers_go_to_on_bus),
      cmocka_unit_test(test_bus_malformed_is_logged_and_dropped),
      cmocka_unit_test(test_bus_dispatch_rejects_null_arguments),
      cmocka_unit_test(test_bus_glue_on_bus_runs_the_dispatch),
      cmocka_unit_test(test_bus_publish_returns_encoder_errors),
      cmocka_unit_test(test_bus_chat_relay),
  };
  return cmocka_run_group_tests_name("bus", tests, log_setup, log_teardown);
}
