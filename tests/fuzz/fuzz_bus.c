/* Fuzz target: the bus's own parsing and table (runtime/bus).
 *
 * The input is taken three times. First, as a PUB/MSG link payload:
 * whatever netfw__bus_pub_parse accepts must lie inside the input and have
 * a valid channel length. Then as a message from Redis (after one byte
 * that sets the payload limit): what netfw__broker_msg_parse accepts must
 * be its header packed again plus a payload within the limit, and what it
 * refuses must be short, foreign or too large. Third, as a script of channel-table operations (put,
 * get, delete on short keys), checked step by step against a plain array
 * that does the same thing slowly: the table must agree on every answer
 * and on its count, whatever the collisions and the removals' back-shifts. */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "bus.h"
#include "netfw/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { KEYS = 64, KEY_MAX = 4 };

typedef struct ref {
  uint8_t key[KEY_MAX];
  size_t len;
  uintptr_t value; /* 0: absent */
} ref;

/* The reference: the entry of key, or an empty one to use, or NULL. */
static ref *ref_find(ref *r, const uint8_t *key, size_t len, bool want_free) {
  size_t i;

  for (i = 0; i < KEYS; i++)
    if (r[i].value != 0 && r[i].len == len && memcmp(r[i].key, key, len) == 0)
      return &r[i];
  for (i = 0; want_free && i < KEYS; i++)
    if (r[i].value == 0)
      return &r[i];
  return NULL;
}

static void check_pub(const uint8_t *data, size_t size) {
  netfw__bus_pub p;

  if (size > UINT32_MAX || !netfw__bus_pub_parse(data, (uint32_t)size, &p))
    return;
  if (p.chan_len == 0 || p.chan_len > NETFW_BUS_CHANNEL_MAX ||
      p.chan != data + NETFW__BUS_META ||
      p.payload + p.size != data + size)
    abort();
}

static void check_broker(const uint8_t *data, size_t size) {
  uint8_t hdr[NETFW__BROKER_HDR];
  netfw__broker_msg m;
  uint32_t max;
  int rc;

  if (size < 1)
    return;
  max = (uint32_t)data[0] * 64;
  rc = netfw__broker_msg_parse(data + 1, size - 1, max, &m);
  if (rc == NETFW_ERANGE && size - 1 >= NETFW__BROKER_HDR)
    abort();
  if (rc == NETFW_EPROTO && memcmp(data + 1, NETFW__BROKER_MAGIC, 4) == 0)
    abort();
  if (rc == NETFW_E2BIG && size - 1 - NETFW__BROKER_HDR <= max)
    abort();
  if (rc != 0)
    return;
  netfw__broker_hdr_pack(hdr, m.origin, m.id);
  if (memcmp(hdr, data + 1, sizeof(hdr)) != 0 ||
      m.payload != data + 1 + NETFW__BROKER_HDR ||
      m.size != size - 1 - NETFW__BROKER_HDR || m.size > max)
    abort();
}

/* One operation: op byte, key length (1..KEY_MAX) and key bytes. */
static size_t step(netfw__chanmap *m, ref *r, size_t *count,
                   const uint8_t *d, size_t left) {
  size_t len;
  ref *e;
  void *got;

  if (left < 2)
    return left;
  len = 1 + d[1] % KEY_MAX;
  if (left < 2 + len)
    return left;
  d += 2;
  got = netfw__chanmap_get(m, d, len);
  e = ref_find(r, d, len, false);
  if ((uintptr_t)got != (e != NULL ? e->value : 0))
    abort();
  if (d[-2] % 3 == 0) { /* put */
    e = e != NULL ? e : ref_find(r, d, len, true);
    if (e == NULL)
      return 2 + len; /* reference full: skip */
    if (e->value == 0)
      (*count)++;
    memcpy(e->key, d, len);
    e->len = len;
    e->value = (uintptr_t)d[-2] + 1;
    if (netfw__chanmap_put(m, d, len, (void *)e->value) != 0)
      abort();
  } else if (d[-2] % 3 == 1) { /* delete */
    got = netfw__chanmap_del(m, d, len);
    if ((uintptr_t)got != (e != NULL ? e->value : 0))
      abort();
    if (e != NULL) {
      e->value = 0;
      (*count)--;
    }
  }
  if (m->count != *count)
    abort();
  return 2 + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ref r[KEYS];
  netfw__chanmap m;
  size_t pos = 0, count = 0;

  check_pub(data, size);
  check_broker(data, size);
  memset(r, 0, sizeof(r));
  netfw__chanmap_init(&m);
  while (pos < size)
    pos += step(&m, r, &count, data + pos, size - pos);
  netfw__chanmap_free(&m);
  return 0;
}
