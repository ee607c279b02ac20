/* Schema evolution on the wire (tests/gen/evolution.netproto, version 3):
 * every byte fixture of docs/evolution.md encoded and decoded exactly, the
 * page and this file kept in sync (the page's fixture block is read and
 * compared with the table below), the shorter forms of older peers decoded
 * with their defaults and present_version, extensible structs skipping and
 * refusing bytes, open and closed enums, and the canonical re-encoding. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evolution.netfw.h"
#include "gen_codec_kit.h"
#include "netfw/netfw.h"

#ifndef NETFW_SOURCE_DIR
#error "NETFW_SOURCE_DIR must be defined"
#endif

/* ---- the fixtures of docs/evolution.md, in the page's order ----------- */

static const uint8_t put_v1[] = {0x01, 'a'};
static const uint8_t put_v2[] = {0x01, 'a', 0xed, 0x01, 0x00, 0x00, 0x01};
static const uint8_t put_v3[] = {
    0x01, 'a',                                     /* path "a" */
    0xed, 0x01, 0x00, 0x00,                        /* mode 493 (0755) */
    0x01,                                          /* access WRITE */
    0x02, 'h',  'i',                               /* note "hi" */
    0x01, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}; /* mtime 42 */
static const uint8_t put_v1_canon[] = {0x01, 'a', 0xa4, 0x01, 0x00, 0x00, 0x00,
                                       0x04, 'n', 'o',  'n',  'e',  0x00};
static const uint8_t list_v1[] = {
    0x02,                                      /* count 2 */
    0x06, 0x01, 'a', 0x03, 0x00, 0x00, 0x00,   /* 6 bytes: "a", 3 */
    0x07, 0x02, 'b', 'b', 0x02, 0x01, 0x00, 0x00}; /* 7 bytes: "bb", 258 */
static const uint8_t list_v3[] = {
    0x02, 0x0a, 0x01, 'a', 0x03, 0x00, 0x00, 0x00, 0xa4, 0x01, 0x00, 0x00,
    0x0b, 0x02, 'b',  'b', 0x02, 0x01, 0x00, 0x00, 0xed, 0x01, 0x00, 0x00};
static const uint8_t list_v4[] = {0x01, 0x0b, 0x01, 'a',  0x03, 0x00, 0x00,
                                  0x00, 0xa4, 0x01, 0x00, 0x00, 0xff};
static const uint8_t list_v4_canon[] = {0x01, 0x0a, 0x01, 'a',  0x03, 0x00,
                                        0x00, 0x00, 0xa4, 0x01, 0x00, 0x00};
static const uint8_t ack_7[] = {0x07};
static const uint8_t hello_canon[] = {
    0xfe, 0xff,                   /* delta -2 */
    0x00, 0x00, 0xc0, 0x3f,       /* ratio 1.5 */
    0x01,                         /* fast true */
    0x02, 0x00, 0xff,             /* tag 00 ff */
    0x05, 'c', 'a', 'f', 0xc3, 0xa9, /* who "café" */
    0x01,                         /* rc DENIED */
    0x00,                         /* ports: none */
    0x00, 0x00};                  /* pad {0, 0} */

typedef struct fixture {
  const char *label; /* as the page writes it, left of the bytes */
  const uint8_t *bytes;
  size_t n;
} fixture;

