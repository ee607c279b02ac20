/* The metrics tests' kit: HTTP requests through the real curl program (a
 * child process per request, bounded by --max-time), and a reader of the
 * Prometheus text exposition that checks its shape (every sample's family
 * announced by # HELP and # TYPE first, well-formed labels and values) and
 * looks samples up by name and label set. */
#ifndef NETFW_TEST_METRICS_KIT_H
#define NETFW_TEST_METRICS_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netfw/stats.h"

/* One HTTP response. */
typedef struct mk_resp {
  int code;        /* the status; 0 when curl failed (no answer)      */
  char ctype[128]; /* Content-Type ("" when none)                     */
  char allow[128]; /* Allow ("" when none)                            */
  char *body;      /* malloc'ed, NUL-terminated (also when empty)     */
  size_t body_len;
} mk_resp;

/* Sends `method path` to 127.0.0.1:port with curl (5 s at most) and fills
 * *r. Returns 0 (free r with mk_resp_free), or -1 when curl could not be
 * run or gave no status (r->code 0, r->body NULL: nothing to free). */
int mk_http(uint16_t port, const char *method, const char *path, mk_resp *r);

/* Releases r->body. */
void mk_resp_free(mk_resp *r);

/* One sample line. */
typedef struct mk_sample {
  char *name;   /* metric name, e.g. netfw_handler_duration_seconds_bucket */
  char *labels; /* label pairs sorted by name, "k=\"v\",..." ("" if none)  */
  char *value;  /* the value as written                                  */
} mk_sample;

/* A parsed exposition. */
typedef struct mk_prom {
  size_t n;
  mk_sample *s;
  size_t nfam;
  char **fam;      /* families in order of their # TYPE lines             */
  char **fam_type; /* their types                                         */
} mk_prom;

/* Parses text (format 0.0.4). Returns NULL, with the reason (line number
 * and what) in err, when the text is malformed: a sample before its
 * family's # HELP and # TYPE, a family announced twice, a bad name, label
 * set or value, a line not ended by '\n'. */
mk_prom *mk_prom_parse(const char *text, char *err, size_t err_len);

/* Frees p (NULL: nothing). */
void mk_prom_free(mk_prom *p);

/* The value of the sample name{labels} (labels in any order, "" for
 * none) as an integer in *v (a float value must be whole). Returns false
 * when there is no such sample or its value is not a whole number. */
bool mk_prom_u64(const mk_prom *p, const char *name, const char *labels,
                 uint64_t *v);

/* As mk_prom_u64 for any value (+Inf, fractions). */
bool mk_prom_double(const mk_prom *p, const char *name, const char *labels,
                    double *v);

/* How many samples are called name (any labels). */
size_t mk_prom_count(const mk_prom *p, const char *name);

/* The type a # TYPE line gave family name, or NULL. */
const char *mk_prom_type(const mk_prom *p, const char *name);

/* ---- the exposition against a snapshot (expo_check.c) ---- */

/* The families of the contract (docs/observability.md), in order, with
 * their types; MK_NFAMILIES of them. */
#define MK_NFAMILIES 21
extern const char *const mk_families[MK_NFAMILIES][2];

/* Fails the (cmocka) test unless p is exactly st in the contract's terms:
 * every family there once with its type and no other; every series the
 * snapshot implies, with its value (per message: every entry, "other" as
 * message="?",id="other"; refused/closed: every reason; worker_up: every
 * slot; deaths: the non-zero reasons only; the histogram cumulative with
 * the contract's le values, _sum and _count); no other series. */
void mk_assert_exposition(const mk_prom *p, const netfw_stats *st);

#endif /* NETFW_TEST_METRICS_KIT_H */
