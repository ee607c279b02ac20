/* Message: a growable payload with a read cursor. */
#include <stdlib.h>
#include <string.h>

#include "message_internal.h"
#include "netfw/error.h"

enum { MIN_CAPACITY = 64 };

netfw_msg *netfw_msg_new(uint16_t id) {
  netfw_msg *m = malloc(sizeof(*m));
  if (m != NULL)
    netfw_msg_init(m, id);
  return m;
}

void netfw_msg_free(netfw_msg *m) {
  if (m == NULL)
    return;
  netfw_msg_release(m);
  free(m);
}

void netfw_msg_init(netfw_msg *m, uint16_t id) {
  memset(m, 0, sizeof(*m));
  m->id_ = id;
}

void netfw_msg_release(netfw_msg *m) {
  if (!(m->flags_ & NETFW__MSG_BORROWED))
    free(m->data_);
  m->data_ = NULL;
  m->size_ = m->capacity_ = m->cursor_ = 0;
  m->flags_ = 0;
}

void netfw_msg_clear(netfw_msg *m) {
  if (m->flags_ & NETFW__MSG_BORROWED) {
    m->data_ = NULL;
    m->flags_ = 0;
  }
  m->size_ = 0;
  m->cursor_ = 0;
}

uint16_t netfw_msg_id(const netfw_msg *m) { return m->id_; }

void netfw_msg_set_id(netfw_msg *m, uint16_t id) { m->id_ = id; }

uint32_t netfw_msg_size(const netfw_msg *m) { return m->size_; }

const uint8_t *netfw_msg_payload(const netfw_msg *m) { return m->data_; }

/* Grows the owned buffer to hold at least want bytes, doubling so that a run
 * of appends costs amortised O(1) each. A borrowed payload is copied here. */
static int grow(netfw_msg *m, uint64_t want) {
  uint64_t cap;
  uint8_t *data;

  if (want > UINT32_MAX)
    return NETFW_E2BIG;
  if (!(m->flags_ & NETFW__MSG_BORROWED) && want <= m->capacity_)
    return 0;
  cap = m->capacity_ > MIN_CAPACITY ? m->capacity_ : MIN_CAPACITY;
  while (cap < want)
    cap *= 2;
  if (cap > UINT32_MAX)
    cap = UINT32_MAX;
  if (m->flags_ & NETFW__MSG_BORROWED) {
    data = malloc((size_t)cap);
    if (data == NULL)
      return NETFW_ENOMEM;
    if (m->size_ > 0)
      memcpy(data, m->data_, m->size_);
    m->flags_ &= (uint16_t)~NETFW__MSG_BORROWED;
  } else {
    data = realloc(m->data_, (size_t)cap);
    if (data == NULL)
      return NETFW_ENOMEM;
  }
  m->data_ = data;
  m->capacity_ = (uint32_t)cap;
  return 0;
}

int netfw_msg_reserve(netfw_msg *m, size_t capacity) {
  if (capacity > UINT32_MAX)
    return NETFW_E2BIG;
  return grow(m, capacity);
}

uint8_t *netfw_msg_append_space(netfw_msg *m, size_t len) {
  uint8_t *p;

  /* Asking for at least one byte gives even a zero-length request a real
   * buffer to point into. */
  if (len > UINT32_MAX || grow(m, (uint64_t)m->size_ + (len ? len : 1)) != 0)
    return NULL;
  p = m->data_ + m->size_;
  m->size_ += (uint32_t)len;
  return p;
}

int netfw_msg_append(netfw_msg *m, const void *data, size_t len) {
  int err;

  if (len == 0)
    return 0;
  if (data == NULL)
    return NETFW_EINVAL;
  if (len > UINT32_MAX)
    return NETFW_E2BIG;
  err = grow(m, (uint64_t)m->size_ + len);
  if (err != 0)
    return err;
  memcpy(m->data_ + m->size_, data, len);
  m->size_ += (uint32_t)len;
  return 0;
}

const void *netfw_msg_pop_view(netfw_msg *m, size_t len) {
  static const uint8_t nothing;
  const uint8_t *p;

  if (len > (size_t)(m->size_ - m->cursor_))
    return NULL;
  if (m->data_ == NULL)
    return &nothing; /* a zero-length pop of an empty payload succeeds */
  p = m->data_ + m->cursor_;
  m->cursor_ += (uint32_t)len;
  return p;
}

int netfw_msg_pop(netfw_msg *m, void *out, size_t len) {
  const void *p = netfw_msg_pop_view(m, len);

  if (p == NULL)
    return NETFW_ERANGE;
  if (out != NULL && len > 0)
    memcpy(out, p, len);
  return 0;
}

size_t netfw_msg_remaining(const netfw_msg *m) {
  return (size_t)(m->size_ - m->cursor_);
}

void netfw_msg_rewind(netfw_msg *m) { m->cursor_ = 0; }

netfw_msg *netfw_msg_dup(const netfw_msg *m) {
  netfw_msg *copy = netfw_msg_new(m->id_);

  if (copy == NULL)
    return NULL;
  if (netfw_msg_append(copy, m->data_, m->size_) != 0) {
    netfw_msg_free(copy);
    return NULL;
  }
  return copy;
}

void netfw__msg_borrow(netfw_msg *m, uint16_t id, const uint8_t *data,
                       uint32_t size) {
  m->data_ = (uint8_t *)(uintptr_t)data;
  m->size_ = size;
  m->capacity_ = 0;
  m->cursor_ = 0;
  m->id_ = id;
  m->flags_ = NETFW__MSG_BORROWED;
}

void netfw__msg_adopt(netfw_msg *m, uint16_t id, uint8_t *data, uint32_t size,
                      uint32_t cap) {
  m->data_ = data;
  m->size_ = size;
  m->capacity_ = cap;
  m->cursor_ = 0;
  m->id_ = id;
  m->flags_ = 0;
}
