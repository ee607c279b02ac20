/* The reflective codec (netfw_desc_decode_json / netfw_desc_encode_json)
 * agrees with the generated codecs of eight schemas: on every input of the
 * committed fuzz corpora (fuzz_decoders over all_types; the evolution
 * corpora over both versions), on the byte fixtures of docs/evolution.md and
 * docs/netproto.md and every prefix of them, and on a pool of all those
 * payloads and of the byte arrays of the C tests (tests/gen, tests/evolve,
 * tests/python) fed to every message of every schema. Each schema must see
 * payloads both accepted and refused. With --all (test_desc_agree_all),
 * the pool also holds the whole fuzz_decoders corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agree.h"
#include "agree_inputs.h"
#include "netfw/netfw.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must be defined"
#endif

extern const agree_schema agree_fz, agree_at, agree_atb, agree_chat,
    agree_file_storage, agree_ev1, agree_ev2, agree_ev;

typedef struct tally {
  const agree_schema *s;
  unsigned accepted, refused, structs;
} tally;

static tally tallies[] = {
    {&agree_fz, 0, 0, 0},           {&agree_at, 0, 0, 0},
    {&agree_atb, 0, 0, 0},          {&agree_chat, 0, 0, 0},
    {&agree_file_storage, 0, 0, 0}, {&agree_ev1, 0, 0, 0},
    {&agree_ev2, 0, 0, 0},          {&agree_ev, 0, 0, 0}};
#define NSCHEMAS (sizeof(tallies) / sizeof(tallies[0]))

static bool all_payloads; /* --all: the whole fuzz corpus in the pool */

/* The tally of s. */
static tally *tally_of(const agree_schema *s) {
  for (size_t i = 0; i < NSCHEMAS; i++)
    if (tallies[i].s == s)
      return &tallies[i];
  fail_msg("no tally for %s", s->proto);
  return NULL;
}

/* b[0..n) as message m of s: the codecs agree (else the test fails, naming
 * the input `what`); counted. */
static void check(const agree_schema *s, const netfw_desc_message *m,
                  const uint8_t *b, size_t n, const char *what) {
  char why[1024] = "";
  tally *t = tally_of(s);
  int rc = agree_payload(s, m, b, n, why, sizeof(why));

  if (rc == AGREE_BROKEN)
    fail_msg("%s (%zu bytes): %s", what, n, why);
  if (rc == AGREE_ACCEPTED)
    t->accepted++;
  else
    t->refused++;
}

/* Every input of the fuzz corpus dir (a first byte picking the type, then
 * the payload) through the message s's harness picks (structs counted and
 * skipped: the reflective codec reads messages). */
static void check_corpus(const agree_schema *s, const char *dir) {
  agree_inputs l = {0};
  assert_true(agree_read_dir(&l, dir) > 0);
  for (size_t i = 0; i < l.n; i++) {
    const netfw_desc_message *m;
    if (l.v[i].n == 0)
      continue; /* the harness ignores an empty input */
    m = agree_harness_pick(s, l.v[i].bytes[0]);
    if (m == NULL)
      tally_of(s)->structs++;
    else
      check(s, m, l.v[i].bytes + 1, l.v[i].n - 1, l.v[i].name);
  }
  agree_inputs_free(&l);
}

static void test_fuzz_decoders_corpus(void **state) {
  (void)state;
  check_corpus(&agree_fz, NETFW_SOURCE_DIR "/tests/fuzz/corpus/fuzz_decoders");
}

static void test_evolve_corpora(void **state) {
  (void)state;
  check_corpus(&agree_ev1, NETFW_SOURCE_DIR "/tests/evolve/corpus/v1");
  check_corpus(&agree_ev1, NETFW_SOURCE_DIR "/tests/evolve/corpus/v2");
  check_corpus(&agree_ev2, NETFW_SOURCE_DIR "/tests/evolve/corpus/v1");
  check_corpus(&agree_ev2, NETFW_SOURCE_DIR "/tests/evolve/corpus/v2");
}

/* The fixtures of a documentation block as the messages they name, whole
 * and cut to every shorter length. */
