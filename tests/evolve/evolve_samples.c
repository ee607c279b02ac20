/* The samples and checks of the cross-version tests: see evolve_samples.h.
 * The bytes they encode to are written out by hand in test_evolve_codec.c. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "evolve_samples.h"

#define STAMP 0x0102030405060708ull
#define CHECK(cond) EV_CHECK(t, cond)

/* Welcome.motd's default: "hi \"you\"\n\t\\\x41\0!" after its escapes. */
static const char motd_default[] = "hi \"you\"\n\t\\A\0!";
#define MOTD_DEFAULT_LEN (sizeof(motd_default) - 1)

/* ---- version 1 --------------------------------------------------------- */

static ev1_Item v1_items[2];

/* A version 1 Item {id, name}. */
static ev1_Item v1_item(uint32_t id, const char *name) {
  ev1_Item it;
  memset(&it, 0, sizeof(it));
  it.id = id;
  it.name = str(name);
  return it;
}

void sample_v1_hello(ev1_Hello *m, uint32_t seq) {
  memset(m, 0, sizeof(*m));
  m->seq = seq;
  m->who = str("bob");
}

void sample_v1_welcome(ev1_Welcome *m, uint32_t seq) {
  memset(m, 0, sizeof(*m));
  m->seq = seq;
  m->rc = EV1_RC_BUSY;
}

void sample_v1_ping(ev1_Ping *m) {
  memset(m, 0, sizeof(*m));
  m->stamp = STAMP;
}

void sample_v1_items(ev1_Items *m) {
  memset(m, 0, sizeof(*m));
  v1_items[0] = v1_item(1, "a");
  v1_items[1] = v1_item(2, "bc");
  m->items = v1_items;
  m->items_count = 2;
  m->has_best = true;
  m->best = v1_item(3, "");
  m->first = v1_item(4, "d");
}

void sample_v1_status(ev1_Status *m) {
  memset(m, 0, sizeof(*m));
  m->rc = EV1_RC_OK;
  m->kind = EV1_KIND_ONE;
  m->note.text = str("n");
}

/* ---- version 2 --------------------------------------------------------- */

static ev2_Item v2_items[2];
static ev2_Item v2_more[1];
static uint16_t v2_extra[2] = {5, 6};

/* A version 2 Item; tag_k < 0: no tag. */
static ev2_Item v2_item(uint32_t id, const char *name, uint16_t weight,
                        const char *label, int tag_k, uint8_t tag_v) {
  ev2_Item it;
  memset(&it, 0, sizeof(it));
  it.id = id;
  it.name = str(name);
  it.weight = weight;
  it.label = str(label);
  if (tag_k >= 0) {
    it.has_tag = true;
    it.tag.k = (uint8_t)tag_k;
    it.tag.v = tag_v;
  }
  return it;
}

void sample_v2_hello(ev2_Hello *m, uint32_t seq) {
  memset(m, 0, sizeof(*m));
  m->seq = seq;
  m->who = str("bob");
  m->a = 1;
  m->b = 2;
  m->c = 3;
  m->d = 4;
  m->e = 5;
  m->f = 6;
  m->g = 7;
  m->h = 8;
  m->fl = 0.25f;
  m->db = 0.5;
  m->yes = false;
}

void sample_v2_welcome(ev2_Welcome *m, uint32_t seq) {
  memset(m, 0, sizeof(*m));
  m->seq = seq;
  m->rc = EV2_RC_LATER;
  m->motd = str("m");
  m->blob.ptr = NULL;
  m->blob.len = 0;
  m->kind = EV2_KIND_ONE;
  m->mode = EV2_MODE_AUTO;
  m->rc2 = EV2_RC_GONE;
}

void sample_v2_ping(ev2_Ping *m) {
  static const uint8_t b[] = {0xaa};
  memset(m, 0, sizeof(*m));
  m->stamp = STAMP;
  m->has_hint = true;
  m->hint = 0x11223344u;
  m->extra = v2_extra;
  m->extra_count = 2;
  m->pad[0] = 7;
  m->pad[1] = 8;
  m->pad[2] = 9;
  m->zero = -1;
  m->s = str("s");
  m->b.ptr = b;
  m->b.len = 1;
  m->flag = true;
  m->real = 0.5;
  m->has_item = true;
  m->item = v2_item(9, "i", 1, "", -1, 0);
  v2_more[0] = v2_item(10, "", 2, "m", 1, 2);
  m->more = v2_more;
  m->more_count = 1;
}

void sample_v2_items(ev2_Items *m) {
  memset(m, 0, sizeof(*m));
  v2_items[0] = v2_item(1, "a", 2, "L", 3, 4);
  v2_items[1] = v2_item(2, "bc", 0, "", -1, 0);
  m->items = v2_items;
  m->items_count = 2;
  m->has_best = true;
  m->best = v2_item(3, "", 9, "B", -1, 0);
  m->first = v2_item(4, "d", 5, "", 0, 0);
  m->tail = 0x0a0b;
}

