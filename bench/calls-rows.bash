# calls-rows.bash: rows (p) and (q) of bench/run-bench, calls (issue 21),
# sourced by it (it uses run-bench's $BIN, $ROWS, $ROUNDS, $SECONDS_PER_RUN,
# $WARMUP, $HOST, $TMP, $LOADGEN, start_server, stop_server, measure's
# conventions, json_field, median and the RESULT_A/RESULT_B tables).
#   (p) one call at a time on 1 connection, 64 B: netfw_client_call (A)
#       against the same request/reply over a blocking socket (B: one
#       write, a buffered read of header + payload, TCP_NODELAY), both to
#       `calls-bench --serve` (W=1, answering in on_message); p50 RTT, A
#       and B alternating inside calls-bench; target A/B <= 1.3.
#   (q) pipelined calls/s: the async client keeping CALLS_WINDOW calls in
#       flight on 1 connection (A) against that server's echo ceiling,
#       netfw-loadgen --conns 1 --depth CALLS_WINDOW --id 13 on the same
#       server (B; id 13 is echoed unchanged); A and B alternate by round;
#       target A/B >= 0.8.
# Environment: CALLS_BENCH (default $BIN/calls-bench). Without it the rows
# are skipped (said on stderr); a failed run marks the bench failed.

declare -A RESULT_A RESULT_B
CALLS_WINDOW=256

# calls_q_loadgen PORT PID: one loadgen round of row q's B; prints msgs/s
# or nan (and marks the bench failed).
calls_q_loadgen() {
  local out rc=0 errors
  out=$("$LOADGEN" --host "$HOST" --port "$1" --conns 1 \
        --depth "$CALLS_WINDOW" --size 64 --id 13 \
        --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" --json \
        --server-pid "$2" 2> "$TMP/calls-loadgen.err") || rc=$?
  errors=$(json_field "$out" errors)
  if [ "$rc" != 0 ] || [ "${errors:-1}" != 0 ]; then
    echo "run-bench: row q: loadgen failed (exit $rc, errors ${errors:-?})" >&2
    cat "$TMP/calls-loadgen.err" >&2
    : > "$TMP/failed"
    echo nan
    return
  fi
  json_field "$out" msgs_per_s
}

# calls_q_async PORT: one round of row q's A; prints calls/s or nan.
calls_q_async() {
  local out
  if ! out=$("$CALLS_BENCH" --row q --host "$HOST" --port "$1" --size 64 \
             --window "$CALLS_WINDOW" --rounds 1 \
             --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" --json \
             2> "$TMP/calls-q.err"); then
    echo "run-bench: row q: calls-bench failed:" >&2
    cat "$TMP/calls-q.err" >&2
    : > "$TMP/failed"
    echo nan
    return
  fi
  json_field "$out" calls_per_s
}

# calls_rows_run: rows p and q when asked for (one server, W=1).
calls_rows_run() {
  local pid port out va=() vb=() a b r
  CALLS_BENCH=${CALLS_BENCH:-$BIN/calls-bench}
  [[ " $ROWS " == *" "[pq]" "* ]] || return 0
  RESULT_A[-,p]=nan RESULT_B[-,p]=nan RESULT_A[-,q]=nan RESULT_B[-,q]=nan
  if [ ! -x "$CALLS_BENCH" ]; then
    echo "run-bench: rows p, q skipped: $CALLS_BENCH missing" >&2
    return 0
  fi
  start_server C "$CALLS_BENCH --serve --workers {W}" 1 || {
    : > "$TMP/failed"
    return 0
  }
  pid=$SRV_PID port=$SRV_PORT
  if [[ " $ROWS " == *" p "* ]]; then
    if out=$("$CALLS_BENCH" --row p --host "$HOST" --port "$port" --size 64 \
             --rounds "$ROUNDS" --seconds "$SECONDS_PER_RUN" \
             --warmup "$WARMUP" --json 2> "$TMP/calls-p.err"); then
      RESULT_A[-,p]=$(json_field "$out" call_p50_us)
      RESULT_B[-,p]=$(json_field "$out" raw_p50_us)
    else
      echo "run-bench: row p: calls-bench failed:" >&2
      : > "$TMP/failed"
    fi
    sed 's/^/ /' "$TMP/calls-p.err" >&2
  fi
  if [[ " $ROWS " == *" q "* ]]; then
    for ((r = 1; r <= ROUNDS; r++)); do # A B, then B A
      ((r % 2)) || b=$(calls_q_loadgen "$port" "$pid")
      a=$(calls_q_async "$port")
      ((r % 2)) && b=$(calls_q_loadgen "$port" "$pid")
      va+=("$a") vb+=("$b")
      echo "  row q round $r/$ROUNDS: async client $a calls/s, loadgen echo $b msgs/s (window $CALLS_WINDOW)" >&2
    done
    RESULT_A[-,q]=$(median "${va[@]}")
    RESULT_B[-,q]=$(median "${vb[@]}")
  fi
  stop_server "$pid"
}

# calls_rows_notes: what A and B are in rows p and q.
calls_rows_notes() {
  [[ " $ROWS " == *" p "* ]] && echo "(row p: A = netfw_client_call, B = the same call over a blocking socket (one write, buffered read, TCP_NODELAY), both to calls-bench --serve, W=1; p50 RTT)"
  [[ " $ROWS " == *" q "* ]] && echo "(row q: A = the async client, $CALLS_WINDOW calls in flight on 1 connection; B = netfw-loadgen echoes, 1 connection, depth $CALLS_WINDOW, same server)"
  return 0
}
