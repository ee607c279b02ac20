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
    --idle-timeout --worker-memory --max-output --frame-timeout \
    --drain-timeout; do
    grep -q -- "$flag" <<<"$help" || fail "$server --help does not list $flag"
  done
  for bad in "--max-payload 0" "--max-payload 2147483648" "--max-payload 1k" \
    "--max-connections -1" "--idle-timeout x" "--idle-timeout -5" \
    "--worker-memory -1" "--worker-memory 12abc" "--max-output 0" \
    "--frame-timeout -1" "--drain-timeout x"; do
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

# slowloris against --frame-timeout 300: a header and then a byte every
# 100 ms is closed within about 300 ms; whole messages are not affected
start_server slow "$BIN/echo_server" --port 0 --frame-timeout 300 \
  --drain-timeout 200 --max-output 1000000
timeout 30 python3 - "$PORT" <<'PY' || fail "--frame-timeout not applied"
import socket, struct, sys, time, fs_peer as p
port = int(sys.argv[1])
steady = p.connect(port)
s = p.connect(port)
s.sendall(struct.pack("<HI", 9, 40))
t0 = time.monotonic()
closed = False
for _ in range(30):                          # 3 s of trickling at most
    time.sleep(0.1)
    steady.sendall(p.frame(8, b"ok"))
    assert p.reply(steady) == (8, b"ok")
    try:
        s.sendall(b"x")
    except OSError:
        closed = True
        break
    s.settimeout(0.01)
    try:
        if s.recv(64) == b"":
            closed = True
            break
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
        break
took = time.monotonic() - t0
assert closed and 0.2 < took < 2.0, (closed, took)
PY
grep -q 'a frame was not complete within 300 ms; closing' "$TMP/slow.err" ||
  fail "no frame-timeout log line: $(cat "$TMP/slow.err")"
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