#define FX(label, a) {label, a, sizeof(a)}
static const fixture fixtures[] = {
    FX("Put v1 {path=\"a\"}", put_v1),
    FX("Put v2 {path=\"a\", mode=493, access=WRITE}", put_v2),
    FX("Put v3 {path=\"a\", mode=493, access=WRITE, note=\"hi\", mtime=42}",
       put_v3),
    FX("Put v1 re-encoded by a v3 peer", put_v1_canon),
    FX("List v1 [{\"a\",3}, {\"bb\",258}]", list_v1),
    FX("List v3 [{\"a\",3,420}, {\"bb\",258,493}]", list_v3),
    FX("List v4 [{\"a\",3,420,+1 byte}]", list_v4),
    FX("List v4 re-encoded by a v3 peer", list_v4_canon),
    FX("Ack{rc=7}, 7 not listed in Rc", ack_7),
    {"Hello v1 {}", NULL, 0},
    FX("Hello v1 re-encoded by a v3 peer", hello_canon),
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

/* ---- the page against the table --------------------------------------- */

/* docs/evolution.md, NUL-terminated, in a static buffer. */
static char *read_doc(void) {
  static char buf[1 << 16];
  FILE *f = fopen(NETFW_SOURCE_DIR "/docs/evolution.md", "rb");
  size_t n;
  assert_non_null(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  assert_true(n > 0 && n < sizeof(buf) - 1);
  buf[n] = '\0';
  return buf;
}

/* Appends the hex pairs of s (spaces around them; nothing for "(empty
 * payload)") to out, which holds cap bytes and has *n already. */
static void parse_hex(const char *s, uint8_t *out, size_t *n, size_t cap) {
  unsigned v;
  s += strspn(s, " ");
  if (strcmp(s, "(empty payload)") == 0)
    return;
  while (*s != '\0') {
    assert_true(isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1]));
    assert_true((s[2] == ' ' || s[2] == '\0') && *n < cap);
    assert_int_equal(sscanf(s, "%2x", &v), 1);
    out[(*n)++] = (uint8_t)v;
    s += 2 + strspn(s + 2, " ");
  }
}

/* The fixture block of docs/evolution.md: the fenced block after the line
 * "Whole messages of tests/gen/evolution.netproto". A line starting with a
 * label starts a fixture, its bytes after two spaces or more (none when the
 * label fills the line); a line starting with spaces holds more bytes. */
static void test_evolve_doc_fixtures_match(void **state) {
  char *p = strstr(read_doc(), "Whole messages of tests/gen/evolution.netproto");
  uint8_t got[NFIXTURES][64];
  size_t ngot[NFIXTURES] = {0}, k = 0;

  (void)state;
  assert_non_null(p);
  p = strstr(p, "```\n");
  assert_non_null(p);
  for (p += 4; strncmp(p, "```\n", 4) != 0;) {
    char *nl = strchr(p, '\n'), *hex = p;
    assert_non_null(nl);
    *nl = '\0';
    if (*p != ' ') { /* a label: the next fixture */
      assert_true(k < NFIXTURES);
      hex = strstr(p, "  ");
      if (hex != NULL)
        *hex++ = '\0';
      else
        hex = nl;
      if (strcmp(p, fixtures[k].label) != 0)
        fail_msg("fixture %zu: the page says '%s', the test '%s'", k, p,
                 fixtures[k].label);
      k++;
    }
    assert_true(k > 0);
    parse_hex(hex, got[k - 1], &ngot[k - 1], sizeof(got[0]));
    p = nl + 1;
  }
  assert_int_equal(k, NFIXTURES);
  for (k = 0; k < NFIXTURES; k++) {
    assert_int_equal(ngot[k], fixtures[k].n);
    if (ngot[k] > 0)
      assert_memory_equal(got[k], fixtures[k].bytes, ngot[k]);
  }
}

/* ---- Put: a message growing by [since] groups ------------------------- */

/* The last message decoded: its views stay valid until the next one. */
static netfw_msg *held;

/* A borrowed() copy of b kept until the next call (or the group's end). */
static netfw_msg *hold(uint16_t id, const uint8_t *b, size_t n) {
  if (held != NULL)
    borrowed_free(held);
  held = borrowed(id, b, n);
  return held;
}

static int release_held(void **state) {
  (void)state;
  if (held != NULL)
    borrowed_free(held);
  held = NULL;
  return 0;
}

/* Decodes the n bytes b as a Put; returns the decoder's result, and the
 * bytes it left unread in *left. */
static int decode_put(const uint8_t *b, size_t n, ev_Put *out, size_t *left) {
  netfw_msg *m = hold(EV_PUT_ID, b, n);
  int rc = ev_Put_decode(m, out, NULL);
  if (left != NULL)
    *left = netfw_msg_remaining(m);
  return rc;
}

/* Decodes n bytes as a Put, whole, and expects these values; mtime < 0:
 * absent. */
