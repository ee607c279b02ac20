#!/bin/sh
# netfw_add_protocol() as a user project sees it (imported netfw::netfw-gen,
# as from an installed package): builds, regenerates when the schema
# changes, and fails the build (never reusing stale output) on a schema error.
#
# usage: cmake_protocol_test.sh CMAKE NETFW_GEN LIBNETFW SOURCE_DIR WORK_DIR
#                                [LINK_OPTION] (e.g. the sanitizer flag)
. "$(dirname "$0")/../support/cmake_user_project.sh"

user_project
printf 'protocol demo;\nmessage Ping = 3 { u32 seq; }\n' >"$WORK/proj/schema/demo.netproto"

configure_and_build
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
