# stats-rows.bash: row (n) of bench/run-bench, what counting costs (issue
# 17), sourced by it (it uses run-bench's start_server, stop_server,
# measure, median, $TMP, $HOST, $ROUNDS, $WORKERS, $BIN ...).
#   (n) row (a)'s load, 32 conns x depth 16 x 64 B, against echo_server
#       built with counting (A, NETFW_STATS=ON, the default) and without
#       (B, -DNETFW_STATS=OFF: the counting compiled out); msgs/s, A/B
#       (target >= 0.98: counting costs at most 2 %); W = each of $WORKERS
# B's program comes from a second build tree, $BUILD/stats-off next to the
# bench's own ($BUILD = $BIN/..): configured from the same sources with the
# build type and compiler of $BUILD, NETFW_STATS=OFF, and only its
# echo_server target built, once per run (incrementally after the first).
# Servers (environment; {W} is replaced; either one set skips the build):
#   NETFW_STATS_ON_SERVER   default: $BIN/echo_server --ip $HOST --port 0
#                           --workers {W}
#   NETFW_STATS_OFF_SERVER  default: the same from $BUILD/stats-off/bin

# run-bench's tables (declared again here for shellcheck; no effect), and
# row n's medians of the per-round ratios A/B (msgs/s, then CPU per echo).
declare -A RESULT_A RESULT_B CPU_A CPU_B STATS_PAIRED

# stats_ratio A B: A/B with 4 decimals ("nan" when either is not a number).
stats_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "nan" || b == "nan" || a == "" || b == "" || b + 0 == 0) print "nan"
    else printf "%.4f\n", a / b }'
}

# stats_cache_value CACHE NAME: NAME's value in a CMakeCache.txt (empty if
# unset).
stats_cache_value() {
  sed -n "s/^$2:[A-Z]*=//p" "$1" | head -1
}

# stats_build_off BUILD: configures $BUILD/stats-off with NETFW_STATS=OFF
# (what $BUILD was configured with otherwise) and builds its echo_server;
# prints the program's path. Returns 1 (its log on stderr) on failure.
stats_build_off() {
  local build=$1 cache=$1/CMakeCache.txt off=$1/stats-off src type cc flags
  src=$(stats_cache_value "$cache" CMAKE_HOME_DIRECTORY)
  type=$(stats_cache_value "$cache" CMAKE_BUILD_TYPE)
  cc=$(stats_cache_value "$cache" CMAKE_C_COMPILER)
  flags=$(stats_cache_value "$cache" CMAKE_C_FLAGS)
  if [ "$(stats_cache_value "$cache" NETFW_STATS)" = OFF ]; then
    echo "run-bench: row n: $build was configured with NETFW_STATS=OFF: A counts nothing either" >&2
  fi
  echo "  row n: building $off (NETFW_STATS=OFF, ${type:-no build type}, echo_server only) ..." >&2
  if ! { cmake -S "${src:-$ROOT}" -B "$off" -DNETFW_STATS=OFF \
           -DCMAKE_BUILD_TYPE="$type" -DCMAKE_C_COMPILER="$cc" \
           -DCMAKE_C_FLAGS="$flags" -DNETFW_BUILD_TESTS=OFF \
           -DNETFW_BUILD_BENCH=OFF -DNETFW_BUILD_EXAMPLES=ON &&
         cmake --build "$off" --target echo_server -j "$(nproc)"; } \
       > "$TMP/stats-off.log" 2>&1; then
    echo "run-bench: row n: building $off failed; its log ends with:" >&2
    tail -n 30 "$TMP/stats-off.log" >&2
    return 1
  fi
  echo "$off/bin/echo_server"
}

