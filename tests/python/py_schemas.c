/* The schemas the Python tests compare against, with their types in
 * declaration order, and the helpers' output format (py_helper.h). */
#include <stdio.h>
#include <string.h>

#include "all_types.netfw.h"
#include "all_types_be.netfw.h"
#include "chat.netfw.h"
#include "file_storage.netfw.h"
#include "py_evolve_v1.netfw.h"
#include "py_evolve_v2.netfw.h"
#include "py_helper.h"

/* tests/fuzz/all_types.netproto */
PY_ROUNDTRIP(fz, Point)
PY_ROUNDTRIP(fz, Inner)
PY_ROUNDTRIP(fz, Tree)
PY_ROUNDTRIP(fz, Deep)
PY_ROUNDTRIP(fz, Ints)
PY_ROUNDTRIP(fz, Floats)
PY_ROUNDTRIP(fz, Strings)
PY_ROUNDTRIP(fz, Blobs)
PY_ROUNDTRIP(fz, Enums)
PY_ROUNDTRIP(fz, Arrays)
PY_ROUNDTRIP(fz, Repeats)
PY_ROUNDTRIP(fz, Optionals)
PY_ROUNDTRIP(fz, Nested)
PY_ROUNDTRIP(fz, Empty)
PY_ROUNDTRIP(fz, Ext)
PY_ROUNDTRIP(fz, Window)
PY_ROUNDTRIP(fz, ETree)
PY_ROUNDTRIP(fz, Grows)
static const py_type fz_types[] = {
    {"Point", py_rt_fz_Point},         {"Inner", py_rt_fz_Inner},
    {"Tree", py_rt_fz_Tree},           {"Deep", py_rt_fz_Deep},
    {"Ints", py_rt_fz_Ints},           {"Floats", py_rt_fz_Floats},
    {"Strings", py_rt_fz_Strings},     {"Blobs", py_rt_fz_Blobs},
    {"Enums", py_rt_fz_Enums},         {"Arrays", py_rt_fz_Arrays},
    {"Repeats", py_rt_fz_Repeats},     {"Optionals", py_rt_fz_Optionals},
    {"Nested", py_rt_fz_Nested},       {"Empty", py_rt_fz_Empty},
    {"Ext", py_rt_fz_Ext},             {"Window", py_rt_fz_Window},
    {"ETree", py_rt_fz_ETree},         {"Grows", py_rt_fz_Grows}};

/* protocols/file_storage.netproto */
PY_ROUNDTRIP(file_storage, FileEntry)
PY_ROUNDTRIP(file_storage, Add)
PY_ROUNDTRIP(file_storage, Del)
PY_ROUNDTRIP(file_storage, Get)
PY_ROUNDTRIP(file_storage, GetResp)
PY_ROUNDTRIP(file_storage, List)
PY_ROUNDTRIP(file_storage, ListResp)
PY_ROUNDTRIP(file_storage, Ack)
static const py_type fs_types[] = {
    {"FileEntry", py_rt_file_storage_FileEntry},
    {"Add", py_rt_file_storage_Add},
    {"Del", py_rt_file_storage_Del},
    {"Get", py_rt_file_storage_Get},
    {"GetResp", py_rt_file_storage_GetResp},
    {"List", py_rt_file_storage_List},
    {"ListResp", py_rt_file_storage_ListResp},
    {"Ack", py_rt_file_storage_Ack}};

/* protocols/chat.netproto */
PY_ROUNDTRIP(chat, Join)
PY_ROUNDTRIP(chat, Joined)
PY_ROUNDTRIP(chat, Refused)
PY_ROUNDTRIP(chat, Say)
PY_ROUNDTRIP(chat, Line)
PY_ROUNDTRIP(chat, MemberJoined)
PY_ROUNDTRIP(chat, MemberLeft)
PY_ROUNDTRIP(chat, Leave)
static const py_type chat_types[] = {
    {"Join", py_rt_chat_Join},   {"Joined", py_rt_chat_Joined},
    {"Refused", py_rt_chat_Refused}, {"Say", py_rt_chat_Say},
    {"Line", py_rt_chat_Line},   {"MemberJoined", py_rt_chat_MemberJoined},
    {"MemberLeft", py_rt_chat_MemberLeft}, {"Leave", py_rt_chat_Leave}};

