/* file_storage's directory store: codes, path-escape refusal, atomic adds,
 * non-regular files, quota, stale temporary files. */
#include <setjmp.h>
#include <stdbool.h>
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

/* A FIFO, a symlink and a directory are refused at once (open never blocks
 * on the FIFO: no writer exists), as not regular files. */
static void test_store_refuses_non_regular_without_blocking(void **state) {
  fixture *f = *state;
  char path[128];
  uint8_t *data;
  size_t size;
  uint64_t fsize;
  int fd = -1;

  snprintf(path, sizeof(path), "%s/fifo", f->dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  snprintf(path, sizeof(path), "%s/sub", f->dir);
  assert_int_equal(mkdir(path, 0700), 0);
  snprintf(path, sizeof(path), "%s/link", f->dir);
  assert_int_equal(symlink("/etc/passwd", path), 0);
  alarm(10); /* a blocked open fails the test instead of hanging it */
  assert_int_equal(store_open_file(&f->s, "fifo", 4, &fd, &fsize),
                   STORE_NOT_REGULAR);
  assert_int_equal(store_get(&f->s, "fifo", 4, 100, &data, &size),
                   STORE_NOT_REGULAR);
  assert_int_equal(store_open_file(&f->s, "sub", 3, &fd, &fsize),
                   STORE_NOT_REGULAR);
  assert_int_equal(store_open_file(&f->s, "link", 4, &fd, &fsize),
                   STORE_NOT_REGULAR);
  assert_int_equal(store_open_file(&f->s, "none", 4, &fd, &fsize),
                   STORE_NOT_FOUND);
  alarm(0);
  assert_int_equal(fd, -1);
}

static void test_store_open_file_and_read_at(void **state) {
  fixture *f = *state;
  uint8_t buf[8];
  uint64_t size;
  int fd;

  assert_int_equal(store_add(&f->s, "f", 1, (const uint8_t *)"0123456789", 10),
                   STORE_OK);
  assert_int_equal(store_open_file(&f->s, "f", 1, &fd, &size), STORE_OK);
  assert_int_equal(size, 10);
  assert_int_equal(store_read_at(fd, buf, 8, 0), 8);
  assert_memory_equal(buf, "01234567", 8);
  assert_int_equal(store_read_at(fd, buf, 8, 8), 2); /* short at the end */
  assert_memory_equal(buf, "89", 2);
  assert_int_equal(store_read_at(fd, buf, 8, 10), 0);
  close(fd);
}

static void test_store_quota(void **state) {
  fixture *f = *state;
  uint64_t used;

  assert_int_equal(
      store_add_quota(&f->s, "a", 1, (const uint8_t *)"123456", 6, 10),
      STORE_OK);
  assert_int_equal(
      store_add_quota(&f->s, "b", 1, (const uint8_t *)"12345", 5, 10),
      STORE_QUOTA);
  assert_int_equal(
      store_add_quota(&f->s, "a", 1, (const uint8_t *)"12345", 5, 10),
      STORE_EXISTS);
  assert_int_equal(
      store_add_quota(&f->s, "c", 1, (const uint8_t *)"1234", 4, 10), STORE_OK);
  assert_int_equal(store_add_quota(&f->s, "d", 1, NULL, 0, 10), STORE_OK);
  assert_int_equal(store_add_quota(&f->s, "e", 1, (const uint8_t *)"1", 1, 10),
                   STORE_QUOTA);
  assert_int_equal(store_usage(&f->s, &used), STORE_OK);
  assert_int_equal(used, 10);
  assert_int_equal(store_del(&f->s, "a", 1), STORE_OK);
  assert_int_equal(
      store_add_quota(&f->s, "b", 1, (const uint8_t *)"12345", 5, 10),
      STORE_OK);
  /* a refused ADD leaves no temporary file behind */
  unsigned removed = 99;
  assert_int_equal(store_sweep_tmp(&f->s, &removed), STORE_OK);
  assert_int_equal(removed, 0);
}

/* Writes an empty file named name in the store's directory. */
static void touch(fixture *f, const char *name) {
  char path[160];
  FILE *fp;

  snprintf(path, sizeof(path), "%s/%s", f->dir, name);
  fp = fopen(path, "w");
  assert_non_null(fp);
  fclose(fp);
}

static bool exists(fixture *f, const char *name) {
  char path[160];
  struct stat st;

  snprintf(path, sizeof(path), "%s/%s", f->dir, name);
  return stat(path, &st) == 0;
}

static void test_store_sweep_tmp(void **state) {
  fixture *f = *state;
  char dead[64], alive[64];
  unsigned removed = 0;
  pid_t pid = fork();
  int status;

  assert_true(pid >= 0);
  if (pid == 0)
    _exit(0);
  assert_int_equal(waitpid(pid, &status, 0), pid); /* pid is now dead */
  snprintf(dead, sizeof(dead), ".netfw-tmp-%ld-3", (long)pid);
  snprintf(alive, sizeof(alive), ".netfw-tmp-%ld-4", (long)getpid());
  touch(f, dead);
  touch(f, alive);
  touch(f, ".netfw-tmp-garbage");
  touch(f, "kept");
  assert_int_equal(store_sweep_tmp(&f->s, &removed), STORE_OK);
  assert_int_equal(removed, 2);
  assert_false(exists(f, dead));
  assert_false(exists(f, ".netfw-tmp-garbage"));
  assert_true(exists(f, alive)); /* a running writer's file is left alone */
  assert_true(exists(f, "kept"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_store_add_get_del_codes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_store_list_sorted_with_sizes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_store_refuses_escaping_names, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_store_concurrent_add_one_wins, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_store_refuses_non_regular_without_blocking, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_open_file_and_read_at, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_store_quota, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_sweep_tmp, setup, teardown),
  };
  return cmocka_run_group_tests_name("file_store", tests, NULL, NULL);
}
