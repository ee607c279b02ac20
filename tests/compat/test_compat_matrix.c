/* The --check-compat matrix: each directory cases/NN-name/ holds an
 * old.netproto, a new.netproto, expected.txt (the text report, compared
 * byte for byte) and status (the exit status). Every case is one cmocka
 * test, run in this process through gen_compat_run() exactly as netfw-gen
 * runs it (so valgrind and the sanitizers see the checker); the JSON report
 * of the same pair is parsed and must agree with the text one. */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "compat/compat.h"
#include "file_kit.h"

#ifndef NETFW_COMPAT_CASES
#error "NETFW_COMPAT_CASES must be defined"
#endif

enum { MIN_CASES = 25 };

static char start_dir[PATH_MAX]; /* every case returns here */

/* Lines of a text report that start a finding (": error: ", ": warning: "
 * followed by a rule in brackets at the end). */
static int count_findings(const char *text, const char *severity) {
  char needle[32];
  int n = 0;

  snprintf(needle, sizeof(needle), ": %s: ", severity);
  for (const char *l = text; *l != '\0';) {
    const char *eol = strchr(l, '\n');
    size_t len = eol ? (size_t)(eol - l) : strlen(l);
    const char *hit = strstr(l, needle);
    if (hit != NULL && hit < l + len && len > 0 && l[len - 1] == ']')
      n++;
    l += len + (eol != NULL);
  }
  return n;
}

/* The JSON report of the pair agrees with the text one: same status,
 * same counts, findings in the same order with the same rules. */
static void check_json(int status, const char *text) {
  gen_buf out = {0}, err = {0};
  json_error_t jerr;
  json_t *root, *findings;
  int js = gen_compat_run("old.netproto", "new.netproto", GEN_COMPAT_JSON, &out,
                          &err);
  bool schema_errors = strstr(text, "in the schemas, nothing compared") != NULL;

  assert_int_equal(js, status);
  assert_int_equal(err.len, 0);
  assert_non_null(out.data);
  assert_int_equal(out.data[out.len - 1], '\n');
  assert_null(memchr(out.data, '\n', out.len - 1)); /* one line */
  root = json_loads(out.data, 0, &jerr);
  if (root == NULL)
    fail_msg("JSON report does not parse: %s: %s", jerr.text, out.data);
  assert_int_equal(json_is_true(json_object_get(root, "compatible")),
                   status == 0);
  assert_string_equal(json_string_value(json_object_get(root, "old")),
                      "old.netproto");
  assert_string_equal(json_string_value(json_object_get(root, "new")),
                      "new.netproto");
  findings = json_object_get(root, "findings");
  assert_true(json_is_array(findings));
  if (!schema_errors) {
    int errors = count_findings(text, "error");
    int warnings = count_findings(text, "warning");
    assert_int_equal(json_integer_value(json_object_get(root, "errors")),
                     errors);
    assert_int_equal(json_integer_value(json_object_get(root, "warnings")),
                     warnings);
    assert_int_equal(json_array_size(findings), (size_t)(errors + warnings));
    for (size_t i = 0; i < json_array_size(findings); i++) {
      const char *rule = json_string_value(
          json_object_get(json_array_get(findings, i), "rule"));
      char tag[64];
      assert_non_null(rule);
      snprintf(tag, sizeof(tag), "[%s]\n", rule);
      assert_non_null(strstr(text, tag));
    }
  } else {
    assert_true(json_integer_value(json_object_get(root, "errors")) > 0);
  }
  json_decref(root);
  gen_buf_free(&out);
}

/* One case: the text report byte for byte, the status, then JSON. */
static void test_case(void **state) {
  const char *dir = *state;
  gen_buf out = {0}, err = {0};
  char *expected, *want_status;
  int status;

  assert_int_equal(chdir(dir), 0);
  expected = test_read_file("expected.txt", NULL);
  want_status = test_read_file("status", NULL);
  status = gen_compat_run("old.netproto", "new.netproto", GEN_COMPAT_TEXT, &out,
                          &err);
  assert_string_equal(out.data != NULL ? out.data : "", expected);
  assert_int_equal(status, atoi(want_status));
  assert_int_equal(err.len, 0);
  check_json(status, expected);
  free(expected);
  free(want_status);
  gen_buf_free(&out);
}

/* Back to where the program started, even after a failed assertion. */
static int leave_case(void **state) {
  (void)state;
  return chdir(start_dir);
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The case directories, sorted; *n of them. */
static char **list_cases(size_t *n) {
  DIR *d = opendir(NETFW_COMPAT_CASES);
  struct dirent *e;
  char **v = NULL;
  size_t cap = 0;

  *n = 0;
  if (d == NULL) {
    fprintf(stderr, "cannot open %s\n", NETFW_COMPAT_CASES);
    return NULL;
  }
  while ((e = readdir(d)) != NULL) {
    size_t len;
    if (e->d_name[0] == '.')
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      v = realloc(v, cap * sizeof(*v));
      if (v == NULL)
        abort();
    }
    len = strlen(NETFW_COMPAT_CASES) + strlen(e->d_name) + 2;
    v[*n] = malloc(len);
    if (v[*n] == NULL)
      abort();
    snprintf(v[(*n)++], len, "%s/%s", NETFW_COMPAT_CASES, e->d_name);
  }
  closedir(d);
  if (*n > 1)
    qsort(v, *n, sizeof(*v), by_name);
  return v;
}

int main(void) {
  size_t n;
  char **cases = list_cases(&n);
  struct CMUnitTest *tests;
  int failed;

  if (getcwd(start_dir, sizeof(start_dir)) == NULL) {
    perror("getcwd");
    return 1;
  }
  if (n < MIN_CASES) {
    fprintf(stderr, "only %zu cases in %s (at least %d expected)\n", n,
            NETFW_COMPAT_CASES, MIN_CASES);
    return 1;
  }
  tests = calloc(n, sizeof(*tests));
  if (tests == NULL)
    abort();
  for (size_t i = 0; i < n; i++) {
    tests[i].name = strrchr(cases[i], '/') + 1;
    tests[i].test_func = test_case;
    tests[i].teardown_func = leave_case;
    tests[i].initial_state = cases[i];
  }
  failed = _cmocka_run_group_tests("compat_matrix", tests, n, NULL, NULL);
  for (size_t i = 0; i < n; i++)
    free(cases[i]);
  free(cases);
  free(tests);
  return failed;
}
