/* A scripted peer for client tests: a thread with plain blocking sockets that
 * listens on 127.0.0.1:0, accepts one connection and plays one part (over
 * TLS in a _tls variant: tls_kit.h; the handshake comes first, then the
 * part). It can produce what a real server would not (a frame over the
 * client's limit). */
#ifndef NETFW_TEST_PEER_H
#define NETFW_TEST_PEER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef enum peer_mode {
  PEER_ECHO,        /* writes back every byte until EOF, then closes      */
  PEER_REJECT,      /* closes at once                                     */
  PEER_SEND3_CLOSE, /* sends frames 1 "one", 2 "two", 3 "three"; closes   */
  PEER_COUNT,       /* reads frames until EOF, checking payload u32 == seq */
  PEER_OVERSIZE,    /* sends 7 "ok", then a header of size oversize, then
                       reads until the client drops the connection        */
  PEER_HOLD,        /* reads until EOF/error, then keeps the socket open
                       until peer_join                                    */
  PEER_FLOOD,       /* sends flood_frames frames of 64 KiB (id = seq, payload
                       starts with the u32 seq) as fast as they are taken,
                       counting them in flood_sent, then closes           */
  PEER_RESET,       /* resets the connection (RST: SO_LINGER 0) as soon as
                       the first byte arrives                            */
  PEER_RESET_NOW    /* resets it right after accept (TLS: the handshake)  */
} peer_mode;

typedef struct test_peer {
  peer_mode mode;
  int delay_ms;          /* ECHO: wait this long before echoing each read     */
  uint32_t oversize;     /* OVERSIZE: the announced size                      */
  uint32_t flood_frames; /* FLOOD: how many frames to send                */
  uint32_t flood_sent;   /* FLOOD: frames written so far (atomic)         */
  int listen_fd;
  int release[2]; /* HOLD: a pipe; peer_join writes to let it close       */
  uint16_t port;
  pthread_t thread;
  /* results, valid after peer_join */
  size_t frames;   /* complete frames received                           */
  size_t in_order; /* COUNT: frames whose payload was the u32 sequence    */
  uint64_t bytes;  /* bytes received                                      */
  int saw_eof;     /* the client closed gracefully (read returned 0)      */
} test_peer;

/* Listens and starts the thread; returns the port (fails the test on
 * error). Set delay_ms/oversize in *p before calling if needed. */
uint16_t peer_start(test_peer *p, peer_mode mode);

/* Lets a HOLD peer close, waits for the thread and closes everything. */
void peer_join(test_peer *p);

/* A loopback port with nothing listening on it (bound, then closed). */
uint16_t peer_closed_port(void);

/* Milliseconds on the monotonic clock. */
int64_t peer_now_ms(void);

#endif /* NETFW_TEST_PEER_H */
