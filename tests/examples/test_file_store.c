/* file_storage's directory store: codes, path-escape refusal, atomic adds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

typedef struct fixture {
  char dir[64];
  char outside[80];
  store s;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  snprintf(f->dir, sizeof(f->dir), "/tmp/netfw-store-XXXXXX");
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->outside, sizeof(f->outside), "%s-outside", f->dir);
  if (store_open(&f->s, f->dir) != STORE_OK)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[256];
  store_close(&f->s);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->dir, f->outside);
  if (system(cmd) != 0)
    return -1;
  free(f);
  return 0;
}

static void test_store_add_get_del_codes(void **state) {
  fixture *f = *state;
  uint8_t *data = NULL;
  size_t size = 0;
  assert_int_equal(store_add(&f->s, "a.txt", 5, (const uint8_t *)"\1\2\3", 3), STORE_OK);
  assert_int_equal(store_add(&f->s, "a.txt", 5, (const uint8_t *)"zz", 2), STORE_EXISTS);
  assert_int_equal(store_get(&f->s, "a.txt", 5, 1024, &data, &size), STORE_OK);
  assert_int_equal(size, 3);
  assert_memory_equal(data, "\1\2\3", 3);
  free(data);
  assert_int_equal(store_get(&f->s, "a.txt", 5, 2, &data, &size), STORE_TOO_BIG);
  assert_int_equal(store_get(&f->s, "nope", 4, 1024, &data, &size), STORE_NOT_FOUND);
  assert_int_equal(store_del(&f->s, "a.txt", 5), STORE_OK);
  assert_int_equal(store_del(&f->s, "a.txt", 5), STORE_NOT_FOUND);
  /* empty file */
  assert_int_equal(store_add(&f->s, "empty", 5, NULL, 0), STORE_OK);
  assert_int_equal(store_get(&f->s, "empty", 5, 1024, &data, &size), STORE_OK);
  assert_int_equal(size, 0);
  free(data);
}

static void collect(const char *name, uint64_t size, void *arg) {
  char *out = arg;
  char line[300];
  snprintf(line, sizeof(line), "%s=%llu;", name, (unsigned long long)size);
  strcat(out, line);
}

static void test_store_list_sorted_with_sizes(void **state) {
  fixture *f = *state;
  char out[1024] = "";
  assert_int_equal(store_add(&f->s, "b", 1, (const uint8_t *)"12", 2), STORE_OK);
  assert_int_equal(store_add(&f->s, "a", 1, (const uint8_t *)"1", 1), STORE_OK);
  assert_int_equal(store_add(&f->s, "c", 1, NULL, 0), STORE_OK);
  assert_int_equal(store_list(&f->s, 100, collect, out), STORE_OK);
  assert_string_equal(out, "a=1;b=2;c=0;");
  out[0] = '\0';
  assert_int_equal(store_list(&f->s, 2, collect, out), STORE_OK);
  assert_int_equal(strlen(out) > 0, 1);
}

static void test_store_refuses_escaping_names(void **state) {
  fixture *f = *state;
  static const struct {
    const char *name;
    size_t len;
  } bad[] = {{"", 0},        {".", 1},          {"..", 2},
             {"../x", 4},    {"a/b", 3},        {"/etc/passwd", 11},
             {"a\0b", 3},    {".netfw-tmp-1", 12}};
  char longname[300];
  uint8_t *data;
  size_t size;
  struct stat st;

  memset(longname, 'x', sizeof(longname));
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_false(store_name_ok(bad[i].name, bad[i].len));
    assert_int_equal(store_add(&f->s, bad[i].name, bad[i].len, (const uint8_t *)"x", 1),
                     STORE_BAD_NAME);
    assert_int_equal(store_get(&f->s, bad[i].name, bad[i].len, 10, &data, &size),
                     STORE_BAD_NAME);
    assert_int_equal(store_del(&f->s, bad[i].name, bad[i].len), STORE_BAD_NAME);
  }
  assert_true(store_name_ok(longname, 255));
  assert_false(store_name_ok(longname, 256));
  assert_int_equal(store_add(&f->s, longname, 256, (const uint8_t *)"x", 1), STORE_BAD_NAME);
  /* nothing was created beside the store */
  assert_int_not_equal(stat(f->outside, &st), 0);
}

static void test_store_concurrent_add_one_wins(void **state) {
  fixture *f = *state;
  enum { N = 8 };
  pid_t pids[N];
  int ok = 0, exists = 0;
  uint8_t *data;
  size_t size;

  for (int i = 0; i < N; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      uint8_t buf[4096];
      memset(buf, 'A' + i, sizeof(buf));
      _exit((int)store_add(&f->s, "race", 4, buf, sizeof(buf)));
    }
  }
  for (int i = 0; i < N; i++) {
    int status;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == STORE_OK)
      ok++;
    else if (WEXITSTATUS(status) == STORE_EXISTS)
      exists++;
  }
  assert_int_equal(ok, 1);
  assert_int_equal(exists, N - 1);
  /* the winner's content is whole: 4096 copies of one letter */
  assert_int_equal(store_get(&f->s, "race", 4, 1 << 20, &data, &size), STORE_OK);
  assert_int_equal(size, 4096);
  for (size_t i = 1; i < size; i++)
    assert_int_equal(data[i], data[0]);
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_store_add_get_del_codes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_list_sorted_with_sizes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_refuses_escaping_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_concurrent_add_one_wins, setup, teardown),
  };
  return cmocka_run_group_tests_name("file_store", tests, NULL, NULL);
}
