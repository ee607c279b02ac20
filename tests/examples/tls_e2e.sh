#!/usr/bin/env bash
# The examples over TLS, one case per run: tls_e2e.sh BIN CASE.
#   echo          echo_client and a Python ssl peer against echo_server with
#                 TLS: exact bytes, 2 workers, TLS 1.2 and 1.3, plaintext
#                 peers refused both ways
#   mtls          --tls-ca on the server: client.pem served and logged with
#                 its CN and fingerprint; no, foreign or expired certificate
#                 refused
#   file_storage  put/get round trips over TLS, exact bytes, with and
#                 without mutual TLS
#   trust         the client refuses a server it cannot verify: other CA,
#                 wrong name, the system store
#   flags         --help, options that go together, unusable files (exit 1
#                 with the library's message), SIGHUP without TLS
BIN=$1
CASE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/lib.sh"
source "$HERE/tls_lib.sh"
export PYTHONPATH=$HERE
C=$TMP/certs
make_certs "$C"
SRV_TLS=(--tls-cert "$C/server.pem" --tls-key "$C/server.key")
CLIENT_CERT=(--tls-cert "$C/client.pem" --tls-key "$C/client.key")
# A log line echo_server writes for each TLS client (after "INFO: ").
LOGLINE='INFO: client 127\.0\.0\.1:[0-9]+ TLSv1\.[23] [A-Z0-9_-]+ cn='

