# tls-rows.bash: the TLS rows (j-m) of bench/run-bench, sourced by it (it
# uses run-bench's start_server, stop_server, measure, median, json_field,
# $TMP, $HOST, $ROUNDS ...). Every TLS row runs with one worker.
#   (j) echo, 32 conns x depth 16 x 64 B: TLS (A) / plaintext (B) msgs/s
#       (target >= 0.70)
#   (k) echo, 4 conns x depth 4 x 64 KiB: TLS (A) / plaintext (B) MB/s
#       (target >= 0.60)
#   (l) full TLS 1.3 handshakes/s: netfw (A) / openssl s_server (B), both
#       driven by handshake-bench (target >= 0.80); openssl s_time -new
#       against both as a cross-check
#   (m) RSS per idle TLS connection after the handshake and one echo (A);
#       B is the same server in plaintext (target: A <= 48 KiB = 49152 B)
# The certificate is an ECDSA P-256 one from scripts/make-test-certs, made
# into $TMP at run time.
# Servers (environment; {W}, {CERT}, {KEY} are replaced):
#   NETFW_TLS_SERVER    default: $BIN/echo_server --ip $HOST --port 0
#                       --workers {W} --tls-cert {CERT} --tls-key {KEY}
#   NETFW_PLAIN_SERVER  default: the same command without the two options
#   OPENSSL             default: openssl (row l's B and s_time)

# run-bench's tables (declared again here for shellcheck; no effect).
declare -A RESULT_A RESULT_B CPU_A CPU_B SERVER_ERR SERVER_SIGOK

