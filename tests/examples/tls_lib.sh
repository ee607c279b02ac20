# Helpers for the TLS end-to-end tests (sourced after lib.sh; ROOT must be
# the source tree). Certificates are made at test time, never committed.

# make_certs DIR : the test certificates (scripts/make-test-certs) in DIR.
make_certs() {
  "$ROOT/scripts/make-test-certs" "$1" >/dev/null || fail "make-test-certs $1 failed"
}

# fingerprint FILE : the certificate's SHA-256 as openssl prints it, made
# 64 lowercase hex digits (no colons).
fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//; s/://g' |
    tr 'A-F' 'a-f'
}

# served_fingerprint PORT CA : the fingerprint of the certificate the TLS
# server on 127.0.0.1:PORT presents, verified against CA by openssl
# s_client ("" when the handshake or the verification failed).
served_fingerprint() {
  timeout 10 openssl s_client -connect "127.0.0.1:$1" -CAfile "$2" \
    -verify_return_error </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null |
    sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
}

# wait_log FILE PATTERN COUNT : waits (10 s at most) until FILE has COUNT
# lines matching the extended regex PATTERN.
wait_log() {
  for _ in $(seq 1 200); do
    [ "$(grep -cE -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
    sleep 0.05
  done
  fail "$1 has not $3 lines matching /$2/ after 10 s: $(cat "$1")"
}

# expect STATUS PATTERN CMD... : runs CMD; its exit status must be STATUS
# (or, for STATUS "nz", any non-zero) and its output (stdout and stderr)
# must match the extended regex PATTERN. Sets OUT to the output.
expect() {
  local want=$1 pattern=$2 status=0
  shift 2
  OUT=$("$@" 2>&1) || status=$?
  if [ "$want" = nz ]; then
    [ "$status" -ne 0 ] || fail "'$*' exited 0, wanted non-zero: $OUT"
  else
    [ "$status" -eq "$want" ] || fail "'$*' exited $status, wanted $want: $OUT"
  fi
  grep -qE -- "$pattern" <<<"$OUT" || fail "'$*' printed '$OUT', wanted /$pattern/"
}
