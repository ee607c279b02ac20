#!/usr/bin/env python3
"""TLS interop: tls_echo_app (a netfw server) against peers no netfw code
wrote: Python's ssl module and `openssl s_client`.

Usage: tls_interop.py BINDIR CERTDIR CASE
CASE: echo | s_client | mtls | version | alpn | close |
      close_notify_reply

Every socket has a timeout: a server that neither serves nor refuses fails
the test instead of hanging it. The app's stdout says which connections it
accepted (on_client_connect); the test checks that list exactly, and that
the app exits 0 with no sanitizer report. NETFW_TLS_APP_WRAPPER (e.g.
"valgrind -q --leak-check=full --child-silent-after-fork=no") prefixes the
app's command line; a valgrind line on its stderr fails the test.
"""
import os
import random
import re
import shlex
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import tlswire
from tlswire import BYE, WHO, frame, peer_text, recv_frame

TIMEOUT = 10
TLS12 = ssl.TLSVersion.TLSv1_2
CLIENT_CN = "netfw-test-client"
REFUSED = (ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError)


class Fail(Exception):
    """A failed expectation."""


def check(cond, what):
    """Raises Fail(what) unless cond."""
    if not cond:
        raise Fail(what)


class App:
    """tls_echo_app as a child process, and the lines it printed."""

    def __init__(self, bindir, certs, *flags):
        self.err = tempfile.TemporaryFile()
        wrapper = shlex.split(os.environ.get("NETFW_TLS_APP_WRAPPER", ""))
        self.p = subprocess.Popen(
            [*wrapper, os.path.join(bindir, "tls_echo_app"), certs, *flags],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.cond = threading.Condition()
        self.lines, self.eof, self.taken = [], False, 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self._wait(lambda: self.lines or self.eof, "port", 3 * TIMEOUT)
        first = self.lines[0] if self.lines else None
        check(first is not None and first.startswith("port "),
              "app said %r, not its port: %s" % (first, self.stderr()))
        self.port = int(first.split()[1])

    def _read(self):
        """Collects every stdout line, then notes the EOF."""
        for line in self.p.stdout:
            with self.cond:
                self.lines.append(line.decode().rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _wait(self, pred, what, timeout=TIMEOUT):
        """Waits up to timeout seconds for pred() (under the lock), else
        fails."""
        with self.cond:
            ok = self.cond.wait_for(pred, timeout=timeout)
        check(ok, "no %s line from the app within %ds: %s"
              % (what, timeout, self.stderr()))

    def _kind(self, word):
        """The lines starting with word, without it."""
        return [line[len(word) + 1:] for line in self.lines
                if line.startswith(word + " ")]

    def stderr(self):
        """What the app wrote on stderr so far."""
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def take_connects(self, n):
        """Waits for n more "connect" lines (on_client_connect) and returns
        them without the word."""
        self._wait(lambda: len(self._kind("connect")) >= self.taken + n,
                   "connect")
        got = self._kind("connect")[self.taken:self.taken + n]
        self.taken += n
        return got

    def closed(self, n):
        """Waits until n connections were closed (on_client_closed); returns
        the reasons of all so far."""
        self._wait(lambda: len(self._kind("closed")) >= n, "closed")
        return [r[len("reason="):] for r in self._kind("closed")]

    def assert_no_connects(self):
        """Checks the app accepted nothing it has not reported yet."""
        time.sleep(0.2)
        with self.cond:
            extra = self._kind("connect")[self.taken:]
        check(not extra, "app accepted a refused peer: %r" % extra)

    def stop(self):
        """Checks every accepted connection was closed exactly once and no
        other was reported; closes stdin; checks exit 0 and a stderr
        without sanitizer reports."""
        self.begin_stop()
        self.finish_stop()

    def begin_stop(self, still_open=0):
        """Waits until all accepted connections but still_open are closed,
        then closes stdin: the app calls netfw_server_stop."""
        self.assert_no_connects()
        self.closed(self.taken - still_open)
        self.p.stdin.close()

    def finish_stop(self):
        """The checks of stop() once the app was told to stop."""
        rc = self.p.wait(timeout=30)
        self.reader.join(timeout=TIMEOUT)
        err = self.stderr()
        check(rc == 0, "app exited %d: %s" % (rc, err))
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            check(bad not in err, "sanitizer report from the app:\n" + err)
        # Under a quiet valgrind (-q), any line of its own is a report.
        check(not re.search(r"^==\d+== ", err, re.M),
              "valgrind report from the app:\n" + err)
        check(len(self._kind("closed")) == self.taken,
              "%d connections accepted, %d closed: %r"
              % (self.taken, len(self._kind("closed")), self.lines))
        check(len(self.lines) == 1 + 2 * self.taken,
              "app printed other lines: %r" % self.lines)


def client_ctx(certs, cert=None, maxv=None, alpn=None):
    """A verifying client context (trusts ca.pem) with an optional client
    certificate (its base name), maximum version and ALPN list."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
    if cert:
        ctx.load_cert_chain(os.path.join(certs, cert + ".pem"),
                            os.path.join(certs, cert + ".key"))
    if maxv:
        ctx.maximum_version = maxv
    if alpn is not None:
        ctx.set_alpn_protocols(alpn)
    return ctx


def connect(port, ctx):
    """A TLS connection to 127.0.0.1:port checked against "localhost"."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        return ctx.wrap_socket(sock, server_hostname="localhost")
    except BaseException:
        sock.close()
        raise


def roundtrip(ssock, msg_id, payload):
    """Sends one frame and checks the exact echo."""
    ssock.sendall(frame(msg_id, payload))
    got = recv_frame(ssock)
    check(got == (msg_id, payload), "echo of id %d (%d bytes) came back as "
          "id %d (%d bytes)" % (msg_id, len(payload), got[0], len(got[1])))


def ask_who(ssock):
    """Returns the app's WHO answer (what it recorded in on_client_connect)."""
    ssock.sendall(frame(WHO))
    msg_id, payload = recv_frame(ssock)
    check(msg_id == WHO, "WHO answered with id %d" % msg_id)
    return payload


def served(app, ctx, has_cert, cn, version, alpn=""):
    """Connects, checks one echo and the WHO answer and the app's connect
    line; returns the socket's version and ALPN as Python saw them."""
    with connect(app.port, ctx) as s:
        roundtrip(s, 1, b"ping " + cn.encode())
        want = peer_text(has_cert, cn, version, alpn)
        got = ask_who(s)
        check(got == want, "app saw %r, expected %r" % (got, want))
        check(s.version() == version, "python negotiated %s" % s.version())
        seen = (s.version(), s.selected_alpn_protocol())
    check(app.take_connects(1) == [want.decode()], "connect line differs")
    return seen


def refused(app, ctx, alert):
    """Connects and expects a refusal: the handshake fails, or (TLS 1.3,
    where the client finishes first) the first read fails. Nothing is sent
    after the handshake (data left unread would make the server's close a
    reset that can overtake its alert). alert: words the failure must name
    (None: any failure). Returns how it failed."""
    try:
        s = connect(app.port, ctx)
    except REFUSED as e:
        how = "handshake: %s" % e
    else:
        with s:
            try:
                data = s.recv(64)
                check(not data, "refused peer was sent %r" % data)
                how = "closed without alert"
            except REFUSED as e:
                how = "after handshake: %s" % e
    check(alert is None or alert in how.lower(),
          "refusal %r does not name %r" % (how, alert))
    app.assert_no_connects()
    return how


def case_echo(bindir, certs):
    """Exact echoes: small, empty, byte by byte, pipelined, 1 MiB; with and
    without a client certificate (not asked for: has_cert=0)."""
    app = App(bindir, certs)
    rnd = random.Random(15)
    with connect(app.port, client_ctx(certs)) as s:
        roundtrip(s, 7, b"hello over tls")
        roundtrip(s, 0, b"")
        roundtrip(s, 0xFFFF, bytes(range(256)))
        one = frame(9, b"one byte per TLS record")
        for i in range(len(one)):
            s.sendall(one[i:i + 1])
        check(recv_frame(s) == (9, b"one byte per TLS record"), "byte-wise")
        frames = [(i + 1, rnd.randbytes(rnd.randrange(0, 3000)))
                  for i in range(300)]
        s.sendall(b"".join(frame(i, p) for i, p in frames))
        got = [recv_frame(s) for _ in frames]
        check(got == frames, "pipelined echo differs (order or bytes)")
        big = rnd.randbytes(1 << 20)
        roundtrip(s, 42, big)
        roundtrip(s, 43, big[::-1])
        check(ask_who(s) == peer_text(False, "", "TLSv1.3", ""), "who")
    check(app.take_connects(1) == [peer_text(False, "", "TLSv1.3", "")
                                   .decode()], "connect line")
    # A client certificate the server did not ask for is never sent.
    served(app, client_ctx(certs, cert="client"), False, "", "TLSv1.3")
    # A server without ALPN ignores what the client offers.
    seen = served(app, client_ctx(certs, alpn=["h2"]), False, "", "TLSv1.3")
    check(seen[1] is None, "ALPN agreed without server ALPN: %r" % seen[1])
    app.stop()


def s_client(port, certs, extra, request, want_len):
    """Runs `openssl s_client -quiet`, writes request, returns the first
    want_len bytes it printed (its stdout is the decrypted stream)."""
    cmd = ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:%d" % port,
           "-CAfile", os.path.join(certs, "ca.pem"), "-servername",
           "localhost", "-verify_hostname", "localhost",
           "-verify_return_error", *extra]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = bytearray()
    try:
        p.stdin.write(request)
        p.stdin.flush()
        deadline = time.monotonic() + TIMEOUT
        fd = p.stdout.fileno()
        os.set_blocking(fd, False)
        while len(out) < want_len and time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            if not chunk:
                break
            out += chunk
    finally:
        p.kill()
        err = p.communicate(timeout=TIMEOUT)[1].decode(errors="replace")
    check(len(out) == want_len, "s_client got %d of %d bytes; stderr: %s"
          % (len(out), want_len, err))
    return bytes(out)


def case_s_client(bindir, certs):
    """openssl s_client pipes frames through a plain server and an mTLS one
    (with client.pem), in TLS 1.3 and 1.2; exact bytes back."""
    mine = ("-cert", os.path.join(certs, "client.pem"),
            "-key", os.path.join(certs, "client.key"))
    for flags, extra, version in (((), (), "TLSv1.3"),
                                  ((), ("-tls1_2",), "TLSv1.2"),
                                  (("--mtls",), mine, "TLSv1.3"),
                                  (("--mtls",), mine + ("-tls1_2",),
                                   "TLSv1.2")):
        app = App(bindir, certs, *flags)
        cert = bool(flags)
        cn = CLIENT_CN if cert else ""
        frames = [(5, b"hello from s_client"), (6, b""), (7, os.urandom(5000))]
        request = b"".join(frame(i, p) for i, p in frames) + frame(WHO)
        who = peer_text(cert, cn, version, "")
        want = request[:-6] + frame(WHO, who)
        got = s_client(app.port, certs, extra, request, len(want))
        check(tlswire.parse_frames(got) == frames + [(WHO, who)],
              "s_client %s: echo differs: %r" % (extra, got[:80]))
        check(app.take_connects(1) == [who.decode()], "connect line")
        app.stop()


def case_mtls(bindir, certs):
    """Server with ca_file: only a certificate from ca that is still valid
    is served, and the app sees its CN; in TLS 1.3 and TLS 1.2."""
    app = App(bindir, certs, "--mtls")
    for maxv, version in ((None, "TLSv1.3"), (TLS12, "TLSv1.2")):
        refused(app, client_ctx(certs, maxv=maxv),
                "certificate required" if maxv is None else
                "handshake failure")
        refused(app, client_ctx(certs, cert="other-client", maxv=maxv),
                "unknown ca")
        refused(app, client_ctx(certs, cert="expired-client", maxv=maxv),
                "certificate expired")
        served(app, client_ctx(certs, cert="client", maxv=maxv), True,
               CLIENT_CN, version)
    app.stop()


def case_version(bindir, certs):
    """min_version 1.2 (default) serves a TLS 1.2-only client; NETFW_TLS_1_3
    refuses it and serves a 1.3 client."""
    app = App(bindir, certs)
    served(app, client_ctx(certs, maxv=TLS12), False, "", "TLSv1.2")
    served(app, client_ctx(certs), False, "", "TLSv1.3")
    app.stop()
    app = App(bindir, certs, "--min13")
    refused(app, client_ctx(certs, maxv=TLS12), "protocol version")
    served(app, client_ctx(certs), False, "", "TLSv1.3")
    app.stop()


def case_alpn(bindir, certs):
    """Server ALPN "netfw/1": offered, it is agreed; offered without it, the
    client is refused; not offered at all, the client is served."""
    app = App(bindir, certs, "--alpn", "netfw/1")
    for offer in (["netfw/1"], ["h2", "netfw/1"]):
        seen = served(app, client_ctx(certs, alpn=offer), False, "",
                      "TLSv1.3", "netfw/1")
        check(seen[1] == "netfw/1", "python agreed on %r" % seen[1])
    refused(app, client_ctx(certs, alpn=["h2"]), "no application protocol")
    refused(app, client_ctx(certs, maxv=TLS12, alpn=["h2"]),
            "no application protocol")
    seen = served(app, client_ctx(certs), False, "", "TLSv1.3")
    check(seen[1] is None, "ALPN agreed without an offer: %r" % seen[1])
    app.stop()


def tls_connect(port, ctx, ragged_ok):
    """As connect; ragged_ok False makes an EOF without close_notify raise
    ssl.SSLEOFError instead of reading as b""."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    return ctx.wrap_socket(sock, server_hostname="localhost",
                           suppress_ragged_eofs=ragged_ok)


def case_close(bindir, certs):
    """How connections end: a client's bare TCP close is the peer's EOF
    ("peer"); the server's netfw_conn_shutdown delivers every queued echo,
    then close_notify, then the FIN; so does netfw_server_stop
    ("stopping")."""
    app = App(bindir, certs)
    ctx = client_ctx(certs)
    s = connect(app.port, ctx)
    roundtrip(s, 1, b"bare close")
    s.close()
    check(app.closed(1) == ["peer"], "bare close: %r" % app.closed(1))
    with tls_connect(app.port, ctx, False) as s:
        frames = [(i, b"x" * i * 100) for i in range(1, 11)]
        frames.append((BYE, b"bye"))
        s.sendall(b"".join(frame(i, p) for i, p in frames) +
                  frame(3, b"after bye"))
        got = [recv_frame(s) for _ in frames]
        check(got == frames, "echoes before the shutdown differ")
        check(s.recv(64) == b"", "no clean close_notify after the bye")
    check(app.closed(2) == ["peer", "shutdown"], "bye: %r" % app.closed(2))
    with tls_connect(app.port, ctx, False) as s:
        roundtrip(s, 4, b"open while the server stops")
        check(len(app.take_connects(3)) == 3, "connects")
        app.begin_stop(still_open=1)
        check(s.recv(64) == b"", "no clean close_notify at the stop")
    app.finish_stop()
    check(app.closed(3)[2] == "stopping", "stop: %r" % app.closed(3))


def case_close_notify_reply(bindir, certs):
    """A client's close_notify is answered with the server's own before its
    FIN (RFC 8446 6.1: each party MUST send close_notify before closing its
    write side; RFC 5246 7.2.1: respond with one), in TLS 1.3 and 1.2:
    Python's unwrap() completes without an error."""
    app = App(bindir, certs)
    for maxv in (None, TLS12):
        s = connect(app.port, client_ctx(certs, maxv=maxv))
        roundtrip(s, 2, b"close_notify")
        s.unwrap().close()
    check(app.closed(2) == ["peer"] * 2, "close_notify: %r" % app.closed(2))
    check(len(app.take_connects(2)) == 2, "connects")
    app.stop()


CASES = {"echo": case_echo, "s_client": case_s_client, "mtls": case_mtls,
         "version": case_version, "alpn": case_alpn, "close": case_close,
         "close_notify_reply": case_close_notify_reply}


def main():
    """Runs one case; exit 0 on success, 1 with the reason on failure."""
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    bindir, certs, case = sys.argv[1:]
    try:
        CASES[case](bindir, certs)
    except (Fail, socket.timeout, subprocess.TimeoutExpired,
            OSError, ssl.SSLError, EOFError) as e:
        print("FAIL %s: %s: %s" % (case, type(e).__name__, e), file=sys.stderr)
        return 1
    print("ok %s" % case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
