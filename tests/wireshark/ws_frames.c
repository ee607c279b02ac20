/* ws_frames SCHEMA: prints whole frames (6-byte header, then the payload
 * written by the generated C encoder) of sample messages, one
 * "NAME HEX" line each, for the dissector tests (test_dissector.py), which
 * wrap them in TCP segments and compare what tshark shows with the values.
 * SCHEMA: fs (protocols/file_storage.netproto), chat (protocols/
 * chat.netproto), fz (tests/fuzz/all_types.netproto). Every message of each
 * schema comes at least once. Exit status 0; 1 if an encoder fails; 2 on a
 * usage error. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "all_types.netfw.h"
#include "chat.netfw.h"
#include "file_storage.netfw.h"

static int failures;

/* Prints "name HEX" for the frame of m (id, size, payload), or counts the
 * encoder's error; releases m. */
static void frame(const char *name, int err, netfw_msg *m) {
  if (err != 0) {
    fprintf(stderr, "ws_frames: encoding %s: %s\n", name, netfw_strerror(err));
    failures++;
  } else {
    uint32_t n = netfw_msg_size(m);
    uint16_t id = netfw_msg_id(m);
    const uint8_t *p = netfw_msg_payload(m);
    printf("%s %02x%02x%02x%02x%02x%02x", name, id & 0xff, id >> 8, n & 0xff,
           (n >> 8) & 0xff, (n >> 16) & 0xff, n >> 24);
    for (uint32_t i = 0; i < n; i++)
      printf("%02x", p[i]);
    printf("\n");
  }
  netfw_msg_release(m);
}

