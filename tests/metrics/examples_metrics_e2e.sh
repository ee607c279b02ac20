#!/usr/bin/env bash
# The example servers' --metrics ADDR:PORT flag (issue 17).
# Usage: examples_metrics_e2e.sh BIN_DIR
#  1. --help of echo_server, file_storage_server and chat_server lists it;
#  2. a value that is not ADDR:PORT is a usage error (exit 2, named);
#  3. each server started with --metrics 127.0.0.1:0 prints "metrics on
#     127.0.0.1:P" (P the port bound, not 0) just before "listening on",
#     GET /healthz there answers 200 "ok\n" and GET /metrics 200 with
#     netfw_workers 2; without --metrics there is no such line;
#  4. SIGTERM: exit 0;
#  5. echo_server's counts survive a SIGHUP reload (5 echoes, then new
#     workers: started 4, restarts 0, no death, accepted 1, 5 received).
# Every wait is bounded; every process is stopped by its pid.
BIN=$1
# shellcheck source=../examples/lib.sh
source "$(dirname "$0")/../examples/lib.sh"

mkdir -p "$TMP/files"
declare -A EXTRA=([echo_server]="" [file_storage_server]="--dir $TMP/files"
                  [chat_server]="")

for srv in echo_server file_storage_server chat_server; do
  # 1. --help
  "$BIN/$srv" --help >"$TMP/help.out" || fail "$srv --help failed"
  grep -q -- '--metrics ADDR:PORT' "$TMP/help.out" || fail "$srv --help has no --metrics"

  # 2. bad values
  for bad in 127.0.0.1 127.0.0.1:70000 :9464 '[::1]' 127.0.0.1:x; do
    status=0
    # shellcheck disable=SC2086
    "$BIN/$srv" ${EXTRA[$srv]} --metrics "$bad" >/dev/null 2>"$TMP/bad.err" || status=$?
    [ "$status" -eq 2 ] || fail "$srv --metrics '$bad': status $status, not 2"
    grep -q -- "--metrics must be ADDR:PORT" "$TMP/bad.err" ||
      fail "$srv --metrics '$bad': $(head -1 "$TMP/bad.err")"
  done

  # 3. served, and announced
  # shellcheck disable=SC2086
  start_server "$srv" "$BIN/$srv" --port 0 --workers 2 ${EXTRA[$srv]} \
    --metrics 127.0.0.1:0
  MPORT=$(sed -n 's/^metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/$srv.out")
  [ -n "$MPORT" ] && [ "$MPORT" -gt 0 ] || fail "$srv: $(cat "$TMP/$srv.out")"
  [ "$(sed -n 1p "$TMP/$srv.out")" = "metrics on 127.0.0.1:$MPORT" ] &&
    [ "$(sed -n 2p "$TMP/$srv.out")" = "listening on 127.0.0.1:$PORT" ] ||
    fail "$srv's startup lines: $(cat "$TMP/$srv.out")"
  code=""
  for _ in $(seq 1 100); do # the workers may still be starting
    code=$(curl -sS --max-time 5 -o "$TMP/healthz" -w '%{http_code}' \
      "http://127.0.0.1:$MPORT/healthz") || true
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  [ "$code" = 200 ] && [ "$(cat "$TMP/healthz")" = ok ] ||
    fail "$srv: GET /healthz: $code $(cat "$TMP/healthz")"
  curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics" ||
    fail "$srv: GET /metrics failed"
  grep -q '^netfw_workers 2$' "$TMP/metrics" || fail "$srv: no 'netfw_workers 2'"
  stop_server "$SERVER_PID"
  echo "$srv: --metrics on port $MPORT: /healthz ok, /metrics ok"
done

# counts survive a SIGHUP reload: the new workers are started, not
# restarted, nobody died, and what the old ones counted is still there
start_server reload "$BIN/echo_server" --port 0 --workers 2 --metrics 127.0.0.1:0
MPORT=$(sed -n 's/^metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/reload.out")
"$BIN/echo_client" --port "$PORT" --count 5 --size 10 >"$TMP/client.out" 2>&1 ||
  fail "echo_client: $(cat "$TMP/client.out")"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 100); do
  curl -sS --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics" || true
  grep -q '^netfw_workers_started_total 4$' "$TMP/metrics" && break
  sleep 0.1
done
for want in 'netfw_workers_started_total 4' 'netfw_worker_restarts_total 0' \
  'netfw_connections_accepted_total 1' \
  'netfw_connections_closed_total{reason="peer"} 1' \
  'netfw_messages_received_total{message="?",id="other"} 5' \
  'netfw_bytes_sent_total{message="?",id="other"} 80' \
  'netfw_worker_up{worker="0"} 1' 'netfw_worker_up{worker="1"} 1'; do
  grep -qxF "$want" "$TMP/metrics" || fail "after SIGHUP, no '$want' in /metrics"
done
! grep -q '^netfw_worker_deaths_total{' "$TMP/metrics" || fail "a death after SIGHUP"
stop_server "$SERVER_PID"
echo "echo_server: counts kept over a SIGHUP reload (started 4, restarts 0)"

# without --metrics: the one line it always printed
start_server plain "$BIN/echo_server" --port 0
[ "$(cat "$TMP/plain.out")" = "listening on 127.0.0.1:$PORT" ] ||
  fail "echo_server without --metrics printed: $(cat "$TMP/plain.out")"
stop_server "$SERVER_PID"
echo "PASS"
