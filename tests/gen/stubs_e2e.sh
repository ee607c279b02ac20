#!/bin/sh
# The skeletons of --stubs and --client-stubs, built as they are, run
# against each other: the server starts on a free port and says where, the
# client connects and sends its first request, the server's stub handler
# logs that it is not implemented (so no reply comes and the client reports
# the timeout, exit 1), and SIGTERM stops the server cleanly (exit 0).
#
# usage: stubs_e2e.sh SERVER_BINARY CLIENT_BINARY WORK_DIR
set -u
SERVER=$1
CLIENT=$2
WORK=$3
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

rm -rf "$WORK" && mkdir -p "$WORK"
"$SERVER" 0 >"$WORK/out" 2>"$WORK/err" &
pid=$!
port=
for _ in $(seq 1 100); do # 10 s at most
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$WORK/out")
  [ -n "$port" ] && break
  sleep 0.1
done
if [ -z "$port" ]; then
  fail "the server never said where it listens"
  kill "$pid" 2>/dev/null
  wait "$pid"
  cat "$WORK/err"
  exit 1
fi

timeout 20 "$CLIENT" "$port" >"$WORK/cout" 2>"$WORK/cerr"
rc=$?
# Add is a request (returns Ack) that the stub leaves unanswered: the server
# closes the connection (NETFW_CLOSE_UNANSWERED, docs/calls.md)
[ "$rc" -eq 1 ] || fail "client exit $rc, expected 1 (no reply: the stub does not answer)"
grep -qx "file_storage: connection lost" "$WORK/cerr" \
  || fail "client stderr: $(cat "$WORK/cerr")"
grep -q "(unanswered)" "$WORK/err" \
  || fail "no unanswered close logged in: $(cat "$WORK/err")"
for _ in $(seq 1 50); do
  grep -q "file_storage: handler for Add (id 1) is not implemented" "$WORK/err" && break
  sleep 0.1
done
grep -q "file_storage: handler for Add (id 1) is not implemented" "$WORK/err" \
  || fail "no stub log line in: $(cat "$WORK/err")"

kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "server exit $rc after SIGTERM, expected 0"
[ "$fails" -eq 0 ] && echo "ok: stubs run against each other"
exit "$fails"