static void check_fixtures(const agree_schema *s, const char *doc,
                           const char *marker) {
  agree_inputs l = {0};
  assert_true(agree_read_fixtures(&l, doc, marker) >= 4);
  for (size_t i = 0; i < l.n; i++) {
    const netfw_desc_message *m =
        netfw_desc_message_by_name(s->desc, l.v[i].name);
    if (m == NULL)
      fail_msg("%s: no message %s in %s", doc, l.v[i].name, s->proto);
    for (size_t k = 0; k <= l.v[i].n; k++)
      check(s, m, l.v[i].bytes, k, l.v[i].name);
  }
  agree_inputs_free(&l);
}

static void test_doc_fixtures(void **state) {
  (void)state;
  check_fixtures(&agree_ev, NETFW_SOURCE_DIR "/docs/evolution.md",
                 "Whole messages of tests/gen/evolution.netproto");
  check_fixtures(&agree_file_storage, NETFW_SOURCE_DIR "/docs/netproto.md",
                 "Whole messages of protocols/file_storage.netproto");
}

/* Appends the payloads (first byte dropped) of the corpus dir to pool. */
static void pool_corpus(agree_inputs *pool, const char *dir) {
  agree_inputs l = {0};
  assert_true(agree_read_dir(&l, dir) > 0);
  for (size_t i = 0; i < l.n; i++) {
    if (pool->n == pool->cap) { /* l's inputs move to pool */
      size_t cap = pool->cap ? pool->cap * 2 : 256;
      agree_input *v = realloc(pool->v, cap * sizeof(*v));
      assert_non_null(v);
      pool->v = v;
      pool->cap = cap;
    }
    if (l.v[i].n > 0)
      memmove(l.v[i].bytes, l.v[i].bytes + 1, --l.v[i].n);
    pool->v[pool->n++] = l.v[i];
  }
  free(l.v);
}

/* Every payload of the pool as every message of every schema. */
static void test_pool_every_message(void **state) {
  agree_inputs pool = {0};
  int n;
  (void)state;
  assert_true(agree_read_fixtures(
                  &pool, NETFW_SOURCE_DIR "/docs/evolution.md",
                  "Whole messages of tests/gen/evolution.netproto") > 0);
  assert_true(agree_read_fixtures(
                  &pool, NETFW_SOURCE_DIR "/docs/netproto.md",
                  "Whole messages of protocols/file_storage.netproto") > 0);
  n = agree_read_c_dir(&pool, NETFW_SOURCE_DIR "/tests/gen");
  n += agree_read_c_dir(&pool, NETFW_SOURCE_DIR "/tests/evolve");
  n += agree_read_c_dir(&pool, NETFW_SOURCE_DIR "/tests/python");
  print_message("%d byte arrays of tests/gen, tests/evolve, tests/python\n", n);
  assert_true(n >= 50);
  pool_corpus(&pool, NETFW_SOURCE_DIR "/tests/evolve/corpus/v1");
  pool_corpus(&pool, NETFW_SOURCE_DIR "/tests/evolve/corpus/v2");
  if (all_payloads)
    pool_corpus(&pool, NETFW_SOURCE_DIR "/tests/fuzz/corpus/fuzz_decoders");
  for (size_t k = 0; k < NSCHEMAS; k++) {
    const netfw_desc *d = tallies[k].s->desc;
    for (uint32_t i = 0; i < d->nmessages; i++)
      for (size_t p = 0; p < pool.n; p++)
        check(tallies[k].s, &d->messages[i], pool.v[p].bytes, pool.v[p].n,
              pool.v[p].name);
  }
  agree_inputs_free(&pool);
}

/* Every schema saw payloads accepted and refused. */
static void test_counts(void **state) {
  (void)state;
  print_message("%u payloads came back with the quiet NaN for another NaN\n",
                agree_nan_rewrites);
  for (size_t i = 0; i < NSCHEMAS; i++) {
    const tally *t = &tallies[i];
    print_message("%-12s %6u accepted, %6u refused (%u struct inputs "
                  "skipped)\n",
                  t->s->proto, t->accepted, t->refused, t->structs);
    assert_true(t->accepted > 0);
    assert_true(t->refused > 0);
  }
}

static int free_kit(void **state) {
  (void)state;
  agree_free();
  return 0;
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fuzz_decoders_corpus),
      cmocka_unit_test(test_evolve_corpora),
      cmocka_unit_test(test_doc_fixtures),
      cmocka_unit_test(test_pool_every_message),
      cmocka_unit_test(test_counts),
  };
  all_payloads = argc > 1 && strcmp(argv[1], "--all") == 0;
  return cmocka_run_group_tests(tests, NULL, free_kit);
}
