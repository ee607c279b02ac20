/* Logging in child processes of this binary, run with environment
 * variables, their stderr read through a pipe: the default stderr sink,
 * NETFW_LOG_FORMAT, the once-only reports of unknown NETFW_LOG_LEVEL and
 * NETFW_LOG_FORMAT values (also when threads race to read them), and lines
 * of several processes sharing one pipe staying whole. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "log_check.h"
#include "log_internal.h"
#include "netfw/netfw.h"

static const char *self_path; /* argv[0]: /proc/self/exe is valgrind under it */

#define THREADS 8
#define THREAD_LINES 200
#define PROCS 4
#define PROC_LINES 300

static pthread_barrier_t start_line;

/* A child's thread: waits for the others, then logs THREAD_LINES lines (the
 * first ones race to read the environment). */
static void *thread_logs(void *arg) {
  int id = (int)(intptr_t)arg;
  pthread_barrier_wait(&start_line);
  for (int i = 0; i < THREAD_LINES; i++)
    netfw_log(NETFW_LOG_INFO, "thread %d line %d", id, i);
  return NULL;
}

/* A child's child: PROC_LINES lines of about 3 KB once escaped, or (short)
 * 10 short ones. */
static void proc_logs(bool short_lines) {
  char ctl[501];
  memset(ctl, '\x01', 500);
  ctl[500] = '\0';
  for (int i = 0; i < (short_lines ? 10 : PROC_LINES); i++)
    netfw_log(NETFW_LOG_WARN, "%sx", short_lines ? "" : ctl);
}

/* Forks PROCS children that log (proc_logs), waits for them; returns
 * nonzero if one failed. */
static int fork_loggers(bool short_lines) {
  pid_t kids[PROCS];
  int i, st, failed = 0;

  for (i = 0; i < PROCS; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      proc_logs(short_lines);
      _exit(0);
    }
    failed |= kids[i] < 0;
  }
  for (i = 0; i < PROCS; i++)
    failed |= kids[i] < 0 || waitpid(kids[i], &st, 0) != kids[i] || st != 0;
  return failed;
}

/* What the child logs, by scenario. Returns its exit status. */
static int child_main(const char *scenario) {
  pthread_t t[THREADS];
  int i, failed = 0;

  if (strcmp(scenario, "basic") == 0) {
    netfw_log(NETFW_LOG_INFO, "hello");
    netfw_log_peer(NETFW_LOG_WARN, "1.2.3.4:5", "bye %d", 2);
    netfw_log(NETFW_LOG_DEBUG, "hidden");
  } else if (strcmp(scenario, "many") == 0) {
    for (i = 0; i < 100; i++)
      netfw_log(NETFW_LOG_INFO, "line %d", i);
    netfw_log(NETFW_LOG_DEBUG, "hidden");
  } else if (strcmp(scenario, "threads") == 0) {
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (i = 0; i < THREADS; i++)
      failed |= pthread_create(&t[i], NULL, thread_logs, (void *)(intptr_t)i);
    for (i = 0; i < THREADS && failed == 0; i++)
      pthread_join(t[i], NULL);
  } else if (strcmp(scenario, "procs") == 0) {
    failed = fork_loggers(false);
  } else if (strcmp(scenario, "settle") == 0) {
    netfw__log_settle(); /* as the server does before it forks workers */
    failed = fork_loggers(true);
  } else {
    failed = 1;
  }
  return failed ? 1 : 0;
}

/* Runs this binary as `--child scenario` with env (NAME=value strings,
 * NULL-terminated; NETFW_LOG_LEVEL and NETFW_LOG_FORMAT unset otherwise),
 * reads its stderr to EOF (20 s at most), asserts it exited 0. Returns the
 * output (malloc'd, NUL-terminated); the child's pid in *pid. */
