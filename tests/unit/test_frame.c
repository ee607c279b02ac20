/* Frame codec: header bytes, the stateless parser and the incremental
 * framebuf fed in every chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"
#include "netfw/netfw.h"
#include "rng.h"

static void test_frame_hdr_pack_fixed_vectors(void **state) {
  uint8_t out[6];
  static const uint8_t v1[6] = {0x02, 0x01, 0x05, 0x00, 0x00, 0x00};
  static const uint8_t v2[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t v3[6] = {0x00, 0x00, 0x04, 0x03, 0x02, 0x01};
  static const uint8_t v4[6] = {0xff, 0x00, 0x05, 0x00, 0x00, 0x00};

  netfw__frame_hdr_pack(out, 0x0102, 5);
  assert_memory_equal(out, v1, 6);
  netfw__frame_hdr_pack(out, 0xffff, 0xffffffffu);
  assert_memory_equal(out, v2, 6);
  netfw__frame_hdr_pack(out, 0, 0x01020304);
  assert_memory_equal(out, v3, 6);
  netfw__frame_hdr_pack(out, 0xff, 5); /* netframe's echo test: id 0xff, "hello" */
  assert_memory_equal(out, v4, 6);
}

static void test_frame_hdr_unpack_fixed_vectors(void **state) {
  static const uint8_t v[6] = {0x34, 0x12, 0x78, 0x56, 0x34, 0x12};
  uint16_t id;
  uint32_t size;
  netfw__frame_hdr_unpack(v, &id, &size);
  assert_int_equal(id, 0x1234);
  assert_int_equal(size, 0x12345678);
}

static void test_frame_parse_needs_whole_frame(void **state) {
  uint8_t buf[6 + 5];
  netfw_frame f;
  netfw__frame_hdr_pack(buf, 0x0102, 5);
  memcpy(buf + 6, "hello", 5);
  for (size_t len = 0; len < sizeof(buf); len++)
    assert_int_equal(netfw__frame_parse(buf, len, 100, &f), 0);
  assert_int_equal(netfw__frame_parse(buf, sizeof(buf), 100, &f), 11);
  assert_int_equal(f.id, 0x0102);
  assert_int_equal(f.size, 5);
  assert_ptr_equal(f.payload, buf + 6);
  /* the limit is inclusive; one more is refused from the header alone */
  assert_int_equal(netfw__frame_parse(buf, sizeof(buf), 5, &f), 11);
  assert_int_equal(netfw__frame_parse(buf, 6, 4, &f), NETFW_E2BIG);
}

/* A stream of frames with random ids and sizes, remembered for checking. */
typedef struct stream {
  uint8_t *bytes;
  size_t len;
  size_t count;
  uint16_t ids[64];
  uint32_t sizes[64];
  size_t offsets[64]; /* of each payload within bytes */
} stream;

static void make_stream(stream *s, size_t count, uint64_t seed) {
  test_rng r;
  size_t total = 0;
  test_rng_seed(&r, seed);
  s->count = count;
  for (size_t i = 0; i < count; i++) {
    /* mostly small, some up to 256 KiB, some empty */
    uint64_t kind = test_rng_range(&r, 0, 9);
    s->sizes[i] = kind == 0   ? 0
                  : kind < 6 ? (uint32_t)test_rng_range(&r, 1, 300)
                             : (uint32_t)test_rng_range(&r, 301, 256 * 1024);
    s->ids[i] = (uint16_t)test_rng_next(&r);
    total += 6 + s->sizes[i];
  }
  s->bytes = malloc(total);
  assert_non_null(s->bytes);
  s->len = 0;
  for (size_t i = 0; i < count; i++) {
    netfw__frame_hdr_pack(s->bytes + s->len, s->ids[i], s->sizes[i]);
    s->offsets[i] = s->len + 6;
    test_rng_fill(&r, s->bytes + s->len + 6, s->sizes[i]);
    s->len += 6 + s->sizes[i];
  }
}

/* Feeds the stream in pieces of `chunk` bytes (0: random sizes), taking
 * frames after every piece, and checks each frame byte for byte in order. */
static void feed_and_check(const stream *s, size_t chunk, uint64_t seed) {
  netfw_framebuf fb;
  netfw_frame f;
  size_t pos = 0, got = 0;
  test_rng r;
  int rc;

  test_rng_seed(&r, seed);
  netfw__framebuf_init(&fb, 256 * 1024);
  while (pos < s->len) {
    size_t n = chunk ? chunk : (size_t)test_rng_range(&r, 1, 100000);
    if (n > s->len - pos)
      n = s->len - pos;
    assert_int_equal(netfw__framebuf_feed(&fb, s->bytes + pos, n), 0);
    pos += n;
    while ((rc = netfw__framebuf_next(&fb, &f)) == 1) {
      assert_true(got < s->count);
      assert_int_equal(f.id, s->ids[got]);
      assert_int_equal(f.size, s->sizes[got]);
      assert_memory_equal(f.payload, s->bytes + s->offsets[got], f.size);
      got++;
    }
    assert_int_equal(rc, 0);
  }
  assert_int_equal(got, s->count);
  assert_int_equal(netfw__framebuf_pending(&fb), 0);
  netfw__framebuf_trim(&fb);
  assert_null(fb.base);
  netfw__framebuf_free(&fb);
}

