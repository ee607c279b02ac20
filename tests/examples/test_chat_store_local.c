/* chat_server's shared-memory membership store: joins, refusals, numbered
 * changes and snapshots against a reference model (random operations over
 * a small table: the index's probing and backward-shift deletion), ghosts
 * of a dead process swept, and a process dying with the mutex held
 * (EOWNERDEAD: the index is rebuilt). The file is included to reach its
 * internals (the lock, the index). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "chat_store_local.c"

#define CAP 64
#define NAMES 150

typedef struct fixture {
  chat_store_table *t;
  uv_loop_t loop;
  chat_store *s;
  /* the last answer */
  chat_store_status status;
  uint64_t seq;
  uint32_t n;
  char snap[CAP][CHAT_NICK_MAX + 1];
  uint64_t snap_seq[CAP];
  /* what events.gone reported */
  uint32_t gone;
  char gone_nick[8][CHAT_NICK_MAX + 1];
} fixture;

static void on_gone(void *ctx, const char *nick, uint64_t seq) {
  fixture *f = ctx;
  (void)seq;
  if (f->gone < 8)
    snprintf(f->gone_nick[f->gone], sizeof(f->gone_nick[0]), "%s", nick);
  f->gone++;
}

static void on_lost(void *ctx) {
  (void)ctx;
}

static const chat_store_events events = {on_gone, on_lost};

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  f->t = chat_store_table_new(CAP);
  if (f->t == NULL || uv_loop_init(&f->loop) != 0)
    return -1;
  f->s = chat_store_local_open(f->t, &f->loop, &events, f);
  *state = f;
  return f->s == NULL ? -1 : 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  chat_store_close(f->s);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  chat_store_table_free(f->t);
  free(f);
  return 0;
}

static void on_joined(void *arg, chat_store_status status, uint64_t seq,
                      const chat_store_member *all, uint32_t n) {
  fixture *f = arg;
  f->status = status;
  f->seq = seq;
  f->n = n;
  for (uint32_t i = 0; i < n; i++) {
    assert_int_equal(strlen(all[i].nick), all[i].len);
    snprintf(f->snap[i], sizeof(f->snap[i]), "%s", all[i].nick);
    f->snap_seq[i] = all[i].seq;
    if (i > 0)
      assert_true(all[i - 1].seq < all[i].seq); /* joining order */
  }
}

static void on_left(void *arg, const char *nick, uint64_t seq) {
  fixture *f = arg;
  (void)nick;
  f->seq = seq;
}

static chat_store_status join(fixture *f, const char *nick) {
  f->status = (chat_store_status)-1;
  assert_int_equal(chat_store_join(f->s, nick, on_joined, f), 0);
  return f->status; /* the local store answers at once */
}

static uint64_t leave(fixture *f, const char *nick, uint64_t seq) {
  f->seq = 99999;
  chat_store_leave(f->s, nick, seq, on_left, f);
  return f->seq;
}

static void test_chat_store_local_join_leave(void **state) {
  fixture *f = *state;

  assert_int_equal(join(f, "alice"), CHAT_STORE_OK);
  assert_int_equal(f->seq, 1);
  assert_int_equal(f->n, 1);
  assert_int_equal(join(f, "bob"), CHAT_STORE_OK);
  assert_int_equal(f->seq, 2);
  assert_int_equal(f->n, 2);
  assert_string_equal(f->snap[0], "alice");
  assert_string_equal(f->snap[1], "bob");
  assert_int_equal(join(f, "alice"), CHAT_STORE_TAKEN);
  assert_int_equal(leave(f, "alice", 2), 0); /* not alice's join number */
  assert_int_equal(leave(f, "alice", 1), 3);
  assert_int_equal(leave(f, "alice", 1), 0); /* gone already */
  assert_int_equal(join(f, "alice"), CHAT_STORE_OK);
  assert_int_equal(f->seq, 4);
  assert_string_equal(f->snap[0], "bob");
  assert_string_equal(f->snap[1], "alice");
}

