#!/usr/bin/env bash
# echo_server whose worker keeps dying (kill -9 from outside, five times as
# it is respawned) stops serving: it exits with status 1, its stderr names
# the signal and the port refuses connections.
BIN=$1
source "$(dirname "$0")/lib.sh"

command -v pgrep >/dev/null || { echo "pgrep not found: skipped"; exit 0; }

# refused PORT : true when a TCP connect to 127.0.0.1:PORT is refused.
refused() {
  ! timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# next_worker OLD : prints the server's worker pid once it is not OLD (5 s).
next_worker() {
  local w
  for _ in $(seq 1 250); do
    w=$(pgrep -P "$SERVER_PID" | head -n 1 || true)
    if [ -n "$w" ] && [ "$w" != "$1" ]; then echo "$w"; return 0; fi
    sleep 0.02
  done
  fail "no new worker within 5 s (last $1)"
}

# crash_loop NAME WORKERS : starts echo_server with WORKERS workers, kills
# the worker of slot 0 five times as it is respawned, and checks the end.
crash_loop() {
start_server "$1" "$BIN/echo_server" --ip 127.0.0.1 --port 0 --workers "$2"
refused "$PORT" && fail "port $PORT refuses while serving"
last=""
for i in 1 2 3 4 5; do
  last=$(next_worker "$last")
  kill -KILL "$last"
done

wait_exit "$SERVER_PID" 10 "5 worker deaths"
[ "$EXIT_STATUS" -eq 1 ] || fail "echo_server exited with status $EXIT_STATUS, not 1"
err="$TMP/$1.err"
grep -q 'worker [0-9] (pid [0-9]*) was killed by signal 9 (Killed)' "$err" \
  || { cat "$err" >&2; fail "stderr does not name signal 9"; }
grep -q 'ERROR: crash loop' "$err" || { cat "$err" >&2; fail "no crash-loop ERROR line"; }
grep -q '^error: ' "$err" || { cat "$err" >&2; fail "no 'error: ' line"; }
refused "$PORT" || fail "port $PORT still accepts after the crash loop"
# the other workers were stopped gracefully, not killed by a second SIGTERM
if grep -q 'killed by signal 15' "$err"; then
  cat "$err" >&2
  fail "a surviving worker was killed by SIGTERM instead of stopping"
fi
}

crash_loop crash1 1
crash_loop crash2 2
echo "crashloop e2e: exit status 1, signal named, port refused, survivors stopped cleanly"