case_echo() {
  local n=0 fp
  fp=$(fingerprint "$C/server.pem")
  start_server echo "$BIN/echo_server" --port 0 --workers 2 "${SRV_TLS[@]}"
  for spec in "0 200 1" "1 500 8" "64 2000 16" "65536 100 4" "1048576 8 2"; do
    set -- $spec
    expect 0 "^echo_client: $2/$2 echoes matched, $1 B each" \
      "$BIN/echo_client" --port "$PORT" --tls-ca "$C/ca.pem" --size "$1" \
      --count "$2" --pipeline "$3"
    n=$((n + 1))
  done
  # the certificate's DNS name, given as --tls-server-name
  expect 0 '^echo_client: 10/10 echoes matched' "$BIN/echo_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" --tls-server-name localhost --count 10
  n=$((n + 1))
  # exact bytes from an independent TLS stack (Python ssl), TLS 1.3 and 1.2
  timeout 60 python3 - "$PORT" "$C" "$fp" <<'PY' || fail "Python ssl echo failed"
import os, ssl, sys, tls_peer as t
port, c, fp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for ver, name in ((None, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
    for _ in range(2):
        with t.connect(port, t.context(c + "/ca.pem", max_version=ver)) as s:
            assert s.version() == name, s.version()
            assert t.fingerprint(s) == fp, (t.fingerprint(s), fp)
            t.echo(s, 0, b"")
            t.echo(s, 65535, bytes(range(256)))
            t.echo(s, 7, os.urandom(100000))  # several TLS records
PY
  n=$((n + 4))
  wait_log "$TMP/echo.err" "${LOGLINE}- sha256=-$" "$n"
  grep -qE "INFO: client .* TLSv1\.2 " "$TMP/echo.err" || fail "no TLSv1.2 client logged"
  # a plaintext frame to the TLS server is not echoed: the connection closes
  timeout 30 python3 - "$PORT" <<'PY' || fail "plaintext peer was served"
import sys, fs_peer as p
s = p.connect(int(sys.argv[1]))
s.sendall(p.frame(9, b"hello"))
data = p.read_to_eof(s, 15)
assert b"hello" not in data, data
assert data == b"" or data[0] == 0x15, data  # nothing, or a TLS alert
PY
  expect nz 'error:' "$BIN/echo_client" --port "$PORT" --count 1
  stop_server "$SERVER_PID"
  [ "$(grep -cE "$LOGLINE" "$TMP/echo.err")" -eq "$n" ] ||
    fail "wanted $n client lines: $(cat "$TMP/echo.err")"
  # a TLS client to a plaintext server fails, within its timeouts
  start_server plain "$BIN/echo_server" --port 0
  expect nz 'error: cannot connect' timeout 30 "$BIN/echo_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" --count 1
  stop_server "$SERVER_PID"
}

case_mtls() {
  local fp
  fp=$(fingerprint "$C/client.pem")
  [ ${#fp} -eq 64 ] || fail "bad fingerprint of client.pem: $fp"
  start_server mtls "$BIN/echo_server" --port 0 --workers 2 "${SRV_TLS[@]}" \
    --tls-ca "$C/ca.pem"
  expect 0 '^echo_client: 100/100 echoes matched' "$BIN/echo_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" "${CLIENT_CERT[@]}" --count 100
  wait_log "$TMP/mtls.err" "${LOGLINE}netfw-test-client sha256=$fp$" 1
  # no certificate, one from a CA the server does not trust, an expired one
  expect nz '^error: .*certificate required' "$BIN/echo_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" --count 1
  expect nz '^error: .*(unknown ca|certificate verify failed)' \
    "$BIN/echo_client" --port "$PORT" --tls-ca "$C/ca.pem" --count 1 \
    --tls-cert "$C/other-client.pem" --tls-key "$C/other-client.key"
  expect nz '^error: .*certificate expired' "$BIN/echo_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" --count 1 \
    --tls-cert "$C/expired-client.pem" --tls-key "$C/expired-client.key"
  # Python with client.pem: served, exact bytes
  timeout 30 python3 - "$PORT" "$C" <<'PY' || fail "Python mTLS echo failed"
import sys, tls_peer as t
port, c = int(sys.argv[1]), sys.argv[2]
ctx = t.context(c + "/ca.pem", c + "/client.pem", c + "/client.key")
with t.connect(port, ctx) as s:
    t.echo(s, 42, b"mutual")
PY
  wait_log "$TMP/mtls.err" "${LOGLINE}netfw-test-client sha256=$fp$" 2
  stop_server "$SERVER_PID"
  # only the two served connections were logged, both with the identity
  [ "$(grep -cE "$LOGLINE" "$TMP/mtls.err")" -eq 2 ] ||
    fail "refused clients reached on_client_connect: $(cat "$TMP/mtls.err")"
}

# fs_round_trip TAG CLIENT-OPTIONS... : put/get of an empty, a small and a
# 3 MiB random file through file_storage_client, compared byte for byte.
fs_round_trip() {
  local tag=$1 f
  shift
  : >"$TMP/$tag-empty"
  printf 'over TLS\n' >"$TMP/$tag-small"
  head -c 3145728 /dev/urandom >"$TMP/$tag-big"
  for f in empty small big; do
    expect 0 "^stored $f " "$BIN/file_storage_client" --port "$PORT" "$@" \
      put "$f" "$TMP/$tag-$f"
    expect 0 "^got $f " "$BIN/file_storage_client" --port "$PORT" "$@" \
      get "$f" "$TMP/$tag-$f.back"
    cmp -s "$TMP/$tag-$f" "$TMP/$tag-$f.back" || fail "$tag: $f came back different"
  done
  expect 0 '^3 files$' "$BIN/file_storage_client" --port "$PORT" "$@" ls
}

case_file_storage() {
  mkdir "$TMP/store1" "$TMP/store2"
  start_server fs1 "$BIN/file_storage_server" --dir "$TMP/store1" --port 0 \
    --workers 2 "${SRV_TLS[@]}"
  fs_round_trip tls --tls-ca "$C/ca.pem"
  cmp -s "$TMP/tls-big" "$TMP/store1/big" || fail "stored file differs"
  expect nz 'error:' "$BIN/file_storage_client" --port "$PORT" ls  # plaintext
  stop_server "$SERVER_PID"

  start_server fs2 "$BIN/file_storage_server" --dir "$TMP/store2" --port 0 \
    --workers 2 "${SRV_TLS[@]}" --tls-ca "$C/ca.pem"
  fs_round_trip mtls --tls-ca "$C/ca.pem" "${CLIENT_CERT[@]}"
  expect 1 '^error: .*certificate required' "$BIN/file_storage_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" put x "$TMP/mtls-small"
  [ ! -e "$TMP/store2/x" ] || fail "a client without a certificate stored a file"
  stop_server "$SERVER_PID"
}

case_trust() {
  start_server trust "$BIN/echo_server" --port 0 "${SRV_TLS[@]}"
  expect nz '^error: cannot connect .*certificate verify failed' \
    "$BIN/echo_client" --port "$PORT" --tls-ca "$C/other-ca.pem" --count 1
  expect nz '^error: cannot connect .*(hostname mismatch|certificate verify failed)' \
    "$BIN/echo_client" --port "$PORT" --tls-ca "$C/ca.pem" \
    --tls-server-name wrong.example --count 1
  expect nz '^error: cannot connect .*certificate verify failed' \
    "$BIN/echo_client" --port "$PORT" --tls --count 1  # the system store
  expect nz '^error: cannot connect .*certificate verify failed' \
    "$BIN/file_storage_client" --port "$PORT" --tls-ca "$C/other-ca.pem" ls
  # none of them got past the handshake; a verified client does
  expect 0 '^echo_client: 5/5 echoes matched' "$BIN/echo_client" \
    --port "$PORT" --tls-ca "$C/ca.pem" --count 5
  wait_log "$TMP/trust.err" "$LOGLINE" 1
  stop_server "$SERVER_PID"
  [ "$(grep -cE "$LOGLINE" "$TMP/trust.err")" -eq 1 ] ||
    fail "an unverified client was logged: $(cat "$TMP/trust.err")"
}

case_flags() {
  local help prog
  help=$("$BIN/echo_server" --help)
  for flag in --tls-cert --tls-key --tls-ca SIGHUP; do
    grep -q -- "$flag" <<<"$help" || fail "echo_server --help lacks $flag"
  done
  for prog in echo_client file_storage_client; do
    help=$("$BIN/$prog" --help)
    for flag in '--tls ' --tls-ca --tls-cert --tls-key --tls-server-name; do
      grep -q -- "$flag" <<<"$help" || fail "$prog --help lacks $flag"
    done
  done
  expect 2 'error: --tls-cert and --tls-key go together' \
    "$BIN/echo_server" --port 0 --tls-cert "$C/server.pem"
  expect 2 'error: --tls-ca needs --tls-cert and --tls-key' \
    "$BIN/echo_server" --port 0 --tls-ca "$C/ca.pem"
  expect 2 'error: --tls-cert and --tls-key go together' \
    "$BIN/echo_client" --tls-key "$C/client.key"
  expect 2 'error: --tls-cert and --tls-key go together' \
    "$BIN/file_storage_client" --tls-cert "$C/client.pem" ls
  # unusable files: exit 1, the library names the file
  printf 'not a PEM file\n' >"$TMP/garbage.pem"
  expect 1 "$TMP/missing\.pem" timeout 30 "$BIN/echo_server" --port 0 \
    --tls-cert "$TMP/missing.pem" --tls-key "$C/server.key"
  expect 1 "$TMP/garbage\.pem" timeout 30 "$BIN/echo_server" --port 0 \
    --tls-cert "$C/server.pem" --tls-key "$TMP/garbage.pem"
  expect 1 "$C/client\.key" timeout 30 "$BIN/echo_server" --port 0 \
    --tls-cert "$C/server.pem" --tls-key "$C/client.key"  # not its key
  expect 1 "$TMP/missing\.pem" timeout 30 "$BIN/echo_server" --port 0 \
    "${SRV_TLS[@]}" --tls-ca "$TMP/missing.pem"
  mkdir "$TMP/store"
  expect 1 "$TMP/garbage\.pem" timeout 30 "$BIN/file_storage_server" \
    --dir "$TMP/store" --port 0 --tls-cert "$TMP/garbage.pem" \
    --tls-key "$C/server.key"
  expect 1 "^error: cannot set up TLS: .*$TMP/missing\.pem" \
    "$BIN/echo_client" --port 1 --tls-ca "$TMP/missing.pem"
  expect 1 "^error: cannot set up TLS: .*$TMP/garbage\.pem" \
    "$BIN/file_storage_client" --port 1 --tls-cert "$TMP/garbage.pem" \
    --tls-key "$C/client.key" ls
  # SIGHUP on a plaintext server: logged, ignored, still serving
  start_server plain "$BIN/echo_server" --port 0
  kill -HUP "$SERVER_PID"
  wait_log "$TMP/plain.err" 'SIGHUP: TLS is off, nothing to reload' 1
  expect 0 '^echo_client: 3/3 echoes matched' "$BIN/echo_client" \
    --port "$PORT" --count 3
  stop_server "$SERVER_PID"
}

case "$CASE" in
echo | mtls | file_storage | trust | flags) "case_$CASE" ;;
*) fail "unknown case '$CASE'" ;;
esac
echo "tls e2e ($CASE): all checks passed"
