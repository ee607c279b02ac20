/* Checks of JSON log lines shared by test_log_json and test_log_env. */
#ifndef NETFW_TEST_LOG_CHECK_H
#define NETFW_TEST_LOG_CHECK_H

#include <jansson.h>

/* Asserts t is RFC 3339 UTC with microseconds and within 60 s of now. */
void assert_time_now(const char *t);

/* Parses line as one JSON object with exactly the keys time, pid, level,
 * msg (and peer when peer is not NULL), in that order, with those values.
 * Returns the object (the caller decrefs). */
json_t *assert_record(const char *line, long pid, const char *level,
                      const char *msg, const char *peer);

#endif
