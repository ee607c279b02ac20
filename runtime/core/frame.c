/* Frame header codec and the incremental frame parser. */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#include "netfw/error.h"

void netfw__frame_hdr_pack(uint8_t out[NETFW_FRAME_HDR_SIZE], uint16_t id,
                           uint32_t size) {
  out[0] = (uint8_t)(id & 0xff);
  out[1] = (uint8_t)(id >> 8);
  out[2] = (uint8_t)(size & 0xff);
  out[3] = (uint8_t)((size >> 8) & 0xff);
  out[4] = (uint8_t)((size >> 16) & 0xff);
  out[5] = (uint8_t)(size >> 24);
}

void netfw__frame_hdr_unpack(const uint8_t in[NETFW_FRAME_HDR_SIZE],
                             uint16_t *id, uint32_t *size) {
  *id = (uint16_t)(in[0] | (in[1] << 8));
  *size = (uint32_t)in[2] | ((uint32_t)in[3] << 8) | ((uint32_t)in[4] << 16) |
          ((uint32_t)in[5] << 24);
}

size_t netfw__frame_copy(uint8_t *dst, const uint8_t hdr[NETFW_FRAME_HDR_SIZE],
                         const uint8_t *payload, uint32_t size, size_t skip) {
  size_t total = NETFW_FRAME_HDR_SIZE + (size_t)size, n = 0;

  if (skip >= total)
    return 0;
  if (skip < NETFW_FRAME_HDR_SIZE) {
    n = NETFW_FRAME_HDR_SIZE - skip;
    memcpy(dst, hdr + skip, n);
    skip = NETFW_FRAME_HDR_SIZE;
  }
  if (total > skip)
    memcpy(dst + n, payload + (skip - NETFW_FRAME_HDR_SIZE), total - skip);
  return n + (total - skip);
}

long long netfw__frame_parse(const uint8_t *buf, size_t len,
                             uint32_t max_payload, netfw_frame *f) {
  uint16_t id;
  uint32_t size;

  if (len < NETFW_FRAME_HDR_SIZE)
    return 0;
  netfw__frame_hdr_unpack(buf, &id, &size);
  if (size > max_payload)
    return NETFW_E2BIG;
  if (len - NETFW_FRAME_HDR_SIZE < size)
    return 0;
  f->id = id;
  f->size = size;
  f->payload = buf + NETFW_FRAME_HDR_SIZE;
  return (long long)NETFW_FRAME_HDR_SIZE + size;
}

void netfw__framebuf_init(netfw_framebuf *fb, uint32_t max_payload) {
  memset(fb, 0, sizeof(*fb));
  fb->max_payload = max_payload;
}

void netfw__framebuf_free(netfw_framebuf *fb) {
  free(fb->base);
  netfw__framebuf_init(fb, fb->max_payload);
}

size_t netfw__framebuf_pending(const netfw_framebuf *fb) {
  return fb->end - fb->start;
}

/* Bytes still missing before the frame at the front is complete (at least
 * 1). An oversized header counts as 1: nothing is reserved for it and the
 * next call to netfw__framebuf_next() reports the error. */
static size_t missing(const netfw_framebuf *fb) {
  size_t pending = fb->end - fb->start;
  uint16_t id;
  uint32_t size;

  if (pending < NETFW_FRAME_HDR_SIZE)
    return NETFW_FRAME_HDR_SIZE - pending;
  netfw__frame_hdr_unpack(fb->base + fb->start, &id, &size);
  if (size > fb->max_payload)
    return 1;
  if (pending >= NETFW_FRAME_HDR_SIZE + (size_t)size)
    return 1;
  return NETFW_FRAME_HDR_SIZE + (size_t)size - pending;
}

/* Cost: a memmove of the pending bytes (less than one frame) when consumed
 * space is worth reclaiming; a realloc only when the rest of the frame in
 * progress does not fit, so a 16 MiB payload is read in place with one
 * allocation and a stream of small frames with none after the first. */
/* The capacity to grow to when fewer than `floor` bytes of room are left:
 * the whole frame in progress (plus a read chunk) when that is at most
 * NETFW_FRAMEBUF_GROW more than what is held, else double what is held.
 * Memory then follows the bytes that actually arrive: a peer that
 * announces 16 MiB and sends 8 makes us hold at most about 16, not reserve
 * 16 at the header (and its untouched pages are not resident). */
static size_t grow_cap(const netfw_framebuf *fb, size_t pending, size_t want) {
  size_t full = pending + want;
  size_t step = fb->cap * 2;

  if (step < pending + NETFW_FRAMEBUF_GROW)
    step = pending + NETFW_FRAMEBUF_GROW;
  return step < full ? step : full;
}

uint8_t *netfw__framebuf_space(netfw_framebuf *fb, size_t *avail) {
  size_t pending = fb->end - fb->start;
  size_t need = missing(fb);
  size_t want = need > NETFW_FRAMEBUF_CHUNK ? need : NETFW_FRAMEBUF_CHUNK;
  size_t floor = need < NETFW_FRAMEBUF_GROW ? need : NETFW_FRAMEBUF_GROW;

  if (pending == 0)
    fb->start = fb->end = 0;
  if (fb->cap - fb->end < want && fb->start > 0) {
    memmove(fb->base, fb->base + fb->start, pending);
    fb->start = 0;
    fb->end = pending;
  }
  if (fb->cap - fb->end < floor) {
    size_t cap = grow_cap(fb, pending, want);
    uint8_t *base = realloc(fb->base, cap);
    if (base == NULL)
      return NULL;
    fb->base = base;
    fb->cap = cap;
  }
  *avail = fb->cap - fb->end;
  return fb->base + fb->end;
}

void netfw__framebuf_commit(netfw_framebuf *fb, size_t n) {
  fb->end += n;
}

int netfw__framebuf_feed(netfw_framebuf *fb, const void *data, size_t len) {
  const uint8_t *p = data;

  while (len > 0) {
    size_t avail;
    uint8_t *dst = netfw__framebuf_space(fb, &avail);
    size_t n;
    if (dst == NULL)
      return NETFW_ENOMEM;
    n = avail < len ? avail : len;
    memcpy(dst, p, n);
    netfw__framebuf_commit(fb, n);
    p += n;
    len -= n;
  }
  return 0;
}

int netfw__framebuf_next(netfw_framebuf *fb, netfw_frame *f) {
  long long n;

  if (fb->end == fb->start)
    return 0;
  n = netfw__frame_parse(fb->base + fb->start, fb->end - fb->start,
                         fb->max_payload, f);
  if (n <= 0)
    return (int)n;
  fb->start += (size_t)n;
  return 1;
}

void netfw__framebuf_trim(netfw_framebuf *fb) {
  if (fb->end != fb->start || fb->base == NULL)
    return;
  free(fb->base);
  fb->base = NULL;
  fb->start = fb->end = fb->cap = 0;
}
