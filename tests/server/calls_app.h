/* The app the calls tests run (calls_app.c): a hand-built protocol with
 * one request, and a handler whose behaviour each request's payload picks;
 * what the worker saw goes to a board in shared memory (the worker is a
 * child process). */
#ifndef NETFW_TEST_CALLS_APP_H
#define NETFW_TEST_CALLS_APP_H

#include <stdatomic.h>
#include <stdint.h>

#include "calls_proto.h"
#include "netfw/netfw.h"

/* Get(3) returns GetResp(40) | Ack(7); List(5) returns ListResp(6);
 * Line(9) is a push; Say(2) is one-way. */
enum {
  ID_SAY = TP_SAY,
  ID_GET = TP_GET,
  ID_LIST = TP_LIST,
  ID_LISTRESP = TP_LISTRESP,
  ID_ACK = TP_ACK,
  ID_LINE = TP_LINE,
  ID_GETRESP = TP_GETRESP
};

/* What the handler does with Get {u8 mode, u32 tag, u32 arg} (little
 * endian). Replies are GetResp {u32 tag}. */
enum {
  M_NOW = 1,     /* answer in the handler                                 */
  M_DEFER,       /* defer; reply_send after arg ms (rc[tag][1])           */
  M_NONE,        /* neither answer nor defer                              */
  M_PUSH,        /* as M_DEFER, and send the push Line {tag} at once      */
  M_WRONG,       /* defer; after arg ms: reply_send ListResp (rc 0), NULL
                    (rc 1), GetResp (rc 2), GetResp again (rc 3), to a
                    seq never given (rc 4), to a connection number never
                    given (rc 5)                                          */
  M_TWICE,       /* send GetResp (rc 0), GetResp again (rc 1), defer (rc
                    2), Ack (rc 3)                                        */
  M_STREAM,      /* answer with send_begin/send_more: GetResp of 4 bytes
                    tag in two pieces (rc 0..2)                          */
  M_HOLD,        /* defer and never answer                                */
  M_BIG,         /* answer with an Ack of arg bytes of 0xab (rc 0)       */
  M_DEFER_TWICE, /* defer (rc 0), defer again (rc 1); answer at once
                   with reply_send (rc 2)                              */
  M_STRAY        /* send ListResp, List's reply (rc 0), then GetResp (rc
                    1). Say's handler sends Ack {0} (rc[CB_SAY][0])      */
};

#define CB_SAY 63 /* the rc row of Say's handler */

#define CB_TAGS 64
#define CB_UNSET 12345

typedef struct cboard {
  atomic_int requests;               /* Get handled                        */
  atomic_int others;                 /* other messages handled             */
  atomic_int order[CB_TAGS];         /* tags in the order handled          */
  atomic_llong handled_ms[CB_TAGS];  /* wire_now_ms when handled, by tag  */
  atomic_llong answered_ms[CB_TAGS]; /* when reply_send ran, by tag       */
  atomic_int rc[CB_TAGS][6];         /* results, by tag (CB_UNSET: none)   */
  atomic_int closes;
  atomic_int closed_by[NETFW_CLOSE_REASON_COUNT];
  atomic_size_t log_len;
  char log[16384];
} cboard;

extern const netfw_app calls_app;

/* mmaps a board (rc all CB_UNSET) and sends the log lines of this process
 * and of the workers forked later to it. */
cboard *cboard_new(void);
void cboard_free(cboard *b);

/* True when a logged line contains both strings. */
int cboard_log_has(cboard *b, const char *s1, const char *s2);

/* Waits until *v >= want, up to timeout_ms; returns the last value. */
int cboard_wait(atomic_int *v, int want, int timeout_ms);

/* Encodes a Get payload into p (9 bytes). */
void calls_get_payload(uint8_t p[9], int mode, uint32_t tag, uint32_t arg);

#endif
