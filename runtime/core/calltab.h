/* The calls of a protocol, as its descriptor's `returns` name them: which
 * message ids are requests, which are replies, and which replies answer a
 * given request. Built once from a netfw_desc (the generated
 * <proto>_descriptor) and read, without locks, by the blocking client's I/O
 * thread, the async client and the server's workers to match replies to
 * requests first in first out (docs/calls.md). Plain C. Internal. */
#ifndef NETFW_RUNTIME_CALLTAB_H
#define NETFW_RUNTIME_CALLTAB_H

#include <stdbool.h>
#include <stdint.h>

#include "netfw/desc.h"

typedef struct netfw__calltab netfw__calltab;

/* Builds the table of d into *out. Returns 0; NETFW_EINVAL (NULL, or a
 * descriptor whose returns index past its messages); NETFW_ENOMEM. A
 * protocol without any returns gives a table where nothing is a request. */
int netfw__calltab_new(const netfw_desc *d, netfw__calltab **out);

/* Frees t (NULL: nothing). */
void netfw__calltab_free(netfw__calltab *t);

/* True when id names a request (a message with returns). */
bool netfw__calltab_is_request(const netfw__calltab *t, uint16_t id);

/* True when id is named in some request's returns. */
bool netfw__calltab_is_reply(const netfw__calltab *t, uint16_t id);

/* True when reply is one of request's replies. */
bool netfw__calltab_answers(const netfw__calltab *t, uint16_t request,
                            uint16_t reply);

/* The name of message id ("" when the protocol has none of that id), for
 * log lines and errors. */
const char *netfw__calltab_name(const netfw__calltab *t, uint16_t id);

#endif /* NETFW_RUNTIME_CALLTAB_H */
