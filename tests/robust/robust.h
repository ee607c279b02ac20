/* Shared kit of the robustness tests (tests/robust): a raw-socket peer that
 * speaks the wire format by hand (so it can also speak it wrongly), a small
 * echo app whose workers report to the test through shared memory, and
 * /proc readers for the server's worker processes (pids, RSS, open fds).
 *
 * The kit is written against the public API and the wire format only; it
 * does not include runtime internals. Every socket it creates is
 * close-on-exec, so workers forked later (respawns) never hold a test
 * client's socket open. */
#ifndef NETFW_TEST_ROBUST_H
#define NETFW_TEST_ROBUST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netfw/netfw.h"
#include "wire.h"

#define RB_HDR 6

/* Under AddressSanitizer freed memory sits in a quarantine and the shadow of
 * huge allocations is written on free: memory bounds get this factor and
 * the cases that reserve gigabytes use fewer connections. */
#if defined(__SANITIZE_ADDRESS__)
#define RB_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RB_SANITIZED 1
#endif
#endif
#ifndef RB_SANITIZED
#define RB_SANITIZED 0
#endif
#define RB_MEM_SLACK (RB_SANITIZED ? 8 : 1)

/* True under valgrind (its preload library is in LD_PRELOAD): a few cases
 * that reserve gigabytes or exhaust descriptors skip themselves there,
 * because valgrind's own bookkeeping, not netfw, decides them. */
bool rb_under_valgrind(void);

/* ---- time ---- */

void rb_sleep_ms(int ms);

/* ---- raw wire peer (tests/support/wire.h has connect, send, recv,
 * wait-for-EOF and reset; these add what an attacker needs) ---- */

/* Encodes a frame header. */
void rb_hdr_pack(uint8_t out[RB_HDR], uint16_t id, uint32_t size);

/* Sends a frame and expects the identical frame back. Returns true when it
 * came back byte for byte within timeout_ms. */
bool rb_echo_ok(int fd, uint16_t id, const void *payload, uint32_t size,
                int timeout_ms);

/* True if the peer has neither closed nor sent anything within ms. */
bool rb_still_open(int fd, int ms);

/* ---- the echo app ---- */

/* Ids with a meaning for the echo app; everything else is echoed. */
enum {
  RB_PID = 0xfff0,   /* reply (same id) with the worker's pid, u32 LE     */
  RB_FLOOD = 0xfff1, /* payload u32 n, u32 size: send n frames of size B  */
  RB_QUIT = 0xfff2   /* netfw_conn_shutdown                               */
};

/* What the workers report (mmap'ed MAP_SHARED before the fork). */
typedef struct rb_board {
  atomic_int creates;
  atomic_int destroys;
  atomic_int connects;
  atomic_int disconnects;
  atomic_long messages;   /* on_message calls                          */
  atomic_long echoed;     /* netfw_conn_send returned 0 for an echo    */
  atomic_long send_fails; /* netfw_conn_send failed                    */
  atomic_int last_send_rc;
  atomic_int open_conns; /* accepted minus gone (connect/disconnect)  */
  atomic_int closed[NETFW_CLOSE_REASON_COUNT]; /* on_client_closed by why */
} rb_board;

extern const netfw_app rb_echo_app;

/* mmaps a zeroed board; rb_board_free unmaps it. */
rb_board *rb_board_new(void);
void rb_board_free(rb_board *b);

/* Waits until *v >= want (up to timeout_ms); returns the last value. */
long rb_wait_atleast(atomic_long *v, long want, int timeout_ms);
int rb_wait_int(atomic_int *v, int want, int timeout_ms);

/* ---- a server under test ---- */

typedef struct rb_server {
  rb_board *b;
  netfw_config cfg;
  netfw_server *s;
  uint16_t port;
} rb_server;

/* Fills r->cfg for the echo app on 127.0.0.1, port 0, one worker, and
 * creates the board. Logs go to stderr at level warn unless NETFW_LOG_LEVEL
 * says otherwise. Returns 0 or -1. */
int rb_server_init(rb_server *r);

/* Starts the server with r->cfg. Returns 0 or the netfw error. */
int rb_server_start(rb_server *r);

/* Stops (graceful, bounded) and frees the server and the board. */
void rb_server_fini(rb_server *r);

/* cmocka fixture: a fresh rb_server in *state (rb_server_init), and its
 * teardown (rb_server_fini). */
int rb_setup(void **state);
int rb_teardown(void **state);

/* ---- /proc ---- */

/* Children of pid (every thread's children), at most max. Returns count. */
int rb_children(pid_t pid, pid_t *out, int max);

/* Waits until pid has exactly n children (timeout_ms). Returns count seen. */
int rb_wait_children(pid_t pid, int n, pid_t *out, int timeout_ms);

/* A "VmRSS:"-style field of /proc/pid/status in KiB, or -1. */
long rb_vm_kib(pid_t pid, const char *field);

/* Number of open descriptors of pid, or -1. */
int rb_fd_count(pid_t pid);

/* True while pid exists and is not a zombie. */
bool rb_alive(pid_t pid);

/* The worker pid serving fd (RB_PID round trip), or -1. */
pid_t rb_worker_of(int fd);

#endif /* NETFW_TEST_ROBUST_H */
