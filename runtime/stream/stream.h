/* The byte stream under a connection, shared by the server's connections
 * (runtime/server/conn.c) and the client's I/O thread (runtime/client/io.c).
 *
 * What lives here: one implementation of framing (bytes are read into a
 * netfw_framebuf and the owner takes complete frames out of it in place),
 * write coalescing (frames are queued and every stream with output gets one
 * write per loop iteration: try_write, then a queued write of what the
 * socket did not take; a large frame may go out directly with one writev),
 * the graceful end (flush, shutdown of the write side, input discarded until
 * the peer's EOF, close), loss handling (EOF versus error), the buffers
 * (a small cache per loop) and their accounting against a budget. Beneath
 * it, a transport (declared below) moves the bytes; the plain TCP transport is
 * the only one today. Everything here runs on the loop's thread and takes no
 * lock. It may depend on runtime/core and libuv only, never on server/ or
 * client/: the owner's policy (close reasons, deadlines, app callbacks,
 * inboxes) reaches it through netfw__stream_events. */
#ifndef NETFW_RUNTIME_STREAM_H
#define NETFW_RUNTIME_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <sys/socket.h>

#include "frame.h"

/* ---- transport: what moves the bytes under a stream ----
 *
 * A transport is a struct of operations plus the layer above it (`up`,
 * reached through `ev`). The stream calls only these operations: nothing
 * above a transport touches the fd, the uv_tcp_t, shutdown() or
 * getpeername(). Plain TCP is the only transport today; TLS (memory BIOs)
 * and a PROXY-protocol preamble are meant to be further transports stacked
 * on it, each one the `up` of the one below. */
typedef struct netfw__transport netfw__transport;

/* What a transport tells the layer above it. */
typedef struct netfw__transport_events {
  /* Ready for application bytes (after a handshake, a preamble, ...). */
  void (*established)(void *up);
  /* Room for the next read: *buf (len 0 makes the read fail with
   * UV_ENOBUFS). */
  void (*alloc)(void *up, uv_buf_t *buf);
  /* nread > 0 bytes landed in the last room given; < 0 is UV_EOF or an
   * error (0 never comes). UV_EPROTO from a transport means it refused
   * the peer and logged why: the layers above report it without a second
   * log line. A peer that left before a preamble's (PROXY header, TLS
   * ClientHello) first byte is not refused: its UV_EOF or error comes up
   * as it came (the server counts it as lost, not as a failed
   * handshake). */
  void (*read)(void *up, ssize_t nread);
  /* The write started by `write` finished (status 0 or a libuv error,
   * UV_ECANCELED when the transport was closed first). */
  void (*written)(void *up, uv_write_t *req, int status);
  /* The transport is closed: nothing more comes from it. */
  void (*closed)(void *up);
  /* Bytes a try_write took but left queued inside the transport (TLS:
   * ciphertext the socket did not take yet) have all been written. Plain
   * TCP never leaves any, and never calls it. */
  void (*drained)(void *up);
} netfw__transport_events;

typedef struct netfw__transport_ops {
  /* Brings the connection up; `established` follows. */
  void (*start)(netfw__transport *t);
  int (*read_start)(netfw__transport *t);
  void (*read_stop)(netfw__transport *t);
  /* Writes what the socket takes now: bytes taken (>= 0), UV_EAGAIN, or an
   * error. A transport may take bytes it writes later (write_queued counts
   * them; `drained` says when they left). */
  int (*try_write)(netfw__transport *t, const uv_buf_t *bufs, unsigned n);
  /* Queues the write of all of bufs (which stay valid until `written`);
   * one at a time. Returns 0 or an error (then no `written`). */
  int (*write)(netfw__transport *t, uv_write_t *req, const uv_buf_t *bufs,
               unsigned n);
  /* Bytes handed to `write` and not yet written. */
  size_t (*write_queued)(const netfw__transport *t);
  /* Ends the write side (the peer reads EOF) once nothing is queued.
   * Returns 0 or an error. */
  int (*shutdown_write)(netfw__transport *t);
  /* Closes (reset: the peer sees a reset, not EOF); `closed` follows. */
  void (*close)(netfw__transport *t, bool reset);
  int (*peer)(const netfw__transport *t, struct sockaddr_storage *ss);
} netfw__transport_ops;

struct netfw__transport {
  const netfw__transport_ops *ops;
  const netfw__transport_events *ev;
  void *up;
};

/* The plain TCP transport. */
typedef struct netfw__tcp_transport {
  netfw__transport t;
  uv_tcp_t tcp;
} netfw__tcp_transport;

/* Initialises a TCP transport on loop, reporting to ev/up. Returns 0 or a
 * libuv error (nothing to close then). */
int netfw__tcp_transport_init(netfw__tcp_transport *tt, uv_loop_t *loop,
                              const netfw__transport_events *ev, void *up);

