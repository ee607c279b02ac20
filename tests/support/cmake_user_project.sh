# Sourced (`. .../cmake_user_project.sh`) by the test scripts that drive a
# user project through netfw_add_protocol() with an imported
# netfw::netfw-gen, as from an installed package (gen/cmake_protocol_test.sh,
# compat/cmake_baseline_test.sh). Reads the script's arguments
#   CMAKE NETFW_GEN LIBNETFW SOURCE_DIR WORK_DIR [LINK_OPTION]
# into CMAKE GEN LIB SRC WORK LINKOPT and defines:
#   fail MESSAGE             prints "FAIL: MESSAGE" and exits 1;
#   user_project [ARG...]    a new $WORK/proj: a CMakeLists.txt calling
#                            netfw_add_protocol(demo_proto schema/demo.netproto
#                            CODEC_ONLY ARG...) and an app (main.c) printing
#                            "id ID size SIZE" of an encoded demo_Ping
#                            {seq = 7}; the schema is the caller's to write;
#   configure_and_build      configures $WORK/build and builds it (output in
#                            $WORK/log, printed on failure).
set -u
CMAKE=$1
GEN=$2
LIB=$3
SRC=$4
WORK=$5
LINKOPT=${6:-}

fail() { echo "FAIL: $*"; exit 1; }

user_project() {
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
netfw_add_protocol(demo_proto schema/demo.netproto CODEC_ONLY $*)
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
}

configure_and_build() {
  "$CMAKE" -S "$WORK/proj" -B "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "configure"; }
  "$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "first build"; }
}
