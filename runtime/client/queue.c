/* The client's output buffer and inbox. */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "message_internal.h"
#include "netfw/error.h"

/* An idle output buffer keeps at most this much memory. */
enum { OUTBUF_KEEP = 1024 * 1024, OUTBUF_MIN = 4096 };

void netfw__outbuf_init(netfw__outbuf *b) {
  memset(b, 0, sizeof(*b));
}

void netfw__outbuf_free(netfw__outbuf *b) {
  free(b->base);
  netfw__outbuf_init(b);
}

/* Grows the buffer to hold at least want bytes, doubling so that a run of
 * sends costs amortised O(1) each. */
static int reserve(netfw__outbuf *b, size_t want) {
  size_t cap = b->cap > OUTBUF_MIN ? b->cap : OUTBUF_MIN;
  uint8_t *base;

  if (want <= b->cap)
    return 0;
  while (cap < want) {
    if (cap > SIZE_MAX / 2) {
      cap = want;
      break;
    }
    cap *= 2;
  }
  base = realloc(b->base, cap);
  if (base == NULL)
    return NETFW_ENOMEM;
  b->base = base;
  b->cap = cap;
  return 0;
}

int netfw__outbuf_put_frame(netfw__outbuf *b, const netfw_msg *m, size_t skip) {
  uint8_t hdr[NETFW_FRAME_HDR_SIZE];
  uint32_t size = netfw_msg_size(m);
  size_t total = NETFW_FRAME_HDR_SIZE + (size_t)size;

  if (skip >= total)
    return 0;
  if (total - skip > SIZE_MAX - b->len || reserve(b, b->len + total - skip))
    return NETFW_ENOMEM;
  netfw__frame_hdr_pack(hdr, netfw_msg_id(m), size);
  b->len += netfw__frame_copy(b->base + b->len, hdr, netfw_msg_payload(m), size,
                              skip);
  return 0;
}

void netfw__outbuf_swap(netfw__outbuf *a, netfw__outbuf *b) {
  netfw__outbuf t = *a;
  *a = *b;
  *b = t;
}

void netfw__outbuf_consumed(netfw__outbuf *b) {
  b->len = 0;
  if (b->cap > OUTBUF_KEEP)
    netfw__outbuf_free(b);
}

void netfw__inbox_init(netfw__inbox *q) {
  q->head = NULL;
  q->tail = &q->head;
}

void netfw__inbox_clear(netfw__inbox *q) {
  netfw_msg *m;

  while ((m = netfw__inbox_pop(q)) != NULL)
    netfw_msg_free(m);
}

netfw__inbox_entry *netfw__inbox_entry_new(uint16_t id, const uint8_t *payload,
                                           uint32_t size) {
  netfw__inbox_entry *e = malloc(sizeof(*e));
  uint8_t *data = NULL;

  if (e == NULL)
    return NULL;
  if (size > 0) {
    data = malloc(size);
    if (data == NULL) {
      free(e);
      return NULL;
    }
    memcpy(data, payload, size);
  }
  netfw_msg_init(&e->msg, id);
  netfw__msg_adopt(&e->msg, id, data, size, size);
  e->next = NULL;
  return e;
}

void netfw__inbox_push(netfw__inbox *q, netfw__inbox_entry *e) {
  e->next = NULL;
  *q->tail = e;
  q->tail = &e->next;
}

void netfw__inbox_splice(netfw__inbox *dst, netfw__inbox *src) {
  if (src->head == NULL)
    return;
  *dst->tail = src->head;
  dst->tail = src->tail;
  netfw__inbox_init(src);
}

netfw_msg *netfw__inbox_pop(netfw__inbox *q) {
  netfw__inbox_entry *e = q->head;

  if (e == NULL)
    return NULL;
  q->head = e->next;
  if (q->head == NULL)
    q->tail = &q->head;
  return &e->msg;
}
