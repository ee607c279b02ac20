/* The fixture of the bad-input tests (bad_kit.c), shared by
 * test_bad_input.c and test_bad_peers.c: the server under attack with its
 * witness connection and workers, and the checks every case ends with. */
#ifndef NETFW_TEST_BAD_KIT_H
#define NETFW_TEST_BAD_KIT_H

#include <stdint.h>
#include <sys/types.h>

#include "robust.h"

#define MAX_WORKERS 4
#define IO_MS 10000

typedef struct bad {
  rb_server r;
  int witness;
  int nworkers;
  pid_t workers[MAX_WORKERS];
  int fds_before[MAX_WORKERS];
} bad;

/* cmocka setup: a fresh bad fixture in *state (server not started). */
int setup(void **state);

/* cmocka teardown: closes the witness, stops the server, frees *state. */
int teardown(void **state);

/* The index of pid among t's workers, or -1. */
int find_slot(const bad *t, pid_t pid);

/* Exact echoes of a few sizes on fd: 0 B, 7 B and 100 KiB (or max_payload
 * when that is smaller). */
void assert_serves_max(int fd, uint32_t max_payload);

#define assert_serves(fd) assert_serves_max((fd), t->r.cfg.max_payload)

/* Starts the server with t->r.cfg, opens the witness, notes the workers and
 * their descriptor counts (witness included). */
void start(bad *t);

/* Waits (bounded) until every worker holds as many descriptors as before. */
void assert_fds_back(const bad *t);

/* The checks every case ends with (see test_bad_input.c's file comment). */
void assert_unaffected(bad *t);

/* Closed by the server: EOF or reset, within IO_MS. */
void assert_closed_by_server(int fd);

/* The first worker's VmRSS in KiB (> 0). */
long worker_rss(const bad *t);

#endif
