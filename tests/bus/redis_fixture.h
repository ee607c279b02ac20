/* A real redis-server for the bus tests, on 127.0.0.1 and a free port.
 *
 * The server runs in the foreground as our child, without persistence. It
 * is always reaped: stop/kill wait for it, an atexit handler kills what is
 * still running when the test program exits, and the child asks the kernel
 * to SIGKILL it if the test program dies first (PR_SET_PDEATHSIG), so a
 * crashed or timed-out test leaves no server behind. A missing
 * redis-server is a failure, never a skip. */
#ifndef NETFW_TESTS_BUS_REDIS_FIXTURE_H
#define NETFW_TESTS_BUS_REDIS_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct redis_fixture {
  pid_t pid; /* 0 while not running */
  uint16_t port;
} redis_fixture;

/* Returns a port that was free a moment ago (bind to port 0, read, close),
 * or 0 on failure. */
uint16_t redis_fixture_free_port(void);

/* Starts redis-server on port (0: a free one, stored in f->port) and waits
 * until it answers PING (at most 5 s). Returns 0, or -1 after printing why
 * (nothing left running). */
int redis_fixture_start(redis_fixture *f, uint16_t port);

/* Ends the server with SIGTERM and waits for it (no-op when not running). */
void redis_fixture_stop(redis_fixture *f);

/* Ends the server with SIGKILL and waits for it (a crash, for clients). */
void redis_fixture_kill(redis_fixture *f);

/* Starts the server again on the same port (after stop or kill). Returns 0
 * or -1 as redis_fixture_start. */
int redis_fixture_restart(redis_fixture *f);

/* True while the server process is running. */
bool redis_fixture_running(const redis_fixture *f);

#endif /* NETFW_TESTS_BUS_REDIS_FIXTURE_H */
