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
  T_SHUTDOWN3 = 0x7001,    /* send ids 1,2,3, shut down, try one more send */
  T_FLOOD = 0x7002,        /* payload u32 n: send 4 frames of n bytes      */
  T_ABORT = 0x7003,        /* abort() the worker                           */
  T_SPIN = 0x7004,         /* never return                                 */
  T_PID = 0x7005,          /* reply with the worker's pid (u32)            */
  T_SETDATA = 0x7006,      /* payload u64: netfw_conn_set_data             */
  T_GETDATA = 0x7007,      /* reply with netfw_conn_data as u64            */
  T_ADDR = 0x7008,         /* reply with "ip:port" of the peer             */
  T_SEQ = 0x7009,          /* payload u32 i: check i counts up per conn    */
  T_BIG = 0x700a,          /* payload u32 n: send one frame of n bytes     */
  T_SHUTDOWN = 0x700b,     /* shut down, nothing sent first                */
  T_SHUTDOWN_FOR = 0x700c, /* payload u32 why: netfw_conn_shutdown_for   */
  T_STREAM = 0x700d,       /* send_begin/send_more one frame (T_STREAM_ID,
                              "abcdefghij") with a plain send tried in between,
                              then T_STREAM_AFTER "after"; rcs in stream_rc   */
  T_LAST = T_STREAM
};

enum { T_STREAM_ID = 0x5151, T_STREAM_AFTER = 0x5152, T_CONNECT_ID = 0x7100 };

/* stream_rc[] of T_STREAM, in call order. */
enum {
  SR_BEGIN,         /* send_begin(T_STREAM_ID, 10)                 */
  SR_MORE1,         /* send_more("abc")                            */
  SR_SEND_INSIDE,   /* netfw_conn_send while 7 bytes are owed      */
  SR_BEGIN_INSIDE,  /* send_begin while 7 bytes are owed           */
  SR_MORE2,         /* send_more("defg")                           */
  SR_MORE_TOO_LONG, /* send_more of 4 bytes when 3 are owed        */
  SR_MORE3,         /* send_more("hij")                            */
  SR_MORE_DONE,     /* send_more of 1 byte after the frame is done */
  SR_SEND_AFTER,    /* netfw_conn_send(T_STREAM_AFTER, "after")     */
  SR_COUNT
};

/* What the app saw, one entry per callback, in the order the (single)
 * worker called them. Connections are told apart by the peer's port. */
enum { EV_CONNECT = 1, EV_DISCONNECT, EV_CLOSED, EV_DESTROY };

typedef struct tevent {
  atomic_int ready; /* set once the entry is complete                  */
  int kind;         /* EV_*                                            */
  int port;         /* the peer's port by netfw_conn_addr; -1: failed  */
  /* EV_CLOSED only: what the connection looked like during the call */
  int reason;     /* the netfw_close_reason given                 */
  int addr_rc;    /* netfw_conn_addr                              */
  int send_rc;    /* netfw_conn_send                              */
  int begin_rc;   /* netfw_conn_send_begin                        */
  long long data; /* netfw_conn_data                              */
  char ip[48];    /* from netfw_conn_addr                         */
} tevent;

#define BOARD_EVENTS 512

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
  atomic_int stream_rc[SR_COUNT]; /* T_STREAM                        */
  atomic_int connect_send_rc;     /* the send of connect_send bytes  */
  atomic_int closes;              /* on_client_closed calls          */
  atomic_int closed_by[NETFW_CLOSE_REASON_COUNT];
  atomic_int nevents; /* entries taken in events (may pass BOARD_EVENTS) */
  tevent events[BOARD_EVENTS];
  /* behaviour switches, set by the test */
  atomic_int reject;          /* on_client_connect returns false       */
  atomic_int reject_send;     /* frames sent before refusing           */
  atomic_int abort_in_create; /* create() aborts                       */
  atomic_int connect_send;    /* accepting, send one frame of this many
                                 bytes (id T_CONNECT_ID) first          */
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

/* Waits up to timeout_ms for an event of this kind from this port (any
 * port when port is -1). Returns its index in b->events, or -1. */
int board_wait_event(board *b, int kind, int port, int timeout_ms);

/* Counts the complete events of this kind from this port (-1: any). */
int board_count_events(board *b, int kind, int port);

#endif /* NETFW_TEST_TESTAPP_H */
