/* Frame codec shared by the server and the client (internal; free of libuv so
 * it can be fuzzed alone).
 *
 * A frame is a 6-byte header — u16 id, u32 payload size, both little-endian
 * whatever the host — followed by the payload. netfw__frame_parse() looks at
 * bytes already in memory and never copies; netfw_framebuf collects a byte
 * stream that arrives in arbitrary chunks and yields the frames in it. Both
 * check the announced size against the maximum before anything is allocated
 * or buffered for the payload. */
#ifndef NETFW_RUNTIME_FRAME_H
#define NETFW_RUNTIME_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define NETFW_FRAME_HDR_SIZE 6

typedef struct netfw_frame {
  uint16_t id;
  uint32_t size;
  const uint8_t *payload; /* points into the parsed buffer */
} netfw_frame;

/* Writes the header for (id, size) into out[0..6). */
void netfw__frame_hdr_pack(uint8_t out[NETFW_FRAME_HDR_SIZE], uint16_t id,
                           uint32_t size);

/* Reads a header from in[0..6). */
void netfw__frame_hdr_unpack(const uint8_t in[NETFW_FRAME_HDR_SIZE],
                             uint16_t *id, uint32_t *size);

/* Copies the frame made of hdr and payload[0..size), from its byte skip on,
 * to dst (which has room for it). Returns how many bytes it copied. */
size_t netfw__frame_copy(uint8_t *dst, const uint8_t hdr[NETFW_FRAME_HDR_SIZE],
                         const uint8_t *payload, uint32_t size, size_t skip);

/* Parses one frame at buf[0..len). Returns the frame's total length (header
 * plus payload, > 0) and fills *f when it is complete; 0 when more bytes are
 * needed; NETFW_E2BIG when the header announces more than max_payload. */
long long netfw__frame_parse(const uint8_t *buf, size_t len,
                             uint32_t max_payload, netfw_frame *f);

/* A growable buffer for one direction of a stream. Bytes [start, end) are
 * received but not yet consumed. */
typedef struct netfw_framebuf {
  uint8_t *base;
  size_t start;
  size_t end;
  size_t cap;
  uint32_t max_payload;
} netfw_framebuf;

/* Read size used when nothing says more is needed. */
#define NETFW_FRAMEBUF_CHUNK 65536
/* A frame in progress is given at most this much room beyond what is held
 * (or as much again as is held, whichever is more). */
#define NETFW_FRAMEBUF_GROW (1024 * 1024)

void netfw__framebuf_init(netfw_framebuf *fb, uint32_t max_payload);
void netfw__framebuf_free(netfw_framebuf *fb);

/* Returns space to read into (at least one byte). Room grows with the bytes
 * that arrive: at most the rest of the frame in progress plus
 * NETFW_FRAMEBUF_CHUNK, and at most NETFW_FRAMEBUF_GROW or the bytes held
 * already, whichever is more. *avail receives its size. NULL when out of
 * memory. Consumed bytes are moved out of the way first. */
uint8_t *netfw__framebuf_space(netfw_framebuf *fb, size_t *avail);

/* Marks n bytes written into the space as received. */
void netfw__framebuf_commit(netfw_framebuf *fb, size_t n);

/* Copies len bytes in (for callers that do not read in place). Returns 0 or
 * NETFW_ENOMEM. */
int netfw__framebuf_feed(netfw_framebuf *fb, const void *data, size_t len);

/* Takes the next complete frame: returns 1 and fills *f (payload valid until
 * the next space/feed/free call), 0 when more bytes are needed, NETFW_E2BIG
 * for an oversized header (the stream cannot continue). */
int netfw__framebuf_next(netfw_framebuf *fb, netfw_frame *f);

/* Bytes received but not yet returned as frames. */
size_t netfw__framebuf_pending(const netfw_framebuf *fb);

/* Frees the memory if nothing is pending (an idle connection holds none). */
void netfw__framebuf_trim(netfw_framebuf *fb);

#endif /* NETFW_RUNTIME_FRAME_H */