/* tests/gen/all_types_be.netproto (big-endian) */
PY_ROUNDTRIP(atb, Point)
PY_ROUNDTRIP(atb, Tree)
PY_ROUNDTRIP(atb, Inner)
PY_ROUNDTRIP(atb, Scalars)
PY_ROUNDTRIP(atb, Texts)
PY_ROUNDTRIP(atb, Enums)
PY_ROUNDTRIP(atb, Arrays)
PY_ROUNDTRIP(atb, Repeats)
PY_ROUNDTRIP(atb, Optionals)
PY_ROUNDTRIP(atb, Nested)
PY_ROUNDTRIP(atb, Empty)
static const py_type atb_types[] = {
    {"Point", py_rt_atb_Point},         {"Tree", py_rt_atb_Tree},
    {"Inner", py_rt_atb_Inner},         {"Scalars", py_rt_atb_Scalars},
    {"Texts", py_rt_atb_Texts},         {"Enums", py_rt_atb_Enums},
    {"Arrays", py_rt_atb_Arrays},       {"Repeats", py_rt_atb_Repeats},
    {"Optionals", py_rt_atb_Optionals}, {"Nested", py_rt_atb_Nested},
    {"Empty", py_rt_atb_Empty}};

/* tests/python/py_evolve_v1.netproto and py_evolve_v2.netproto */
PY_ROUNDTRIP(pyev1, Item)
PY_ROUNDTRIP(pyev1, Hello)
PY_ROUNDTRIP(pyev1, Status)
PY_ROUNDTRIP(pyev1, Bye)
static const py_type pyev1_types[] = {{"Item", py_rt_pyev1_Item},
                                      {"Hello", py_rt_pyev1_Hello},
                                      {"Status", py_rt_pyev1_Status},
                                      {"Bye", py_rt_pyev1_Bye}};
PY_ROUNDTRIP(pyev2, Item)
PY_ROUNDTRIP(pyev2, Hello)
PY_ROUNDTRIP(pyev2, Status)
PY_ROUNDTRIP(pyev2, Bye)
PY_ROUNDTRIP(pyev2, Extra)
static const py_type pyev2_types[] = {
    {"Item", py_rt_pyev2_Item},     {"Hello", py_rt_pyev2_Hello},
    {"Status", py_rt_pyev2_Status}, {"Bye", py_rt_pyev2_Bye},
    {"Extra", py_rt_pyev2_Extra}};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const py_schema schemas[] = {
    {"fz", fz_types, N(fz_types), py_fixtures_fz},
    {"fs", fs_types, N(fs_types), py_fixtures_fs},
    {"chat", chat_types, N(chat_types), py_fixtures_chat},
    {"atb", atb_types, N(atb_types), py_fixtures_atb},
    {"pyev1", pyev1_types, N(pyev1_types), py_fixtures_pyev1},
    {"pyev2", pyev2_types, N(pyev2_types), py_fixtures_pyev2}};

const py_schema *py_schema_find(const char *name) {
  for (size_t i = 0; i < N(schemas); i++)
    if (strcmp(schemas[i].name, name) == 0)
      return &schemas[i];
  return NULL;
}

void py_hex(const unsigned char *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    putchar(digits[p[i] >> 4]);
    putchar(digits[p[i] & 15]);
  }
}

void py_emit(const char *type, int err, netfw_msg *m) {
  if (err != 0) {
    printf("%s err %s\n", type, netfw_err_name(err));
  } else {
    printf("%s ok ", type);
    if (netfw_msg_size(m) > 0)
      py_hex(netfw_msg_payload(m), netfw_msg_size(m));
    putchar('\n');
  }
  netfw_msg_release(m);
}
