/* The values the cross-version tests send (tests/evolve): one sample per
 * message and version, and the checks a receiver applies to what it
 * decoded, as EV_CHECKs into a tally so that a forked server worker can run
 * them too. "Version 1" and "version 2" name the two schemas (ev1 at
 * protocol version 1, ev2 at protocol version 3). Version 2 samples hold
 * the version 1 sample's values in the version 1 fields (except
 * Welcome.rc: LATER, which version 1 does not name) and values other than
 * the defaults in every [since] field. */
#ifndef NETFW_TEST_EVOLVE_SAMPLES_H
#define NETFW_TEST_EVOLVE_SAMPLES_H

#include <stdint.h>

#include "evolve_kit.h"
#include "evolve_v1.netfw.h"
#include "evolve_v2.netfw.h"

/* The version 1 samples (arrays point to static storage, never written). */
void sample_v1_hello(ev1_Hello *m, uint32_t seq);
void sample_v1_welcome(ev1_Welcome *m, uint32_t seq);
void sample_v1_ping(ev1_Ping *m);
void sample_v1_items(ev1_Items *m);
void sample_v1_status(ev1_Status *m);

/* The version 2 samples: every [since] field set, none to its default. */
void sample_v2_hello(ev2_Hello *m, uint32_t seq);
void sample_v2_welcome(ev2_Welcome *m, uint32_t seq);
void sample_v2_ping(ev2_Ping *m);
void sample_v2_items(ev2_Items *m);
void sample_v2_status(ev2_Status *m);
void sample_v2_extra(ev2_Extra *m);

/* Version 1 decoded a sample of either version: its version 1 fields. A
 * version 2 Welcome's rc arrives as the number 300 (LATER). */
void check_v1_hello(ev_tally *t, const ev1_Hello *m, uint32_t seq);
void check_v1_welcome(ev_tally *t, const ev1_Welcome *m, uint32_t seq,
                      uint16_t rc);
void check_v1_ping(ev_tally *t, const ev1_Ping *m);
void check_v1_items(ev_tally *t, const ev1_Items *m);
void check_v1_status(ev_tally *t, const ev1_Status *m);

/* Version 2 decoded a version 1 sample: its values, every [since] field at
 * its default, present_version 1 (structs with [since] fields too). */
void check_v2_hello_from_v1(ev_tally *t, const ev2_Hello *m, uint32_t seq);
void check_v2_welcome_from_v1(ev_tally *t, const ev2_Welcome *m, uint32_t seq);
void check_v2_ping_from_v1(ev_tally *t, const ev2_Ping *m);
void check_v2_items_from_v1(ev_tally *t, const ev2_Items *m);
void check_v2_status_from_v1(ev_tally *t, const ev2_Status *m);

/* Version 2 decoded a version 2 sample: every field, present_version 3. */
void check_v2_hello(ev_tally *t, const ev2_Hello *m, uint32_t seq);
void check_v2_welcome(ev_tally *t, const ev2_Welcome *m, uint32_t seq);
void check_v2_ping(ev_tally *t, const ev2_Ping *m);
void check_v2_items(ev_tally *t, const ev2_Items *m);
void check_v2_status(ev_tally *t, const ev2_Status *m);
void check_v2_extra(ev_tally *t, const ev2_Extra *m);

#endif
