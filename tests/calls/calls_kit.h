/* The calls tests' kit (issue 21): a protocol built by hand (no generated
 * code), a server app that defers every request and answers it from a uv
 * timer after a chosen or random delay, pushes on a fixed rule, and small
 * helpers for the tests' clients and loops.
 *
 * Protocol "calls": Req(10) -> server returns Resp(11); Push(12) -> client;
 * Note(13) -> server, one-way (echoed back as it came: a push);
 * Req2(14) -> server returns Resp2(15).
 * Req's payload: u64 seq, u32 delay (ms before the reply; CALLS_RANDOM: a
 * random 0-5 ms). Resp's: the same u64 seq. Push's: u64 its number on the
 * connection (from 1). The server sends one push right after every
 * CALLS_PUSH_EVERY-th request read on a connection. */
#ifndef NETFW_TESTS_CALLS_KIT_H
#define NETFW_TESTS_CALLS_KIT_H

#include <stdbool.h>
#include <stdint.h>

#include <netfw/netfw.h>

#define CALLS_REQ 10
#define CALLS_RESP 11
#define CALLS_PUSH 12
#define CALLS_NOTE 13
#define CALLS_REQ2 14
#define CALLS_RESP2 15
#define CALLS_RANDOM 0xffffffffu
#define CALLS_WRONG 0xfffffffeu /* plain server: answers Req with Resp2 */
#define CALLS_PUSH_EVERY 7

/* The protocol's descriptor (static: it outlives every client). */
const netfw_desc *calls_desc(void);

/* A Req with seq and delay (the caller frees it). */
netfw_msg *calls_req(uint64_t seq, uint32_t delay_ms);
/* The seq a Resp or Push carries; UINT64_MAX when the payload is not 8
 * bytes. */
uint64_t calls_seq_of(const netfw_msg *m);

/* What a server's workers do besides answering, set in its context. */
typedef struct calls_server_opts {
  bool pushes; /* push after every CALLS_PUSH_EVERY-th request          */
  /* No cfg->protocol: Req answered at once in on_message (its delay
   * ignored), with Resp2 (a reply that does not answer it) when the delay
   * is CALLS_WRONG. */
  bool plain;
  /* Called in every worker after the app is made (may be NULL): the
   * in-worker async client test starts its calls from here. */
  void (*on_create)(void *user, uv_loop_t *loop);
  void (*on_destroy)(void *user);
  void *user;
} calls_server_opts;

/* Starts a calls server on 127.0.0.1:port (0: any) with workers workers
 * and opts (must outlive the server). Returns it, NULL on failure. */
netfw_server *calls_server_start(int workers, uint16_t port,
                                 const calls_server_opts *opts);
/* Stops and frees s (NULL: no-op). */
void calls_server_stop(netfw_server *s);

/* Milliseconds on the monotonic clock. */
double calls_now_ms(void);

/* Runs loop until *flag is true or timeout_ms passes; returns *flag. */
bool calls_run_until(uv_loop_t *loop, const volatile bool *flag,
                     int timeout_ms);
/* Runs loop until nothing is left (the clients closed), closes what is
 * still open, and closes the loop. */
void calls_loop_close(uv_loop_t *loop);

#endif /* NETFW_TESTS_CALLS_KIT_H */
