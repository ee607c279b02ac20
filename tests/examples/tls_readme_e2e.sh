#!/usr/bin/env bash
# Runs the commands of README.md's "## TLS" section (its ```sh blocks) as
# written, in a scratch directory where build/bin and scripts are the real
# ones. Servers (lines ending in " &") get a free port instead of the
# README's, and %N means the N-th of them. Every command must exit 0
# except those marked "# refused" (exit 1); then what the README says they print is
# checked: the echo summary, the fingerprints before and after SIGHUP, the
# mutual-TLS log line and the refusal.
BIN=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/lib.sh"
source "$HERE/tls_lib.sh"

WORK=$TMP/work
mkdir -p "$WORK/build"
ln -s "$BIN" "$WORK/build/bin"
ln -s "$ROOT/scripts" "$WORK/scripts"
cd "$WORK"

mapfile -t CMDS < <(python3 - "$ROOT/README.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
sec = re.search(r"^## TLS\n(.*?)(?=^## )", text, re.S | re.M)
for block in re.findall(r"```sh\n(.*?)```", sec.group(1) if sec else "", re.S):
    for line in block.splitlines():
        if line.strip():
            print(line)
PY
)
[ "${#CMDS[@]}" -eq 12 ] || fail "README's TLS section has ${#CMDS[@]} commands, this test knows 12"

declare -A PORTS # README port -> the port the server got
JOBS=()          # pids of the servers, in the order started (%1, %2, ...)
ERRS=()          # their stderr (the log)
FPS=()           # fingerprints printed by the s_client lines
SERVED=false     # the mutual-TLS client with client.pem exited 0

# translate CMD : the README command with the ports and %N replaced.
translate() {
  local cmd=$1 p n
  for p in "${!PORTS[@]}"; do cmd=$(sed "s/\b$p\b/${PORTS[$p]}/g" <<<"$cmd"); done
  for n in "${!JOBS[@]}"; do cmd=${cmd//%$((n + 1))/${JOBS[$n]}}; done
  printf '%s' "$cmd"
}

# check I CMD : what the README says command I prints, it printed.
check() {
  local out=$TMP/readme$1.out
  case "$2" in
  *make-test-certs*)
    FP_SERVER=$(fingerprint certs/server.pem)
    FP_SERVER2=$(fingerprint certs/server2.pem)
    FP_CLIENT=$(fingerprint certs/client.pem) ;;
  *echo_client*--port\ 7000*)
    grep -q '^echo_client: 1000/1000 echoes matched, 64 B each, ' "$out" ||
      fail "echo_client over TLS printed: $(cat "$out")" ;;
  *s_client*)
    FPS+=("$(sed 's/^.*=//; s/://g' "$out" | tr 'A-F' 'a-f')") ;;
  *kill\ -HUP*)
    wait_log "${ERRS[0]}" 'INFO: SIGHUP: TLS reloaded: new connections get certs/server.pem \(open ones keep theirs\)$' 1 ;;
  *client.pem*)
    grep -q '^echo_client: 10/10 echoes matched' "$out" || fail "mTLS client: $(cat "$out")"
    SERVED=true ;;
  *refused*)
    grep -qx 'error: after 0 echoes: connection lost: tlsv13 alert certificate required' "$out" ||
      fail "the refused client printed: $(cat "$out")" ;;
  esac
}

for i in "${!CMDS[@]}"; do
  line=${CMDS[$i]}
  if [[ $line == *' &' ]]; then # a server: on a free port
    port=$(sed -n 's/.*--port \([0-9]*\).*/\1/p' <<<"$line")
    [ -n "$port" ] || fail "a README server without --port: $line"
    cmd=$(translate "${line% &}")
    start_server "readme$i" bash -c "exec ${cmd/--port $port/--port 0}"
    PORTS[$port]=$PORT
    JOBS+=("$SERVER_PID")
    ERRS+=("$TMP/readme$i.err")
    continue
  fi
  status=0
  bash -c "$(translate "$line")" >"$TMP/readme$i.out" 2>&1 || status=$?
  if [[ $line == *'# refused'* ]]; then
    [ "$status" -eq 1 ] || fail "README command exited $status, the README says refused (1): $line"
  else
    [ "$status" -eq 0 ] || fail "README command exited $status: $line: $(cat "$TMP/readme$i.out")"
  fi
  check "$i" "$line"
done

# kill %1 %2 was SIGTERM: both servers stop cleanly
for pid in "${JOBS[@]}"; do
  wait_exit "$pid" 15 "the README's kill"
  [ "$EXIT_STATUS" -eq 0 ] || fail "server $pid exited $EXIT_STATUS"
done
[ "${#JOBS[@]}" -eq 2 ] || fail "wanted 2 README servers, got ${#JOBS[@]}"
[ "${#FPS[@]}" -eq 2 ] && [ "${FPS[0]}" = "$FP_SERVER" ] &&
  [ "${FPS[1]}" = "$FP_SERVER2" ] && [ "$FP_SERVER" != "$FP_SERVER2" ] ||
  fail "s_client fingerprints before/after SIGHUP: ${FPS[*]}, wanted $FP_SERVER $FP_SERVER2"
$SERVED || fail "the mutual-TLS client with client.pem did not run"
# the mutual-TLS server logged client.pem's identity as the README shows
grep -qE "^\[[0-9]+\] INFO: client 127\.0\.0\.1:[0-9]+ TLSv1\.3 TLS_AES_256_GCM_SHA384 cn=netfw-test-client sha256=$FP_CLIENT$" \
  "${ERRS[1]}" || fail "no mTLS log line for client.pem ($FP_CLIENT): $(cat "${ERRS[1]}")"
echo "tls readme e2e: ${#CMDS[@]} README commands run, all checks passed"
