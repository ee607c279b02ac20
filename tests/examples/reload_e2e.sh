#!/usr/bin/env bash
# echo_server's SIGHUP and SIGTERM contracts, from outside the process.
# SIGHUP (reload) under load: a client connecting, echoing and closing in
# a loop and 50 long-lived connections echoing all along, across 3
# SIGHUPs: 0 refused connections, 0 lost or reordered replies, every
# worker pid replaced; the old generations exit once their clients leave.
# SIGTERM: new connections are refused at once, an open connection still
# gets its whole reply then EOF, exit status 0.
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
export PYTHONPATH=$HERE

# wait_lines FILE REGEX N : waits (10 s at most) for N lines matching REGEX.
wait_lines() {
  for _ in $(seq 1 200); do
    [ "$(grep -cE -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
    sleep 0.05
  done
  fail "$1 has not $3 lines matching /$2/ after 10 s: $(cat "$1")"
}

# workers PID : the pids of PID's children (its workers), sorted.
workers() { pgrep -P "$1" | sort -n | tr '\n' ' '; }

# ---- SIGHUP under load ----
start_server reload "$BIN/echo_server" --port 0 --workers 2 \
  --drain-timeout 60000
FIRST=$(workers "$SERVER_PID")
[ "$(wc -w <<<"$FIRST")" -eq 2 ] || fail "workers at start: '$FIRST'"

timeout 120 python3 - "$PORT" "$TMP" >"$TMP/load.out" 2>&1 <<'PY' &
import os, socket, sys, threading, time, fs_peer
port, tmp = int(sys.argv[1]), sys.argv[2]
stop = threading.Event()
count = {"churned": 0, "rounds": 0, "refused": 0, "lost": 0}

def echo(s, payload):
    s.sendall(fs_peer.frame(7, payload))
    try:
        hdr = fs_peer.recv_exact(s, fs_peer.HDR.size)
        body = fs_peer.recv_exact(s, len(payload))
    except Exception:
        return False
    return hdr == fs_peer.HDR.pack(7, len(payload)) and body == payload

def churn():
    seq = 0
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            count["refused"] += 1
            time.sleep(0.001)
            continue
        with s:
            if not echo(s, b"churn-%d" % seq):
                count["lost"] += 1
        seq += 1
        count["churned"] += 1

def long_lived(socks):
    seq = 0
    while not stop.is_set():
        for i, s in enumerate(socks):
            if not echo(s, b"long%d-%d" % (i, seq)):
                count["lost"] += 1
        seq += 1
        count["rounds"] += 1

socks = [socket.create_connection(("127.0.0.1", port), timeout=10)
         for _ in range(50)]
threads = [threading.Thread(target=churn),
           threading.Thread(target=long_lived, args=(socks,))]
for t in threads:
    t.start()
open(tmp + "/load.ready", "w").close()
while not os.path.exists(tmp + "/load.stop"):
    time.sleep(0.02)
time.sleep(0.3)  # traffic after the last reload too
stop.set()
for t in threads:
    t.join()
for s in socks:
    s.close()
print("churned %(churned)d rounds %(rounds)d refused %(refused)d "
      "lost %(lost)d" % count)
PY
LOAD=$!
SERVER_PIDS+=("$LOAD")
for _ in $(seq 1 200); do
  [ -e "$TMP/load.ready" ] && break
  sleep 0.05
done
[ -e "$TMP/load.ready" ] || fail "load not ready: $(cat "$TMP/load.out")"

for k in 1 2 3; do
  sleep 0.3
  kill -HUP "$SERVER_PID"
  wait_lines "$TMP/reload.err" 'INFO: SIGHUP: reloaded: every worker replaced' "$k"
done
touch "$TMP/load.stop"
wait_exit "$LOAD" 60 "load.stop"
[ "$EXIT_STATUS" -eq 0 ] || fail "load driver: $(cat "$TMP/load.out")"
echo "reload under load: $(cat "$TMP/load.out")"
grep -qE '^churned [1-9][0-9]* rounds [1-9][0-9]* refused 0 lost 0$' \
  "$TMP/load.out" || fail "load: $(cat "$TMP/load.out")"

# 3 reloads x 2 slots: 6 workers retired, each for a new one, all distinct;
# the first generation among the retired, the last one serving
RETIRED=$(sed -n 's/.*reload: worker [0-9] (pid \([0-9]*\)) accepts; pid \([0-9]*\) retired$/\2/p' \
  "$TMP/reload.err" | sort -n | tr '\n' ' ')
NEW=$(sed -n 's/.*reload: worker [0-9] (pid \([0-9]*\)) accepts; pid \([0-9]*\) retired$/\1/p' \
  "$TMP/reload.err")
LAST=$(tail -n 2 <<<"$NEW" | sort -n | tr '\n' ' ')
# gen 1-3 retired, gen 2-4 new: 6 distinct each, 8 distinct in all
[ "$(printf '%s\n' $RETIRED | sort -u | wc -l)" -eq 6 ] &&
  [ "$(printf '%s\n' $NEW | sort -u | wc -l)" -eq 6 ] &&
  [ "$(printf '%s\n' $RETIRED $NEW | sort -u | wc -l)" -eq 8 ] ||
  fail "pids: retired '$RETIRED', new '$(tr '\n' ' ' <<<"$NEW")'"
for p in $FIRST; do
  grep -qw "$p" <<<"$RETIRED" || fail "first worker $p not retired: '$RETIRED'"
done
# the old generations end once their clients have left
for _ in $(seq 1 200); do
  [ "$(workers "$SERVER_PID")" = "$LAST" ] && break
  sleep 0.05
done
[ "$(workers "$SERVER_PID")" = "$LAST" ] ||
  fail "workers after the clients left: '$(workers "$SERVER_PID")', wanted '$LAST'"
grep -q 'crash loop' "$TMP/reload.err" && fail "a reload counted as a crash"
expect_echo=$("$BIN/echo_client" --port "$PORT" --count 20) ||
  fail "echo after the reloads: $expect_echo"
stop_server "$SERVER_PID"

# ---- SIGTERM: refuse new connections at once, finish the open ones ----
start_server term "$BIN/echo_server" --port 0 --workers 2
timeout 60 python3 - "$PORT" "$TMP" >"$TMP/term.out" 2>&1 <<'PY' &
import os, socket, sys, time, fs_peer
port, tmp = int(sys.argv[1]), sys.argv[2]
payload = bytes(range(256)) * 16384  # 4 MiB, echoed while we do not read
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.sendall(fs_peer.frame(9, payload))
open(tmp + "/term.ready", "w").close()
while not os.path.exists(tmp + "/term.sent"):
    time.sleep(0.01)
t0 = time.monotonic()
while True:  # refused at once: within 1 s of the signal
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        break
    assert time.monotonic() - t0 < 1.0, "still accepting 1 s after SIGTERM"
    time.sleep(0.01)
print("refused after %.0f ms" % ((time.monotonic() - t0) * 1000))
hdr = fs_peer.recv_exact(s, fs_peer.HDR.size)
assert hdr == fs_peer.HDR.pack(9, len(payload)), hdr
body = fs_peer.recv_exact(s, len(payload))
assert body == payload, "the reply differs"
assert s.recv(1) == b"", "no EOF after the reply"
print("open connection: whole reply, then EOF")
PY
TERM_CLIENT=$!
SERVER_PIDS+=("$TERM_CLIENT")
for _ in $(seq 1 200); do
  [ -e "$TMP/term.ready" ] && break
  sleep 0.05
done
sleep 0.2 # the echo is queued in the worker
kill -TERM "$SERVER_PID"
touch "$TMP/term.sent"
wait_exit "$TERM_CLIENT" 30 "SIGTERM"
[ "$EXIT_STATUS" -eq 0 ] || fail "SIGTERM client: $(cat "$TMP/term.out")"
wait_exit "$SERVER_PID" 15 "SIGTERM"
[ "$EXIT_STATUS" -eq 0 ] || fail "echo_server exited $EXIT_STATUS after SIGTERM"
echo "sigterm: $(tr '\n' ';' <<<"$(cat "$TMP/term.out")")"
echo "reload e2e: all checks passed"
