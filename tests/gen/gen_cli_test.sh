#!/bin/sh
# netfw-gen from the command line: exit statuses, outputs, --stubs/--force,
# --depfile, determinism, hostile files; and the generated code of every
# schema compiled with -Werror by each compiler given (gcc, clang), an app on
# chat's generated bus API (chat_bus_app.c) likewise, and a build against a
# runtime whose NETFW_GEN_ABI differs (must fail).
#
# usage: gen_cli_test.sh NETFW_GEN SOURCE_DIR WORK_DIR COMPILER...
set -u
GEN=$1
SRC=$2
WORK=$3
shift 3
COMPILERS=$*

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect STATUS DESCRIPTION COMMAND... : runs COMMAND, checks its exit status
expect() {
  want=$1
  what=$2
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  got=$?
  if [ "$got" -eq "$want" ]; then ok "$what (exit $got)"; else
    fail "$what: exit $got, expected $want"; cat "$WORK/err"; fi
}

rm -rf "$WORK"
mkdir -p "$WORK/a" "$WORK/b" "$WORK/bad"
FS="$SRC/protocols/file_storage.netproto"

expect 0 "--version" "$GEN" --version
grep -q "^netfw-gen [0-9]*\.[0-9]*\.[0-9]* (generated-code ABI [0-9]*)$" "$WORK/out" \
  || fail "--version output: $(cat "$WORK/out")"
expect 0 "--help" "$GEN" --help
grep -q "^usage: netfw-gen" "$WORK/out" || fail "--help output"
expect 2 "no schema" "$GEN"
expect 2 "unknown option" "$GEN" --frobnicate "$FS"
expect 2 "-o without a value" "$GEN" "$FS" -o
expect 2 "two schemas" "$GEN" "$FS" "$FS"
expect 2 "missing schema file" "$GEN" "$WORK/nope.netproto"
expect 2 "missing output dir" "$GEN" -o "$WORK/no/such/dir" "$FS"
expect 2 "--force without --stubs" "$GEN" --force -o "$WORK/a" "$FS"
expect 2 "--lang without a value" "$GEN" "$FS" --lang
expect 2 "unknown --lang" "$GEN" --lang cobol -o "$WORK/a" "$FS"
grep -q "^netfw-gen: unknown language 'cobol' for --lang (known: c, python, wireshark)$" "$WORK/err" \
  || fail "unknown --lang message: $(cat "$WORK/err")"
[ -z "$(ls "$WORK/a")" ] || fail "files written for an unknown --lang"
"$GEN" --help | grep -q "^  --lang LANG" || fail "--help does not describe --lang"
"$GEN" --help | grep -q "^  c  *C11" || fail "--help does not list the C back end"

# --check-compat OLD NEW [--format text|json] (the rules: tests/compat/)
"$GEN" --help | grep -q "^       netfw-gen --check-compat OLD.netproto NEW.netproto \[--format text|json\]$" \
  || fail "--help does not show --check-compat's usage"
"$GEN" --help | grep -q "^  --check-compat OLD NEW$" || fail "--help does not describe --check-compat"
"$GEN" --help | grep -q "^  --format FMT" || fail "--help does not describe --format"
printf 'protocol p;\nmessage A = 1 { u32 x; }\n' >"$WORK/v1.netproto"
printf 'protocol p;\noption version = 2;\nmessage A = 1 { u32 x; u8 y [since 2]; }\n' >"$WORK/v2.netproto"
printf 'protocol p;\nmessage A = 1 { u16 x; }\n' >"$WORK/v3.netproto"
expect 0 "--check-compat compatible" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto"
[ "$(cat "$WORK/out")" = "netfw-gen: compatible, 0 warnings" ] && [ ! -s "$WORK/err" ] \
  || fail "--check-compat compatible output: $(cat "$WORK/out" "$WORK/err")"
expect 1 "--check-compat breaking" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v3.netproto"
[ "$(head -n 1 "$WORK/out")" = "$WORK/v3.netproto:2:17: error: field 'x' of message 'A' changed type from u32 to u16 [field-type-changed]" ] \
  && [ "$(sed -n 2p "$WORK/out")" = "$WORK/v1.netproto:2:17: note: was 'u32 x'" ] \
  || fail "--check-compat breaking output: $(cat "$WORK/out")"
