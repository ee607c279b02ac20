#!/bin/sh
# netfw-gen --check-compat as a command: for every case of the matrix, the
# report on stdout byte for byte (expected.txt), nothing on stderr, the exit
# status (status), and --format json exiting the same way with one line;
# then a few cases again under valgrind (when VALGRIND is given): no
# invalid access, no definite leak, same output.
#
# usage: compat_cli_test.sh NETFW_GEN CASES_DIR WORK_DIR [VALGRIND]
set -u
GEN=$1
CASES=$2
WORK=$3
VALGRIND=${4:-}

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

rm -rf "$WORK"
mkdir -p "$WORK"

# run_case DIR [WRAPPER...]: the text report of DIR/old -> DIR/new
run_case() {
  dir=$1
  shift
  (cd "$dir" && timeout 120 "$@" "$GEN" --check-compat old.netproto new.netproto \
     >"$WORK/out" 2>"$WORK/err")
  echo $?
}

n=0
for dir in "$CASES"/*/; do
  dir=${dir%/}
  name=$(basename "$dir")
  n=$((n + 1))
  want=$(cat "$dir/status")
  got=$(run_case "$dir")
  if [ "$got" != "$want" ]; then
    fail "$name: exit $got, expected $want"
  elif ! cmp -s "$WORK/out" "$dir/expected.txt"; then
    fail "$name: report differs"; diff "$dir/expected.txt" "$WORK/out"
  elif [ -s "$WORK/err" ]; then
    fail "$name: stderr: $(cat "$WORK/err")"
  else
    ok "$name (exit $got)"
  fi
  (cd "$dir" && timeout 120 "$GEN" --check-compat old.netproto new.netproto \
     --format json >"$WORK/json" 2>"$WORK/err")
  got=$?
  if [ "$got" != "$want" ] || [ "$(wc -l <"$WORK/json")" -ne 1 ] \
     || [ "$(head -c 14 "$WORK/json")" != '{"compatible":' ]; then
    fail "$name --format json: exit $got, $(cat "$WORK/json")"
  fi
done
[ "$n" -ge 25 ] && ok "$n cases" || fail "only $n cases"

if [ -n "$VALGRIND" ]; then
  for name in 13-prefix-widths 28-warnings-only 29-recursive-struct \
              30-schema-errors 33-shared-struct-once; do
    dir="$CASES/$name"
    got=$(run_case "$dir" "$VALGRIND" -q --leak-check=full \
          --errors-for-leak-kinds=definite --error-exitcode=99)
    if [ "$got" != "$(cat "$dir/status")" ]; then
      fail "valgrind $name: exit $got"; cat "$WORK/err"
    elif ! cmp -s "$WORK/out" "$dir/expected.txt" || [ -s "$WORK/err" ]; then
      fail "valgrind $name: output"; cat "$WORK/err"
    else
      ok "valgrind clean: $name"
    fi
  done
fi

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all passed"