static char *run_child(const char *scenario, const char *const *env,
                       long *pid) {
  size_t len = 0, size = 1 << 16;
  char *out = malloc(size);
  int fds[2], st;
  time_t deadline = time(NULL) + 20;
  pid_t p;

  assert_non_null(out);
  assert_int_equal(pipe(fds), 0);
  p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    unsetenv("NETFW_LOG_LEVEL");
    unsetenv("NETFW_LOG_FORMAT");
    for (; *env != NULL; env++)
      putenv((char *)*env);
    execl(self_path, self_path, "--child", scenario, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  for (;;) {
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    ssize_t n;
    if (time(NULL) > deadline) {
      kill(p, SIGKILL);
      fail_msg("child %s did not finish in 20 s", scenario);
    }
    if (poll(&pfd, 1, 1000) <= 0)
      continue;
    if (len + 4096 + 1 > size)
      assert_non_null(out = realloc(out, size *= 2));
    n = read(fds[0], out + len, size - len - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fds[0]);
  out[len] = '\0';
  assert_int_equal(waitpid(p, &st, 0), p);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  *pid = (long)p;
  return out;
}

/* The next line of *cursor (which it advances), NUL-terminated in place;
 * NULL at the end. Every line must end with a newline. */
static char *next_line(char **cursor) {
  char *line = *cursor, *nl;
  if (*line == '\0')
    return NULL;
  nl = strchr(line, '\n');
  assert_non_null(nl);
  *nl = '\0';
  *cursor = nl + 1;
  return line;
}

/* NETFW_LOG_FORMAT=json (any case) on stderr: one object a line. */
static void test_log_env_json_on_stderr(void **state) {
  static const char *const values[] = {"NETFW_LOG_FORMAT=json",
                                       "NETFW_LOG_FORMAT=JSON"};
  (void)state;
  for (int v = 0; v < 2; v++) {
    const char *env[] = {values[v], NULL};
    long pid;
    char *out = run_child("basic", env, &pid), *cur = out;
    json_decref(assert_record(next_line(&cur), pid, "info", "hello", NULL));
    json_decref(
        assert_record(next_line(&cur), pid, "warn", "bye 2", "1.2.3.4:5"));
    assert_null(next_line(&cur));
    free(out);
  }
}

/* Unset, empty or "text": the text lines, exactly, and no report. */
static void test_log_env_text_on_stderr(void **state) {
  static const char *const values[] = {
      NULL, "NETFW_LOG_FORMAT=", "NETFW_LOG_FORMAT=text"};
  (void)state;
  for (int v = 0; v < 3; v++) {
    const char *env[] = {values[v], NULL};
    char want[128];
    long pid;
    char *out = run_child("basic", env, &pid);
    snprintf(want, sizeof(want),
             "[%ld] INFO: hello\n[%ld] WARN: 1.2.3.4:5: bye 2\n", pid, pid);
    assert_string_equal(out, want);
    free(out);
  }
}

/* The output of "many": reports (each a format string taking the pid)
 * then 100 info lines, in text. */
static void assert_many_text(const char *out, long pid,
                             const char *const *reports) {
  char want[8192], *w = want;
  for (; *reports != NULL; reports++) {
    w += sprintf(w, "[%ld] WARN: ", pid);
    w += sprintf(w, "%s\n", *reports);
  }
  for (int i = 0; i < 100; i++)
    w += sprintf(w, "[%ld] INFO: line %d\n", pid, i);
  assert_string_equal(out, want);
}

#define BAD_LEVEL(v)                                                           \
  "NETFW_LOG_LEVEL=\"" v "\" is not a log level (error, warn, info, debug "    \
  "or 0-3); using info"
#define BAD_FORMAT(v)                                                          \
  "NETFW_LOG_FORMAT=\"" v "\" is not a log format (text, json); using text"

/* An unknown level is reported once, then means info; likewise an unknown
 * format means text; both at once: two reports. */
static void test_log_env_unknown_values_reported_once(void **state) {
  const char *level[] = {"NETFW_LOG_LEVEL=verbose", NULL};
  const char *format[] = {"NETFW_LOG_FORMAT=xml", NULL};
  const char *both[] = {"NETFW_LOG_LEVEL=loud", "NETFW_LOG_FORMAT=yaml", NULL};
  const char *r_level[] = {BAD_LEVEL("verbose"), NULL};
  const char *r_format[] = {BAD_FORMAT("xml"), NULL};
  const char *r_both[] = {BAD_FORMAT("yaml"), BAD_LEVEL("loud"), NULL};
  long pid;
  char *out;
  (void)state;
  out = run_child("many", level, &pid);
  assert_many_text(out, pid, r_level);
  free(out);
  out = run_child("many", format, &pid);
  assert_many_text(out, pid, r_format);
  free(out);
  out = run_child("many", both, &pid);
  assert_many_text(out, pid, r_both);
  free(out);
}

/* The report of an unknown level in JSON is a JSON line like the others. */
static void test_log_env_unknown_level_in_json(void **state) {
  const char *env[] = {"NETFW_LOG_FORMAT=json", "NETFW_LOG_LEVEL=loud", NULL};
  long pid;
  char *out = run_child("many", env, &pid), *cur = out, msg[32];
  (void)state;
  json_decref(
      assert_record(next_line(&cur), pid, "warn", BAD_LEVEL("loud"), NULL));
  for (int i = 0; i < 100; i++) {
    snprintf(msg, sizeof(msg), "line %d", i);
    json_decref(assert_record(next_line(&cur), pid, "info", msg, NULL));
  }
  assert_null(next_line(&cur));
  free(out);
}

/* THREADS threads log at once from the start: the unknown level is
 * reported once; every line is whole, each thread's lines in order. */
static void test_log_env_threads_report_once(void **state) {
  const char *env[] = {"NETFW_LOG_FORMAT=json", "NETFW_LOG_LEVEL=verbose",
                       NULL};
  int next[THREADS] = {0}, reports = 0, id, i;
  long pid;
  char *out = run_child("threads", env, &pid), *cur = out, *line;
  (void)state;
  while ((line = next_line(&cur)) != NULL) {
    json_t *o = json_loads(line, 0, NULL);
    const char *msg;
    assert_non_null(o);
    msg = json_string_value(json_object_get(o, "msg"));
    if (strcmp(msg, BAD_LEVEL("verbose")) == 0) {
      reports++;
    } else {
      assert_int_equal(sscanf(msg, "thread %d line %d", &id, &i), 2);
      assert_true(id >= 0 && id < THREADS);
      assert_int_equal(i, next[id]++);
    }
    json_decref(o);
  }
  assert_int_equal(reports, 1);
  for (id = 0; id < THREADS; id++)
    assert_int_equal(next[id], THREAD_LINES);
  free(out);
}

/* PROCS processes write 3 KB lines into one pipe: each line whole. */
static void test_log_env_processes_keep_lines_whole(void **state) {
  const char *env[] = {"NETFW_LOG_FORMAT=json", NULL};
  char want[512];
  int lines = 0;
  long pid;
  char *out = run_child("procs", env, &pid), *cur = out, *line;
  (void)state;
  memset(want, '\x01', 500);
  strcpy(want + 500, "x");
  while ((line = next_line(&cur)) != NULL) {
    json_t *o = json_loads(line, 0, NULL);
    assert_non_null(o);
    assert_true(strlen(line) > 3000 && strlen(line) < 4096);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), want);
    assert_int_not_equal(json_integer_value(json_object_get(o, "pid")), pid);
    json_decref(o);
    lines++;
  }
  assert_int_equal(lines, PROCS * PROC_LINES);
  free(out);
}

