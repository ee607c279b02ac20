/* A connection's output: the send calls of netfw/server.h and the frame
 * writes calls.c shares with them. A send checks the connection's state
 * and output limit, then queues the frame on the stream (runtime/stream),
 * which writes it once per loop iteration. With a protocol, a send during
 * a request's on_message, or one that completes a frame replies are held
 * behind, goes through calls.c, which keeps the replies in request
 * order. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calls.h"
#include "calltab.h"
#include "netfw/error.h"
#include "netfw/log.h"
#include "server_internal.h"

/* ---- output ---- */

int netfw__conn_output_check(netfw_conn *c, size_t n) {
  size_t unsent = netfw_conn_queued(c),
         limit = netfw__conn_worker(c)->cfg->max_output;
  char peer[96];

  if (unsent + n <= limit)
    return 0;
  netfw_log_peer(NETFW_LOG_WARN, netfw__conn_peer_name(c, peer, sizeof(peer)),
                 "output limit reached (%zu bytes unsent, limit %zu); closing",
                 unsent + n, limit);
  netfw__conn_close(c, NETFW_CLOSE_OUTPUT_LIMIT);
  return NETFW_E2BIG;
}

void netfw__conn_count_sent(netfw_conn *c, uint16_t id, uint32_t size) {
  netfw__worker *w = netfw__conn_worker(c);

  netfw__count_sent(w->metrics, w->ctr, id,
                    NETFW_FRAME_HDR_SIZE + (size_t)size);
}

int netfw__conn_write(netfw_conn *c, uint16_t id, const uint8_t *payload,
                      uint32_t size) {
  bool broken;
  int err;

  err = netfw__conn_output_check(c, NETFW_FRAME_HDR_SIZE + (size_t)size);
  if (err != 0)
    return err;
  err = netfw__stream_send(&c->s, id, payload, size, &broken);
  if (err == 0)
    netfw__conn_count_sent(c, id, size);
  else if (broken) /* half a frame went out: the stream cannot go on */
    netfw__conn_close(c, NETFW_CLOSE_NOMEM);
  return err;
}

int netfw__conn_write_begin(netfw_conn *c, uint16_t id, uint32_t size) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  int err;

  if ((err = netfw__conn_output_check(c, sizeof(hdr))) != 0)
    return err;
  netfw__frame_hdr_pack(hdr, id, size);
  if ((err = netfw__stream_put(&c->s, hdr, sizeof(hdr))) != 0)
    return err;
  c->stream_left = size;
  netfw__conn_count_sent(c, id, size);
  return 0;
}

/* With a protocol, a reply (an id some request's returns name) goes out
 * only as the answer of the request being handled: the client takes every
 * reply for the answer of its oldest request, so a reply sent on its own
 * would be matched to the wrong call. Returns 0, or NETFW_EINVAL (logged)
 * for a reply that answers nothing here. */
static int stray_reply(netfw_conn *c, uint16_t id, const char *func) {
  const netfw__calltab *t = netfw__conn_worker(c)->calltab;
  char peer[96];

  if (t == NULL || !netfw__calltab_is_reply(t, id))
    return 0;
  if (c->calls != NULL && c->calls->cur_seq != 0 &&
      netfw__calltab_answers(t, c->calls->cur_id, id))
    return 0;
  netfw_log_peer(NETFW_LOG_WARN, netfw__conn_peer_name(c, peer, sizeof(peer)),
                 "%s: %s (id %u) is a reply, and answers no request being "
                 "handled here (%s%s): not sent; answer a request with it "
                 "during its on_message, or later with netfw_reply_send",
                 func, netfw__calltab_name(t, id), (unsigned)id,
                 c->calls != NULL && c->calls->cur_seq != 0 ? "handling "
                                                            : "no request",
                 c->calls != NULL && c->calls->cur_seq != 0
                     ? netfw__calltab_name(t, c->calls->cur_id)
                     : "");
  return NETFW_EINVAL;
}

int netfw_conn_send(netfw_conn *c, const netfw_msg *m) {
  int err;

  if (c == NULL || m == NULL)
    return NETFW_EINVAL;
  netfw__conn_check_live(c, __func__);
  if (netfw__conn_stopped(c) || c->stream_left > 0)
    return NETFW_ESTATE;
  if ((err = stray_reply(c, netfw_msg_id(m), __func__)) != 0)
    return err;
  if (c->calls != NULL && c->calls->cur_seq != 0) /* a request's handler */
    return netfw__calls_send(c, m);
  return netfw__conn_write(c, netfw_msg_id(m), netfw_msg_payload(m),
                           netfw_msg_size(m));
}

int netfw_conn_send_begin(netfw_conn *c, uint16_t id, uint32_t size) {
  int err;

  if (c == NULL)
    return NETFW_EINVAL;
  netfw__conn_check_live(c, __func__);
  if (netfw__conn_stopped(c) || c->stream_left > 0)
    return NETFW_ESTATE;
  if ((err = stray_reply(c, id, __func__)) != 0)
    return err;
  if (c->calls != NULL && c->calls->cur_seq != 0)
    return netfw__calls_send_begin(c, id, size);
  return netfw__conn_write_begin(c, id, size);
}

int netfw_conn_send_more(netfw_conn *c, const void *data, size_t len) {
  int err;

  if (c == NULL)
    return NETFW_EINVAL;
  netfw__conn_check_live(c, __func__);
  if ((data == NULL && len > 0) || len > c->stream_left)
    return NETFW_EINVAL;
  if (netfw__conn_stopped(c))
    return NETFW_ESTATE;
  if (c->calls != NULL && c->calls->fill_seq != 0) /* a held reply */
    return netfw__calls_send_more(c, data, len);
  if ((err = netfw__conn_output_check(c, len)) != 0)
    return err;
  if ((err = netfw__stream_put(&c->s, data, len)) != 0) {
    netfw__conn_close(c, NETFW_CLOSE_NOMEM); /* half a frame is queued: the
                                         stream cannot go on */
    return err;
  }
  c->stream_left -= (uint32_t)len;
  if (c->stream_left == 0 && c->calls != NULL)
    netfw__calls_flush(c); /* replies held behind this frame */
  return 0;
}

size_t netfw_conn_queued(const netfw_conn *c) {
  if (c == NULL)
    return 0;
  return netfw__stream_queued(&c->s) + netfw__calls_held(c->calls);
}