static void test_chat_store_local_full(void **state) {
  fixture *f = *state;
  char nick[16];

  for (int i = 0; i < CAP; i++) {
    snprintf(nick, sizeof(nick), "n%d", i);
    assert_int_equal(join(f, nick), CHAT_STORE_OK);
  }
  assert_int_equal(join(f, "one-more"), CHAT_STORE_FULL);
  assert_int_equal(join(f, "n5"), CHAT_STORE_TAKEN);
  assert_int_not_equal(leave(f, "n5", 6), 0);
  assert_int_equal(join(f, "one-more"), CHAT_STORE_OK);
  assert_int_equal(f->n, CAP);
}

/* Random joins and leaves over a pool of names larger than the table:
 * every snapshot must be exactly the model's members, in joining order. */
static void test_chat_store_local_random_against_model(void **state) {
  fixture *f = *state;
  uint64_t model[NAMES] = {0}; /* join number, 0 = absent */
  uint32_t count = 0;
  char nick[16];

  srand(7);
  for (int op = 0; op < 20000; op++) {
    int i = rand() % NAMES;
    snprintf(nick, sizeof(nick), "u%d", i);
    if (model[i] != 0 && rand() % 2 == 0) {
      assert_int_not_equal(leave(f, nick, model[i]), 0);
      model[i] = 0;
      count--;
      continue;
    }
    chat_store_status st = join(f, nick);
    if (model[i] != 0) {
      assert_int_equal(st, CHAT_STORE_TAKEN);
      continue;
    }
    if (count == CAP) {
      assert_int_equal(st, CHAT_STORE_FULL);
      continue;
    }
    assert_int_equal(st, CHAT_STORE_OK);
    model[i] = f->seq;
    count++;
    assert_int_equal(f->n, count);
    for (uint32_t k = 0; k < f->n; k++) {
      int j = atoi(f->snap[k] + 1);
      assert_int_equal(model[j], f->snap_seq[k]);
    }
  }
}

/* A process that joined and died: the sweep removes its members. */
static void test_chat_store_local_sweeps_dead_owner(void **state) {
  fixture *f = *state;
  pid_t child;
  int st;

  assert_int_equal(join(f, "mine"), CHAT_STORE_OK);
  child = fork();
  if (child == 0) {
    fixture c = {0};
    uv_loop_t loop;
    uv_loop_init(&loop);
    c.s = chat_store_local_open(f->t, &loop, &events, &c);
    c.status = (chat_store_status)-1;
    chat_store_join(c.s, "ghost1", on_joined, &c);
    chat_store_join(c.s, "ghost2", on_joined, &c);
    _exit(c.status == CHAT_STORE_OK ? 0 : 1);
  }
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_int_equal(join(f, "ghost1"), CHAT_STORE_TAKEN);
  on_sweep(&((local_store *)f->s)->sweep);
  assert_int_equal(f->gone, 2);
  assert_int_equal(join(f, "ghost1"), CHAT_STORE_OK);
  assert_int_equal(f->n, 2); /* mine, ghost1 */
  assert_string_equal(f->snap[0], "mine");
}

/* A process dies holding the mutex in the middle of a removal (index slot
 * emptied, entry not yet moved): the next locker repairs the index. */
static void test_chat_store_local_owner_dead_repairs(void **state) {
  fixture *f = *state;
  chat_store_table *t = f->t;
  pid_t child;
  int st;

  assert_int_equal(join(f, "a"), CHAT_STORE_OK);
  assert_int_equal(join(f, "b"), CHAT_STORE_OK);
  assert_int_equal(join(f, "c"), CHAT_STORE_OK);
  child = fork();
  if (child == 0) {
    pthread_mutex_lock(&t->lock);
    idx(t)[probe(t, "b", 1)] = -1; /* half a removal, then die */
    _exit(0);
  }
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_int_equal(join(f, "b"), CHAT_STORE_TAKEN); /* repaired: found */
  assert_int_equal(join(f, "d"), CHAT_STORE_OK);
  assert_int_equal(f->n, 4);
  assert_int_equal(leave(f, "b", 2), 5);
  assert_int_equal(join(f, "b"), CHAT_STORE_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_chat_store_local_join_leave, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_chat_store_local_full, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_chat_store_local_random_against_model, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chat_store_local_sweeps_dead_owner,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_chat_store_local_owner_dead_repairs,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