static void assert_put(const uint8_t *b, size_t n, uint32_t mode,
                       ev_Access access, const char *note, int64_t mtime,
                       unsigned pv) {
  ev_Put p;
  size_t left = 99;

  memset(&p, 0x5a, sizeof(p));
  assert_int_equal(decode_put(b, n, &p, &left), 0);
  assert_int_equal(left, 0);
  assert_true(str_eq(p.path, "a"));
  assert_int_equal(p.mode, mode);
  assert_int_equal(p.access, access);
  assert_true(str_eq(p.note, note));
  assert_int_equal(p.has_mtime, mtime >= 0);
  if (mtime >= 0)
    assert_true(p.mtime == (uint64_t)mtime);
  assert_int_equal(p.present_version, pv);
}

static void test_evolve_put_from_each_version(void **state) {
  (void)state;
  /* version 1: groups 2 and 3 take their defaults */
  assert_put(put_v1, sizeof(put_v1), 420, EV_ACCESS_READ, "none", -1, 1);
  assert_put(put_v2, sizeof(put_v2), 493, EV_ACCESS_WRITE, "none", -1, 2);
  assert_put(put_v3, sizeof(put_v3), 493, EV_ACCESS_WRITE, "hi", 42, 3);
}

static void test_evolve_put_encoder_writes_every_field(void **state) {
  ev_Put p = {.path = str("a"), .mode = 493, .access = EV_ACCESS_WRITE,
              .note = str("hi"), .has_mtime = true, .mtime = 42,
              .present_version = 1}; /* ignored by the encoder */
  netfw_msg m;

  (void)state;
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_Put_encode(&p, &m), 0);
  assert_int_equal(netfw_msg_id(&m), EV_PUT_ID);
  assert_payload(&m, put_v3, sizeof(put_v3));
  assert_int_equal(ev_Put_encoded_size(&p), sizeof(put_v3));
  netfw_msg_release(&m);
}

/* Decodes n bytes as a Put, encodes it again and expects exp. */
static void put_reencodes_to(const uint8_t *b, size_t n, const uint8_t *exp,
                             size_t nexp) {
  ev_Put p;
  netfw_msg m;

  assert_int_equal(decode_put(b, n, &p, NULL), 0);
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_Put_encode(&p, &m), 0);
  assert_payload(&m, exp, nexp);
  assert_int_equal(ev_Put_encoded_size(&p), nexp);
  netfw_msg_release(&m);
}

static void test_evolve_put_reencoding_is_canonical(void **state) {
  static const uint8_t v2_canon[] = {0x01, 'a', 0xed, 0x01, 0x00, 0x00, 0x01,
                                     0x04, 'n', 'o',  'n',  'e',  0x00};
  ev_Put p;

  (void)state;
  put_reencodes_to(put_v1, sizeof(put_v1), put_v1_canon, sizeof(put_v1_canon));
  put_reencodes_to(put_v2, sizeof(put_v2), v2_canon, sizeof(v2_canon));
  put_reencodes_to(put_v3, sizeof(put_v3), put_v3, sizeof(put_v3));
  /* the canonical form is a version-3 payload and a fixed point */
  put_reencodes_to(put_v1_canon, sizeof(put_v1_canon), put_v1_canon,
                   sizeof(put_v1_canon));
  assert_int_equal(decode_put(put_v1_canon, sizeof(put_v1_canon), &p, NULL), 0);
  assert_int_equal(p.present_version, 3);
}

/* Ends before a [since] group succeed, every other end is malformed; more
 * bytes than version 3 knows are left unread. */
