#!/usr/bin/env bash
# file_storage_server under attack from outside: a FIFO in the directory, a
# 48 MiB GET streamed to a reader that does not read, pipelined requests,
# clients that vanish mid-stream, files that shrink or grow mid-GET, the
# per-connection and per-worker bounds, stale temporary files, the quota.
# Every peer is a raw socket (fs_peer.py); every wait is bounded.
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
export PYTHONPATH=$HERE

MiB=$((1024 * 1024))
peer() { timeout 120 python3 - "$PORT" "$TMP/store" "$@"; }
no_sanitizer_report() { # no_sanitizer_report FILE
  ! grep -qE 'AddressSanitizer|runtime error|used after on_client_closed' "$1" ||
    { cat "$1" >&2; fail "sanitizer or use-after-close report in $1"; }
}

mkdir "$TMP/store"
# stale temporary files (a writer killed mid-ADD); one of a running process
sh -c 'exit 0' & dead=$!; wait "$dead"
: >"$TMP/store/.netfw-tmp-$dead-7"
: >"$TMP/store/.netfw-tmp-junk"
: >"$TMP/store/.netfw-tmp-$$-1"
mkfifo "$TMP/store/fifo"
head -c $((16 * MiB)) /dev/urandom >"$TMP/store/big16"
head -c $((48 * MiB)) /dev/urandom >"$TMP/store/big48"
printf 'small' >"$TMP/store/small"

# one worker, so every client below shares its loop
start_server io "$BIN/file_storage_server" --dir "$TMP/store" --port 0 \
  --workers 1 --max-payload $((64 * MiB))
grep -q 'removed 2 stale temporary files' "$TMP/io.err" ||
  fail "stale temporary files not reported: $(cat "$TMP/io.err")"
[ ! -e "$TMP/store/.netfw-tmp-$dead-7" ] && [ ! -e "$TMP/store/.netfw-tmp-junk" ] ||
  fail "stale temporary files left"
[ -e "$TMP/store/.netfw-tmp-$$-1" ] || fail "a running writer's temporary file was removed"

# a GET of a FIFO is answered FILE_NOT_FOUND at once; the worker stays free
peer <<'PY' || fail "FIFO GET"
import sys, fs_peer as p
port = int(sys.argv[1])
a = p.connect(port, timeout=5)
a.sendall(p.get("fifo"))
listing = p.timed_list(port, 1.0)
assert "fifo" not in listing and listing["small"] == 5, listing
p.expect_ack(a, p.FILE_NOT_FOUND)
PY

# 16 MiB streamed exactly; the same file through the C client
peer <<'PY' || fail "16 MiB GET"
import sys, fs_peer as p
port, store = int(sys.argv[1]), sys.argv[2]
with p.connect(port) as s:
    s.sendall(p.get("big16"))
    mid, body = p.reply(s)
    assert mid == p.GET_RESP, mid
    name, data = p.get_resp(body)
    assert name == "big16" and data == open(store + "/big16", "rb").read()
PY

# pipelined requests are answered in the order sent
peer <<'PY' || fail "pipelined requests"
import sys, fs_peer as p
port, store = int(sys.argv[1]), sys.argv[2]
big = open(store + "/big16", "rb").read()
with p.connect(port) as s:
    s.sendall(p.get("big16") + p.get("small") + p.get("missing") + p.get("fifo")
              + p.add("new", b"xyz") + p.get("new") + p.list_() + p.delete("new")
              + p.get("big16") + p.get("../etc/passwd"))
    mid, body = p.reply(s); assert p.get_resp(body) == ("big16", big)
    mid, body = p.reply(s); assert p.get_resp(body) == ("small", b"small")
    p.expect_ack(s, p.FILE_NOT_FOUND)
    p.expect_ack(s, p.FILE_NOT_FOUND)
    p.expect_ack(s, p.OK)
    mid, body = p.reply(s); assert p.get_resp(body) == ("new", b"xyz")
    mid, body = p.reply(s); assert mid == p.LIST_RESP and p.list_resp(body)["new"] == 3
    p.expect_ack(s, p.OK)
    mid, body = p.reply(s); assert p.get_resp(body) == ("big16", big)
    p.expect_ack(s, p.NONE)
PY

# a reader that does not read holds neither the worker nor unbounded memory;
# the worker's ADD bytes are capped (64 MiB here): the 5th 15 MiB ADD queued
# behind the stalled GET is refused, in order
peer <<'PY' || fail "stalled reader / ADD cap"
import sys, time, fs_peer as p
port, store = int(sys.argv[1]), sys.argv[2]
chunk = bytes(range(256)) * (15 * 4096)
s = p.connect(port, timeout=30)
s.sendall(p.get("big48"))
time.sleep(0.3)
p.timed_list(port, 1.0)
s.sendall(b"".join(p.add(f"cap{i}", chunk) for i in range(5)))
time.sleep(0.3)
p.timed_list(port, 1.0)
mid, body = p.reply(s)
assert p.get_resp(body) == ("big48", open(store + "/big48", "rb").read())
for rc in (p.OK, p.OK, p.OK, p.OK, p.NONE):
    p.expect_ack(s, rc)
s.sendall(b"".join(p.delete(f"cap{i}") for i in range(4)))
for _ in range(4):
    p.expect_ack(s, p.OK)
PY
grep -q 'ADD of 15728640 bytes refused' "$TMP/io.err" || fail "ADD cap not logged"

