/* The client's handoff queues: output buffer framing and batching, inbox
 * order, ownership of popped messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netfw/netfw.h"
#include "queue.h"

static void test_client_queue_outbuf_frames_back_to_back(void **state) {
  static const uint8_t want[] = {0xff, 0x00, 0x05, 0x00, 0x00, 0x00,
                                 'h',  'e',  'l',  'l',  'o',  0x02,
                                 0x01, 0x00, 0x00, 0x00, 0x00};
  netfw__outbuf b, other;
  netfw_msg *a = netfw_msg_new(0xff);
  netfw_msg *e = netfw_msg_new(0x0102);

  netfw__outbuf_init(&b);
  netfw__outbuf_init(&other);
  assert_int_equal(netfw_msg_append(a, "hello", 5), 0);
  assert_int_equal(netfw__outbuf_put_frame(&b, a, 0), 0);
  assert_int_equal(netfw__outbuf_put_frame(&b, e, 0), 0);
  assert_int_equal(b.len, sizeof(want));
  assert_memory_equal(b.base, want, sizeof(want));

  netfw__outbuf_swap(&b, &other);
  assert_int_equal(b.len, 0);
  assert_int_equal(other.len, sizeof(want));
  assert_memory_equal(other.base, want, sizeof(want));
  netfw__outbuf_consumed(&other);
  assert_int_equal(other.len, 0);
  assert_non_null(other.base); /* small buffers are kept for reuse */

  netfw_msg_free(a);
  netfw_msg_free(e);
  netfw__outbuf_free(&b);
  netfw__outbuf_free(&other);
}

/* A frame partly written already: only the rest is queued, for every split
 * point inside the header and the payload. */
static void test_client_queue_outbuf_frame_rest_after_skip(void **state) {
  static const uint8_t whole[] = {0x02, 0x01, 0x03, 0x00, 0x00,
                                  0x00, 'a',  'b',  'c'};
  netfw_msg *m = netfw_msg_new(0x0102);
  netfw_msg *empty = netfw_msg_new(7);

  assert_int_equal(netfw_msg_append(m, "abc", 3), 0);
  for (size_t skip = 0; skip <= sizeof(whole); skip++) {
    netfw__outbuf b;
    netfw__outbuf_init(&b);
    assert_int_equal(netfw__outbuf_put_frame(&b, m, skip), 0);
    assert_int_equal(b.len, sizeof(whole) - skip);
    if (b.len > 0)
      assert_memory_equal(b.base, whole + skip, b.len);
    netfw__outbuf_free(&b);
  }
  for (size_t skip = 0; skip <= 6; skip++) {
    static const uint8_t hdr[] = {0x07, 0x00, 0x00, 0x00, 0x00, 0x00};
    netfw__outbuf b;
    netfw__outbuf_init(&b);
    assert_int_equal(netfw__outbuf_put_frame(&b, empty, skip), 0);
    assert_int_equal(b.len, 6 - skip);
    if (b.len > 0)
      assert_memory_equal(b.base, hdr + skip, b.len);
    netfw__outbuf_free(&b);
  }
  netfw_msg_free(m);
  netfw_msg_free(empty);
}

static void test_client_queue_outbuf_big_buffer_released(void **state) {
  netfw__outbuf b;
  netfw_msg *m = netfw_msg_new(1);

  netfw__outbuf_init(&b);
  assert_non_null(netfw_msg_append_space(m, 2 * 1024 * 1024));
  assert_int_equal(netfw__outbuf_put_frame(&b, m, 0), 0);
  assert_int_equal(b.len, 6 + 2 * 1024 * 1024);
  netfw__outbuf_consumed(&b);
  assert_int_equal(b.len, 0);
  assert_null(b.base);
  assert_int_equal(b.cap, 0);
  netfw_msg_free(m);
}

static void test_client_queue_inbox_fifo_and_splice(void **state) {
  netfw__inbox q, batch;
  netfw_msg *m;

  netfw__inbox_init(&q);
  netfw__inbox_init(&batch);
  assert_null(netfw__inbox_pop(&q));
  netfw__inbox_push(&q, netfw__inbox_entry_new(1, (const uint8_t *)"a", 1));
  netfw__inbox_push(&batch,
                    netfw__inbox_entry_new(2, (const uint8_t *)"bb", 2));
  netfw__inbox_push(&batch, netfw__inbox_entry_new(3, NULL, 0));
  netfw__inbox_splice(&q, &batch);
  assert_null(batch.head);
  netfw__inbox_splice(&q, &batch); /* empty source: no change */

  m = netfw__inbox_pop(&q);
  assert_int_equal(netfw_msg_id(m), 1);
  assert_int_equal(netfw_msg_size(m), 1);
  assert_memory_equal(netfw_msg_payload(m), "a", 1);
  netfw_msg_free(m);
  m = netfw__inbox_pop(&q);
  assert_int_equal(netfw_msg_id(m), 2);
  assert_memory_equal(netfw_msg_payload(m), "bb", 2);
  /* the receiver owns it: it may grow it like any heap message */
  assert_int_equal(netfw_msg_append(m, "c", 1), 0);
  assert_memory_equal(netfw_msg_payload(m), "bbc", 3);
  netfw_msg_free(m);
  m = netfw__inbox_pop(&q);
  assert_int_equal(netfw_msg_id(m), 3);
  assert_int_equal(netfw_msg_size(m), 0);
  netfw_msg_free(m);
  assert_null(netfw__inbox_pop(&q));

  /* the tail is reset when emptied: pushing again works */
  netfw__inbox_push(&q, netfw__inbox_entry_new(4, (const uint8_t *)"d", 1));
  netfw__inbox_push(&q, netfw__inbox_entry_new(5, (const uint8_t *)"e", 1));
  netfw__inbox_clear(&q);
  assert_null(netfw__inbox_pop(&q));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_client_queue_outbuf_frames_back_to_back),
      cmocka_unit_test(test_client_queue_outbuf_frame_rest_after_skip),
      cmocka_unit_test(test_client_queue_outbuf_big_buffer_released),
      cmocka_unit_test(test_client_queue_inbox_fifo_and_splice),
  };
  return cmocka_run_group_tests_name("client_queue", tests, NULL, NULL);
}