# stats_rows_setup: the two servers of row n (building B's when needed).
# Without a build tree to copy the options of, or when the build fails,
# row n is dropped from $ROWS (and the failure marked).
stats_rows_setup() {
  local build prog
  [[ " $ROWS " == *" n "* ]] || return 0
  build=$(cd "$BIN/.." && pwd)
  local def="$BIN/echo_server --ip $HOST --port 0 --workers {W}"
  NETFW_STATS_ON_SERVER=${NETFW_STATS_ON_SERVER:-$def}
  if [ -z "${NETFW_STATS_OFF_SERVER:-}" ]; then
    if [ ! -f "$build/CMakeCache.txt" ]; then
      echo "run-bench: row n skipped: $build is not a CMake build tree (set NETFW_STATS_OFF_SERVER)" >&2
      ROWS=${ROWS//n/}
      return 0
    fi
    if ! prog=$(stats_build_off "$build"); then
      : > "$TMP/failed"
      ROWS=${ROWS//n/}
      return 0
    fi
    NETFW_STATS_OFF_SERVER="$prog --ip $HOST --port 0 --workers {W}"
  fi
  for prog in "${NETFW_STATS_ON_SERVER%% *}" "${NETFW_STATS_OFF_SERVER%% *}"; do
    command -v "$prog" > /dev/null ||
      { echo "run-bench: $prog not found (build first: make)" >&2; exit 1; }
  done
  echo "  row n: A (counting on):  $NETFW_STATS_ON_SERVER"
  echo "         B (counting off): $NETFW_STATS_OFF_SERVER"
}

# stats_row_w W: row n with W workers: both servers started once, row (a)'s
# load against them in alternation for $ROUNDS rounds (A B, B A, A B ...).
stats_row_w() {
  local w=$1 r a b acpu bcpu alg blg va=() vb=() ca=() cb=() ra=() rc=()
  local port_a pid_a port_b pid_b
  start_server ON "$NETFW_STATS_ON_SERVER" "$w"; port_a=$SRV_PORT; pid_a=$SRV_PID
  start_server OFF "$NETFW_STATS_OFF_SERVER" "$w"; port_b=$SRV_PORT; pid_b=$SRV_PID
  for ((r = 1; r <= ROUNDS; r++)); do
    # A B, then B A: whichever runs second in a round gains a little (a
    # control with one program as both measured the first 1-3 % slower),
    # so the order alternates and the gain falls to both.
    if ((r % 2)); then
      read -r a acpu alg < <(measure counting-on "$port_a" "$pid_a" a)
      read -r b bcpu blg < <(measure counting-off "$port_b" "$pid_b" a)
    else
      read -r b bcpu blg < <(measure counting-off "$port_b" "$pid_b" a)
      read -r a acpu alg < <(measure counting-on "$port_a" "$pid_a" a)
    fi
    va+=("$a") vb+=("$b") ca+=("$acpu") cb+=("$bcpu")
    ra+=("$(stats_ratio "$a" "$b")") rc+=("$(stats_ratio "$acpu" "$bcpu")")
    printf '  W=%s row n round %d/%d: on %s, off %s msgs/s; server CPU per echo on %s us, off %s us; loadgen CPU %s, %s\n' \
      "$w" "$r" "$ROUNDS" "$a" "$b" "$acpu" "$bcpu" "$alg" "$blg" >&2
  done
  # shellcheck disable=SC2034 # run-bench's tables
  RESULT_A[$w,n]=$(median "${va[@]}") RESULT_B[$w,n]=$(median "${vb[@]}")
  CPU_A[$w,n]=$(median "${ca[@]}") CPU_B[$w,n]=$(median "${cb[@]}")
  STATS_PAIRED[$w]="$(median "${ra[@]}") $(median "${rc[@]}")"
  stop_server "$pid_a"
  stop_server "$pid_b"
}

# stats_rows_run: row n for each worker count, when asked for.
stats_rows_run() {
  local w a c
  [[ " $ROWS " == *" n "* ]] || return 0
  for w in $WORKERS; do
    stats_row_w "$w"
  done
}

# stats_rows_notes: what A and B are in row n, and the medians of its
# per-round ratios (each round's A and B ran back to back, so their ratio
# is less disturbed by a machine whose load changes than the medians').
stats_rows_notes() {
  local w a c
  [[ " $ROWS " == *" n "* ]] || return 0
  echo "(row n: A = echo_server counting (NETFW_STATS=ON), B = the same built with -DNETFW_STATS=OFF; row a's load; target A/B >= 0.98)"
  for w in $WORKERS; do
    read -r a c <<< "${STATS_PAIRED[$w]:-nan nan}"
    echo "(row n, W=$w: median of the rounds' A/B: msgs/s $a, server CPU per echo $c)"
  done
}
