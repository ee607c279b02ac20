#!/usr/bin/env bash
# echo_client against echo_server with 1, 2 and 4 workers, sizes 0 B .. 1 MiB.
BIN=$1
source "$(dirname "$0")/lib.sh"

for workers in 1 2 4; do
  start_server "echo$workers" "$BIN/echo_server" --ip 127.0.0.1 --port 0 --workers "$workers"
  for spec in "0 200 1" "1 500 8" "64 2000 16" "65536 100 4" "1048576 8 2"; do
    set -- $spec
    out=$("$BIN/echo_client" --port "$PORT" --size "$1" --count "$2" --pipeline "$3") \
      || fail "echo_client size $1 count $2 with $workers workers: $out"
    case "$out" in
      "echo_client: $2/$2 echoes matched, $1 B each"*) ;;
      *) fail "unexpected summary: $out" ;;
    esac
  done
  stop_server "$SERVER_PID"
done

# usage errors are reported, not crashed on
"$BIN/echo_client" --size -1 2>/dev/null && fail "negative size accepted"
"$BIN/echo_server" --workers x 2>/dev/null && fail "bad worker count accepted"
"$BIN/echo_server" --help | grep -q -- '--workers' || fail "--help does not list --workers"
echo "echo e2e: 15 runs passed"