void sample_v2_status(ev2_Status *m) {
  memset(m, 0, sizeof(*m));
  m->rc = EV2_RC_OK;
  m->kind = EV2_KIND_ONE;
  m->note.text = str("n");
  m->note.urgent = false;
  m->more = EV2_RC_LATER;
  m->k2 = EV2_KIND_TWO;
}

void sample_v2_extra(ev2_Extra *m) {
  memset(m, 0, sizeof(*m));
  m->x = 5;
  m->note.text = str("z");
  m->note.urgent = true;
}

/* ---- checks of version 1 ----------------------------------------------- */

/* A version 1 Item is {id, name}. */
static void check_v1_item(ev_tally *t, const ev1_Item *it, uint32_t id,
                          const char *name) {
  CHECK(it->id == id);
  CHECK(str_eq(it->name, name));
}

void check_v1_hello(ev_tally *t, const ev1_Hello *m, uint32_t seq) {
  CHECK(m->seq == seq);
  CHECK(str_eq(m->who, "bob"));
}

void check_v1_welcome(ev_tally *t, const ev1_Welcome *m, uint32_t seq,
                      uint16_t rc) {
  CHECK(m->seq == seq);
  CHECK(m->rc == rc);
}

void check_v1_ping(ev_tally *t, const ev1_Ping *m) { CHECK(m->stamp == STAMP); }

void check_v1_items(ev_tally *t, const ev1_Items *m) {
  CHECK(m->items_count == 2);
  if (m->items_count == 2) {
    check_v1_item(t, &m->items[0], 1, "a");
    check_v1_item(t, &m->items[1], 2, "bc");
  }
  CHECK(m->has_best);
  check_v1_item(t, &m->best, 3, "");
  check_v1_item(t, &m->first, 4, "d");
}

void check_v1_status(ev_tally *t, const ev1_Status *m) {
  CHECK(m->rc == EV1_RC_OK);
  CHECK(m->kind == EV1_KIND_ONE);
  CHECK(str_eq(m->note.text, "n"));
}

/* ---- checks of version 2 ----------------------------------------------- */

/* A version 2 Item: every field, and which version arrived. tag_k < 0: no
 * tag (then tag_v is not looked at). */
static void check_v2_item(ev_tally *t, const ev2_Item *it, uint32_t id,
                          const char *name, uint16_t weight, const char *label,
                          int tag_k, uint8_t tag_v, uint16_t version) {
  CHECK(it->id == id);
  CHECK(str_eq(it->name, name));
  CHECK(it->weight == weight);
  CHECK(str_eq(it->label, label));
  CHECK(it->has_tag == (tag_k >= 0));
  if (tag_k >= 0 && it->has_tag) {
    CHECK(it->tag.k == tag_k);
    CHECK(it->tag.v == tag_v);
    CHECK(it->tag.present_version == 2);
  }
  CHECK(it->present_version == version);
}

/* A version 1 Item {id, name} seen by version 2: the defaults. */
static void check_v2_item_from_v1(ev_tally *t, const ev2_Item *it, uint32_t id,
                                  const char *name) {
  check_v2_item(t, it, id, name, 7, "t\"1", -1, 0, 1);
}

void check_v2_hello_from_v1(ev_tally *t, const ev2_Hello *m, uint32_t seq) {
  CHECK(m->seq == seq);
  CHECK(str_eq(m->who, "bob"));
  CHECK(m->a == -5);
  CHECK(m->b == -300);
  CHECK(m->c == INT32_MIN);
  CHECK(m->d == INT64_MIN);
  CHECK(m->e == 200);
  CHECK(m->f == 0xbeef);
  CHECK(m->g == 4000000000u);
  CHECK(m->h == 0x1122334455667788ull);
  CHECK(m->fl == 1.5f);
  CHECK(m->db == -2000.0);
  CHECK(m->yes == true);
  CHECK(m->present_version == 1);
}

void check_v2_welcome_from_v1(ev_tally *t, const ev2_Welcome *m,
                              uint32_t seq) {
  static const uint8_t blob[] = {0x00, 0x01, 0xff};
  CHECK(m->seq == seq);
  CHECK(m->rc == EV2_RC_BUSY);
  CHECK(mem_eq(m->motd.ptr, m->motd.len, motd_default, MOTD_DEFAULT_LEN));
  CHECK(mem_eq(m->blob.ptr, m->blob.len, blob, sizeof(blob)));
  CHECK(m->kind == EV2_KIND_TWO);
  CHECK(m->mode == EV2_MODE_OFF);
  CHECK(m->rc2 == EV2_RC_LATER);
  CHECK(m->present_version == 1);
}