expect 1 "--check-compat --format json breaking" "$GEN" --format json --check-compat "$WORK/v1.netproto" "$WORK/v3.netproto"
grep -q '^{"compatible":false,.*"rule":"field-type-changed"' "$WORK/out" || fail "json output: $(cat "$WORK/out")"
expect 0 "--check-compat --format text" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto" --format text
printf 'protocol p;\nmessage A = 1 { Nope x; }\n' >"$WORK/v4.netproto"
expect 1 "--check-compat, schema with errors" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v4.netproto"
grep -q "^$WORK/v4.netproto:2:17: error: unknown type 'Nope'$" "$WORK/out" || fail "schema error in the report: $(cat "$WORK/out")"
expect 2 "--check-compat, missing file" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/nope.netproto"
grep -q "^netfw-gen: cannot open $WORK/nope.netproto: " "$WORK/err" || fail "missing file message: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "a report despite an I/O error"
expect 2 "--check-compat with one schema" "$GEN" --check-compat "$WORK/v1.netproto"
expect 2 "--check-compat and a schema" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto" "$FS"
expect 2 "--check-compat and -o" "$GEN" -o "$WORK/a" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto"
expect 2 "--check-compat twice" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto"
expect 2 "unknown --format" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto" --format yaml
grep -q "^netfw-gen: unknown format 'yaml' for --format (known: text, json)$" "$WORK/err" \
  || fail "unknown --format message: $(cat "$WORK/err")"
expect 2 "--format without a value" "$GEN" --check-compat "$WORK/v1.netproto" "$WORK/v2.netproto" --format
expect 2 "--format without --check-compat" "$GEN" --format json -o "$WORK/a" "$FS"

printf 'protocol p;\nmessage A = 1 {}\nmessage B = 1 {}\n' >"$WORK/dup.netproto"
expect 1 "schema error" "$GEN" -o "$WORK/bad" "$WORK/dup.netproto"
grep -q "dup.netproto:3:13: error: duplicate message id 1 (also used by 'A' at 2:9)" "$WORK/err" \
  || fail "schema error message: $(cat "$WORK/err")"
[ -z "$(ls "$WORK/bad")" ] || fail "files written despite errors: $(ls "$WORK/bad")"

# hostile files: rejected with status 1, never a crash (status > 128) or hang
head -c 1048576 /dev/urandom >"$WORK/garbage.netproto"
expect 1 "1 MB of random bytes" timeout 30 "$GEN" -o "$WORK/bad" "$WORK/garbage.netproto"
: >"$WORK/empty.netproto"
expect 1 "empty file" timeout 30 "$GEN" -o "$WORK/bad" "$WORK/empty.netproto"
awk 'BEGIN { printf "protocol p;\n"; for (i = 0; i < 200000; i++) printf "{{{{{"; }' \
  >"$WORK/deep.netproto"
expect 1 "a million braces" timeout 30 "$GEN" -o "$WORK/bad" "$WORK/deep.netproto"

# found by fuzz_netproto: a duplicate struct name around a cycle (was SIGSEGV)
printf 'protocol p;\nstruct Inner { Point b; }\nstruct Point { Point c; }\nstruct Inner { Inner d; }\n' \
  >"$WORK/dupcycle.netproto"
expect 1 "duplicate struct name around a cycle" timeout 30 "$GEN" -o "$WORK/bad" "$WORK/dupcycle.netproto"
grep -q "dupcycle.netproto:4:8: error: duplicate name 'Inner'" "$WORK/err" \
  || fail "duplicate-name diagnostic: $(cat "$WORK/err")"

# outputs, determinism, warnings on stderr do not fail
expect 0 "file_storage" "$GEN" -o "$WORK/a" --depfile "$WORK/fs.d" "$FS"
[ -s "$WORK/a/file_storage.netfw.h" ] && [ -s "$WORK/a/file_storage.netfw.c" ] \
  || fail "outputs missing"
expect 0 "file_storage again" "$GEN" -o "$WORK/b" "$FS"
cmp -s "$WORK/a/file_storage.netfw.h" "$WORK/b/file_storage.netfw.h" \
  && cmp -s "$WORK/a/file_storage.netfw.c" "$WORK/b/file_storage.netfw.c" \
  && ok "identical input -> identical bytes" || fail "output differs between runs"
[ "$(cat "$WORK/fs.d")" = "$WORK/a/file_storage.netfw.h $WORK/a/file_storage.netfw.c: $FS" ] \
  && ok "depfile" || fail "depfile: $(cat "$WORK/fs.d")"
mkdir -p "$WORK/lang_c"
expect 0 "--lang c" "$GEN" --lang c -o "$WORK/lang_c" "$FS"
cmp -s "$WORK/a/file_storage.netfw.h" "$WORK/lang_c/file_storage.netfw.h" \
  && cmp -s "$WORK/a/file_storage.netfw.c" "$WORK/lang_c/file_storage.netfw.c" \
  && ok "--lang c is the default" || fail "--lang c output differs from the default"

