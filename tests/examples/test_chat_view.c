/* chat_server's view of the room (who may receive a line from another
 * worker): present, unknown and departed senders, a departure learned from
 * a snapshot before its Left arrives, names taken again, snapshots older
 * than what the view knows, and the bound on departed entries (the file is
 * included to count them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "chat_view.c"

static int setup(void **state) {
  *state = chat_view_new();
  return *state == NULL ? -1 : 0;
}

static int teardown(void **state) {
  chat_view_free(*state);
  return 0;
}

static uint64_t limit(chat_view *v, const char *nick, uint64_t since) {
  return chat_view_line_limit(v, nick, (uint32_t)strlen(nick), since);
}

static void entered(chat_view *v, const char *nick, uint64_t seq) {
  assert_true(chat_view_entered(v, nick, (uint32_t)strlen(nick), seq));
}

static void left(chat_view *v, const char *nick, uint64_t seq) {
  chat_view_left(v, nick, (uint32_t)strlen(nick), seq);
}

static void snapshot(chat_view *v, uint64_t seq, const char *const *nicks,
                     const uint64_t *seqs, uint32_t n) {
  chat_store_member all[8];
  for (uint32_t i = 0; i < n; i++)
    all[i] = (chat_store_member){nicks[i], (uint32_t)strlen(nicks[i]), seqs[i]};
  chat_view_snapshot(v, seq, all, n);
}

static void test_chat_view_present_unknown_departed(void **state) {
  chat_view *v = *state;

  assert_int_equal(limit(v, "x", 4), 4); /* unknown: those before it */
  entered(v, "x", 4);
  assert_true(limit(v, "x", 4) == UINT64_MAX);
  left(v, "x", 9);
  assert_int_equal(limit(v, "x", 4), 9); /* members with since < 9 knew x */
  left(v, "x", 12);                      /* later news: no change */
  assert_int_equal(limit(v, "x", 4), 9);
}

/* The race: x said a line and left at 5; j joined at 7 (its snapshot has
 * no x); the line arrives before x's Left. */
static void test_chat_view_snapshot_learns_departure(void **state) {
  chat_view *v = *state;
  const char *nicks[] = {"a", "j"};
  const uint64_t seqs[] = {1, 7};

  entered(v, "a", 1);
  entered(v, "x", 3);
  snapshot(v, 7, nicks, seqs, 2);
  assert_int_equal(limit(v, "x", 3), 7); /* not j (7), still a (1) */
  left(v, "x", 5);                       /* the exact number */
  assert_int_equal(limit(v, "x", 3), 5);
  assert_true(limit(v, "a", 1) == UINT64_MAX);
  assert_true(limit(v, "j", 7) == UINT64_MAX); /* learned from it */
}

static void test_chat_view_name_taken_again(void **state) {
  chat_view *v = *state;

  entered(v, "x", 2);
  left(v, "x", 3);
  entered(v, "x", 8);
  assert_int_equal(limit(v, "x", 2), 2); /* the old x: only older members */
  assert_true(limit(v, "x", 8) == UINT64_MAX);
  left(v, "x", 3); /* a late Left of the old x leaves the new one */
  assert_true(limit(v, "x", 8) == UINT64_MAX);
  entered(v, "x", 2); /* a late Entered of the old x too */
  assert_true(limit(v, "x", 8) == UINT64_MAX);
}

/* A snapshot older than what the view knows changes nothing it knows. */
static void test_chat_view_old_snapshot(void **state) {
  chat_view *v = *state;
  const char *nicks[] = {"x"};
  const uint64_t seqs[] = {4};

  entered(v, "x", 10); /* x left at 6 and came back at 10 */
  entered(v, "y", 9);
  snapshot(v, 8, nicks, seqs, 1); /* y (9) is after 8: not departed */
  assert_true(limit(v, "x", 10) == UINT64_MAX);
  assert_true(limit(v, "y", 9) == UINT64_MAX);
}

/* Departed entries are bounded; names that come back are never freed
 * under the view (ASan would see it). */
static void test_chat_view_departed_bounded(void **state) {
  chat_view *v = *state;
  char nick[16];
  uint64_t seq = 1, stays;

  for (int round = 0; round < 3; round++)
    for (int i = 0; i < 3000; i++) {
      snprintf(nick, sizeof(nick), "n%d", i % 1500);
      entered(v, nick, seq++);
      left(v, nick, seq++);
    }
  assert_true(v->count <= VIEW_DEPARTED);
  entered(v, "stays", stays = seq++);
  for (int i = 0; i < 5000; i++) {
    snprintf(nick, sizeof(nick), "m%d", i);
    entered(v, nick, seq++);
    left(v, nick, seq++);
  }
  assert_true(v->count <= VIEW_DEPARTED + 1);
  assert_true(limit(v, "stays", stays) == UINT64_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_chat_view_present_unknown_departed,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_chat_view_snapshot_learns_departure,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_chat_view_name_taken_again, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_chat_view_old_snapshot, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_chat_view_departed_bounded, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
