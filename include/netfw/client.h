/* netfw — client: one connection kept by a background I/O thread.
 *
 * netfw_client_connect() connects with a plain socket in the caller's thread,
 * then starts a thread running its own libuv loop that reads the socket and
 * closes it. send, recv and shutdown talk to it through two mutex-protected
 * queues: send appends the encoded frame to an output buffer that the I/O
 * thread writes (sends made close together leave in one write); when nothing
 * is queued and recv was called since, send writes the frame itself, as a
 * plain socket client would. The I/O thread appends every received frame to
 * an inbox that recv takes from (a message already waiting is returned
 * without a system call).
 *
 * Thread safety:
 * - netfw_client_send() and netfw_client_recv() may be called from any
 *   threads at the same time (typically one thread sending while another
 *   blocks in recv). Messages from one sending thread leave in call order.
 * - netfw_client_shutdown() may be called while other threads are inside
 *   send or recv: those calls return NETFW_ESTATE (a recv blocked at the time
 *   is woken). A send that returned 0 before shutdown is delivered.
 * - netfw_client_connect(), the setters and netfw_client_free() must not
 *   overlap any other call on the same client; free comes last.
 * A client that was shut down may connect again (to the same server or
 * another): it starts as a new client would, with its settings kept.
 * The I/O thread blocks every signal, so SIGPIPE never reaches the process
 * from a client socket and asynchronous signals go to the application. */
#ifndef NETFW_CLIENT_H
#define NETFW_CLIENT_H

#include <stdint.h>

#include "netfw/desc.h"
#include "netfw/export.h"
#include "netfw/link.h"
#include "netfw/message.h"
#include "netfw/tls.h"

typedef struct netfw_client netfw_client;

#define NETFW_CLIENT_DEFAULT_MAX_PAYLOAD (16u * 1024 * 1024)
#define NETFW_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define NETFW_CLIENT_DEFAULT_MAX_INBOX ((size_t)64 * 1024 * 1024)
#define NETFW_CLIENT_DEFAULT_MAX_OUTPUT ((size_t)64 * 1024 * 1024)

/* Allocates an unconnected client (NULL when out of memory). */
NETFW_EXTERN netfw_client *netfw_client_new(void);

/* Sets the largest payload accepted from the peer (default 16 MiB); a frame
 * announcing more drops the connection before anything is allocated for it.
 * Returns 0, or NETFW_ESTATE while connected (before connect and after
 * shutdown it may be changed). */
NETFW_EXTERN int netfw_client_set_max_payload(netfw_client *c, uint32_t max);

/* Sets how many received bytes may wait for recv (default 64 MiB; 0 = no
 * limit). Past it the I/O thread stops reading the socket, so TCP flow
 * control holds the peer back, until recv has taken the inbox down to half;
 * a connection loss is then noticed only once reading resumes. Frames are
 * taken whole, so the inbox may pass the limit by the frames of one read.
 * Returns 0, or NETFW_ESTATE while connected. */
NETFW_EXTERN int netfw_client_set_max_inbox(netfw_client *c, size_t max);

/* Sets how long connect waits for the peer (default 10 s; -1 = as long as the
 * system does). Returns 0, NETFW_EINVAL (< -1) or NETFW_ESTATE while
 * connected. */
NETFW_EXTERN int netfw_client_set_connect_timeout(netfw_client *c,
                                                  int timeout_ms);

/* Turns TLS on for the connection (netfw/tls.h; t is copied). The files
 * are read now: returns 0, NETFW_ETLS (a file is unusable: logged, and
 * netfw_client_error says which and why), NETFW_EINVAL, NETFW_ESTATE while
 * connected, NETFW_ENOMEM. NULL turns TLS off again. */
NETFW_EXTERN int netfw_client_set_tls(netfw_client *c,
                                      const netfw_tls_config *t);

/* Why the last failed call failed, in words ("certificate verify failed:
 * unable to get local issuer certificate", ...), or why the connection
 * was lost (a recv or send that returned NETFW_ECONNRESET): "closed by the
 * server", "reset (connection reset by peer)", "timed out: the server
 * stopped answering", "dropped by this client: the server sent a frame
 * over max_payload (N bytes)", or TLS's reason (e.g. the server's alert
 * refusing our certificate); "" when nothing more is known than the code.
 * Valid until the next call on c. */