/* Adopts the connected socket fd (TCP_NODELAY on). Returns 0 or a libuv
 * error (fd is then still the caller's; the transport must be closed). */
int netfw__tcp_transport_open(netfw__tcp_transport *tt, int fd);

/* ---- stream ---- */

typedef struct netfw__stream netfw__stream;
typedef struct netfw__stream_ctx netfw__stream_ctx;

/* What a stream tells its owner. Every member but written may be NULL only
 * where noted. */
typedef struct netfw__stream_events {
  /* The transport is ready (plain TCP: at once, from netfw__stream_start).
   * The owner typically calls netfw__stream_read_start() here. */
  void (*established)(netfw__stream *s);
  /* Bytes arrived: take frames with netfw__stream_next() (the read buffer
   * stays valid until this returns, even if the stream is closed in it). */
  void (*readable)(netfw__stream *s);
  /* The peer's EOF (UV_EOF), a transport error, or the stream's own lack of
   * memory (UV_ENOBUFS reading, UV_ENOMEM writing). Not called for the EOF
   * that ends a drain. Afterwards, unless the owner closed it, the stream
   * closes at once, except after an EOF while output is left (it lingers:
   * flushes, then closes) or during a FIN (it finishes its sequence). */
  void (*lost)(netfw__stream *s, int status);
  /* A queued write completed (progress; may be NULL). */
  void (*written)(netfw__stream *s);
  /* The transport is closed and the buffers are released: last call. */
  void (*closed)(netfw__stream *s);
} netfw__stream_events;

/* A buffer kept for reuse. */
typedef struct netfw__buf {
  uint8_t *base;
  size_t cap;
} netfw__buf;

#define NETFW__BUF_CACHE 8

/* Per loop: the streams' shared state. */
struct netfw__stream_ctx {
  uv_loop_t *loop;
  const netfw__stream_events *ev;
  netfw__stream *dirty;               /* streams with output to flush    */
  netfw__buf cache[NETFW__BUF_CACHE]; /* buffers no stream holds          */
  int ncache;
  int max_cache;    /* at most NETFW__BUF_CACHE                          */
  uint8_t *scratch; /* where input being discarded is read, lazily       */
  size_t mem;       /* sum of the streams' held bytes                    */
  size_t out_mem;   /* the part of mem that is output (queued, in flight) */
  size_t out_peak;  /* the most out_mem has been                         */
  size_t budget;    /* 0: none; over it, over_budget is called           */
  void (*over_budget)(netfw__stream_ctx *ctx);
};

/* Stream flags. */
enum {
  NETFW__S_FIN = 1u << 0,        /* graceful end asked: no more output     */
  NETFW__S_WR_SHUT = 1u << 1,    /* the write side is shut down            */
  NETFW__S_PEER_EOF = 1u << 2,   /* the peer will send nothing more        */
  NETFW__S_CLOSING = 1u << 3,    /* the transport is being closed          */
  NETFW__S_DIRTY = 1u << 4,      /* in the context's flush list            */
  NETFW__S_LINGER = 1u << 5,     /* peer gone: close once flushed          */
  NETFW__S_DELIVERING = 1u << 6, /* inside readable: keep the read buffer  */
  NETFW__S_DRAIN = 1u << 7,      /* after the FIN, wait for the peer's EOF */
  NETFW__S_PAUSED = 1u << 8,     /* reading stopped by the owner           */
  NETFW__S_READING = 1u << 9     /* the owner started reading              */
};

/* No more input is delivered and no more output is taken. */
#define NETFW__S_STOPPED                                                       \
  (NETFW__S_FIN | NETFW__S_CLOSING | NETFW__S_LINGER | NETFW__S_PEER_EOF)

struct netfw__stream_wreq; /* a write in flight, stream.c */

/* One connection's byte stream. Kept small: an idle stream holds no
 * buffer. */
struct netfw__stream {
  netfw__transport *t;      /* the top of the transport stack          */
  netfw__tcp_transport tcp; /* the bottom: the socket                  */
  netfw__stream_ctx *ctx;
  netfw_framebuf in; /* received bytes not yet taken            */
  uint8_t *out;      /* queued output not yet handed to a write */
  size_t out_len;
  size_t out_cap;
  struct netfw__stream_wreq *wreq; /* the write in flight, if any      */
  netfw__stream *dirty_next;
  size_t held; /* buffer bytes counted in ctx->mem        */
  size_t out_held; /* of which output, in ctx->out_mem      */
  uint32_t flags;
};

/* Output queued by one read that is written at once, and the frame size
 * from which a frame goes out directly instead of being copied. */
#define NETFW__STREAM_FLUSH_EARLY (64 * 1024)

/* Sets up a context on loop. max_cache buffers of at most 1 MiB are kept
 * for reuse (at most NETFW__BUF_CACHE). */