static void test_evolve_put_truncations(void **state) {
  uint8_t longer[sizeof(put_v3) + 2];
  ev_Put p;
  size_t left;

  (void)state;
  for (size_t n = 0; n <= sizeof(put_v3); n++) {
    int rc = decode_put(put_v3, n, &p, &left);
    if (n == 2 || n == 7 || n == sizeof(put_v3)) {
      assert_int_equal(rc, 0);
      assert_int_equal(left, 0);
      assert_int_equal(p.present_version, n == 2 ? 1 : n == 7 ? 2 : 3);
    } else if (rc != NETFW_EPROTO) {
      fail_msg("%zu bytes of put_v3: %d, expected NETFW_EPROTO", n, rc);
    }
  }
  memcpy(longer, put_v3, sizeof(put_v3));
  longer[sizeof(put_v3)] = 0xee;
  longer[sizeof(put_v3) + 1] = 0xff;
  assert_int_equal(decode_put(longer, sizeof(longer), &p, &left), 0);
  assert_int_equal(left, 2);
  assert_int_equal(p.present_version, 3);
}

static void test_evolve_closed_enum_still_refuses(void **state) {
  static const uint8_t bad[] = {0x01, 'a', 0xed, 0x01, 0x00, 0x00, 0x02};
  ev_Put p = {.path = str("a"), .access = (ev_Access)2};
  ev_Put back;
  netfw_msg m;

  (void)state;
  assert_int_equal(decode_put(bad, sizeof(bad), &back, NULL), NETFW_EPROTO);
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_Put_encode(&p, &m), NETFW_EINVAL);
  assert_int_equal(netfw_msg_size(&m), 0);
  netfw_msg_release(&m);
}

/* ---- List: an extensible struct in a repeated field ------------------- */

static int decode_list(const uint8_t *b, size_t n, ev_List *out,
                       netfw_arena *a, size_t *left) {
  netfw_msg *m = hold(EV_LIST_ID, b, n);
  int rc = ev_List_decode(m, out, a);
  if (left != NULL)
    *left = netfw_msg_remaining(m);
  return rc;
}

/* Fails unless e is {name, size, mode} decoded at present_version pv. */
static void assert_entry(const ev_Entry *e, const char *name, uint32_t size,
                         uint32_t mode, unsigned pv) {
  assert_true(str_eq(e->name, name));
  assert_int_equal(e->size, size);
  assert_int_equal(e->mode, mode);
  assert_int_equal(e->present_version, pv);
}

static void test_evolve_list_from_old_and_new_peers(void **state) {
  netfw_arena a;
  ev_List l;
  size_t left;

  (void)state;
  netfw_arena_init(&a);
  assert_int_equal(decode_list(list_v1, sizeof(list_v1), &l, &a, &left), 0);
  assert_int_equal(left, 0);
  assert_int_equal(l.files_count, 2);
  assert_entry(&l.files[0], "a", 3, 420, 1);
  assert_entry(&l.files[1], "bb", 258, 420, 1);
  assert_int_equal(decode_list(list_v3, sizeof(list_v3), &l, &a, &left), 0);
  assert_int_equal(left, 0);
  assert_int_equal(l.files_count, 2);
  assert_entry(&l.files[0], "a", 3, 420, 2); /* Entry's newest group is 2 */
  assert_entry(&l.files[1], "bb", 258, 493, 2);
  /* a version-4 entry: the byte after the fields known is skipped */
  assert_int_equal(decode_list(list_v4, sizeof(list_v4), &l, &a, &left), 0);
  assert_int_equal(left, 0);
  assert_int_equal(l.files_count, 1);
  assert_entry(&l.files[0], "a", 3, 420, 2);
  netfw_arena_free(&a);
}

static void test_evolve_list_encoding_and_reencoding(void **state) {
  ev_Entry e[2] = {{.name = str("a"), .size = 3, .mode = 420},
                   {.name = str("bb"), .size = 258, .mode = 493}};
  ev_List l = {.files = e, .files_count = 2};
  static const uint8_t v1_canon[] = {
      0x02, 0x0a, 0x01, 'a', 0x03, 0x00, 0x00, 0x00, 0xa4, 0x01, 0x00, 0x00,
      0x0b, 0x02, 'b',  'b', 0x02, 0x01, 0x00, 0x00, 0xa4, 0x01, 0x00, 0x00};
  netfw_arena a;
  netfw_msg m;

  (void)state;
  netfw_arena_init(&a);
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_List_encode(&l, &m), 0);
  assert_payload(&m, list_v3, sizeof(list_v3));
  assert_int_equal(ev_List_encoded_size(&l), sizeof(list_v3));
  assert_int_equal(decode_list(list_v1, sizeof(list_v1), &l, &a, NULL), 0);
  netfw_msg_clear(&m);
  assert_int_equal(ev_List_encode(&l, &m), 0);
  assert_payload(&m, v1_canon, sizeof(v1_canon));
  assert_int_equal(decode_list(list_v4, sizeof(list_v4), &l, &a, NULL), 0);
  netfw_msg_clear(&m);
  assert_int_equal(ev_List_encode(&l, &m), 0);
  assert_payload(&m, list_v4_canon, sizeof(list_v4_canon));
  netfw_msg_release(&m);
  netfw_arena_free(&a);
}

