#!/usr/bin/env bash
# chat end to end: three members join, talk, see joins and leaves; a
# duplicate nickname is refused; a bad --bus is refused. One worker, the
# local bus (tests/examples/chat_bus_e2e.py covers workers and servers).
BIN=$1
source "$(dirname "$0")/lib.sh"

# wait_for FILE PATTERN : up to 10 s for a line matching PATTERN in FILE
wait_for() {
  for _ in $(seq 1 200); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "--- $1:" >&2; cat "$1" >&2
  fail "no line /$2/ in $(basename "$1") within 10 s"
}

"$BIN/chat_server" --port 0 --bus mqtt://x 2>/dev/null && fail "--bus mqtt:// accepted"
"$BIN/chat_server" --port 0 --bus redis://h:0 2>/dev/null && fail "--bus port 0 accepted"
start_server chat "$BIN/chat_server" --port 0

# member NAME : starts a chat_client fed from a fifo kept open on an fd
declare -A FD PID
member() {
  mkfifo "$TMP/$1.in"
  "$BIN/chat_client" --port "$PORT" --nick "$1" <"$TMP/$1.in" >"$TMP/$1.out" 2>&1 &
  PID[$1]=$!
  exec {fd}>"$TMP/$1.in"
  FD[$1]=$fd
  wait_for "$TMP/$1.out" '^\* in the room:'
}

member alice
grep -q '^\* in the room: nobody else yet$' "$TMP/alice.out" || fail "alice's welcome"
member bob
grep -q '^\* in the room: alice$' "$TMP/bob.out" || fail "bob's welcome"
wait_for "$TMP/alice.out" '^\* bob joined$'
member carol
grep -q '^\* in the room: alice bob$' "$TMP/carol.out" || fail "carol's welcome"
wait_for "$TMP/alice.out" '^\* carol joined$'
wait_for "$TMP/bob.out" '^\* carol joined$'

out=$("$BIN/chat_client" --port "$PORT" --nick bob </dev/null 2>&1) && fail "duplicate nick accepted"
grep -q 'nickname is taken' <<<"$out" || fail "duplicate nick message: $out"
out=$("$BIN/chat_client" --port "$PORT" --nick 'two words' </dev/null 2>&1) && fail "bad nick accepted"
grep -q 'nickname is invalid' <<<"$out" || fail "invalid nick message: $out"

echo "hello everyone" >&"${FD[alice]}"
wait_for "$TMP/bob.out" '^<alice> hello everyone$'
wait_for "$TMP/carol.out" '^<alice> hello everyone$'
echo "hi alice" >&"${FD[bob]}"
wait_for "$TMP/alice.out" '^<bob> hi alice$'
wait_for "$TMP/carol.out" '^<bob> hi alice$'
grep -q '<alice>' "$TMP/alice.out" && fail "alice received her own line"

# bob leaves with /quit, carol by closing her input
echo "/quit" >&"${FD[bob]}"
wait_for "$TMP/alice.out" '^\* bob left$'
wait_for "$TMP/carol.out" '^\* bob left$'
exec {FD[carol]}>&-
wait_for "$TMP/alice.out" '^\* carol left$'
wait "${PID[bob]}" || fail "bob's client exited non-zero"
wait "${PID[carol]}" || fail "carol's client exited non-zero"

# order on alice's screen: joins, then bob's line, then the leaves
got=$(grep -E '^(\*|<)' "$TMP/alice.out" | tr '\n' '|')
want='* in the room: nobody else yet|* bob joined|* carol joined|<bob> hi alice|* bob left|* carol left|'
[ "$got" = "$want" ] || fail "alice saw '$got', wanted '$want'"

exec {FD[alice]}>&-
wait "${PID[alice]}" || fail "alice's client exited non-zero"

# an unknown /command stays local; a server that goes away ends the client
member dave
echo "/who" >&"${FD[dave]}"
wait_for "$TMP/dave.out" '^\* unknown command /who \(/quit leaves\)$'
stop_server "$SERVER_PID"
status=0
wait "${PID[dave]}" || status=$?
[ "$status" -eq 1 ] || fail "dave's client exited $status after the server stopped, wanted 1"
grep -q '^\* the server closed the connection$' "$TMP/dave.out" || fail "dave was not told"
echo "chat e2e: all checks passed"
