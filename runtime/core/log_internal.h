/* netfw — logging helpers for the runtime itself (not installed). */
#ifndef NETFW_LOG_INTERNAL_H
#define NETFW_LOG_INTERNAL_H

#include "netfw/log.h"

/* A line about one peer whose message already names it in its own words
 * ("proxy: connection from 1.2.3.4:5 refused: ..."): the text line is the
 * message alone (as netfw_log), a JSON line adds the "peer" field as
 * netfw_log_peer does. For lines whose wording predates the peer field and
 * that tests and operators grep. */
void netfw__log_about(netfw_log_level level, const char *peer, const char *fmt,
                      ...) NETFW_PRINTF(3, 4);

/* Reads NETFW_LOG_LEVEL and NETFW_LOG_FORMAT now if nothing did yet,
 * reporting a bad value (once). A process calls it before it forks
 * children that log, so they inherit the settled values and the report is
 * written once, not once by each child. */
void netfw__log_settle(void);

#endif /* NETFW_LOG_INTERNAL_H */
