#!/usr/bin/env bash
# file_storage end to end: every ACK code, the ADD race between workers,
# path-escape refusal, unknown ids, the interactive menu, and the demo.
BIN=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"

mkdir "$TMP/store"
start_server fs "$BIN/file_storage_server" --dir "$TMP/store" --port 0 --workers 4
fsc() { "$BIN/file_storage_client" --port "$PORT" "$@"; }
expect() { # expect STATUS PATTERN CMD... : exit status and output must match
  local want=$1 pattern=$2 out status=0; shift 2
  out=$("$@" 2>&1) || status=$?
  [ "$status" -eq "$want" ] || fail "'$*' exited $status, wanted $want: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "'$*' printed '$out', wanted /$pattern/"
}

printf 'abc' >"$TMP/abc"
: >"$TMP/empty"
expect 0 '^stored a.txt \(3 bytes\)$' fsc put a.txt "$TMP/abc"
expect 1 'not stored: FILE_EXISTS' fsc put a.txt "$TMP/abc"
expect 0 '^stored empty \(0 bytes\)$' fsc put empty "$TMP/empty"
expect 0 '^got a.txt \(3 bytes\)' fsc get a.txt "$TMP/a.copy"
cmp -s "$TMP/abc" "$TMP/a.copy" || fail "GET returned different bytes"
expect 1 'not fetched: FILE_NOT_FOUND' fsc get missing "$TMP/x"
expect 1 'not deleted: FILE_NOT_FOUND' fsc del missing
expect 0 '^ +3  a.txt$' fsc ls
expect 0 '^2 files$' fsc ls
expect 0 '^deleted a.txt$' fsc del a.txt
expect 0 '^1 file$' fsc ls
expect 2 'unknown command' fsc frobnicate
expect 2 'unknown command' "$BIN/file_storage_client" --port 1 frobnicate  # before connecting
printf 'keep' >"$TMP/kept"
expect 1 'not fetched: FILE_NOT_FOUND' fsc get missing "$TMP/kept"
[ "$(cat "$TMP/kept")" = keep ] || fail "a failed GET clobbered its output file"
ls "$TMP"/kept.part-* >/dev/null 2>&1 && fail "a failed GET left its temporary file"

# names that would leave the directory are refused with ACK NONE
for name in .. ../escape /etc/passwd a/b; do
  expect 1 'not stored: NONE \(refused\)' fsc put "$name" "$TMP/abc"
done
expect 1 'not fetched: NONE \(refused\)' fsc get ../../etc/passwd
[ ! -e "$TMP/escape" ] || fail "a file escaped the store directory"
expect 1 'a name is 1 to 255 bytes' fsc put "$(printf 'x%.0s' $(seq 256))" "$TMP/abc"

# 16 clients race to ADD one name across 4 workers: exactly one wins
racers=()
for i in $(seq 1 16); do
  printf 'writer %02d\n' "$i" >"$TMP/race$i"
  (fsc put race "$TMP/race$i" >"$TMP/race$i.out" 2>&1 || true) &
  racers+=($!)
done
wait "${racers[@]}"
wins=$(cat "$TMP"/race*.out | grep -c '^stored race' || true)
losses=$(cat "$TMP"/race*.out | grep -c 'FILE_EXISTS' || true)
[ "$wins" -eq 1 ] && [ "$losses" -eq 15 ] || fail "race: $wins stored, $losses FILE_EXISTS"
expect 0 '^writer [0-9]{2}$' fsc get race

# raw frames: an unknown id and a malformed ADD each close that connection
# only; LIST from another connection still works
python3 - "$PORT" <<'PY' || fail "raw-frame checks failed"
import socket, struct, sys
port = int(sys.argv[1])
def closed_after(frame):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(frame)
    data = s.recv(100)
    s.close()
    return data == b""
assert closed_after(struct.pack("<HI", 99, 0)), "unknown id not closed"
assert closed_after(struct.pack("<HI", 1, 3) + b"\x05ab"), "truncated ADD not closed"
assert closed_after(struct.pack("<HI", 1, 2) + b"\x01\xff"), "invalid UTF-8 not closed"
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(struct.pack("<HI", 5, 0))            # LIST, netframe's bytes
hdr = s.recv(6, socket.MSG_WAITALL)
mid, size = struct.unpack("<HI", hdr)
body = s.recv(size, socket.MSG_WAITALL)
assert mid == 6 and struct.unpack("<H", body[:2])[0] == 2, (mid, body)
# ADD "n" with 01 02 03 as netframe packs it, then ACK OK = 07 00 01 00 00 00 01
s.sendall(struct.pack("<HI", 1, 1 + 1 + 4 + 3) + b"\x01n" + struct.pack("<I", 3) + b"\x01\x02\x03")
assert s.recv(7, socket.MSG_WAITALL) == b"\x07\x00\x01\x00\x00\x00\x01"
s.close()
PY

# the interactive menu, driven through stdin
out=$(printf '1 m1 100\n4\n2 m1\n3 m1\n3 m1\n9\n5\n' | fsc 2>&1) && fail "menu with a failed delete exited 0"
grep -q '^> stored m1 (100 bytes)$' <<<"$out" || fail "menu store: $out"
grep -q '(100 bytes in all)' <<<"$out" || fail "menu hex dump: $out"
grep -q '^> deleted m1$' <<<"$out" || fail "menu delete: $out"
grep -q 'not deleted: FILE_NOT_FOUND' <<<"$out" || fail "menu second delete: $out"
grep -q '^> usage: 1 <name>' <<<"$out" || fail "menu bad choice: $out"
printf '5\n' | fsc >/dev/null || fail "menu quit exited non-zero"
out=$(printf '1 huge 16777216\n4\n5\n' | fsc 2>&1) || fail "menu after an oversized file: $out"
grep -q 'len at most' <<<"$out" || fail "menu oversize not refused: $out"
grep -qE '^[0-9]+ files?$' <<<"$out" || fail "menu unusable after an oversized file: $out"

stop_server "$SERVER_PID"

# the README's demo command runs this script
"$ROOT/scripts/demo" "$BIN" >"$TMP/demo.out" 2>&1 || { cat "$TMP/demo.out"; fail "scripts/demo failed"; }
grep -q 'identical: random.bin came back byte for byte' "$TMP/demo.out" || fail "demo transcript"
grep -q '^== demo finished' "$TMP/demo.out" || fail "demo did not finish"
echo "file_storage e2e: all checks passed"
