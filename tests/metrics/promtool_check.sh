#!/bin/sh
# promtool_check.sh SAMPLE_PROGRAM SAMPLE PROMTOOL: pipes the exposition the
# program prints through `promtool check metrics`; fails (1) when the
# program fails, when promtool exits non-zero (errors: 1, lint problems: 3)
# or prints anything. Exits 77 (skipped) when PROMTOOL is empty.
prog=$1 sample=$2 promtool=$3
if [ -z "$promtool" ] || [ ! -x "$promtool" ]; then
  echo "promtool not found: skipped"
  exit 77
fi
text=$(mktemp) || exit 1
out=$(mktemp) || exit 1
trap 'rm -f "$text" "$out"' EXIT
"$prog" "$sample" >"$text" || { echo "$prog $sample failed"; exit 1; }
[ -s "$text" ] || { echo "empty exposition"; exit 1; }
"$promtool" check metrics <"$text" >"$out" 2>&1
rc=$?
cat "$out"
if [ "$rc" -ne 0 ] || [ -s "$out" ]; then
  echo "promtool check metrics: exit $rc (output above)"
  exit 1
fi
echo "promtool check metrics: clean ($(grep -c '^[a-z]' "$text") samples)"
