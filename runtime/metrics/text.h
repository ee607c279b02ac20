/* Growing text buffers (netfw__text, declared in metrics.h): what the
 * Prometheus exposition (expose.c) and the HTTP endpoint (http.c) build
 * their bodies in. Internal (runtime/metrics). */
#ifndef NETFW_RUNTIME_METRICS_TEXT_H
#define NETFW_RUNTIME_METRICS_TEXT_H

#include <stddef.h>

#include "metrics.h"
#include "netfw/export.h"

/* Appends n bytes of s to t. On allocation failure sets t->failed and
 * leaves t as it was; later appends do nothing. Returns 0 or
 * NETFW_ENOMEM. */
int netfw__text_append(netfw__text *t, const char *s, size_t n);

/* Appends the NUL-terminated s (as netfw__text_append). */
int netfw__text_puts(netfw__text *t, const char *s);

/* Appends printf-style output (as netfw__text_append). */
int netfw__text_printf(netfw__text *t, const char *fmt, ...) NETFW_PRINTF(2, 3);

/* Appends s as a label value of the text format 0.0.4: backslash, double
 * quote and newline are escaped (\\, \", \n). Returns 0 or NETFW_ENOMEM. */
int netfw__text_label(netfw__text *t, const char *s);

/* Frees t's buffer and zeroes t (the buffer may be NULL). */
void netfw__text_free(netfw__text *t);

#endif /* NETFW_RUNTIME_METRICS_TEXT_H */
