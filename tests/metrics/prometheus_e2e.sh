#!/usr/bin/env bash
# echo_server --metrics scraped by the real Prometheus tools (issue 17).
# Usage: prometheus_e2e.sh BIN_DIR
#  1. echo_server --workers 2 --metrics 127.0.0.1:0 prints "metrics on
#     127.0.0.1:PORT" (the port bound) before "listening on";
#  2. 3 echo_client runs (10 messages of 64 bytes each) are answered;
#  3. `promtool check metrics` on its /metrics prints no problem;
#  4. a real Prometheus (a config written here: scrape_interval 1s, the
#     server as the only target; web on a free port, its TSDB in $TMP)
#     reports up == 1 for the job within 30 s, then
#     netfw_connections_accepted_total 3, sum(netfw_messages_received_total)
#     30 and sum(netfw_bytes_received_total) 30 x (6 + 64);
#  5. SIGTERM: echo_server exits 0.
# Every wait is bounded; every process is stopped by its pid.
BIN=$1
# shellcheck source=../examples/lib.sh
source "$(dirname "$0")/../examples/lib.sh"

command -v prometheus >/dev/null || fail "prometheus is not installed"
command -v promtool >/dev/null || fail "promtool is not installed"

# A port nobody listens on now (Prometheus takes no port 0).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# prom_query EXPR: the value of the query's first result ("" if none).
prom_query() {
  curl -sS --max-time 5 --get --data-urlencode "query=$1" \
    "http://127.0.0.1:$PROM_PORT/api/v1/query" 2>/dev/null |
    python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true
}

# prom_wait EXPR WANT: polls the query until it gives WANT (30 s at most).
prom_wait() {
  local got=""
  for _ in $(seq 1 150); do
    got=$(prom_query "$1")
    [ "$got" = "$2" ] && return 0
    kill -0 "$PROM_PID" 2>/dev/null || { cat "$TMP/prom.log" >&2; fail "prometheus exited"; }
    sleep 0.2
  done
  tail -20 "$TMP/prom.log" >&2
  fail "Prometheus: $1 is '$got', not '$2', after 30 s"
}

# 1. the server, its metrics port
start_server echo "$BIN/echo_server" --port 0 --workers 2 --metrics 127.0.0.1:0
ECHO_PID=$SERVER_PID
MPORT=$(sed -n 's/^metrics on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/echo.out")
[ -n "$MPORT" ] && [ "$MPORT" -gt 0 ] || fail "no 'metrics on 127.0.0.1:PORT' line: $(cat "$TMP/echo.out")"
[ "$(head -1 "$TMP/echo.out")" = "metrics on 127.0.0.1:$MPORT" ] ||
  fail "'metrics on' is not the first line: $(cat "$TMP/echo.out")"

# 2. some traffic
for i in 1 2 3; do
  "$BIN/echo_client" --port "$PORT" --count 10 --size 64 >"$TMP/client$i.out" 2>&1 ||
    fail "echo_client $i: $(cat "$TMP/client$i.out")"
done

# 3. promtool on the exposition
curl -sS --max-time 5 -o "$TMP/metrics.txt" "http://127.0.0.1:$MPORT/metrics" ||
  fail "GET /metrics failed"
grep -q '^netfw_connections_accepted_total 3$' "$TMP/metrics.txt" ||
  fail "accepted is not 3: $(grep accepted "$TMP/metrics.txt")"
promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 ||
  fail "promtool check metrics failed: $(cat "$TMP/promtool.out")"
[ ! -s "$TMP/promtool.out" ] || fail "promtool check metrics: $(cat "$TMP/promtool.out")"
echo "promtool check metrics: no problem ($(wc -l <"$TMP/metrics.txt") lines)"

# 4. a real Prometheus scraping it
PROM_PORT=$(free_port)
cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: netfw
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
EOF
promtool check config "$TMP/prometheus.yml" >/dev/null || fail "bad prometheus.yml"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prom.log" 2>&1 &
PROM_PID=$!
SERVER_PIDS+=("$PROM_PID")
prom_wait 'up{job="netfw"}' 1
echo "Prometheus: up{job=\"netfw\"} 1"
prom_wait 'netfw_connections_accepted_total{job="netfw"}' 3
prom_wait 'sum(netfw_messages_received_total{job="netfw"})' 30
prom_wait 'sum(netfw_bytes_received_total{job="netfw"})' $((30 * (6 + 64)))
prom_wait 'sum(netfw_worker_up{job="netfw"})' 2
echo "Prometheus: accepted 3, received 30 frames, $((30 * 70)) bytes, 2 workers up"
kill -TERM "$PROM_PID"
wait_exit "$PROM_PID" 20 "prometheus after SIGTERM"

# 5. a graceful stop
kill -TERM "$ECHO_PID"
wait_exit "$ECHO_PID" 15 "echo_server after SIGTERM"
[ "$EXIT_STATUS" -eq 0 ] || fail "echo_server exited with $EXIT_STATUS"
echo "PASS"
