/* The link frames between a worker and the relay (bus.h): the PUB/MSG
 * payload layout, shared by both ends. */
#include "bus.h"

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
