#!/usr/bin/env bash
# The limit flags every example server takes (examples/common): listed by
# --help, validated (a bad value exits 2 naming the flag), and applied.
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
export PYTHONPATH=$HERE
mkdir "$TMP/store"

for server in echo_server chat_server "file_storage_server --dir $TMP/store"; do
  help=$($BIN/$server --help) || fail "$server --help exited non-zero"
  for flag in --ip --port --workers --max-payload --max-connections \
    --idle-timeout --worker-memory; do
    grep -q -- "$flag" <<<"$help" || fail "$server --help does not list $flag"
  done
  for bad in "--max-payload 0" "--max-payload 2147483648" "--max-payload 1k" \
    "--max-connections -1" "--idle-timeout x" "--idle-timeout -5" \
    "--worker-memory -1" "--worker-memory 12abc"; do
    status=0
    out=$($BIN/$server $bad 2>&1) || status=$?
    [ "$status" -eq 2 ] || fail "$server $bad exited $status, wanted 2"
    grep -q -- "error: ${bad%% *} must be a whole number" <<<"$out" ||
      fail "$server $bad: no message naming the flag: $out"
  done
done
grep -q -- --quota <<<"$("$BIN/file_storage_server" --help)" ||
  fail "file_storage_server --help does not list --quota"
status=0
"$BIN/file_storage_server" --dir "$TMP/store" --quota -3 2>"$TMP/err" || status=$?
[ "$status" -eq 2 ] && grep -q 'error: --quota must be' "$TMP/err" || fail "bad --quota accepted"
status=0
"$BIN/echo_server" --quota 5 2>"$TMP/err" || status=$?
[ "$status" -eq 2 ] && grep -q 'takes no --dir or --quota' "$TMP/err" ||
  fail "echo_server accepted --quota"

# the values reach the server: 100-byte payloads, one connection per worker,
# 300 ms idle timeout (and --worker-memory accepted)
start_server echo "$BIN/echo_server" --port 0 --max-payload 100 \
  --max-connections 1 --idle-timeout 300 --worker-memory 100000000
timeout 30 python3 - "$PORT" <<'PY' || fail "limits not applied"
import sys, time, fs_peer as p
port = int(sys.argv[1])
a = p.connect(port)
a.sendall(p.frame(9, b"x" * 100))           # at the limit: echoed
assert p.reply(a) == (9, b"x" * 100)
b = p.connect(port)                          # over --max-connections 1
assert p.closed_by_peer(b, 5)
t0 = time.monotonic()                        # a idle: closed after ~300 ms
assert p.closed_by_peer(a, 5)
assert 0.2 < time.monotonic() - t0 < 3, time.monotonic() - t0
c = p.connect(port)                          # over --max-payload: closed
c.sendall(p.frame(9, b"x" * 101))
assert p.closed_by_peer(c, 5)
PY
stop_server "$SERVER_PID"

# file_storage_server takes the same limits (its GET replies follow
# --max-payload too)
printf '0123456789' >"$TMP/store/ten"
start_server fs "$BIN/file_storage_server" --dir "$TMP/store" --port 0 \
  --max-payload 20
timeout 30 python3 - "$PORT" <<'PY' || fail "file_storage limits not applied"
import sys, fs_peer as p
port = int(sys.argv[1])
with p.connect(port) as s:
    s.sendall(p.get("ten"))                  # 1 + 3 + 4 + 10 = 18 bytes: fits
    assert p.get_resp(p.reply(s)[1]) == ("ten", b"0123456789")
    s.sendall(p.add("a", b"y" * 20))         # a 26-byte payload: over 20
    assert p.closed_by_peer(s, 5)
PY
stop_server "$SERVER_PID"
echo "server flags e2e: all checks passed"
