#!/bin/sh
# netfw_add_protocol() as a user project sees it (imported netfw::netfw-gen,
# as from an installed package): builds, regenerates when the schema
# changes, and fails the build (never reusing stale output) on a schema error.
#
# usage: cmake_protocol_test.sh CMAKE NETFW_GEN LIBNETFW SOURCE_DIR WORK_DIR
#                                [LINK_OPTION] (e.g. the sanitizer flag)
set -u
CMAKE=$1
GEN=$2
LIB=$3
SRC=$4
WORK=$5
LINKOPT=${6:-}

fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK/proj/schema"
cat >"$WORK/proj/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(uses_netfw C)
add_executable(netfw::netfw-gen IMPORTED)
set_target_properties(netfw::netfw-gen PROPERTIES IMPORTED_LOCATION "$GEN")
add_library(netfw::netfw INTERFACE IMPORTED)
set_target_properties(netfw::netfw PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "$SRC/include"
  INTERFACE_LINK_LIBRARIES "$LIB"
  INTERFACE_LINK_OPTIONS "$LINKOPT")
include("$SRC/cmake/NetfwProtocol.cmake")
netfw_add_protocol(demo_proto schema/demo.netproto CODEC_ONLY)
add_executable(app main.c)
target_link_libraries(app PRIVATE demo_proto)
CMAKE
cat >"$WORK/proj/main.c" <<'C'
#include <stdio.h>
#include "demo.netfw.h"
int main(void) {
  demo_Ping p = {0};
  netfw_msg m;
  netfw_msg_init(&m, 0);
  p.seq = 7;
  if (demo_Ping_encode(&p, &m) != 0)
    return 1;
  printf("id %u size %u\n", (unsigned)netfw_msg_id(&m), (unsigned)netfw_msg_size(&m));
  netfw_msg_release(&m);
  return 0;
}
C
printf 'protocol demo;\nmessage Ping = 3 { u32 seq; }\n' >"$WORK/proj/schema/demo.netproto"

"$CMAKE" -S "$WORK/proj" -B "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "configure"; }
"$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "first build"; }
[ "$("$WORK/build/app")" = "id 3 size 4" ] || fail "first run: $("$WORK/build/app")"
echo "ok: builds and runs"

sleep 1 # coarse file timestamps
printf 'protocol demo;\nmessage Ping = 3 { u32 seq; u64 when; }\n' >"$WORK/proj/schema/demo.netproto"
"$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "rebuild"; }
[ "$("$WORK/build/app")" = "id 3 size 12" ] || fail "not regenerated: $("$WORK/build/app")"
echo "ok: a schema change regenerates"

sleep 1
printf 'protocol demo;\nmessage Ping = 3 { u32 seq; Nope when; }\n' >"$WORK/proj/schema/demo.netproto"
if "$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1; then
  fail "a broken schema built"
fi
grep -q "demo.netproto:2:29: error: unknown type 'Nope'" "$WORK/log" || { cat "$WORK/log"; fail "error text"; }
if "$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1; then
  fail "the second build after a schema error reused stale output"
fi
echo "ok: a schema error fails every build until fixed"

sleep 1
printf 'protocol demo;\nmessage Ping = 3 { u32 seq; u8 when; }\n' >"$WORK/proj/schema/demo.netproto"
"$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "build after fix"; }
[ "$("$WORK/build/app")" = "id 3 size 5" ] || fail "after fix: $("$WORK/build/app")"
echo "ok: fixed schema builds"
echo "all passed"
