/* Accounting streamer: many connections to an echo server driven by one
 * thread with epoll, every message carrying its connection id, sequence
 * number, size and a checksum, every echo checked against the message that
 * was sent. Counts, per connection, messages lost, corrupted, duplicated and
 * reordered.
 *
 * Message seq of connection uid: frame id = seq & 0xffff; the payload is the
 * first `size` bytes of [u32 uid][u32 seq][u32 size][u32 checksum][body],
 * all little-endian, where size and the body (a slice of a random pool) are
 * functions of (seed, uid, seq) and checksum is a word-wise hash of the
 * body. A received frame is matched against the message expected next
 * (exact bytes); a mismatch is classified by the uid/seq it carries.
 *
 * Size profiles (bytes of payload, decided per message by a hash):
 *   ACCT_SIZES_MIXED  0..64 KiB, mostly small: 70 % 0-255, 25 % 256-4095,
 *                     4.5 % 4 KiB-32 KiB, 0.5 % 32 KiB-64 KiB; and in every
 *                     1000 messages one of 0 B and one of exactly 64 KiB.
 *                     Mean about 1.8 KiB (see test_load.c for the budget).
 *   ACCT_SIZES_SMALL  90 % 0-255, 10 % 256-4096 (fault tests). */
#ifndef NETFW_TEST_ACCOUNTING_H
#define NETFW_TEST_ACCOUNTING_H

#include <stdbool.h>
#include <stdint.h>

enum { ACCT_SIZES_MIXED = 0, ACCT_SIZES_SMALL = 1 };

/* How a connection ended. */
enum {
  ACCT_RUNNING = 0,
  ACCT_DONE,  /* every message it sent was answered (all, or drained)  */
  ACCT_EOF,   /* the server closed (FIN) with answers outstanding or
                 while streaming                                       */
  ACCT_RESET, /* ECONNRESET / EPIPE                                    */
  ACCT_FAILED /* connect failed, or a frame no echo could produce      */
};

typedef struct acct_cfg {
  uint16_t port; /* 127.0.0.1:port                                  */
  int conns;     /* simultaneous connections                        */
  long msgs;     /* per connection; 0 = until acct_stop_sending     */
  int window;    /* messages in flight per connection (default 16)  */
  int sizes;     /* ACCT_SIZES_*                                    */
  uint64_t seed;
  int soak_ms; /* > 0: a finished connection is replaced by a new
                  one until soak_ms have passed                   */
} acct_cfg;

typedef struct acct_stats {
  long sent;       /* messages fully written                             */
  long received;   /* frames received                                    */
  long ok;         /* received in order and intact                       */
  long lost;       /* sent, never answered (only counted for DONE)       */
  long unanswered; /* sent, not answered before an EOF/reset             */
  long corrupted;
  long duplicated;
  long reordered;
  long conns_done, conns_eof, conns_reset, conns_failed;
  uint64_t bytes_out, bytes_in; /* payload bytes                         */
} acct_stats;

typedef struct accounting accounting;

/* Allocates the streamer (NULL on a bad config or out of memory). */
accounting *acct_new(const acct_cfg *cfg);

/* Connects every connection (blocking connects, then non-blocking I/O).
 * Returns 0 or -1 (errno kept). */
int acct_open(accounting *a);

/* The socket of connection i (for the caller's own round trips before the
 * streaming starts: it is still blocking until the first acct_run). */
int acct_fd(const accounting *a, int i);

/* Runs the event loop for at most ms (-1: until no connection runs).
 * Returns how many connections still run. */
int acct_run(accounting *a, int ms);

/* No new messages from now on; a connection ends DONE once every message
 * it sent is answered. */
void acct_stop_sending(accounting *a);

/* How connection i ended (ACCT_*), and its counters. */
int acct_end(const accounting *a, int i);
void acct_conn_stats(const accounting *a, int i, acct_stats *out);

/* Totals over every connection (and every replaced one in soak mode). */
void acct_totals(const accounting *a, acct_stats *out);

/* One line "sent ... received ... lost ..." for logs. */
void acct_format(const acct_stats *s, char *buf, unsigned len);

/* Closes every socket and frees. */
void acct_free(accounting *a);

#endif /* NETFW_TEST_ACCOUNTING_H */
