/* The app the server tests run, and the shared-memory board through which
 * its workers report to the test process (callbacks run in other
 * processes, so the board is mmap'ed MAP_SHARED before the fork). */
#ifndef NETFW_TEST_TESTAPP_H
#define NETFW_TEST_TESTAPP_H

#include <stdatomic.h>
#include <stdint.h>

#include "netfw/netfw.h"

/* Message ids with a meaning for the test app; every other id is echoed. */
enum {
  T_SHUTDOWN3 = 0x7001, /* send ids 1,2,3, shut down, try one more send */
  T_FLOOD = 0x7002,     /* payload u32 n: send 4 frames of n bytes      */
  T_ABORT = 0x7003,     /* abort() the worker                           */
  T_SPIN = 0x7004,      /* never return                                 */
  T_PID = 0x7005,       /* reply with the worker's pid (u32)            */
  T_SETDATA = 0x7006,   /* payload u64: netfw_conn_set_data             */
  T_GETDATA = 0x7007,   /* reply with netfw_conn_data as u64            */
  T_ADDR = 0x7008,      /* reply with "ip:port" of the peer             */
  T_SEQ = 0x7009,       /* payload u32 i: check i counts up per conn    */
  T_BIG = 0x700a,       /* payload u32 n: send one frame of n bytes     */
  T_SHUTDOWN = 0x700b   /* shut down, nothing sent first                */
};

typedef struct board {
  atomic_int create_calls; /* create() entered                           */
  atomic_int creates;      /* create() returned                          */
  atomic_int destroys;
  atomic_int connects;
  atomic_int disconnects;
  atomic_int messages; /* on_message calls                            */
  atomic_int seq_received;
  atomic_int order_errors;
  atomic_int after_shutdown_rc; /* netfw_conn_send after shutdown        */
  atomic_int flood_rc;          /* first failed send of T_FLOOD (0: none) */
  atomic_int big_sent;
  atomic_int disconnect_send_rc; /* netfw_conn_send in on_client_disconnect */
  atomic_llong disconnect_data;  /* netfw_conn_data in on_client_disconnect */
  atomic_int spinning;
  /* behaviour switches, set by the test */
  atomic_int reject;          /* on_client_connect returns false       */
  atomic_int reject_send;     /* frames sent before refusing           */
  atomic_int abort_in_create; /* create() aborts                       */
  /* log lines of every process, '\n'-separated */
  atomic_size_t log_len;
  char log[32768];
} board;

/* The app: create() returns the board given as context. */
extern const netfw_app testapp;

/* mmaps a zeroed board. */
board *board_new(void);
void board_free(board *b);

/* Sends every netfw log line to the board (and to stderr when
 * NETFW_TEST_VERBOSE is set). Inherited by workers forked afterwards. */
void board_capture_log(board *b);

/* Waits until *v >= want, up to timeout_ms. Returns the last value seen. */
int board_wait(atomic_int *v, int want, int timeout_ms);

/* True if a captured log line contains every one of the (NULL-ended)
 * substrings. */
int board_log_has(board *b, const char *s1, const char *s2);

#endif /* NETFW_TEST_TESTAPP_H */