# tls_rows_setup: finds the programs and makes the certificates; exits 1
# when something the asked rows need is missing.
tls_rows_setup() {
  local prog
  HANDSHAKE_BENCH=${HANDSHAKE_BENCH:-$BIN/handshake-bench}
  OPENSSL=${OPENSSL:-openssl}
  local def="$BIN/echo_server --ip $HOST --port 0 --workers {W} --tls-cert {CERT} --tls-key {KEY}"
  NETFW_TLS_SERVER=${NETFW_TLS_SERVER:-$def}
  NETFW_PLAIN_SERVER=${NETFW_PLAIN_SERVER:-${NETFW_TLS_SERVER%% --tls-cert*}}
  for prog in "${NETFW_TLS_SERVER%% *}" "$HANDSHAKE_BENCH" "$IDLE_RSS"; do
    command -v "$prog" > /dev/null ||
      { echo "run-bench: $prog not found (build first: make)" >&2; exit 1; }
  done
  OPENSSL_OK=1
  command -v "$OPENSSL" > /dev/null || OPENSSL_OK=0
  [[ " $ROWS " == *" l "* ]] && [ "$OPENSSL_OK" = 0 ] &&
    echo "run-bench: row l: no openssl command: the s_server side is skipped" >&2
  CERTS=$TMP/certs
  "$ROOT/scripts/make-test-certs" "$CERTS" > /dev/null ||
    { echo "run-bench: scripts/make-test-certs failed" >&2; exit 1; }
  NETFW_TLS_SERVER=${NETFW_TLS_SERVER//\{CERT\}/$CERTS/server.pem}
  NETFW_TLS_SERVER=${NETFW_TLS_SERVER//\{KEY\}/$CERTS/server.key}
  echo "  TLS rows: A $NETFW_TLS_SERVER"
  echo "            plaintext $NETFW_PLAIN_SERVER; certificate ECDSA P-256"
}

# tls_echo_rows: rows j and k, the TLS server and the plaintext one side by
# side with one worker, measured in alternation.
tls_echo_rows() {
  local row r a b acpu bcpu alg blg va vb ca cb port_a pid_a port_b pid_b
  start_server TLS "$NETFW_TLS_SERVER" 1; port_a=$SRV_PORT; pid_a=$SRV_PID
  start_server PLAIN "$NETFW_PLAIN_SERVER" 1; port_b=$SRV_PORT; pid_b=$SRV_PID
  for row in j k; do
    [[ " $ROWS " == *" $row "* ]] || continue
    va=() vb=() ca=() cb=()
    for ((r = 1; r <= ROUNDS; r++)); do # A B, then B A (as run-bench)
      ((r % 2)) || read -r b bcpu blg < <(measure plaintext "$port_b" "$pid_b" "$row")
      read -r a acpu alg < <(measure TLS "$port_a" "$pid_a" "$row" --tls)
      ((r % 2)) && read -r b bcpu blg < <(measure plaintext "$port_b" "$pid_b" "$row")
      va+=("$a") vb+=("$b") ca+=("$acpu") cb+=("$bcpu")
      printf '  row %s round %d/%d: TLS %s, plaintext %s %s; server CPU per echo TLS %s us, plaintext %s us; loadgen CPU %s, %s\n' \
        "$row" "$r" "$ROUNDS" "$a" "$b" "$(row_unit "$row")" "$acpu" "$bcpu" \
        "$alg" "$blg" >&2
    done
    RESULT_A[-,$row]=$(median "${va[@]}") RESULT_B[-,$row]=$(median "${vb[@]}")
    CPU_A[-,$row]=$(median "${ca[@]}") CPU_B[-,$row]=$(median "${cb[@]}")
  done
  # The suite every run negotiated (OpenSSL's default: AES-256-GCM).
  TLS_CIPHER=$("$LOADGEN" --host "$HOST" --port "$port_a" --tls --seconds 0.05 \
               --warmup 0 --json 2> /dev/null | sed -n 's/.*"tls_cipher":"\([^"]*\)".*/\1/p')
  stop_server "$pid_a"
  stop_server "$pid_b"
}

# hs_measure NAME PORT PID: one handshake-bench run; prints handshakes/s,
# server CPU us per handshake and the generator's CPU use (nan on failure).
hs_measure() {
  local out rc=0 errors
  out=$("$HANDSHAKE_BENCH" --host "$HOST" --port "$2" --conns "$HS_CONNS" \
        --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" --server-pid "$3" \
        --json 2> "$TMP/hs.err") || rc=$?
  errors=$(json_field "$out" errors)
  if [ "$rc" != 0 ] || [ "${errors:-1}" != 0 ]; then
    echo "run-bench: $1 row l: handshake-bench failed (exit $rc)" >&2
    cat "$TMP/hs.err" >&2
    : > "$TMP/failed"
    echo "nan nan nan"
    return
  fi
  echo "$(json_field "$out" handshakes_per_s)" \
       "$(json_field "$out" server_cpu_us_per_hs)" \
       "$(json_field "$out" loadgen_cpu_util)"
}

# s_time_rate NAME PORT: openssl s_time -new against PORT for the run's
# seconds (at least 1); prints its rate over our own wall clock, and its
# own lines on stderr.
s_time_rate() {
  local t0 t1 n secs out
  secs=$(awk -v s="$SECONDS_PER_RUN" 'BEGIN { s = int(s + 0.5); print s < 1 ? 1 : s }')
  t0=$(date +%s.%N)
  out=$(timeout $((secs + 10)) "$OPENSSL" s_time -connect "$HOST:$2" -new \
        -time "$secs" 2>&1 < /dev/null | grep -E 'connections (in|/)' || true)
  t1=$(date +%s.%N)
  echo "  row l: openssl s_time -new -time $secs against $1:" >&2
  sed 's/^/    /' <<< "$out" >&2
  n=$(awk 'NR == 1 && $2 == "connections" { print $1 }' <<< "$out")
  awk -v n="${n:-}" -v a="$t0" -v b="$t1" 'BEGIN {
    if (n == "") print "nan"; else printf "%.0f\n", n / (b - a) }'
}

# start_s_server: openssl s_server (TLS 1.3 only) on a free port we pick
# (with -quiet it does not print its port), waited for until it accepts
# connections; sets SRV_PID and SRV_PORT. It writes 8 lines per connection
# on stderr whatever its options: they go to /dev/null, the cheapest sink.
start_s_server() {
  local try i err=/dev/null
  for ((try = 0; try < 10; try++)); do
    SRV_PORT=$((20000 + RANDOM % 30000))
    # Someone listens there already: another port.
    if (exec 3<> "/dev/tcp/$HOST/$SRV_PORT") 2> /dev/null; then continue; fi
    # shellcheck disable=SC2086
    # -no-CA*: like netfw's server (no ca_file), it does not search the
    # system's CA store for each handshake (which cost s_server a third of
    # its CPU per handshake: a directory read each time).
    $PDEATHSIG "$OPENSSL" s_server -accept "$HOST:$SRV_PORT" -tls1_3 -rev -quiet \
      -no-CAfile -no-CApath -no-CAstore \
      -cert "$CERTS/server.pem" -key "$CERTS/server.key" > /dev/null 2> "$err" < /dev/null &
    SRV_PID=$!
    for ((i = 0; i < 50; i++)); do
      if ! kill -0 "$SRV_PID" 2> /dev/null; then break; fi # port taken
      if (exec 3<> "/dev/tcp/$HOST/$SRV_PORT") 2> /dev/null &&
         sleep 0.1 && kill -0 "$SRV_PID" 2> /dev/null; then
        SERVER_PIDS+=("$SRV_PID")
        SERVER_ERR[$SRV_PID]=$err
        SERVER_SIGOK[$SRV_PID]=1 # SIGTERM ends it with status 143
        return 0
      fi
      sleep 0.1
    done
    kill "$SRV_PID" 2> /dev/null
    wait "$SRV_PID" 2> /dev/null
  done
  echo "run-bench: openssl s_server did not start (try it by hand:" \
       "$OPENSSL s_server -accept $HOST:$SRV_PORT -tls1_3 -cert ... -key ...)" >&2
  return 1
}

# tls_handshake_row: row l, netfw's TLS server (1 worker) and openssl
# s_server (one process) on the same certificate, in alternation.
tls_handshake_row() {
  local r a b acpu bcpu alg blg va=() vb=() ca=() cb=() port_a pid_a
  local port_b="" pid_b="" sa sb
  start_server TLS "$NETFW_TLS_SERVER" 1; port_a=$SRV_PORT; pid_a=$SRV_PID
  if [ "$OPENSSL_OK" = 1 ]; then
    # -tls1_3: only TLS 1.3, so s_time's success below proves its version.
    if start_s_server; then
      port_b=$SRV_PORT pid_b=$SRV_PID
    else
      : > "$TMP/failed"
    fi
  fi
  for ((r = 1; r <= ROUNDS; r++)); do
    read -r a acpu alg < <(hs_measure netfw "$port_a" "$pid_a")
    b=nan bcpu=nan blg=nan
    [ -n "$pid_b" ] && read -r b bcpu blg < <(hs_measure s_server "$port_b" "$pid_b")
    va+=("$a") vb+=("$b") ca+=("$acpu") cb+=("$bcpu")
    printf '  row l round %d/%d: netfw %s, s_server %s handshakes/s; server CPU per handshake %s us, %s us; handshake-bench CPU %s, %s\n' \
      "$r" "$ROUNDS" "$a" "$b" "$acpu" "$bcpu" "$alg" "$blg" >&2
  done
  RESULT_A[-,l]=$(median "${va[@]}") RESULT_B[-,l]=$(median "${vb[@]}")
  CPU_A[-,l]=$(median "${ca[@]}") CPU_B[-,l]=$(median "${cb[@]}")
  STIME_NOTE=""
  if [ -n "$pid_b" ]; then
    sa=$(s_time_rate netfw "$port_a")
    sb=$(s_time_rate s_server "$port_b")
    STIME_NOTE="openssl s_time -new: netfw $sa, s_server $sb connections/s"
  fi
  stop_server "$pid_a"
  [ -n "$pid_b" ] && stop_server "$pid_b"
}

# tls_idle_rss NAME CMD [--tls]: idle-rss against a fresh one-worker server;
# prints bytes per connection after the echo (nan on failure).
tls_idle_rss() {
  local out
  start_server "$1" "$2" 1
  # shellcheck disable=SC2086
  if out=$("$IDLE_RSS" --host "$HOST" --port "$SRV_PORT" --pid "$SRV_PID" \
           --conns "$TLS_IDLE_CONNS" --settle "$SETTLE" ${3:-} --json \
           2> "$TMP/idle.err"); then
    echo "  row m: $1: $out" >&2
    json_field "$out" bytes_per_conn_after_echo
  else
    echo "run-bench: idle-rss against $1 failed:" >&2
    cat "$TMP/idle.err" >&2
    : > "$TMP/failed"
    echo nan
  fi
  stop_server "$SRV_PID"
}

# tls_rows_run: the TLS rows asked for in $ROWS. They run last, so the
# log level set here reaches only their servers: echo_server logs each TLS
# client at info level, which row l would count as handshake cost
# (s_server's lines per connection go to /dev/null likewise).
tls_rows_run() {
  [[ " $ROWS " == *" "[jklm]" "* ]] || return 0
  export NETFW_LOG_LEVEL=${NETFW_LOG_LEVEL:-warn}
  if [[ " $ROWS " == *" "[jk]" "* ]]; then tls_echo_rows; fi
  if [[ " $ROWS " == *" l "* ]]; then tls_handshake_row; fi
  if [[ " $ROWS " == *" m "* ]]; then
    RESULT_A[-,m]=$(tls_idle_rss TLS "$NETFW_TLS_SERVER" --tls)
    RESULT_B[-,m]=$(tls_idle_rss plaintext "$NETFW_PLAIN_SERVER")
  fi
}

# tls_rows_notes: what A and B are in the TLS rows, and their server CPU.
tls_rows_notes() {
  local row
  [[ " $ROWS " == *" "[jklm]" "* ]] || return 0
  if [[ " $ROWS " == *" "[jk]" "* ]]; then
    echo "(rows j, k: A = netfw's echo server in TLS (${TLS_CIPHER:-?}), B = the same server in plaintext, 1 worker)"
  fi
  if [[ " $ROWS " == *" l "* ]]; then
    echo "(row l: full TLS 1.3 handshakes/s, ECDSA P-256, handshake-bench with $HS_CONNS at a time; A = netfw 1 worker, B = openssl s_server)"
    [ -n "${STIME_NOTE:-}" ] && echo "(row l cross-check, $STIME_NOTE)"
  fi
  if [[ " $ROWS " == *" m "* ]]; then
    echo "(row m: bytes of RSS per idle connection after handshake + one echo, $TLS_IDLE_CONNS connections; A = TLS, B = plaintext; target A <= 49152)"
  fi
  for row in j k l; do
    [[ " $ROWS " == *" $row "* ]] || continue
    printf '(row %s: server CPU per %s: A %s us, B %s us)\n' "$row" \
      "$([ "$row" = l ] && echo handshake || echo echo)" \
      "${CPU_A[-,$row]:-nan}" "${CPU_B[-,$row]:-nan}"
  done
}
