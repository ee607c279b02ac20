/* The Prometheus text exposition (runtime/metrics/expose.c) of hand-built
 * snapshots: the whole text of a small one against a golden file, label
 * escaping, cumulative buckets and exact seconds, every family of the
 * contract with its HELP and TYPE lines, worker deaths; the text buffers
 * (text.c). promtool's verdict is the expose_promtool_* tests. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "file_kit.h"
#include "metrics_kit.h"
#include "metrics.h"
#include "stats_sample.h"
#include "text.h"

/* The exposition of st (asserted to succeed); free with netfw__text_free. */
static netfw__text expose(const netfw_stats *st) {
  netfw__text t = {0};

  assert_int_equal(netfw__metrics_expose(st, &t), 0);
  assert_false(t.failed);
  assert_non_null(t.buf);
  assert_int_equal(strlen(t.buf), t.len);
  return t;
}

/* How many lines of text are exactly line. */
static int count_line(const char *text, const char *line) {
  size_t n = strlen(line);
  int hits = 0;

  for (const char *p = text; p != NULL && *p != '\0';) {
    const char *eol = strchr(p, '\n');
    size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
    if (len == n && memcmp(p, line, n) == 0)
      hits++;
    p = eol != NULL ? eol + 1 : NULL;
  }
  return hits;
}

/* Asserts that text holds line exactly once. */
static void has_line(const char *text, const char *line) {
  if (count_line(text, line) != 1)
    fail_msg("expected exactly one line \"%s\" (found %d)", line,
             count_line(text, line));
}

/* The whole text of the small snapshot, byte for byte. */
static void test_expose_golden_small(void **state) {
  netfw_stats st;
  netfw__text t;
  size_t golden_len;
  char *golden = test_read_file(NETFW_EXPOSE_GOLDEN, &golden_len);

  (void)state;
  assert_true(golden_len > 0);
  sample_stats_small(&st);
  t = expose(&st);
  assert_string_equal(t.buf, golden);
  netfw__text_free(&t);
  free(golden);
}

/* Label values escape backslash, double quote and newline (format 0.0.4),
 * in every family that carries the message label. */
static void test_expose_label_escaping(void **state) {
  netfw_stats st;
  netfw__text t;

  (void)state;
  sample_stats_small(&st);
  st.total.messages[1].name = "a\"b\\c\nd";
  st.total.messages[1].id = 9;
  t = expose(&st);
  has_line(t.buf, "netfw_messages_received_total{message=\"a\\\"b\\\\c\\nd\","
                  "id=\"9\"} 3");
  has_line(t.buf, "netfw_handler_duration_seconds_bucket{message="
                  "\"a\\\"b\\\\c\\nd\",id=\"9\",le=\"+Inf\"} 3");
  has_line(t.buf, "netfw_handler_duration_seconds_count{message="
                  "\"a\\\"b\\\\c\\nd\",id=\"9\"} 3");
  assert_null(strstr(t.buf, "c\nd")); /* no raw newline inside a label */
  netfw__text_free(&t);

  t = (netfw__text){0};
  assert_int_equal(netfw__text_label(&t, "plain"), 0);
  assert_int_equal(netfw__text_label(&t, "|\\\"\n|"), 0);
  assert_int_equal(netfw__text_label(&t, ""), 0);
  assert_string_equal(t.buf, "plain|\\\\\\\"\\n|");
  netfw__text_free(&t);
}

/* Each bucket line of every message holds the sum of its bucket and the
 * ones below; +Inf and _count the sum of all; _sum the exact seconds. */
static void test_expose_buckets_cumulative(void **state) {
  netfw_stats st;
  netfw__text t;
  char line[256];

  (void)state;
  sample_stats_full(&st);
  t = expose(&st);
  for (size_t i = 1; i < st.total.nmessages; i++) {
    const netfw_msg_stats *m = &st.total.messages[i];
    uint64_t cum = 0;

    for (int b = 0; b <= NETFW_STATS_BUCKETS; b++) {
      char le[32];
      cum += m->handler_buckets[b];
      if (b < NETFW_STATS_BUCKETS)
        snprintf(le, sizeof(le), "%g", (double)netfw_stats_bucket_ns[b] / 1e9);
      else
        snprintf(le, sizeof(le), "+Inf");
      snprintf(line, sizeof(line),
               "netfw_handler_duration_seconds_bucket{message=\"%s\","
               "id=\"%u\",le=\"%s\"} %llu",
               m->name, (unsigned)m->id, le, (unsigned long long)cum);
      has_line(t.buf, line);
    }
    assert_int_equal(cum, m->received);
    snprintf(line, sizeof(line),
             "netfw_handler_duration_seconds_count{message=\"%s\",id=\"%u\"}"
             " %llu",
             m->name, (unsigned)m->id, (unsigned long long)m->received);
    has_line(t.buf, line);
  }
  /* the bounds themselves: 1 µs to 1 s in 1-2.5-5 steps */
  has_line(t.buf, "netfw_handler_duration_seconds_bucket{message=\"Add\","
                  "id=\"1\",le=\"1e-06\"} 1");
  has_line(t.buf, "netfw_handler_duration_seconds_bucket{message=\"Add\","
                  "id=\"1\",le=\"0.00025\"} 12");
  has_line(t.buf, "netfw_handler_duration_seconds_bucket{message=\"Add\","
                  "id=\"1\",le=\"1\"} 30");
  has_line(t.buf, "netfw_handler_duration_seconds_bucket{message=\"Add\","
                  "id=\"1\",le=\"+Inf\"} 30");
  netfw__text_free(&t);
}