/* Settled before the fork, an unknown level is reported once by the
 * parent, not once by each child. */
static void test_log_env_settle_before_fork_reports_once(void **state) {
  const char *env[] = {"NETFW_LOG_LEVEL=verbose", NULL};
  char report[256];
  int reports = 0, lines = 0;
  long pid;
  char *out = run_child("settle", env, &pid), *cur = out, *line;
  (void)state;
  snprintf(report, sizeof(report), "[%ld] WARN: " BAD_LEVEL("verbose"), pid);
  while ((line = next_line(&cur)) != NULL) {
    if (strstr(line, "NETFW_LOG_LEVEL") != NULL) {
      assert_string_equal(line, report);
      reports++;
    } else {
      assert_non_null(strstr(line, "] WARN: x"));
      lines++;
    }
  }
  assert_int_equal(reports, 1);
  assert_int_equal(lines, PROCS * 10);
  free(out);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_log_env_json_on_stderr),
      cmocka_unit_test(test_log_env_text_on_stderr),
      cmocka_unit_test(test_log_env_unknown_values_reported_once),
      cmocka_unit_test(test_log_env_unknown_level_in_json),
      cmocka_unit_test(test_log_env_threads_report_once),
      cmocka_unit_test(test_log_env_processes_keep_lines_whole),
      cmocka_unit_test(test_log_env_settle_before_fork_reports_once),
  };

  self_path = argv[0];
  if (argc == 3 && strcmp(argv[1], "--child") == 0)
    return child_main(argv[2]);
  return cmocka_run_group_tests_name("log_env", tests, NULL, NULL);
}
