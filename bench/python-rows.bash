# python-rows.bash: row (o) of bench/run-bench, the Python back end's codec
# (issue 19), sourced by it (it uses run-bench's $ROOT, $BIN, $ROWS,
# $ROUNDS, $TMP, json_field and the RESULT_A/RESULT_B tables).
#   (o) ns per encode+decode of file_storage's ListResp(16) and Add(1 KiB)
#       with the module `netfw-gen --lang python` writes (A) against a
#       careful hand-written struct.Struct codec (B), bench/python-codec.py;
#       the table shows the message with the higher A/B (the target, <= 1.2,
#       holds for each), the notes both; not per W.
# Environment: PYTHON3 (default /usr/bin/python3, Debian's), NETFW_GEN
# (default $BIN/netfw-gen). Without either the row is skipped (said on
# stderr); a failed run marks the bench failed.

# run-bench's tables (declared again for shellcheck; no effect), and row
# o's per-message line for the notes.
declare -A RESULT_A RESULT_B
PYTHON_ROW_NOTE="" PYTHON_ROW_WORSE=""

# python_rows_run: row o when asked for: medians of 9 runs (3 with fewer
# than 5 rounds, as the C codec comparison).
python_rows_run() {
  local py=${PYTHON3:-/usr/bin/python3} gen=${NETFW_GEN:-$BIN/netfw-gen}
  local runs=9 out la lb aa ab
  [[ " $ROWS " == *" o "* ]] || return 0
  RESULT_A[-,o]=nan RESULT_B[-,o]=nan
  if [ ! -x "$py" ] || [ ! -x "$gen" ]; then
    echo "run-bench: row o skipped: $py or $gen missing" >&2
    return 0
  fi
  local quick=()
  [ "$ROUNDS" -lt 5 ] && quick=(--quick)
  if ! out=$("$py" "$ROOT/bench/python-codec.py" --gen "$gen" --runs "$runs" \
             "${quick[@]}" --json 2> "$TMP/python-codec.err"); then
    echo "run-bench: row o: bench/python-codec.py failed:" >&2
    cat "$TMP/python-codec.err" >&2
    : > "$TMP/failed"
    return 0
  fi
  sed 's/^/ /' "$TMP/python-codec.err" >&2
  la=$(json_field "$out" gen_list_ns) lb=$(json_field "$out" hand_list_ns)
  aa=$(json_field "$out" gen_add_ns) ab=$(json_field "$out" hand_add_ns)
  # shellcheck disable=SC2034 # run-bench's tables
  if awk -v la="$la" -v lb="$lb" -v aa="$aa" -v ab="$ab" \
       'BEGIN { exit !(la / lb >= aa / ab) }'; then
    RESULT_A[-,o]=$la RESULT_B[-,o]=$lb PYTHON_ROW_WORSE="ListResp(16)"
  else
    RESULT_A[-,o]=$aa RESULT_B[-,o]=$ab PYTHON_ROW_WORSE="Add(1 KiB)"
  fi
  PYTHON_ROW_NOTE=$(awk -v la="$la" -v lb="$lb" -v aa="$aa" -v ab="$ab" 'BEGIN {
    printf "ListResp(16) %.0f vs %.0f ns (%.3f), Add(1 KiB) %.0f vs %.0f ns (%.3f)",
      la, lb, la / lb, aa, ab, aa / ab }')
}

# python_rows_notes: what A and B are in row o, and each message's figures.
python_rows_notes() {
  [[ " $ROWS " == *" o "* ]] || return 0
  echo "(row o: A = the generated Python module, B = a hand-written struct.Struct codec, bench/python-codec.py; ns per encode+decode of the message with the higher A/B${PYTHON_ROW_WORSE:+, here $PYTHON_ROW_WORSE}; target A/B <= 1.2 for each)"
  [ -n "$PYTHON_ROW_NOTE" ] && echo "(row o, per message, A vs B: $PYTHON_ROW_NOTE)"
  return 0
}