# more than 16 requests pending behind a stalled GET: the connection is shut
# down (what was queued is delivered, then EOF)
peer <<'PY' || fail "pending-request bound"
import sys, time, fs_peer as p
port = int(sys.argv[1])
s = p.connect(port)
s.sendall(p.get("big48"))
time.sleep(0.3)
s.sendall(p.list_() * 17)
got = p.read_to_eof(s)
assert 0 < len(got) < 6 + 48 * 2**20, len(got)
p.timed_list(port, 1.0)
PY
grep -q 'requests pending (the limit); closing it' "$TMP/io.err" ||
  fail "pending-request bound not logged"

# a file that shrinks mid-GET: the frame cannot be finished, so the
# connection closes (never a short frame); one that grows: the frame stops
# at the announced size and the next reply follows intact
peer <<'PY' || fail "file changed mid-GET"
import os, shutil, sys, time, fs_peer as p
port, store = int(sys.argv[1]), sys.argv[2]
shutil.copy(store + "/big48", store + "/shrinks")
shutil.copy(store + "/big16", store + "/grows")
s = p.connect(port)
s.sendall(p.get("shrinks"))
time.sleep(0.3)
os.truncate(store + "/shrinks", 2**20)
mid, size = p.HDR.unpack(p.recv_exact(s, 6))
assert mid == p.GET_RESP and size == 1 + 7 + 4 + 48 * 2**20, size
got = p.read_to_eof(s)
assert len(got) < size, len(got)
s = p.connect(port)
s.sendall(p.get("grows"))
time.sleep(0.3)
with open(store + "/grows", "ab") as f:
    f.write(b"x" * 2**20)
s.sendall(p.list_())
mid, body = p.reply(s)
assert p.get_resp(body) == ("grows", open(store + "/big16", "rb").read())
mid, body = p.reply(s)
assert mid == p.LIST_RESP and p.list_resp(body)["grows"] == 17 * 2**20
PY
grep -q 'the file shrank' "$TMP/io.err" || fail "shrink not logged"

# clients vanish mid-operation: closed (FIN or reset) right after pipelining
# GETs, mid-stream, or with ADDs in flight; the worker goes on, and no
# completion touches a closed connection (ASan build: no report)
peer <<'PY' || fail "clients closing mid-stream"
import sys, time, fs_peer as p
port = int(sys.argv[1])
for i in range(40):
    s = p.connect(port)
    s.sendall(p.get("big48") * 4 + p.add(f"gone{i}", b"z" * 100000) + p.list_())
    if i % 4 == 1:
        s.recv(65536)
    elif i % 4 == 2:
        time.sleep(0.02)
    if i % 2:
        p.abort(s)
    else:
        s.close()
time.sleep(0.5)
p.timed_list(port, 1.0)
with p.connect(port) as s:
    s.sendall(p.get("small"))
    mid, body = p.reply(s)
    assert p.get_resp(body) == ("small", b"small")
PY
no_sanitizer_report "$TMP/io.err"
stop_server "$SERVER_PID"
no_sanitizer_report "$TMP/io.err"

# --quota across 4 workers: 16 racing 10-byte ADDs under a 100-byte quota
mkdir "$TMP/q"
start_server quota "$BIN/file_storage_server" --dir "$TMP/q" --port 0 \
  --workers 4 --quota 100
printf '0123456789' >"$TMP/ten"
racers=()
for i in $(seq 1 16); do
  ("$BIN/file_storage_client" --port "$PORT" put "q$i" "$TMP/ten" \
    >"$TMP/q$i.out" 2>&1 || true) &
  racers+=($!)
done
wait "${racers[@]}"
ok=$(cat "$TMP"/q*.out | grep -c '^stored q' || true)
refused=$(cat "$TMP"/q*.out | grep -c 'not stored: NONE' || true)
[ "$ok" -eq 10 ] && [ "$refused" -eq 6 ] || fail "quota: $ok stored, $refused refused"
stored=$(cat "$TMP"/q*.out | sed -n 's/^stored \(q[0-9]*\) .*/\1/p' | head -1)
"$BIN/file_storage_client" --port "$PORT" put more "$TMP/ten" >/dev/null &&
  fail "an ADD over the quota was stored"
"$BIN/file_storage_client" --port "$PORT" del "$stored" >/dev/null ||
  fail "del $stored under quota"
"$BIN/file_storage_client" --port "$PORT" put again "$TMP/ten" >/dev/null ||
  fail "ADD after a DEL under quota"
stop_server "$SERVER_PID"
no_sanitizer_report "$TMP/quota.err"
# a replacement worker removes what a killed writer left (not only a start)
mkdir "$TMP/respawn"
start_server respawn "$BIN/file_storage_server" --dir "$TMP/respawn" \
  --port 0 --workers 1
sh -c 'exit 0' & gone=$!; wait "$gone"
: >"$TMP/respawn/.netfw-tmp-$gone-3"
worker=$(pgrep -P "$SERVER_PID" | head -n 1)
[ -n "$worker" ] || fail "no worker under $SERVER_PID"
kill -KILL "$worker"
for _ in $(seq 1 100); do # 5 s
  [ -e "$TMP/respawn/.netfw-tmp-$gone-3" ] || break
  sleep 0.05
done
[ ! -e "$TMP/respawn/.netfw-tmp-$gone-3" ] ||
  fail "the replacement worker left a dead writer's temporary file"
grep -q 'removed 1 temporary file of dead writers' "$TMP/respawn.err" ||
  fail "no log line for the removal: $(cat "$TMP/respawn.err")"
stop_server "$SERVER_PID"
no_sanitizer_report "$TMP/respawn.err"
echo "file_storage io e2e: all checks passed"
