#!/bin/sh
# desc_exports.sh LIB: LIB (libnetfw.so) exports the four netfw_desc_* calls
# and none of runtime/desc's netfw__desc_* internals.
set -e
syms=$(nm -D --defined-only "$1")
n=$(printf '%s\n' "$syms" | grep -c ' T netfw_desc_' || true)
if [ "$n" != 4 ]; then
  echo "expected 4 exported netfw_desc_* functions, found $n" >&2
  exit 1
fi
if printf '%s\n' "$syms" | grep -q netfw__desc_; then
  echo "internal netfw__desc_* symbols are exported" >&2
  exit 1
fi