/* _sum is handler_ns / 1e9 in exact decimal, trailing zeros dropped. */
static void test_expose_sum_seconds(void **state) {
  static const struct {
    uint64_t ns;
    const char *text;
  } cases[] = {{0, "0"},
               {1, "0.000000001"},
               {800, "0.0000008"},
               {1000000000, "1"},
               {2500000000u, "2.5"},
               {123456789012u, "123.456789012"},
               {UINT64_MAX, "18446744073.709551615"}};
  netfw_stats st;
  char line[160];

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    netfw__text t;
    sample_stats_small(&st);
    st.total.messages[1].handler_ns = cases[i].ns;
    t = expose(&st);
    snprintf(line, sizeof(line),
             "netfw_handler_duration_seconds_sum{message=\"Ping\",id=\"7\"} "
             "%s",
             cases[i].text);
    has_line(t.buf, line);
    netfw__text_free(&t);
  }
}

/* The contract's families, in order: mk_families (families.c). */
#define NFAMILIES MK_NFAMILIES

/* True when sample line l (name, then '{' or ' ') belongs to family f. */
static bool in_family(const char *l, size_t len, size_t f) {
  static const char *const hist[] = {"_bucket", "_sum", "_count"};
  size_t n = strlen(mk_families[f][0]), i = 0;

  if (len <= n || memcmp(l, mk_families[f][0], n) != 0)
    return false;
  if (strcmp(mk_families[f][1], "histogram") == 0)
    for (; i < 3; i++)
      if (strncmp(l + n, hist[i], strlen(hist[i])) == 0) {
        n += strlen(hist[i]);
        break;
      }
  return l[n] == '{' || l[n] == ' ';
}

/* Walks text: HELP then TYPE of each family in the contract's order, and
 * every sample line under the family it belongs to. Returns the samples. */
static int check_families(const char *text) {
  size_t f = 0;
  int samples = 0, state = 0; /* 0: HELP next, 1: TYPE next, 2: samples */
  char want[160];

  for (const char *p = text; *p != '\0';) {
    const char *eol = strchr(p, '\n');
    size_t len;

    assert_non_null(eol); /* every line ends with a newline */
    len = (size_t)(eol - p);
    if (state == 2 && strncmp(p, "# HELP ", 7) == 0) {
      f++;
      state = 0;
    }
    assert_true(f < NFAMILIES);
    if (state == 0) {
      snprintf(want, sizeof(want), "# HELP %s ", mk_families[f][0]);
      assert_memory_equal(p, want, strlen(want));
      assert_true(len > strlen(want));
      state = 1;
    } else if (state == 1) {
      snprintf(want, sizeof(want), "# TYPE %s %s", mk_families[f][0],
               mk_families[f][1]);
      assert_int_equal(len, strlen(want));
      assert_memory_equal(p, want, len);
      state = 2;
    } else {
      if (!in_family(p, len, f))
        fail_msg("line \"%.*s\" outside family %s", (int)len, p,
                 mk_families[f][0]);
      samples++;
    }
    p = eol + 1;
  }
  assert_int_equal(f, NFAMILIES - 1);
  assert_int_equal(state, 2);
  return samples;
}

/* Every family with HELP and TYPE, in order, also those with no series
 * (no deaths); every sample under its family; the sample counts. */
static void test_expose_every_family(void **state) {
  netfw_stats st;
  netfw__text t;

  (void)state;
  sample_stats_full(&st);
  t = expose(&st);
  /* 2 + 6 refused + 10 closed + 4 msgs * (6 + 22) + 2 + 1 + 3 up + 2
   * + 4 deaths + 3 bus */
  assert_int_equal(check_families(t.buf),
                   2 + NETFW_REFUSE_REASON_COUNT + NETFW_CLOSE_REASON_COUNT +
                       4 * (6 + NETFW_STATS_BUCKETS + 3) + 2 + 1 + 3 + 2 + 4 +
                       3);
  netfw__text_free(&t);

  sample_stats_small(&st);
  memset(st.total.died_signal, 0, sizeof(st.total.died_signal));
  t = expose(&st);
  has_line(t.buf, "# TYPE netfw_worker_deaths_total counter");
  assert_null(strstr(t.buf, "netfw_worker_deaths_total{"));
  check_families(t.buf);
  netfw__text_free(&t);
}

