/* Checks of JSON log lines (see log_check.h). */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "log_check.h"

/* Asserts t is RFC 3339 UTC with microseconds and within 60 s of now. */
void assert_time_now(const char *t) {
  regex_t re;
  struct tm tm;
  const char *end;

  assert_int_equal(regcomp(&re,
                           "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
                           "[0-9]{2}\\.[0-9]{6}Z$",
                           REG_EXTENDED | REG_NOSUB),
                   0);
  assert_int_equal(regexec(&re, t, 0, NULL, 0), 0);
  regfree(&re);
  memset(&tm, 0, sizeof(tm));
  end = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
  assert_non_null(end);
  assert_true(llabs((long long)(timegm(&tm) - time(NULL))) < 60);
}

/* Parses line as one JSON object with exactly the keys time, pid, level,
 * msg (and peer when peer is not NULL), in that order, with those values.
 * Returns the object (the caller decrefs). */
json_t *assert_record(const char *line, long pid, const char *level,
                      const char *msg, const char *peer) {
  static const char *const keys[] = {"time", "pid", "level", "msg", "peer"};
  json_error_t err;
  json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err);
  void *it;
  size_t i = 0;

  if (o == NULL)
    print_message("not JSON (%s): %s\n", err.text, line);
  assert_non_null(o);
  assert_true(json_is_object(o));
  assert_null(strchr(line, '\n'));
  for (it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it))
    assert_string_equal(json_object_iter_key(it), keys[i++]);
  assert_int_equal(i, peer != NULL ? 5 : 4);
  assert_time_now(json_string_value(json_object_get(o, "time")));
  assert_true(json_is_integer(json_object_get(o, "pid")));
  assert_int_equal(json_integer_value(json_object_get(o, "pid")), pid);
  assert_string_equal(json_string_value(json_object_get(o, "level")), level);
  assert_string_equal(json_string_value(json_object_get(o, "msg")), msg);
  if (peer != NULL)
    assert_string_equal(json_string_value(json_object_get(o, "peer")), peer);
  return o;
}