static void test_frame_stream_every_chunking(void **state) {
  stream s;
  static const size_t chunks[] = {1,    2,    3,     5,     6,     7,
                                  13,   64,   1000,  4096,  65535, 65536,
                                  65537, 100000, 262150, 1u << 20};
  make_stream(&s, 64, 12345);
  assert_true(s.count >= 50);
  for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
    feed_and_check(&s, chunks[i], i);
  for (uint64_t seed = 1; seed <= 8; seed++)
    feed_and_check(&s, 0, seed); /* random split points */
  feed_and_check(&s, s.len, 0);  /* whole */
  free(s.bytes);
}

static void test_frame_read_in_place(void **state) {
  /* space/commit as a socket reader uses them: a frame larger than the read
   * chunk gets room for all of it once its header is known. */
  netfw_framebuf fb;
  netfw_frame f;
  uint8_t hdr[6];
  size_t avail;
  uint8_t *p;
  const uint32_t size = 1u << 20;

  netfw__framebuf_init(&fb, size);
  netfw__frame_hdr_pack(hdr, 9, size);
  p = netfw__framebuf_space(&fb, &avail);
  assert_non_null(p);
  assert_true(avail >= 6);
  memcpy(p, hdr, 6);
  netfw__framebuf_commit(&fb, 6);
  assert_int_equal(netfw__framebuf_next(&fb, &f), 0);
  p = netfw__framebuf_space(&fb, &avail);
  assert_non_null(p);
  assert_true(avail >= size);
  memset(p, 0xab, size);
  netfw__framebuf_commit(&fb, size);
  assert_int_equal(netfw__framebuf_next(&fb, &f), 1);
  assert_int_equal(f.id, 9);
  assert_int_equal(f.size, size);
  assert_int_equal(f.payload[0], 0xab);
  assert_int_equal(f.payload[size - 1], 0xab);
  assert_int_equal(netfw__framebuf_next(&fb, &f), 0);
  netfw__framebuf_free(&fb);
}

/* Byte-at-a-time input of small frames must not reallocate per byte (a
 * realloc per read made a slow peer cost a syscall pair per byte). */
static void test_frame_small_frames_keep_one_buffer(void **state) {
  netfw_framebuf fb;
  netfw_frame f;
  uint8_t frame[6 + 10];
  uint8_t *base = NULL;
  int moves = 0, frames = 0;

  netfw__framebuf_init(&fb, 1024);
  netfw__frame_hdr_pack(frame, 3, 10);
  memset(frame + 6, 0x5a, 10);
  for (int i = 0; i < 20000; i++) {
    for (size_t j = 0; j < sizeof(frame); j++) {
      assert_int_equal(netfw__framebuf_feed(&fb, frame + j, 1), 0);
      if (fb.base != base) {
        base = fb.base;
        moves++;
      }
      while (netfw__framebuf_next(&fb, &f) == 1) {
        assert_int_equal(f.size, 10);
        frames++;
      }
    }
  }
  assert_int_equal(frames, 20000);
  assert_int_equal(moves, 1);
  netfw__framebuf_free(&fb);
}

static void test_frame_oversized_header_refused_before_alloc(void **state) {
  netfw_framebuf fb;
  netfw_frame f;
  uint8_t hdr[6];
  size_t avail;
  const uint32_t max = 16u * 1024 * 1024;

  /* 4 GiB announced, and one byte over the maximum */
  const uint32_t sizes[] = {0xffffffffu, max + 1};
  for (size_t i = 0; i < 2; i++) {
    netfw__framebuf_init(&fb, max);
    netfw__frame_hdr_pack(hdr, 1, sizes[i]);
    assert_int_equal(netfw__framebuf_feed(&fb, hdr, 6), 0);
    assert_int_equal(netfw__framebuf_feed(&fb, "abc", 3), 0);
    assert_int_equal(netfw__framebuf_next(&fb, &f), NETFW_E2BIG);
    /* asking for more room does not reserve the announced size */
    assert_non_null(netfw__framebuf_space(&fb, &avail));
    assert_true(fb.cap <= 2 * NETFW_FRAMEBUF_CHUNK);
    assert_int_equal(netfw__framebuf_next(&fb, &f), NETFW_E2BIG);
    netfw__framebuf_free(&fb);
  }
}

static void test_frame_zero_max_payload_allows_only_empty(void **state) {
  netfw_framebuf fb;
  netfw_frame f;
  uint8_t hdr[12];
  netfw__framebuf_init(&fb, 0);
  netfw__frame_hdr_pack(hdr, 5, 0);
  netfw__frame_hdr_pack(hdr + 6, 6, 1);
  assert_int_equal(netfw__framebuf_feed(&fb, hdr, 12), 0);
  assert_int_equal(netfw__framebuf_next(&fb, &f), 1);
  assert_int_equal(f.id, 5);
  assert_int_equal(f.size, 0);
  assert_int_equal(netfw__framebuf_next(&fb, &f), NETFW_E2BIG);
  netfw__framebuf_free(&fb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_frame_hdr_pack_fixed_vectors),
      cmocka_unit_test(test_frame_hdr_unpack_fixed_vectors),
      cmocka_unit_test(test_frame_parse_needs_whole_frame),
      cmocka_unit_test(test_frame_stream_every_chunking),
      cmocka_unit_test(test_frame_read_in_place),
      cmocka_unit_test(test_frame_small_frames_keep_one_buffer),
      cmocka_unit_test(test_frame_oversized_header_refused_before_alloc),
      cmocka_unit_test(test_frame_zero_max_payload_allows_only_empty),
  };
  return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
