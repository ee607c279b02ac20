/* The sample values of protocols/file_storage.netproto (the fixtures of
 * docs/netproto.md first), protocols/chat.netproto and
 * tests/gen/all_types_be.netproto (big-endian), encoded by the C encoders
 * for test_fixtures.py. The first sample of each type is its zero value
 * (Python: `Cls()`), except chat's Refused: its enum has no 0, so both
 * sides default to the first constant, NICK_TAKEN. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "all_types_be.netfw.h"
#include "chat.netfw.h"
#include "file_storage.netfw.h"
#include "py_helper.h"

void py_fixtures_fs(void) {
  file_storage_FileEntry fe0 = {0}, fe1 = {s("bb"), 258};
  file_storage_Add a0 = {0}, a1 = {s("a.txt"), b("\x01\x02\x03", 3)};
  file_storage_Del d0 = {0}, d1 = {s("x")};
  file_storage_Get g0 = {0}, g1 = {s("y")};
  file_storage_GetResp gr0 = {0}, gr1 = {s("a.txt"), b("hi", 2)};
  file_storage_List l0 = {0};
  file_storage_FileEntry two[] = {{s("a.txt"), 3}, {s("bb"), 258}};
  file_storage_ListResp lr0 = {0}, lr1 = {two, 2};
  file_storage_Ack k0 = {0}, k1 = {FILE_STORAGE_RC_OK},
                   k2 = {FILE_STORAGE_RC_FILE_NOT_FOUND};

  PY_EMIT(file_storage, FileEntry, &fe0);
  PY_EMIT(file_storage, FileEntry, &fe1);
  PY_EMIT(file_storage, Add, &a0);
  PY_EMIT(file_storage, Add, &a1);
  PY_EMIT(file_storage, Del, &d0);
  PY_EMIT(file_storage, Del, &d1);
  PY_EMIT(file_storage, Get, &g0);
  PY_EMIT(file_storage, Get, &g1);
  PY_EMIT(file_storage, GetResp, &gr0);
  PY_EMIT(file_storage, GetResp, &gr1);
  PY_EMIT(file_storage, List, &l0);
  PY_EMIT(file_storage, ListResp, &lr0);
  PY_EMIT(file_storage, ListResp, &lr1);
  PY_EMIT(file_storage, Ack, &k0);
  PY_EMIT(file_storage, Ack, &k1);
  PY_EMIT(file_storage, Ack, &k2);
}

void py_fixtures_chat(void) {
  netfw_str members[] = {s("bob"), s("carol")};
  chat_Join j0 = {0}, j1 = {s("alice")};
  chat_Joined jd0 = {0}, jd1 = {members, 2};
  chat_Refused r0 = {CHAT_REFUSAL_NICK_TAKEN},
               r1 = {CHAT_REFUSAL_ALREADY_JOINED};
  chat_Say s0 = {0}, s1 = {s("hello \xe2\x9c\x93")};
  chat_Line l0 = {0}, l1 = {s("bob"), s("hi")};
  chat_MemberJoined m0 = {0}, m1 = {s("dave")};
  chat_MemberLeft ml0 = {0}, ml1 = {s("eve")};
  chat_Leave lv0 = {0};

  PY_EMIT(chat, Join, &j0);
  PY_EMIT(chat, Join, &j1);
  PY_EMIT(chat, Joined, &jd0);
  PY_EMIT(chat, Joined, &jd1);
  PY_EMIT(chat, Refused, &r0);
  PY_EMIT(chat, Refused, &r1);
  PY_EMIT(chat, Say, &s0);
  PY_EMIT(chat, Say, &s1);
  PY_EMIT(chat, Line, &l0);
  PY_EMIT(chat, Line, &l1);
  PY_EMIT(chat, MemberJoined, &m0);
  PY_EMIT(chat, MemberJoined, &m1);
  PY_EMIT(chat, MemberLeft, &ml0);
  PY_EMIT(chat, MemberLeft, &ml1);
  PY_EMIT(chat, Leave, &lv0);
}

void py_fixtures_atb(void) {
  atb_Tree leaf = {s("k"), NULL, 0};
  uint32_t nums[] = {1, 0x01020304};
  netfw_str words[] = {s("x")};
  atb_Point points[] = {{1, 2}};
  atb_Color colors[] = {ATB_COLOR_BLUE, ATB_COLOR_RED};
  atb_Point p0 = {0}, p1 = {-2, 0x01020304};
  atb_Tree t0 = {0};
  atb_Inner i0 = {0};
  atb_Scalars sc0 = {0};
  atb_Scalars sc1 = {1, 0x0102, 258, 1, -1, -2, INT32_MIN, -4, 1.0f, -2.0, true};
  atb_Texts tx0 = {0};
  atb_Texts tx1 = {s("a"), s("bc"), s(""), b("\x01", 1), b("\x02\x03", 2),
                   b("", 0)};
  atb_Enums e0 = {0}, e1 = {ATB_COLOR_GREEN, ATB_WIDE_HIGH, ATB_BIG_TOP};
  atb_Arrays a0 = {0};
  atb_Arrays a1 = {{1, 0x0203, 65535}, {{1, -1}, {0, 2}}, {s("n"), s("")}};
  atb_Repeats r0 = {0};
  atb_Repeats r1 = {nums, 2, words, 1, points, 1, colors, 2};
  atb_Optionals o0 = {0};
  atb_Optionals o1 = {true, 5, false, {0}, true, {1, -1},
                      true, {false, {0, 0}, ATB_COLOR_GREEN}};
  atb_Nested n0 = {0};
  atb_Nested n1 = {{s("r"), &leaf, 1}, {true, {1, 2}, ATB_COLOR_RED}};
  atb_Empty em0 = {0};

  PY_EMIT(atb, Point, &p0);
  PY_EMIT(atb, Point, &p1);
  PY_EMIT(atb, Tree, &t0);
  PY_EMIT(atb, Inner, &i0);
  PY_EMIT(atb, Scalars, &sc0);
  PY_EMIT(atb, Scalars, &sc1);
  PY_EMIT(atb, Texts, &tx0);
  PY_EMIT(atb, Texts, &tx1);
  PY_EMIT(atb, Enums, &e0);
  PY_EMIT(atb, Enums, &e1);
  PY_EMIT(atb, Arrays, &a0);
  PY_EMIT(atb, Arrays, &a1);
  PY_EMIT(atb, Repeats, &r0);
  PY_EMIT(atb, Repeats, &r1);
  PY_EMIT(atb, Optionals, &o0);
  PY_EMIT(atb, Optionals, &o1);
  PY_EMIT(atb, Nested, &n0);
  PY_EMIT(atb, Nested, &n1);
  PY_EMIT(atb, Empty, &em0);
}
