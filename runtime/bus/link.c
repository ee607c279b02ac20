/* The bus's wire layouts: the link frames between a worker and the relay
 * (bus.h: the PUB/MSG payload, shared by both ends) and a message as the
 * broker carries it on Redis (broker.h). */
#include <string.h>

#include "broker.h"
#include "bus.h"
#include "netfw/error.h"

bool netfw__bus_pub_parse(const uint8_t *p, uint32_t len,
                          netfw__bus_pub *out) {
  size_t chan_len;

  if (len < NETFW__BUS_META)
    return false;
  chan_len = p[1];
  if (chan_len == 0 || chan_len > NETFW_BUS_CHANNEL_MAX ||
      len - NETFW__BUS_META < chan_len)
    return false;
  out->flags = p[0];
  out->id = (uint16_t)(p[2] | (p[3] << 8));
  out->chan = p + NETFW__BUS_META;
  out->chan_len = chan_len;
  out->payload = out->chan + chan_len;
  out->size = (uint32_t)(len - NETFW__BUS_META - chan_len);
  return true;
}

void netfw__bus_meta_pack(uint8_t out[NETFW__BUS_META], uint8_t flags,
                          size_t chan_len, uint16_t id) {
  out[0] = flags;
  out[1] = (uint8_t)chan_len;
  out[2] = (uint8_t)(id & 0xff);
  out[3] = (uint8_t)(id >> 8);
}

uint32_t netfw__bus_frame_max(uint32_t max_payload) {
  uint64_t n = (uint64_t)max_payload + NETFW__BUS_META + NETFW_BUS_CHANNEL_MAX;

  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void netfw__broker_hdr_pack(uint8_t out[NETFW__BROKER_HDR], uint64_t origin,
                            uint16_t id) {
  int i;

  memcpy(out, NETFW__BROKER_MAGIC, 4);
  for (i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(origin >> (8 * i));
  out[12] = (uint8_t)id;
  out[13] = (uint8_t)(id >> 8);
}

int netfw__broker_msg_parse(const uint8_t *p, size_t len, uint32_t max_payload,
                            netfw__broker_msg *out) {
  int i;

  if (len < NETFW__BROKER_HDR)
    return NETFW_ERANGE;
  if (memcmp(p, NETFW__BROKER_MAGIC, 4) != 0)
    return NETFW_EPROTO;
  if (len - NETFW__BROKER_HDR > max_payload)
    return NETFW_E2BIG;
  out->origin = 0;
  for (i = 7; i >= 0; i--)
    out->origin = out->origin << 8 | p[4 + i];
  out->id = (uint16_t)(p[12] | p[13] << 8);
  out->payload = p + NETFW__BROKER_HDR;
  out->size = (uint32_t)(len - NETFW__BROKER_HDR);
  return 0;
}
