#!/usr/bin/env bash
# Installs this build into a temporary prefix and builds two projects that
# know only that prefix: a CMake one (find_package) and a Makefile one
# (pkg-config + netfw-gen), each linked dynamically and statically; the
# CMake one is installed in turn and its programs run from elsewhere.
#   usage: consumer.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1
HERE=$2/tests/consumer
TMP=$(mktemp -d /tmp/netfw-consumer-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
check_run() { # check_run BINARY : runs it and checks the exchange
  local out
  out=$(timeout 30 "$1") || fail "$1 exited non-zero: $out"
  grep -qx 'pong 42 hello consumer' <<<"$out" || fail "$1 printed: $out"
}

# Build the consumers the way this tree was built: same compiler, and the
# sanitizers when they are on (an instrumented libnetfw needs their runtime).
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
export CC; CC=$(cache CMAKE_C_COMPILER)
SAN=
[ "$(cache NETFW_SANITIZE)" = ON ] && SAN=-fsanitize=address,undefined
export CFLAGS=$SAN LDFLAGS=$SAN

cmake --install "$BUILD" --prefix "$TMP/prefix" >/dev/null
P=$TMP/prefix
for f in include/netfw/netfw.h lib/libnetfw.a lib/libnetfw.so bin/netfw-gen \
         lib/cmake/netfw/netfwConfig.cmake lib/cmake/netfw/netfwConfigVersion.cmake \
         lib/cmake/netfw/NetfwProtocol.cmake lib/pkgconfig/netfw.pc; do
  [ -e "$P/$f" ] || fail "install lacks $f"
done
readelf -d "$P/lib/libnetfw.so" | grep 'SONAME' | grep -c 'libnetfw.so.0' >/dev/null || fail "soname"
leaked=$(nm -D --defined-only "$P/lib/libnetfw.so" | awk '{print $3}' | grep -v '^netfw_' || true)
[ -z "$leaked" ] || fail "libnetfw.so exports non-netfw symbols: $leaked"
[ "$("$P/bin/netfw-gen" --version | awk '{print $2}')" = \
  "$(sed -n 's/^#define NETFW_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' "$P/include/netfw/version.h" | paste -sd.)" ] \
  || fail "netfw-gen --version differs from version.h"

# 1. CMake: find_package(netfw) + netfw_add_protocol
cmake -S "$HERE/cmake_project" -B "$TMP/cmake" -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_C_COMPILER="$CC" >/dev/null
cmake --build "$TMP/cmake" >/dev/null
check_run "$TMP/cmake/ping_check"
check_run "$TMP/cmake/ping_check_static"
links() { ldd "$1" | grep -c "libnetfw.so.0 => $P/" || true; } # (no grep -q: SIGPIPE)
[ "$(links "$TMP/cmake/ping_check")" = 1 ] || fail "cmake build not linked to the installed .so"
[ "$(links "$TMP/cmake/ping_check_static")" = 0 ] || fail "static cmake build links libnetfw.so"

# 1b. The consumer's own install, run from another directory with a plain
# environment: netfw_install_rpath (shared) and STATIC (no .so at all).
cmake --install "$TMP/cmake" --prefix "$TMP/app" >/dev/null
A=$TMP/app/bin
(cd / && unset LD_LIBRARY_PATH && check_run "$A/ping_check" &&
  check_run "$A/ping_check_static")
[ "$(links "$A/ping_check")" = 1 ] || fail "installed ping_check: libnetfw.so.0 not found in $P"
dyn=$(readelf -d "$A/ping_check")
grep -E 'R(UN)?PATH' <<<"$dyn" | grep -F "$P/lib" >/dev/null \
  || fail "installed ping_check has no rpath to $P/lib: $dyn"
[ "$(links "$A/ping_check_static")" = 0 ] || fail "installed static build links libnetfw.so"
dyn=$(readelf -d "$A/ping_check_static")
if grep -F libnetfw <<<"$dyn" >/dev/null; then
  fail "installed static build needs libnetfw: $dyn"
fi
out=$(cd / && env -u LD_LIBRARY_PATH "$A/ping_check_norpath" 2>&1) \
  && fail "installed ping_check_norpath ran: the rpath check proves nothing"
grep 'libnetfw.so.0: cannot open shared object file' <<<"$out" >/dev/null \
  || fail "installed ping_check_norpath failed otherwise: $out"

# 2. and 3. Makefile + pkg-config, shared and static
export PKG_CONFIG_PATH=$P/lib/pkgconfig
for link in shared static; do
  make -s -C "$HERE/make_project" LINK=$link OUT="$TMP/make" >/dev/null
  check_run "$TMP/make/ping_check_$link"
done
[ "$(links "$TMP/make/ping_check_shared")" = 1 ] || fail "make build not linked to the .so"
[ "$(links "$TMP/make/ping_check_static")" = 0 ] || fail "static make build links libnetfw.so"
echo "consumer: 4 builds and 2 installed programs passed, 0 failed"