/* The window: larger than the bytes left, or ending inside a field or
 * before a field without [since], is malformed; a window ending at the
 * [since 2] group gets the default even with bytes after it. */
static void test_evolve_list_bad_windows(void **state) {
  static const uint8_t too_long[] = {0x01, 0x0b, 0x01, 'a',  0x03, 0x00,
                                     0x00, 0x00, 0xa4, 0x01, 0x00, 0x00};
  static const uint8_t in_size[] = {0x01, 0x04, 0x01, 'a', 0x03, 0x00, 0x00, 0x00};
  static const uint8_t before_size[] = {0x01, 0x02, 0x01, 'a',
                                        0x03, 0x00, 0x00, 0x00};
  static const uint8_t in_mode[] = {0x01, 0x08, 0x01, 'a',  0x03,
                                    0x00, 0x00, 0x00, 0xa4, 0x01};
  static const uint8_t at_group[] = {0x01, 0x06, 0x01, 'a',  0x03, 0x00,
                                     0x00, 0x00, 0xa4, 0x01, 0x00, 0x00};
  static const uint8_t empty[] = {0x01, 0x00};
  netfw_arena a;
  ev_List l;
  size_t left;

  (void)state;
  netfw_arena_init(&a);
  assert_int_equal(decode_list(too_long, sizeof(too_long), &l, &a, NULL), NETFW_EPROTO);
  assert_int_equal(decode_list(in_size, sizeof(in_size), &l, &a, NULL), NETFW_EPROTO);
  assert_int_equal(decode_list(before_size, sizeof(before_size), &l, &a, NULL),
                   NETFW_EPROTO);
  assert_int_equal(decode_list(in_mode, sizeof(in_mode), &l, &a, NULL), NETFW_EPROTO);
  assert_int_equal(decode_list(empty, sizeof(empty), &l, &a, NULL), NETFW_EPROTO);
  /* the list ends after the window; the 4 bytes after it are the message's
   * trailing bytes, left unread */
  assert_int_equal(decode_list(at_group, sizeof(at_group), &l, &a, &left), 0);
  assert_int_equal(left, 4);
  assert_int_equal(l.files_count, 1);
  assert_entry(&l.files[0], "a", 3, 420, 1);
  /* every cut of list_v3 is malformed: the count promises two entries */
  for (size_t n = 0; n < sizeof(list_v3); n++)
    assert_int_equal(decode_list(list_v3, n, &l, &a, NULL), NETFW_EPROTO);
  netfw_arena_free(&a);
}

/* The u8 prefix counts at most 255 bytes of fields: 1 + 246 + 4 + 4. */
static void test_evolve_extensible_prefix_overflow_is_e2big(void **state) {
  char name[247];
  ev_Entry e = {.name = {name, 247}, .size = 1, .mode = 2};
  ev_List l = {.files = &e, .files_count = 1};
  netfw_msg m;

  (void)state;
  memset(name, 'n', sizeof(name));
  netfw_msg_init(&m, 9);
  assert_int_equal(ev_List_encode(&l, &m), NETFW_E2BIG);
  assert_int_equal(netfw_msg_size(&m), 0); /* unchanged */
  assert_int_equal(ev_Entry_encode(&e, &m), NETFW_E2BIG);
  assert_int_equal(netfw_msg_size(&m), 0);
  e.name.len = 246;
  assert_int_equal(ev_List_encode(&l, &m), 0);
  assert_int_equal(netfw_msg_size(&m), 1 + 1 + 255);
  assert_int_equal(netfw_msg_payload(&m)[1], 0xff);
  assert_int_equal(netfw_msg_payload(&m)[2], 246);
  netfw_msg_release(&m);
}