NETFW_EXTERN const char *netfw_client_error(const netfw_client *c);

/* How the connection was lost, once recv or send returned
 * NETFW_ECONNRESET (which they return for every loss): NETFW_ECLOSED (the
 * server closed it in order: FIN; it closes a peer this way for a
 * protocol error, an oversized frame, a timeout or its own shutdown),
 * NETFW_ECONNRESET (reset: RST, or a broken pipe), NETFW_ETIMEDOUT (the
 * network stopped answering), NETFW_E2BIG (this client dropped it: a
 * frame over its max_payload), NETFW_EPROTO (this client dropped it: a
 * reply that answers no call, netfw_client_call), NETFW_ETLS,
 * NETFW_ENOMEM; 0 while not lost
 * (and after a connect); NETFW_EINVAL for NULL. Any thread. */
NETFW_EXTERN int netfw_client_loss(const netfw_client *c);

/* Fills *out with the server's identity and the TLS version and cipher.
 * Returns 0, NETFW_ESTATE (not connected with TLS), NETFW_EINVAL. */
NETFW_EXTERN int netfw_client_tls_peer(netfw_client *c, netfw_tls_peer *out);

/* Connects to ip:port (a numeric address or a host name) and starts the I/O
 * thread; also a client that was shut down (reconnect: nothing of the last
 * connection is left). Returns 0; NETFW_ESTATE while connected (call
 * netfw_client_shutdown first); NETFW_EINVAL (NULL ip, port 0); NETFW_ECONNREFUSED (nothing
 * listens there); NETFW_EHOSTUNREACH (no route); NETFW_ETIMEDOUT (no answer
 * within the connect timeout, name lookup included); NETFW_EADDRINFO
 * (name not resolved);
 * NETFW_ETLS (with TLS on: the handshake failed or the server's certificate
 * did not verify; netfw_client_error says why); NETFW_ECONNRESET (the
 * server reset or closed the connection before connect returned);
 * NETFW_ENOMEM or NETFW_ESYS (errno kept). A failed connect may be
 * retried. */
NETFW_EXTERN int netfw_client_connect(netfw_client *c, const char *ip,
                                      uint16_t port);

/* Queues a copy of m (the caller keeps m) and returns without waiting for
 * the network. Returns 0; NETFW_EINVAL (NULL); NETFW_ESTATE (not connected,
 * or shut down); NETFW_ECONNRESET once the connection is lost (how:
 * netfw_client_loss, netfw_client_error); NETFW_ENOMEM
 * (if part of the frame had already been written, the connection is then
 * dropped, since the stream cannot continue).
 * NETFW_EAGAIN when the queue is over max_output (nothing queued: retry
 * later); NETFW_ENOTCONN while reconnecting. */
NETFW_EXTERN int netfw_client_send(netfw_client *c, const netfw_msg *m);

/* Takes the next received message into *out; the caller owns it and frees it
 * with netfw_msg_free(). timeout_ms: -1 waits forever, 0 does not wait, > 0
 * waits at most that long (monotonic clock). Returns 0; NETFW_ETIMEDOUT
 * (nothing arrived in time); NETFW_ECONNRESET (the connection was lost and
 * every message that arrived before the loss has been returned; how:
 * netfw_client_loss, netfw_client_error);
 * NETFW_ESTATE (not connected, or shut down); NETFW_EINVAL. *out is set to
 * NULL on every error. */
NETFW_EXTERN int netfw_client_recv(netfw_client *c, netfw_msg **out,
                                   int timeout_ms);

/* Delivers every message sent before the call (flush, shutdown(SHUT_WR),
 * then read and discard until the peer closes), then joins the I/O thread.
 * Messages received but not taken by recv are discarded. timeout_ms -1 waits
 * for the peer as long as it takes; otherwise the connection is reset after
 * timeout_ms and the thread still joined. Returns 0 (graceful);
 * NETFW_ETIMEDOUT (aborted at the timeout); NETFW_ECONNRESET (the connection
 * had been lost before, so sent messages may not have arrived); NETFW_ESTATE
 * (never connected, or shut down already); NETFW_EINVAL. In every case but
 * NETFW_ESTATE and NETFW_EINVAL the client is closed afterwards, and may
 * connect again. */
NETFW_EXTERN int netfw_client_shutdown(netfw_client *c, int timeout_ms);

