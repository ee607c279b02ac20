#!/usr/bin/env bash
# The README tutorial's programs do what the README says.
BIN=$1
source "$(dirname "$0")/lib.sh"
start_server greeter "$BIN/greeter_server"
out=$("$BIN/greeter_client" "$PORT" Ada) || fail "greeter_client failed: $out"
[ "$out" = "Hello, Ada! (visitor 1)" ] || fail "unexpected greeting: $out"
"$BIN/greeter_client" 1 Ada 2>/dev/null && fail "connect to port 1 succeeded"
stop_server "$SERVER_PID"
echo "tutorial e2e: passed"