/* The struct's own codec: prefix and fields, decoded from the cursor. */
static void test_evolve_entry_struct_codec(void **state) {
  ev_Entry e = {.name = str("a"), .size = 3, .mode = 420};
  ev_Entry back;
  netfw_msg m;

  (void)state;
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_Entry_encode(&e, &m), 0);
  assert_payload(&m, list_v3 + 1, 11);
  assert_int_equal(ev_Entry_encoded_size(&e), 11);
  assert_int_equal(ev_Entry_decode(&m, &back, NULL), 0);
  assert_entry(&back, "a", 3, 420, 2);
  assert_int_equal(netfw_msg_remaining(&m), 0);
  netfw_msg_release(&m);
}

/* ---- Ack: an open enum; Hello: nothing but [since] fields ------------- */

static void test_evolve_open_enum_takes_any_value(void **state) {
  ev_Ack ack = {.rc = 7};
  netfw_msg m;
  netfw_msg *in;

  (void)state;
  assert_int_equal(sizeof(ev_Rc), 1); /* its underlying type */
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_Ack_encode(&ack, &m), 0);
  assert_payload(&m, ack_7, sizeof(ack_7));
  netfw_msg_release(&m);
  for (unsigned v = 0; v < 256; v++) {
    uint8_t b = (uint8_t)v;
    in = borrowed(EV_ACK_ID, &b, 1);
    assert_int_equal(ev_Ack_decode(in, &ack, NULL), 0);
    assert_int_equal(ack.rc, v);
    borrowed_free(in);
  }
  assert_int_equal(EV_RC_OK, 0);
  assert_int_equal(EV_RC_DENIED, 1);
}

/* Fails unless h holds Hello's defaults, decoded at present_version pv. */
static void assert_hello_defaults(const ev_Hello *h, unsigned pv) {
  assert_int_equal(h->delta, -2);
  assert_true(h->ratio == 1.5f);
  assert_true(h->fast);
  assert_int_equal(h->tag.len, 2);
  assert_memory_equal(h->tag.ptr, "\x00\xff", 2);
  assert_true(str_eq(h->who, "caf\xc3\xa9"));
  assert_int_equal(h->rc, EV_RC_DENIED);
  assert_int_equal(h->ports_count, 0);
  assert_int_equal(h->pad[0], 0);
  assert_int_equal(h->pad[1], 0);
  assert_int_equal(h->present_version, pv);
}

static void test_evolve_hello_empty_payload_is_all_defaults(void **state) {
  netfw_msg *in = borrowed(EV_HELLO_ID, NULL, 0);
  netfw_msg m;
  ev_Hello h;

  (void)state;
  memset(&h, 0x5a, sizeof(h));
  assert_int_equal(ev_Hello_decode(in, &h, NULL), 0);
  assert_hello_defaults(&h, 1);
  netfw_msg_init(&m, 0);
  assert_int_equal(ev_Hello_encode(&h, &m), 0);
  assert_payload(&m, hello_canon, sizeof(hello_canon));
  assert_int_equal(ev_Hello_encoded_size(&h), sizeof(hello_canon));
  assert_int_equal(ev_Hello_decode(&m, &h, NULL), 0);
  assert_hello_defaults(&h, 2);
  assert_int_equal(netfw_msg_remaining(&m), 0);
  netfw_msg_release(&m);
  borrowed_free(in);
  /* one group: every end inside it is malformed */
  for (size_t n = 1; n < sizeof(hello_canon); n++) {
    in = borrowed(EV_HELLO_ID, hello_canon, n);
    assert_int_equal(ev_Hello_decode(in, &h, NULL), NETFW_EPROTO);
    borrowed_free(in);
  }
}

/* ---- the re-encoding property on random and mutated payloads ---------- */

