/* hiredis on a libuv loop: the broker's copy of hiredis's libuv adapter.
 *
 * hiredis 0.14.1's adapters/libuv.h ignores a uv_poll error status, and
 * libuv reports POLLERR (a refused connect, a reset connection) as
 * UV_EBADF after stopping the handle: the context would then hang, neither
 * connected nor disconnected, forever. This adapter hands such an event to
 * hiredis as readable/writable, as hiredis 1.0's adapter does, so hiredis
 * reads the socket error and disconnects. */
#ifndef NETFW_RUNTIME_BUS_REDIS_UV_H
#define NETFW_RUNTIME_BUS_REDIS_UV_H

#include <stdbool.h>

#include <hiredis/async.h>
#include <uv.h>

/* Attaches ac (connecting, ac->err == 0) to loop: its socket is polled
 * from now on and the poll handle is closed on the loop when hiredis frees
 * ac. keep_alive false: the handle does not keep the loop running (a
 * worker's loop ends when its own handles are closed). Returns 0, or -1
 * (out of memory, or uv_poll_init failed: nothing is attached and ac can
 * be freed with redisAsyncFree). Also compiled into the chat example. */
int netfw__redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop,
                           bool keep_alive);

#endif /* NETFW_RUNTIME_BUS_REDIS_UV_H */