/* Encodes *v as message T (id ID) of protocol P and prints its frame. */
#define FRAME(P, T, ID, v)                                                     \
  do {                                                                         \
    netfw_msg m_;                                                              \
    netfw_msg_init(&m_, (ID));                                                 \
    frame(#T, P##_##T##_encode((v), &m_), &m_);                                \
  } while (0)

static netfw_str s(const char *p) {
  netfw_str v = {p, (uint32_t)strlen(p)};
  return v;
}

static netfw_bytes b(const void *p, uint32_t n) {
  netfw_bytes v = {p, n};
  return v;
}

/* protocols/file_storage.netproto: every message. */
static void file_storage(void) {
  file_storage_Add add = {s("a.txt"), b("\x01\x02\x03", 3)};
  file_storage_Del del = {s("old.log")};
  file_storage_Get get = {s("\xc3\xa9t\xc3\xa9.txt")};
  file_storage_GetResp resp = {s("a.txt"), b("", 0)};
  file_storage_List list = {0};
  file_storage_FileEntry files[] = {{s("a.txt"), 3}, {s("bb"), 258}};
  file_storage_ListResp lr = {files, 2};
  file_storage_Ack ack = {FILE_STORAGE_RC_FILE_NOT_FOUND};

  FRAME(file_storage, Add, FILE_STORAGE_ADD_ID, &add);
  FRAME(file_storage, Del, FILE_STORAGE_DEL_ID, &del);
  FRAME(file_storage, Get, FILE_STORAGE_GET_ID, &get);
  FRAME(file_storage, GetResp, FILE_STORAGE_GET_RESP_ID, &resp);
  FRAME(file_storage, List, FILE_STORAGE_LIST_ID, &list);
  FRAME(file_storage, ListResp, FILE_STORAGE_LIST_RESP_ID, &lr);
  FRAME(file_storage, Ack, FILE_STORAGE_ACK_ID, &ack);
}

/* protocols/chat.netproto: every message. */
static void chat(void) {
  netfw_str members[] = {s("ann"), s("bob"), s("")};
  chat_Join join = {s("zoe")};
  chat_Joined joined = {members, 3};
  chat_Refused refused = {CHAT_REFUSAL_NICK_TAKEN};
  chat_Say say = {s("hello, \xe2\x9c\x93 world")};
  chat_Line line = {s("ann"), s("hi \"there\"")};
  chat_MemberJoined mj = {s("bob")};
  chat_MemberLeft ml = {s("bob")};
  chat_Leave leave = {0};

  FRAME(chat, Join, CHAT_JOIN_ID, &join);
  FRAME(chat, Joined, CHAT_JOINED_ID, &joined);
  FRAME(chat, Refused, CHAT_REFUSED_ID, &refused);
  FRAME(chat, Say, CHAT_SAY_ID, &say);
  FRAME(chat, Line, CHAT_LINE_ID, &line);
  FRAME(chat, MemberJoined, CHAT_MEMBER_JOINED_ID, &mj);
  FRAME(chat, MemberLeft, CHAT_MEMBER_LEFT_ID, &ml);
  FRAME(chat, Leave, CHAT_LEAVE_ID, &leave);
}

/* all_types: numbers, floats, enums. */
static void fz_scalars(void) {
  fz_Ints i0 = {.k = 513, .l = -7, .m = 0.25, .n = true};
  fz_Ints i1 = {255,       65535, UINT32_MAX, UINT64_MAX, -128,
                -32768,    INT32_MIN, INT64_MIN, 65535, INT32_MAX,
                -1.5,      false, {1, 255},  0};
  fz_Floats f1 = {1.5f, -2.0, true};
  fz_Floats f2 = {-0.0f, 1e300, false};
  fz_Floats f3 = {INFINITY, -INFINITY, true};
  fz_Floats f4 = {3.4028234663852886e38f, 5e-324, false};
  fz_Enums e0 = {FZ_E8_C, FZ_E16_HI, FZ_E32_BIG, 999, FZ_E16_LO, FZ_RC_OK, 0};
  fz_Enums e1 = {FZ_E8_B,   FZ_E16_LO, FZ_E32_NIL, FZ_RC_BAD,
                 FZ_E16_HI, FZ_RC_BAD, 0};

  FRAME(fz, Ints, FZ_INTS_ID, &i0);
  FRAME(fz, Ints, FZ_INTS_ID, &i1);
  FRAME(fz, Floats, FZ_FLOATS_ID, &f1);
  FRAME(fz, Floats, FZ_FLOATS_ID, &f2);
  FRAME(fz, Floats, FZ_FLOATS_ID, &f3);
  FRAME(fz, Floats, FZ_FLOATS_ID, &f4);
  FRAME(fz, Enums, FZ_ENUMS_ID, &e0);
  FRAME(fz, Enums, FZ_ENUMS_ID, &e1);
}

/* all_types: strings, bytes, arrays, optionals. */
static void fz_texts(void) {
  static char xs[300];
  static uint8_t ramp[1000];
  netfw_str more[] = {s("x"), s("yz")};
  fz_Strings s1 = {s("a.txt"),
                   s("\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "de \xe2\x9c\x93"),
                   s("\xf0\x9f\x98\x80 emoji"),
                   s("n\xc3\xa9"),
                   b("\x00\x01", 2),
                   true,
                   7,
                   more,
                   2,
                   0};
  fz_Blobs b0 = {b("", 0), b("", 0), b("", 0)};
  fz_Blobs b1 = {b("\x01\x02\x03", 3), b(ramp, 1000), b("\0", 1)};
  fz_Arrays a1 = {{1, 2, 3, 255},
                  {s("ab"), s("")},
                  {{1, -1}, {INT32_MIN, INT32_MAX}, {0, 7}},
                  {FZ_E16_HI, FZ_E16_LO}};
  fz_Optionals o0 = {0};
  fz_Optionals o1 = {true, UINT64_MAX, true, s("s"), true, b("\x01\x02", 2),
                     true, FZ_E8_C, true, {5, -5},
                     true, {true, {3, 4}, FZ_E8_B, true}};

  memset(xs, 'x', sizeof(xs) - 1);
  for (size_t i = 0; i < sizeof(ramp); i++)
    ramp[i] = (uint8_t)i;
  fz_Strings s2 = {(netfw_str){xs, 255}, (netfw_str){xs, 299}, s(""), s(""),
                   b("", 0), false, 0, NULL, 0, 0};
  FRAME(fz, Strings, FZ_STRINGS_ID, &s1);
  FRAME(fz, Strings, FZ_STRINGS_ID, &s2);
  FRAME(fz, Blobs, FZ_BLOBS_ID, &b0);
  FRAME(fz, Blobs, FZ_BLOBS_ID, &b1);
  FRAME(fz, Arrays, FZ_ARRAYS_ID, &a1);
  FRAME(fz, Optionals, FZ_OPTIONALS_ID, &o0);
  FRAME(fz, Optionals, FZ_OPTIONALS_ID, &o1);
}

/* all_types: repeated fields, nesting, recursion, the empty message. */
static void fz_structs(void) {
  uint8_t two[] = {7, 8};
  netfw_str words[] = {s("a"), s("bb"), s("ccc")};
  fz_Point points[] = {{1, 2}, {-3, -4}};
  fz_E32 codes[] = {FZ_E32_BIG, FZ_E32_NIL};
  netfw_bytes blobs[] = {b("", 0), b("\x00\xff", 2)};
  fz_Repeats r0 = {0};
  fz_Repeats r1 = {two, 2, words, 3, points, 2, codes, 2, blobs, 2};
  fz_Tree c = {s("c"), NULL, 0};
  fz_Tree kids[] = {{s("a"), NULL, 0}, {s("b"), &c, 1}};
  fz_Deep many[] = {{{0}, false, {0}, {{0, 0}, {0, 0}}},
                    {{0}, true, {false, {0, 0}, FZ_E8_B, false},
                     {{-1, -2}, {-3, -4}}}};
  fz_Nested n1 = {{s("root"), kids, 2},
                  {{true, {1, 2}, FZ_E8_C, true}, false, {0}, {{1, 1}, {2, 2}}},
                  many,
                  2};
  fz_Empty e0 = {0};

  FRAME(fz, Repeats, FZ_REPEATS_ID, &r0);
  FRAME(fz, Repeats, FZ_REPEATS_ID, &r1);
  FRAME(fz, Nested, FZ_NESTED_ID, &n1);
  FRAME(fz, Empty, FZ_EMPTY_ID, &e0);
}

/* all_types: extensible structs in every place, [since] fields. */
static void fz_evolving(void) {
  fz_Ext x1 = {.a = 1, .s = s("e"), .more = 1, .has_at = true, .at = {1, 2},
               .rc = FZ_RC_BAD};
  fz_Ext x0 = {.more = 9};
  fz_Window wins[] = {{1}, {2}};
  fz_ETree leaf = {.v = 2, .w = 3};
  fz_ETree t1 = {.v = 1, .kids = &leaf, .kids_count = 1, .w = 4};
  fz_Ext many[] = {x1, x0};
  uint16_t ports[] = {80, 443};
  fz_Grows g0 = {.plain = x0, .two = {x0, x0}, .flag = true};
  fz_Grows g1 = {.plain = x1, .many = many, .many_count = 2, .has_maybe = true,
                 .maybe = x1, .two = {x0, x1}, .win = {9},
                 .wins = wins, .wins_count = 2, .tree = t1, .rc = 300,
                 .ports = ports, .ports_count = 2, .has_later = true,
                 .later = x1, .flag = false};

  FRAME(fz, Grows, FZ_GROWS_ID, &g0);
  FRAME(fz, Grows, FZ_GROWS_ID, &g1);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "fs") == 0) {
    file_storage();
  } else if (argc == 2 && strcmp(argv[1], "chat") == 0) {
    chat();
  } else if (argc == 2 && strcmp(argv[1], "fz") == 0) {
    fz_scalars();
    fz_texts();
    fz_structs();
    fz_evolving();
  } else {
    fprintf(stderr, "usage: ws_frames fs|chat|fz\n");
    return 2;
  }
  return failures == 0 && fflush(stdout) == 0 ? 0 : 1;
}