#define REENCODE(T)                                                            \
  static int re_##T(netfw_msg *in, netfw_arena *a, netfw_msg *out) {           \
    T v;                                                                       \
    int rc = T##_decode(in, &v, a);                                            \
    return rc != 0 ? rc : T##_encode(&v, out);                                 \
  }
REENCODE(ev_Put)
REENCODE(ev_List)
REENCODE(ev_Ack)
REENCODE(ev_Hello)

/* Every accepted payload p re-encodes to q = encode(decode(p)), which
 * decodes whole and re-encodes to itself; for Ack (not evolving) q is the
 * bytes consumed from p. Everything else is refused with NETFW_EPROTO. */
static void test_evolve_random_payloads_reencode_canonically(void **state) {
  static const struct {
    int (*fn)(netfw_msg *, netfw_arena *, netfw_msg *);
    uint16_t id;
    const uint8_t *seed;
    size_t n;
  } t[] = {{re_ev_Put, EV_PUT_ID, put_v3, sizeof(put_v3)},
           {re_ev_List, EV_LIST_ID, list_v3, sizeof(list_v3)},
           {re_ev_List, EV_LIST_ID, list_v4, sizeof(list_v4)},
           {re_ev_Ack, EV_ACK_ID, ack_7, sizeof(ack_7)},
           {re_ev_Hello, EV_HELLO_ID, hello_canon, sizeof(hello_canon)}};
  uint32_t x = 0x9e3779b9u;
  netfw_arena a;
  netfw_msg q, r;
  uint8_t buf[32];
  int accepted = 0;

  (void)state;
  netfw_arena_init(&a);
  netfw_msg_init(&q, 0);
  netfw_msg_init(&r, 0);
  for (int iter = 0; iter < 20000; iter++) {
    size_t f = (size_t)iter % (sizeof(t) / sizeof(t[0])), n = t[f].n;
    netfw_msg *in;
    int rc;
    memcpy(buf, t[f].seed, n);
    for (int k = iter % 3; k >= 0; k--) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      buf[x % n] = (uint8_t)(x >> 8);
    }
    n = x % (n + 1);
    in = borrowed(t[f].id, buf, n);
    netfw_msg_clear(&q);
    netfw_msg_clear(&r);
    netfw_arena_reset(&a);
    rc = t[f].fn(in, &a, &q);
    if (rc == 0) {
      accepted++;
      if (t[f].id == EV_ACK_ID)
        assert_payload(&q, buf, n - netfw_msg_remaining(in));
      assert_int_equal(t[f].fn(&q, &a, &r), 0);
      assert_int_equal(netfw_msg_remaining(&q), 0);
      assert_payload(&r, netfw_msg_payload(&q), netfw_msg_size(&q));
    } else if (rc != NETFW_EPROTO) {
      fail_msg("id %u, %zu bytes: %d", t[f].id, n, rc);
    }
    borrowed_free(in);
  }
  assert_true(accepted > 1000);
  netfw_msg_release(&q);
  netfw_msg_release(&r);
  netfw_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_evolve_doc_fixtures_match),
      cmocka_unit_test(test_evolve_put_from_each_version),
      cmocka_unit_test(test_evolve_put_encoder_writes_every_field),
      cmocka_unit_test(test_evolve_put_reencoding_is_canonical),
      cmocka_unit_test(test_evolve_put_truncations),
      cmocka_unit_test(test_evolve_closed_enum_still_refuses),
      cmocka_unit_test(test_evolve_list_from_old_and_new_peers),
      cmocka_unit_test(test_evolve_list_encoding_and_reencoding),
      cmocka_unit_test(test_evolve_list_bad_windows),
      cmocka_unit_test(test_evolve_extensible_prefix_overflow_is_e2big),
      cmocka_unit_test(test_evolve_entry_struct_codec),
      cmocka_unit_test(test_evolve_open_enum_takes_any_value),
      cmocka_unit_test(test_evolve_hello_empty_payload_is_all_defaults),
      cmocka_unit_test(test_evolve_random_payloads_reencode_canonically),
  };
  return cmocka_run_group_tests(tests, NULL, release_held);
}