void check_v2_ping_from_v1(ev_tally *t, const ev2_Ping *m) {
  CHECK(m->stamp == STAMP);
  CHECK(!m->has_hint);
  CHECK(m->hint == 0);
  CHECK(m->extra_count == 0);
  CHECK(m->pad[0] == 0 && m->pad[1] == 0 && m->pad[2] == 0);
  CHECK(m->zero == 0);
  CHECK(m->s.len == 0);
  CHECK(m->b.len == 0);
  CHECK(m->flag == false);
  CHECK(m->real == 0.0);
  CHECK(!m->has_item);
  CHECK(m->more_count == 0);
  CHECK(m->present_version == 1);
}

void check_v2_items_from_v1(ev_tally *t, const ev2_Items *m) {
  CHECK(m->items_count == 2);
  if (m->items_count == 2) {
    check_v2_item_from_v1(t, &m->items[0], 1, "a");
    check_v2_item_from_v1(t, &m->items[1], 2, "bc");
  }
  CHECK(m->has_best);
  check_v2_item_from_v1(t, &m->best, 3, "");
  check_v2_item_from_v1(t, &m->first, 4, "d");
  CHECK(m->tail == 0x0201);
  CHECK(m->present_version == 1);
}

void check_v2_status_from_v1(ev_tally *t, const ev2_Status *m) {
  CHECK(m->rc == EV2_RC_OK);
  CHECK(m->kind == EV2_KIND_ONE);
  CHECK(str_eq(m->note.text, "n"));
  CHECK(m->note.urgent == true);
  CHECK(m->note.present_version == 1);
  CHECK(m->more == EV2_RC_GONE);
  CHECK(m->k2 == EV2_KIND_NONE);
  CHECK(m->present_version == 1);
}

void check_v2_hello(ev_tally *t, const ev2_Hello *m, uint32_t seq) {
  CHECK(m->seq == seq);
  CHECK(str_eq(m->who, "bob"));
  CHECK(m->a == 1 && m->b == 2 && m->c == 3 && m->d == 4);
  CHECK(m->e == 5 && m->f == 6 && m->g == 7 && m->h == 8);
  CHECK(m->fl == 0.25f);
  CHECK(m->db == 0.5);
  CHECK(m->yes == false);
  CHECK(m->present_version == 3);
}

void check_v2_welcome(ev_tally *t, const ev2_Welcome *m, uint32_t seq) {
  CHECK(m->seq == seq);
  CHECK(m->rc == EV2_RC_LATER);
  CHECK(str_eq(m->motd, "m"));
  CHECK(m->blob.len == 0);
  CHECK(m->kind == EV2_KIND_ONE);
  CHECK(m->mode == EV2_MODE_AUTO);
  CHECK(m->rc2 == EV2_RC_GONE);
  CHECK(m->present_version == 3);
}

void check_v2_ping(ev_tally *t, const ev2_Ping *m) {
  CHECK(m->stamp == STAMP);
  CHECK(m->has_hint && m->hint == 0x11223344u);
  CHECK(m->extra_count == 2);
  if (m->extra_count == 2)
    CHECK(m->extra[0] == 5 && m->extra[1] == 6);
  CHECK(m->pad[0] == 7 && m->pad[1] == 8 && m->pad[2] == 9);
  CHECK(m->zero == -1);
  CHECK(str_eq(m->s, "s"));
  CHECK(mem_eq(m->b.ptr, m->b.len, "\xaa", 1));
  CHECK(m->flag == true);
  CHECK(m->real == 0.5);
  CHECK(m->has_item);
  check_v2_item(t, &m->item, 9, "i", 1, "", -1, 0, 3);
  CHECK(m->more_count == 1);
  if (m->more_count == 1)
    check_v2_item(t, &m->more[0], 10, "", 2, "m", 1, 2, 3);
  CHECK(m->present_version == 3);
}

void check_v2_items(ev_tally *t, const ev2_Items *m) {
  CHECK(m->items_count == 2);
  if (m->items_count == 2) {
    check_v2_item(t, &m->items[0], 1, "a", 2, "L", 3, 4, 3);
    check_v2_item(t, &m->items[1], 2, "bc", 0, "", -1, 0, 3);
  }
  CHECK(m->has_best);
  check_v2_item(t, &m->best, 3, "", 9, "B", -1, 0, 3);
  check_v2_item(t, &m->first, 4, "d", 5, "", 0, 0, 3);
  CHECK(m->tail == 0x0a0b);
  CHECK(m->present_version == 2);
}

void check_v2_status(ev_tally *t, const ev2_Status *m) {
  CHECK(m->rc == EV2_RC_OK);
  CHECK(m->kind == EV2_KIND_ONE);
  CHECK(str_eq(m->note.text, "n"));
  CHECK(m->note.urgent == false);
  CHECK(m->note.present_version == 2);
  CHECK(m->more == EV2_RC_LATER);
  CHECK(m->k2 == EV2_KIND_TWO);
  CHECK(m->present_version == 2);
}

void check_v2_extra(ev_tally *t, const ev2_Extra *m) {
  CHECK(m->x == 5);
  CHECK(str_eq(m->note.text, "z"));
  CHECK(m->note.urgent == true);
  CHECK(m->note.present_version == 2);
}
