/* Hand-built netfw_stats snapshots with known numbers, for the exposition's
 * tests (test_expose, expose_sample | promtool). Static storage: nothing to
 * free, and each call resets the numbers. */
#ifndef NETFW_TESTS_METRICS_STATS_SAMPLE_H
#define NETFW_TESTS_METRICS_STATS_SAMPLE_H

#include "netfw/stats.h"

/* One worker slot, "other" and one message (id 7, "Ping"): the golden
 * case (expose_small.golden). */
void sample_stats_small(netfw_stats *st);

/* Three worker slots (one down), "other" and three messages, deaths by
 * signal and exit code, bus traffic: every family has series. */
void sample_stats_full(netfw_stats *st);

#endif /* NETFW_TESTS_METRICS_STATS_SAMPLE_H */