/* ---- calls (docs/calls.md) ----
 *
 * A protocol whose requests name their replies (`message Get = 3 -> server
 * returns GetResp | Ack`) gets calls: a server answers one connection's
 * requests in order, so the client matches each reply to the oldest
 * request still unanswered, first in first out, whichever thread sent it.
 * Every request sent on the connection takes its place in that order,
 * also one sent with netfw_client_send (its reply then goes to the inbox,
 * for recv, as before). Messages that are no reply (pushes) always go to
 * the inbox, never to a call. */

/* Tells c its protocol: d (the generated <proto>_descriptor; it must
 * outlive c) says which messages are requests and which replies answer
 * them. The generated <proto>_client_new sets it. NULL: no protocol (every
 * message goes to the inbox, calls are refused). Returns 0, NETFW_EINVAL (a
 * malformed descriptor), NETFW_ENOMEM, or NETFW_ESTATE while connected. */
NETFW_EXTERN int netfw_client_set_protocol(netfw_client *c,
                                           const netfw_desc *d);

/* Sends req, a request of c's protocol, and waits for its reply into
 * *reply (the caller frees it with netfw_msg_free). timeout_ms: -1 waits
 * as long as the connection lives, > 0 at most that long from the call
 * (monotonic clock; 0 is refused: NETFW_EINVAL, nothing sent). Several threads may call at once: their requests are
 * pipelined on the one connection. Returns 0; NETFW_ETIMEDOUT (no reply in
 * time: when it comes later it is dropped and counted,
 * netfw_client_late_replies, never given to another call);
 * NETFW_ECONNRESET (the connection was lost before the reply came;
 * netfw_client_loss says how); NETFW_EPROTO (the server answered with a
 * message that is not one of req's replies: later replies could no longer
 * be matched, so the client drops the connection, and netfw_client_loss
 * is NETFW_EPROTO); NETFW_ENOTCONN (reconnecting: the connection is down);
 * NETFW_EAGAIN (the output queue is full, max_output; nothing sent);
 * NETFW_EINVAL (NULL, timeout_ms 0 or < -1, req not a request of the
 * protocol);
 * NETFW_ESTATE (not connected, shut down, or no protocol set);
 * NETFW_ENOMEM. *reply is NULL on every error. */
NETFW_EXTERN int netfw_client_call(netfw_client *c, const netfw_msg *req,
                                   netfw_msg **reply, int timeout_ms);

/* Replies that came after their call had timed out, and were dropped,
 * since connect (any thread). */
NETFW_EXTERN uint64_t netfw_client_late_replies(const netfw_client *c);

/* Sets the bound on bytes sent but not yet taken by the socket (default
 * 64 MiB; 0 = no limit). A send or call whose frame would pass it queues
 * nothing and returns NETFW_EAGAIN: wait (recv, or a moment) and retry.
 * Returns 0, or NETFW_ESTATE while connected. */
NETFW_EXTERN int netfw_client_set_max_output(netfw_client *c, size_t max);

/* ---- reconnecting (netfw/link.h) ---- */

/* Turns automatic reconnection on (r->initial_ms > 0) or off (NULL or
 * initial_ms 0; the default), as netfw/link.h describes. With it on, a
 * lost connection is reported to recv once (NETFW_ECONNRESET, after the
 * messages that came before the loss), then recv waits for messages from
 * the next connection; sends and calls while it is down return
 * NETFW_ENOTCONN. A connect that fails still returns its error (no retry
 * is made for it). Returns 0, NETFW_EINVAL (negative values), or
 * NETFW_ESTATE while connected. */
NETFW_EXTERN int netfw_client_set_reconnect(netfw_client *c,
                                            const netfw_reconnect *r);

/* Sets the callback told of every state change (netfw/link.h), called on
 * the client's I/O thread (it must not call back into c except
 * netfw_client_loss and netfw_client_late_replies); NULL: none. Returns 0,
 * or NETFW_ESTATE while connected. */
NETFW_EXTERN int netfw_client_set_link_cb(netfw_client *c, netfw_link_cb cb,
                                          void *user);

/* Shuts a connected client down first (netfw_client_shutdown with -1, so it
 * waits for the peer to close), then frees it. NULL is a no-op. */
NETFW_EXTERN void netfw_client_free(netfw_client *c);

#endif /* NETFW_CLIENT_H */