# the front end knows no back end: it includes nothing outside gen/front/
if grep -n '#include "[^"]*/' "$SRC"/gen/front/*.[ch] "$SRC"/gen/front/*.re \
   || grep -ln 'gen_backend_c\|gen_is_c_keyword\|gen_upper' "$SRC"/gen/front/*; then
  fail "gen/front/ depends on a back end"
else
  ok "gen/front/ depends on no back end"
fi
printf 'protocol w;\nstruct Unused { u8 x; }\nmessage M = 1 {}\n' >"$WORK/warn.netproto"
expect 0 "warnings only" "$GEN" -o "$WORK/a" "$WORK/warn.netproto"
grep -q "warn.netproto:2:8: warning: struct 'Unused' is never used" "$WORK/err" \
  || fail "warning text: $(cat "$WORK/err")"

# --stubs / --client-stubs without -o write only the skeletons: no stale
# generated header next to the user's sources (issue 22, item 2)
mkdir -p "$WORK/skel"
( cd "$WORK/skel" && "$GEN" --stubs s.c --client-stubs c.c "$FS" ) >"$WORK/out" 2>"$WORK/err" \
  || fail "skeletons only: $(cat "$WORK/err")"
[ "$(cd "$WORK/skel" && ls | tr '\n' ' ')" = "c.c s.c " ] \
  && ok "skeletons only without -o" || fail "skeletons only wrote: $(ls "$WORK/skel")"
expect 2 "--client-stubs onto an existing file" "$GEN" --client-stubs "$WORK/skel/c.c" "$FS"
grep -q "^netfw-gen: $WORK/skel/c.c exists; not overwriting your code (use --force)$" "$WORK/err" \
  || fail "--client-stubs overwrite message: $(cat "$WORK/err")"
expect 2 "--depfile with skeletons only" "$GEN" --stubs "$WORK/skel/t.c" --depfile "$WORK/skel/d" "$FS"
"$GEN" --help | grep -q "^  --client-stubs FILE" || fail "--help does not describe --client-stubs"

# --descriptor FILE: the schema as JSON; without -o nothing else is written,
# with -o the C files too (issue 20)
mkdir -p "$WORK/desc" "$WORK/desc2"
( cd "$WORK/desc" && "$GEN" --descriptor fs.json "$FS" ) >"$WORK/out" 2>"$WORK/err" \
  || fail "--descriptor: $(cat "$WORK/err")"
[ "$(cd "$WORK/desc" && ls | tr '\n' ' ')" = "fs.json " ] \
  && ok "--descriptor only without -o" || fail "--descriptor wrote: $(ls "$WORK/desc")"
grep -q '^  "protocol": "file_storage",$' "$WORK/desc/fs.json" \
  && grep -q '{"name": "Add", "id": 1, "direction": "server", ' "$WORK/desc/fs.json" \
  && ok "--descriptor content" || fail "--descriptor content: $(head -c 400 "$WORK/desc/fs.json")"
"$GEN" -o "$WORK/desc2" --descriptor "$WORK/desc2/fs.json" "$FS" 2>"$WORK/err" \
  || fail "--descriptor with -o: $(cat "$WORK/err")"
[ "$(cd "$WORK/desc2" && ls | tr '\n' ' ')" = "file_storage.netfw.c file_storage.netfw.h fs.json " ] \
  && ok "--descriptor with -o" || fail "--descriptor with -o wrote: $(ls "$WORK/desc2")"
expect 2 "--descriptor without a value" "$GEN" "$FS" --descriptor
"$GEN" --descriptor - "$FS" 2>"$WORK/err" | grep -q '^  "protocol": "file_storage",$' \
  && ok "--descriptor - (standard output)" || fail "--descriptor -: $(cat "$WORK/err")"
"$GEN" --help | grep -q "^  --descriptor FILE" || fail "--help does not describe --descriptor"

# --stubs never overwrites the user's handlers without --force
expect 0 "--stubs" "$GEN" -o "$WORK/a" --stubs "$WORK/a/fs_handlers.c" "$FS"
echo "/* mine */" >>"$WORK/a/fs_handlers.c"
cp "$WORK/a/fs_handlers.c" "$WORK/keep.c"
expect 2 "--stubs onto an existing file" "$GEN" -o "$WORK/a" --stubs "$WORK/a/fs_handlers.c" "$FS"
cmp -s "$WORK/a/fs_handlers.c" "$WORK/keep.c" || fail "stubs file was touched"
grep -q "use --force" "$WORK/err" || fail "refusal message: $(cat "$WORK/err")"
expect 0 "--stubs --force" "$GEN" -o "$WORK/a" --stubs "$WORK/a/fs_handlers.c" --force "$FS"
grep -q "mine" "$WORK/a/fs_handlers.c" && fail "--force did not overwrite"

