#!/usr/bin/env bash
# The example echo_server binary under accounting load and faults (ctest
# labels load;fault). Usage: echo_server_faults.sh BIN_DIR
#  1. 200 connections x 1000 messages (accounting_client) through
#     echo_server --workers 2: nothing lost, corrupted, duplicated or
#     reordered; then SIGTERM: exit status 0, every worker gone.
#  2. kill -9 of the echo_server parent: its workers exit within 2 s and
#     the port can be listened on again (a new echo_server binds it).
# Every wait is bounded.
set -euo pipefail
BIN=$1
TMP=$(mktemp -d /tmp/netfw-robust-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# start NAME ARGS... : sets PID and PORT once "listening on" is printed.
start() {
  local name=$1; shift
  "$BIN/echo_server" --ip 127.0.0.1 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 200); do
    if grep -q '^listening on ' "$TMP/$name.out"; then
      PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/$name.out")
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/$name.err" >&2; fail "$name exited early"; }
    sleep 0.05
  done
  fail "$name did not listen within 10 s"
}

children() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true; }

# gone_within MS PID... : every PID disappears (or is a zombie) within MS.
gone_within() {
  local ms=$1 waited=0 p alive; shift
  while :; do
    alive=0
    for p in "$@"; do
      if [ -e /proc/"$p" ] && ! grep -q '^State:.*[ZX]' /proc/"$p"/status 2>/dev/null; then
        alive=1
      fi
    done
    [ "$alive" -eq 0 ] && { echo "$waited"; return 0; }
    [ "$waited" -ge "$ms" ] && return 1
    sleep 0.02
    waited=$((waited + 20))
  done
}

# 1. accounting load, then a graceful stop
start acct --port 0 --workers 2
WORKERS=$(children "$PID")
[ "$(echo "$WORKERS" | wc -l)" -eq 2 ] || fail "expected 2 workers, got: $WORKERS"
out=$("$BIN/accounting_client" --port "$PORT" --conns 200 --msgs 1000 --seed 77 --timeout 240) \
  || fail "accounting_client: $out"
echo "$out"
case "$out" in
  "sent 200000 received 200000 ok 200000 lost 0 unanswered 0 corrupted 0 duplicated 0 reordered 0; connections done 200 "*) ;;
  *) fail "unexpected totals: $out" ;;
esac
kill -TERM "$PID"
status=0
for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PID" 2>/dev/null && fail "echo_server still running 15 s after SIGTERM"
wait "$PID" || status=$?
[ "$status" -eq 0 ] || fail "echo_server exited with status $status after SIGTERM"
# shellcheck disable=SC2086
gone_within 2000 $WORKERS >/dev/null || fail "workers left after a graceful stop"

# 2. kill -9 of the parent
start victim --port 0 --workers 2
WORKERS=$(children "$PID")
[ "$(echo "$WORKERS" | wc -l)" -eq 2 ] || fail "expected 2 workers, got: $WORKERS"
VPORT=$PORT
kill -KILL "$PID"
wait "$PID" 2>/dev/null || true
# shellcheck disable=SC2086
ms=$(gone_within 2000 $WORKERS) || fail "workers of the killed parent still alive after 2 s"
echo "workers exited within ${ms} ms of the parent's SIGKILL"
start again --port "$VPORT" --workers 1
kill -TERM "$PID"
wait "$PID" || fail "second echo_server on port $VPORT did not stop cleanly"
echo "port $VPORT listened on again"