/* Zeros are listed for every registered message and "other"; unlabelled
 * families carry the totals; netfw_worker_up one series per slot. */
static void test_expose_values(void **state) {
  netfw_stats st;
  netfw__text t;

  (void)state;
  sample_stats_full(&st);
  t = expose(&st);
  has_line(t.buf, "netfw_connections_accepted_total 1000");
  has_line(t.buf, "netfw_connections_open 17");
  has_line(t.buf, "netfw_connections_refused_total{reason=\"nomem\"} 5");
  assert_int_equal(count_line(t.buf, "netfw_connections_closed_total{"
                                     "reason=\"app\"} 0"),
                   0); /* "app" is a refuse reason only */
  has_line(t.buf, "netfw_connections_closed_total{reason=\"stopping\"} 90");
  has_line(t.buf, "netfw_messages_sent_total{message=\"Sub\",id=\"2\"} 0");
  has_line(t.buf, "netfw_messages_unhandled_total{message=\"?\",id=\"other\"}"
                  " 1");
  has_line(t.buf, "netfw_bytes_sent_total{message=\"Echo_v2\",id=\"300\"} "
                  "5616");
  has_line(t.buf, "netfw_output_queued_bytes 65536");
  has_line(t.buf, "netfw_output_queued_bytes_max 1048576");
  has_line(t.buf, "netfw_workers 3");
  has_line(t.buf, "netfw_worker_up{worker=\"1\"} 0");
  has_line(t.buf, "netfw_worker_up{worker=\"2\"} 1");
  has_line(t.buf, "netfw_workers_started_total 6");
  has_line(t.buf, "netfw_worker_restarts_total 3");
  has_line(t.buf, "netfw_bus_published_total 40");
  has_line(t.buf, "netfw_bus_delivered_total 120");
  has_line(t.buf, "netfw_bus_dropped_total 2");
  netfw__text_free(&t);
}

/* Deaths: signal names as sigabbrev_np spells them with "SIG", a number
 * for a signal without one, exit codes; signals first, each ascending. */
static void test_expose_deaths(void **state) {
  netfw_stats st;
  netfw__text t;
  const char *want = "netfw_worker_deaths_total{reason=\"SIGKILL\"} 1\n"
                     "netfw_worker_deaths_total{reason=\"SIGSEGV\"} 1\n"
                     "netfw_worker_deaths_total{reason=\"SIG36\"} 1\n"
                     "netfw_worker_deaths_total{reason=\"exit_0\"} 7\n"
                     "netfw_worker_deaths_total{reason=\"exit_3\"} 1\n"
                     "netfw_worker_deaths_total{reason=\"exit_255\"} 2\n";

  (void)state;
  sample_stats_full(&st);
  st.total.died_signal[SIGRTMIN + 2] = 0;
  st.total.died_signal[36] = 1; /* 36: no name (a real-time signal) */
  st.total.died_exit[0] = 7;
  st.total.died_exit[255] = 2;
  t = expose(&st);
  assert_non_null(strstr(t.buf, want));
  assert_int_equal(count_line(t.buf, "netfw_worker_deaths_total{reason="
                                     "\"SIGTERM\"} 0"),
                   0);
  netfw__text_free(&t);
}

/* Appends grow the buffer, keep it NUL-terminated and exact. */
static void test_text_append_printf(void **state) {
  netfw__text t = {0};
  char chunk[1000];

  (void)state;
  memset(chunk, 'x', sizeof(chunk));
  for (int i = 0; i < 100; i++) {
    assert_int_equal(netfw__text_append(&t, chunk, sizeof(chunk)), 0);
    assert_int_equal(netfw__text_printf(&t, "%d;", i), 0);
  }
  assert_int_equal(netfw__text_append(&t, NULL, 0), 0);
  assert_int_equal(t.len, 100 * 1000 + 10 * 2 + 90 * 3);
  assert_int_equal(strlen(t.buf), t.len);
  assert_memory_equal(t.buf + 1000, "0;", 2);
  assert_memory_equal(t.buf + t.len - 3, "99;", 3);
  assert_true(t.cap > t.len);
  netfw__text_free(&t);
  assert_null(t.buf);
  assert_int_equal(t.len, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expose_golden_small),
      cmocka_unit_test(test_expose_label_escaping),
      cmocka_unit_test(test_expose_buckets_cumulative),
      cmocka_unit_test(test_expose_sum_seconds),
      cmocka_unit_test(test_expose_every_family),
      cmocka_unit_test(test_expose_values),
      cmocka_unit_test(test_expose_deaths),
      cmocka_unit_test(test_text_append_printf),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
