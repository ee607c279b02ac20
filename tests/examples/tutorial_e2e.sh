#!/usr/bin/env bash
# The README tutorial's programs do what the README says: one connection's
# greetings stay with one worker, which counts and remembers its visitors.
BIN=$1
source "$(dirname "$0")/lib.sh"
start_server greeter "$BIN/greeter_server"
out=$("$BIN/greeter_client" "$PORT" Ada Bob Ada) || fail "greeter_client failed: $out"
want="Hello, Ada! (visitor 1)
Hello, Bob! (visitor 2; before you: Ada)
Welcome back, Ada! (visitor 3, again; before you: Bob, Ada)"
[ "$out" = "$want" ] || fail "unexpected greetings: $out"
"$BIN/greeter_client" 1 Ada 2>/dev/null && fail "connect to port 1 succeeded"
# six names on one connection: the worker remembers the last four only
out=$("$BIN/greeter_client" "$PORT" A B C D E F | tail -1) || fail "six names"
case "$out" in
  "Hello, F! (visitor "*"; before you: E, D, C, B)") ;;
  *) fail "memory not bounded to four: $out" ;;
esac
grep -q "INFO: server started: 127.0.0.1 port $PORT, 2 workers" "$TMP/greeter.err" \
  || fail "no 'server started' line: $(cat "$TMP/greeter.err")"
stop_server "$SERVER_PID"
echo "tutorial e2e: passed"
