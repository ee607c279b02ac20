#!/usr/bin/env bash
# echo_server (2 workers) re-reads its certificate on SIGHUP: new
# connections get the new one (openssl s_client's fingerprint), a
# connection opened before the reload keeps echoing; an unusable key is
# logged with the reason and the server keeps serving with what it had.
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/lib.sh"
source "$HERE/tls_lib.sh"
export PYTHONPATH=$HERE
C=$TMP/certs
make_certs "$C"
FP1=$(fingerprint "$C/server.pem")
FP2=$(fingerprint "$C/server2.pem")
[ ${#FP1} -eq 64 ] && [ ${#FP2} -eq 64 ] && [ "$FP1" != "$FP2" ] ||
  fail "fingerprints: '$FP1' '$FP2'"
cp "$C/server.pem" "$TMP/live.pem"
cp "$C/server.key" "$TMP/live.key"

# every_served_fingerprint WANT : 6 new connections (over both workers, most
# likely) all present the certificate whose fingerprint is WANT.
every_served_fingerprint() {
  local got
  for _ in 1 2 3 4 5 6; do
    got=$(served_fingerprint "$PORT" "$C/ca.pem")
    [ "$got" = "$1" ] || fail "served '$got', wanted '$1'"
  done
}

start_server reload "$BIN/echo_server" --port 0 --workers 2 \
  --tls-cert "$TMP/live.pem" --tls-key "$TMP/live.key"
every_served_fingerprint "$FP1"

# a connection opened before the reload, held open across it: it echoes
# once, waits for $TMP/go, echoes again, and reports the certificate it got
timeout 60 python3 - "$PORT" "$C/ca.pem" "$TMP" >"$TMP/held.out" 2>&1 <<'PY' &
import os, sys, time, tls_peer as t
port, ca, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with t.connect(port, t.context(ca), timeout=30) as s:
    t.echo(s, 1, b"before the reload")
    open(tmp + "/held.ready", "w").close()
    for _ in range(400):
        if os.path.exists(tmp + "/go"):
            break
        time.sleep(0.05)
    else:
        sys.exit("no go within 20 s")
    t.echo(s, 2, b"after the reload" * 1000)
    print("held", t.fingerprint(s))
PY
HELD=$!
SERVER_PIDS+=("$HELD")
for _ in $(seq 1 200); do
  [ -e "$TMP/held.ready" ] && break
  kill -0 "$HELD" 2>/dev/null || fail "held connection: $(cat "$TMP/held.out")"
  sleep 0.05
done
[ -e "$TMP/held.ready" ] || fail "held connection not ready within 10 s"

# the new certificate and key, then SIGHUP: logged once every worker has it
cp "$C/server2.pem" "$TMP/live.pem"
cp "$C/server2.key" "$TMP/live.key"
kill -HUP "$SERVER_PID"
wait_log "$TMP/reload.err" "INFO: SIGHUP: TLS reloaded: new connections get $TMP/live\.pem" 1
every_served_fingerprint "$FP2"
expect 0 '^echo_client: 50/50 echoes matched' "$BIN/echo_client" \
  --port "$PORT" --tls-ca "$C/ca.pem" --count 50

touch "$TMP/go"
wait_exit "$HELD" 30 "go"
[ "$EXIT_STATUS" -eq 0 ] || fail "held connection failed: $(cat "$TMP/held.out")"
[ "$(cat "$TMP/held.out")" = "held $FP1" ] ||
  fail "held connection: '$(cat "$TMP/held.out")', wanted 'held $FP1'"

# an unusable key: the reason is logged (with the file's name), server2 stays
printf 'garbage, not a key\n' >"$TMP/live.key"
kill -HUP "$SERVER_PID"
wait_log "$TMP/reload.err" 'ERROR: SIGHUP: TLS not reloaded' 1
grep -q "$TMP/live.key" "$TMP/reload.err" ||
  fail "the log does not say which file: $(cat "$TMP/reload.err")"
every_served_fingerprint "$FP2"
expect 0 '^echo_client: 50/50 echoes matched' "$BIN/echo_client" \
  --port "$PORT" --tls-ca "$C/ca.pem" --count 50

# a certificate that does not match the key (server.pem with server2.key):
# refused too
cp "$C/server.pem" "$TMP/live.pem"
cp "$C/server2.key" "$TMP/live.key"
kill -HUP "$SERVER_PID"
wait_log "$TMP/reload.err" 'ERROR: SIGHUP: TLS not reloaded' 2
every_served_fingerprint "$FP2"

# and back to a good pair: reloaded
cp "$C/server.key" "$TMP/live.key"
kill -HUP "$SERVER_PID"
wait_log "$TMP/reload.err" 'INFO: SIGHUP: TLS reloaded' 2
every_served_fingerprint "$FP1"
stop_server "$SERVER_PID"
[ "$(grep -c 'SIGHUP: TLS reloaded' "$TMP/reload.err")" -eq 2 ] &&
  [ "$(grep -c 'SIGHUP: TLS not reloaded' "$TMP/reload.err")" -eq 2 ] ||
  fail "wanted 2 reloads and 2 refusals: $(cat "$TMP/reload.err")"
echo "tls reload e2e: all checks passed"