void netfw__stream_ctx_init(netfw__stream_ctx *ctx, uv_loop_t *loop,
                            const netfw__stream_events *ev, int max_cache);

/* Frees the cached buffers and the scratch; every stream must be closed. */
void netfw__stream_ctx_free(netfw__stream_ctx *ctx);

/* Flushes every stream in the flush list (call from the loop's check and
 * prepare phases: one write per stream per iteration). */
void netfw__stream_ctx_flush(netfw__stream_ctx *ctx);

/* Initialises s (its transport's handle on ctx->loop). Returns 0 or a libuv
 * error; on error s needs no close. */
int netfw__stream_init(netfw__stream *s, netfw__stream_ctx *ctx,
                       uint32_t max_payload);

/* Gives fd to the transport. Returns 0 or a libuv error (fd is then still
 * the caller's, and s must be closed). */
int netfw__stream_open(netfw__stream *s, int fd);

/* Starts the transport; `established` follows (plain TCP: before this
 * returns). */
void netfw__stream_start(netfw__stream *s);

/* Starts delivering input (`readable`). Returns 0 or a libuv error. */
int netfw__stream_read_start(netfw__stream *s);

/* Stops reading until netfw__stream_read_resume (input backpressure). */
void netfw__stream_read_pause(netfw__stream *s);

/* Reads again after a pause. Returns 0 or a libuv error. */
int netfw__stream_read_resume(netfw__stream *s);

/* Takes the next complete frame, in place: 1 and *f (valid until
 * `readable` returns), 0 when more bytes are needed, NETFW_E2BIG for a
 * header over max_payload (the stream cannot continue). */
int netfw__stream_next(netfw__stream *s, netfw_frame *f);

/* Queues one frame. A frame of NETFW__STREAM_FLUSH_EARLY bytes or more with
 * no write in flight is written at once (one writev of what was queued, its
 * header and payload; only the rest is copied). Returns 0 or NETFW_ENOMEM;
 * then *broken says whether part of it left (the stream cannot go on). */
int netfw__stream_send(netfw__stream *s, uint16_t id, const uint8_t *payload,
                       uint32_t size, bool *broken);

/* Queues len raw bytes (a header, or a piece of a payload). Returns 0 or
 * NETFW_ENOMEM (nothing queued). */
int netfw__stream_put(netfw__stream *s, const void *data, size_t len);

/* Queues the bytes of *buf: takes the buffer itself when nothing is queued
 * (*buf then receives the stream's empty one, possibly NULL), else copies
 * them; *buf ends empty either way. Returns 0 or NETFW_ENOMEM. */
int netfw__stream_put_buf(netfw__stream *s, uint8_t **base, size_t *len,
                          size_t *cap);

/* Writes what is queued now instead of at the end of the iteration. */
void netfw__stream_flush(netfw__stream *s);

/* Bytes queued and not yet taken by the socket. */
size_t netfw__stream_queued(const netfw__stream *s);

/* True while output is queued or a write is in flight (in the stream or,
 * after a try_write, inside the transport). */
bool netfw__stream_has_output(const netfw__stream *s);

/* The graceful end: no more output; flush, shut the write side down, then
 * close, with drain: after discarding input until the peer's EOF (the owner
 * bounds the wait); without: at once. Input not yet taken is dropped. */
void netfw__stream_fin(netfw__stream *s, bool drain);

/* Closes now, whatever is queued (reset: the peer sees a reset); buffers
 * are released at once, `closed` follows from the loop. */
void netfw__stream_close(netfw__stream *s, bool reset);

/* Brings s->held and ctx->mem up to date with the bytes s's buffers hold
 * (read buffer up to its end, queued output, the write in flight); calls
 * ctx->over_budget when the total grew past the budget. */
void netfw__stream_account(netfw__stream *s);

/* The peer's address into *ss. Returns 0 or a libuv error. */
int netfw__stream_peer(const netfw__stream *s, struct sockaddr_storage *ss);

/* Takes a cached buffer of at least min bytes (*cap receives its size), or
 * NULL; give it back with netfw__stream_buf_give. */
uint8_t *netfw__stream_buf_take(netfw__stream_ctx *ctx, size_t min,
                                size_t *cap);

/* Makes *base (capacity *cap) hold at least need bytes, keeping what it
 * holds: a cached buffer when *base is NULL, else grown (doubling, at
 * least min_cap). Returns 0 or NETFW_ENOMEM (*base unchanged). */
int netfw__stream_buf_grow(netfw__stream_ctx *ctx, uint8_t **base,
                           size_t *cap, size_t need, size_t min_cap);

/* Keeps buf for reuse when the cache has room for it, else frees it. */
void netfw__stream_buf_give(netfw__stream_ctx *ctx, uint8_t *buf, size_t cap);

#endif /* NETFW_RUNTIME_STREAM_H */
