# Helpers for end-to-end example tests (sourced by bash scripts).
# BIN must point at build/bin. Every wait is bounded.
set -euo pipefail

TMP=$(mktemp -d /tmp/netfw-e2e-XXXXXX)
SERVER_PIDS=()

cleanup() {
  for pid in "${SERVER_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_server NAME CMD... : runs CMD in the background, waits (10 s at most)
# for "listening on ADDR:PORT" and sets PORT and SERVER_PID.
start_server() {
  local name=$1; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  for _ in $(seq 1 200); do
    if grep -q '^listening on ' "$TMP/$name.out" 2>/dev/null; then
      PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/$name.out")
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/$name.err" >&2; fail "$name exited early"; }
    sleep 0.05
  done
  fail "$name did not print 'listening on' within 10 s"
}

# wait_exit PID SECONDS WHY : waits for the background process PID to end
# (fails naming WHY after SECONDS) and sets EXIT_STATUS to its status.
wait_exit() {
  local pid=$1
  for _ in $(seq 1 $(($2 * 20))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2>/dev/null && fail "process $pid still running $2 s after $3"
  EXIT_STATUS=0
  wait "$pid" || EXIT_STATUS=$?
}

# stop_server PID : SIGTERM, then expects exit status 0 within 15 s.
stop_server() {
  kill -TERM "$1"
  wait_exit "$1" 15 "SIGTERM"
  [ "$EXIT_STATUS" -eq 0 ] ||
    fail "server $1 exited with status $EXIT_STATUS after SIGTERM"
}