# every schema, every compiler, -Werror; codec-only too; stubs too
FLAGS="-std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wformat=2 -Wundef -Wpointer-arith -Wvla -Wcast-align
  -Wwrite-strings -Wconversion -Wno-sign-conversion -Wcast-qual -Wredundant-decls"
for schema in "$SRC"/protocols/*.netproto "$SRC"/tests/gen/*.netproto \
              "$SRC"/tests/fuzz/*.netproto; do
  base=$(basename "$schema" .netproto)
  out="$WORK/c_$(basename "$(dirname "$schema")")_$base"
  mkdir -p "$out"
  if ! "$GEN" -o "$out" --stubs "$out/stubs.c" --fuzz-harness "$out/fuzz.c" \
       "$schema" 2>"$WORK/err"; then
    fail "generate $base"; cat "$WORK/err"; continue
  fi
  for cc in $COMPILERS; do
    # shellcheck disable=SC2086
    if $cc $FLAGS -I"$SRC/include" -I"$out" -c "$out/$base.netfw.c" -o "$out/x.o" \
       && $cc $FLAGS -DNETFW_GEN_CODEC_ONLY -I"$SRC/include" -I"$out" \
              -c "$out/$base.netfw.c" -o "$out/y.o" \
       && $cc $FLAGS -I"$SRC/include" -I"$out" -c "$out/stubs.c" -o "$out/z.o" \
       && $cc $FLAGS -DNETFW_FUZZ_MAIN -I"$SRC/include" -I"$out" \
              -c "$out/fuzz.c" -o "$out/f.o"; then
      ok "$cc -Werror: $base"
    else
      fail "$cc -Werror: $base"
    fi
  done
done

# an app on chat's generated bus API (publish, typed bus handlers, on_bus)
for cc in $COMPILERS; do
  # shellcheck disable=SC2086
  if $cc $FLAGS -I"$SRC/include" -I"$WORK/c_protocols_chat" \
       -c "$SRC/tests/gen/chat_bus_app.c" -o "$WORK/chat_bus_app.o" 2>"$WORK/err"; then
    ok "$cc -Werror: chat bus app"
  else
    fail "$cc -Werror: chat bus app"; cat "$WORK/err"
  fi
done

# calls (docs/calls.md): the calls section of calls.netproto's header, byte
# for byte, and an app using every calls symbol with its exact type
sed -n '/^\/\* ---- calls (docs\/calls.md)/,/^#endif \/\* NETFW_GEN_CODEC_ONLY \*\//p' \
  "$WORK/c_gen_calls/calls.netfw.h" | sed '$d' >"$WORK/calls_header"
if cmp -s "$WORK/calls_header" "$SRC/tests/gen/calls_header.golden"; then
  ok "calls.netfw.h: the calls section matches calls_header.golden"
else
  fail "calls.netfw.h: the calls section differs from calls_header.golden"
  diff "$SRC/tests/gen/calls_header.golden" "$WORK/calls_header" | head -40
fi
for cc in $COMPILERS; do
  # shellcheck disable=SC2086
  if $cc $FLAGS -I"$SRC/include" -I"$WORK/c_gen_calls" \
       -c "$SRC/tests/gen/calls_app.c" -o "$WORK/calls_app.o" 2>"$WORK/err"; then
    ok "$cc -Werror: calls app"
  else
    fail "$cc -Werror: calls app"; cat "$WORK/err"
  fi
done

# against a runtime of another generated-code ABI, compilation must fail
mkdir -p "$WORK/otherabi"
cp -r "$SRC/include/netfw" "$WORK/otherabi/"
sed 's/^#define NETFW_GEN_ABI .*/#define NETFW_GEN_ABI 999/' "$SRC/include/netfw/version.h" \
  >"$WORK/otherabi/netfw/version.h"
for cc in $COMPILERS; do
  if $cc -std=c11 -I"$WORK/otherabi" -I"$WORK/a" -c "$WORK/a/file_storage.netfw.c" \
       -o "$WORK/abi.o" 2>"$WORK/err"; then
    fail "$cc compiled generated code against a mismatched ABI"
  elif grep -q "regenerate it with this runtime's netfw-gen" "$WORK/err"; then
    ok "$cc refuses a mismatched ABI"
  else
    fail "$cc ABI error text: $(cat "$WORK/err")"
  fi
done

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all passed"
