#!/bin/sh
# netfw_add_protocol(... COMPAT_BASELINE old.netproto) in a user project:
# a compatible schema builds (warnings printed), a breaking change fails the
# build with the check's report and keeps failing until fixed, and the
# generated code follows the schema again once it is.
#
# usage: cmake_baseline_test.sh CMAKE NETFW_GEN LIBNETFW SOURCE_DIR WORK_DIR
#                               [LINK_OPTION] (e.g. the sanitizer flag)
. "$(dirname "$0")/../support/cmake_user_project.sh"

user_project COMPAT_BASELINE schema/released/demo.netproto
mkdir -p "$WORK/proj/schema/released"
printf 'protocol demo;\nmessage Ping = 3 { u32 seq; }\n' \
  >"$WORK/proj/schema/released/demo.netproto"
cp "$WORK/proj/schema/released/demo.netproto" "$WORK/proj/schema/demo.netproto"

configure_and_build
[ "$("$WORK/build/app")" = "id 3 size 4" ] || fail "first run: $("$WORK/build/app")"
grep -q "netfw-gen: compatible, 0 warnings" "$WORK/log" || { cat "$WORK/log"; fail "check not run"; }
echo "ok: the unchanged schema passes the check and builds"

sleep 1 # coarse file timestamps
printf 'protocol demo;\noption version = 2;\nmessage Ping = 3 { u32 seq; u64 when [since 2]; }\nmessage Pong = 4 {}\n' \
  >"$WORK/proj/schema/demo.netproto"
"$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "compatible change"; }
[ "$("$WORK/build/app")" = "id 3 size 12" ] || fail "not regenerated: $("$WORK/build/app")"
echo "ok: a compatible change builds"

sleep 1
printf 'protocol demo;\noption version = 2;\nmessage Ping = 3 { u16 seq; u64 when [since 2]; }\n' \
  >"$WORK/proj/schema/demo.netproto"
if "$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1; then
  fail "a breaking change built"
fi
grep -q "schema/demo.netproto:3:20: error: field 'seq' of message 'Ping' changed type from u32 to u16 \[field-type-changed\]" "$WORK/log" \
  || { cat "$WORK/log"; fail "error text"; }
grep -q "released/demo.netproto:2:20: note: was 'u32 seq'" "$WORK/log" \
  || { cat "$WORK/log"; fail "note text"; }
if "$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1; then
  fail "the second build after a breaking change passed"
fi
[ "$("$WORK/build/app")" = "id 3 size 12" ] || fail "stale app changed"
echo "ok: a breaking change fails every build until fixed"

sleep 1
printf 'protocol demo;\noption version = 3;\nmessage Ping = 3 { u32 seq; u64 when [since 2]; u8 flags [since 3]; }\n' \
  >"$WORK/proj/schema/demo.netproto"
"$CMAKE" --build "$WORK/build" >"$WORK/log" 2>&1 || { cat "$WORK/log"; fail "build after fix"; }
grep -q "warning: .*\[reservation-dropped\]\|netfw-gen: compatible" "$WORK/log" || { cat "$WORK/log"; fail "check output after fix"; }
[ "$("$WORK/build/app")" = "id 3 size 13" ] || fail "after fix: $("$WORK/build/app")"
echo "ok: fixed schema builds"
echo "all passed"
