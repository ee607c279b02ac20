/* Fuzz target: the incremental frame parser (runtime/core/frame.c).
 *
 * Input: 3 bytes of maximum payload (little-endian, so up to 16 MiB), 1 byte
 * seeding the split points, then the byte stream. The stream is fed to a
 * netfw_framebuf in chunks of pseudo-random sizes, and every frame it yields
 * must equal what the stateless parser finds walking the whole stream at
 * once: same ids, sizes and payload bytes, in order, and an oversized
 * header reported at the same place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "netfw/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks stream with the stateless parser: the reference answer. */
static size_t reference(const uint8_t *s, size_t len, uint32_t max,
                        netfw_frame *frames, size_t cap, int *end) {
  size_t n = 0, pos = 0;
  for (;;) {
    netfw_frame f;
    long long r = netfw__frame_parse(s + pos, len - pos, max, &f);
    if (r <= 0) {
      *end = (int)r; /* 0: need more, NETFW_E2BIG: refused */
      return n;
    }
    if (n < cap)
      frames[n] = f;
    n++;
    pos += (size_t)r;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  enum { CAP = 4096 };
  static netfw_frame want[CAP];
  const uint8_t *s;
  size_t len, nwant, got = 0, pos = 0;
  uint32_t max, state;
  netfw_framebuf fb;
  int end, rc = 0;

  if (size < 4)
    return 0;
  max = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16;
  state = data[3] * 2654435761u + 1;
  s = data + 4;
  len = size - 4;
  nwant = reference(s, len, max, want, CAP, &end);

  netfw__framebuf_init(&fb, max);
  while (pos < len && rc >= 0) {
    size_t chunk;
    netfw_frame f;
    state = state * 1103515245u + 12345u;
    chunk = 1 + (state >> 16) % 97;
    if (chunk > len - pos)
      chunk = len - pos;
    if (netfw__framebuf_feed(&fb, s + pos, chunk) != 0)
      abort();
    pos += chunk;
    while ((rc = netfw__framebuf_next(&fb, &f)) == 1) {
      if (got < CAP &&
          (f.id != want[got].id || f.size != want[got].size ||
           (f.size > 0 && memcmp(f.payload, want[got].payload, f.size) != 0)))
        abort();
      got++;
    }
  }
  if (got != nwant)
    abort();
  if ((rc == NETFW_E2BIG) != (end == NETFW_E2BIG))
    abort();
  /* nothing is ever reserved beyond the frame in progress plus one chunk */
  if (fb.cap > (size_t)max + NETFW_FRAME_HDR_SIZE + NETFW_FRAMEBUF_CHUNK &&
      fb.cap > 2 * NETFW_FRAMEBUF_CHUNK)
    abort();
  netfw__framebuf_free(&fb);
  return 0;
}
