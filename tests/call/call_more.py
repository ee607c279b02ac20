"""netfw-call's edges a new user met (call_e2e.py has the main cases), one
case per run:

  handshake  --tls against a peer that never answers the handshake: exit 1
             within --timeout (not the runtime's 10 s default)
  pushes     a peer flooding pushes after a request that names its
             replies: exit 1 within --timeout (pushes do not restart it)
  close      a peer that answers and never closes: exit right after the
             reply or the timeout, not 1 s later
  ip         --ip '' refused; --ip [::1] and ::1 alike, printed [::1]:PORT
  tlsmsg     TLS errors name the flag (--tls-ca F) and tell how to see
             the log
  hint       a wrong kind of peer: an oversized frame, a close before any
             reply (try --tls?), a connect timeout (after N ms)
  toserver   a received -> server message: printed, marked, exit 1
  atfile     the JSON from @FILE (200 KiB, over argv's limit) or - (stdin),
             a missing file, one over 64 MiB
  schema     --describe-schema: the whole schema even when a message has
             the protocol's name
  longline   --stream: a line over the limit (NETFW_CALL_MAX_LINE=100, and
             the real 64 MiB) from a file or a pipe is reported with its
             number and skipped; the next line is still sent; exit 2
  streamcount --stream: requests naming replies that got none: exit 1
  deep       a field error 120 levels deep: the path shortened in the
             middle, the reason whole

Usage: call_more.py BIN_DIR SOURCE_DIR CASE. Every wait is bounded.
"""

import base64
import json
import re
import os
import socket
import struct
import subprocess
import threading
import time

from call_kit import (CALL, CASE, CT, FS, PROCS, SRC, TMP, WRAP, FakeServer,
                      Listener, ack, expect, fail, line, run)

ALL = os.path.join(SRC, "tests", "fuzz", "all_types.netproto")


class Peer(Listener):
    """A raw TCP peer: on each request frame it calls answer(conn, id,
    payload); it never closes a connection itself (until the test ends)."""

    def __init__(self, answer):
        self.answer = answer
        super().__init__()

    def talk(self, conn):
        buf = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    time.sleep(30)  # the peer's side stays open
                    return
                buf += data
                while len(buf) >= 6 and len(buf) >= 6 + struct.unpack_from(
                        "<I", buf, 2)[0]:
                    mid, size = struct.unpack_from("<HI", buf)
                    self.answer(conn, mid, buf[6:6 + size])
                    buf = buf[6 + size:]
        except OSError:
            return


def frame(mid, payload):
    return struct.pack("<HI", mid, len(payload)) + payload


def timed(args, status, out, err, lo, hi, stdin=None):
    """expect() that must also take lo..hi seconds."""
    t0 = time.monotonic()
    expect(args, status, out, err, stdin=stdin)
    took = time.monotonic() - t0
    if not lo <= took < hi:
        fail("netfw-call %s took %.2f s, wanted %.2f..%.2f"
             % (" ".join(args), took, lo, hi))


def case_handshake():
    mute = Peer(lambda conn, mid, payload: None)
    timed(["--proto", FS, "--port", str(mute.port), "--tls", "--timeout",
           "500", "List"], 1, [], r"^netfw-call: 127\.0\.0\.1:%d: "
          % mute.port, 0.45, 3)


def flood(conn, mid, payload):
    """Note pushes every 5 ms, never the Told that Ask names."""
    try:
        while True:
            conn.sendall(frame(5, b"\x01p"))
            time.sleep(0.005)
    except OSError:
        return


def case_pushes():
    f = Peer(flood)
    t0 = time.monotonic()
    status, out, err = run(["--proto", CT, "--port", str(f.port),
                            "--timeout", "1000", "Ask", '{"n":1}'],
                           timeout=20)
    took = time.monotonic() - t0
    if status != 1 or not 0.95 < took < 2.5:
        fail("a push flood: status %d after %.2f s (stderr %r)"
             % (status, took, err))
    if err != "netfw-call: 127.0.0.1:%d: no reply within 1000 ms\n" % f.port:
        fail("a push flood: stderr %r" % err)
    if not out or set(out.splitlines()) != {line("Note", 5, '{"text":"p"}')}:
        fail("a push flood printed %r" % out[:200])


def case_close():
    silent = Peer(lambda conn, mid, payload: None)
    timed(["--proto", FS, "--port", str(silent.port), "--timeout", "300",
           "List"], 1, [], r"no reply within 300 ms$", 0.29, 0.8)
    answers = Peer(lambda conn, mid, payload: conn.sendall(frame(7, b"\x01")))
    timed(["--proto", FS, "--port", str(answers.port), "--timeout", "3000",
           "Get", '{"filename":"x"}'], 0, [ack("OK")], None, 0, 0.5)


def deep_tree(depth, bad):
    t = {"label": bad, "kids": []}
    for _ in range(depth):
        t = {"label": "x", "kids": [t]}
    return t


def case_deep():
    req = json.dumps({"tree": deep_tree(120, 5), "deep": {}, "many": []})
    shown = ("fields.tree" + ".kids[0]" * 7 + " \u2026 " + "kids[0]." * 7 +
             "label")
    expect(["--proto", ALL, "--port", "1", "Nested", req], 2, [],
           r"\Anetfw-call: %s: expected a string\n\Z" % re.escape(shown))
    # a reply as deep, its innermost label not UTF-8: the error line too
    tree = b"\x01\xff\x00"
    for _ in range(100):
        tree = b"\x01x\x01" + tree
    srv = FakeServer([(9, tree)])
    status, out, err = run(["--proto", ALL, "--port", str(srv.port),
                            "Empty"])
    shown = ("fields.tree" + ".kids[0]" * 7 + " \u2026 " + "kids[0]." * 7 +
             "label")
    if status != 1 or err != "" or not re.fullmatch(
            r'\{"message":"Nested","id":9,"error":"%s: [^"]+","payload":'
            r'"[^"]+"\}\n' % re.escape(shown), out):
        fail("a deep reply: status %d, stdout %r" % (status, out[:300]))


def case_ip():
    p = ["--proto", FS, "--port", "1"]
    expect(p + ["--ip", "", "List"], 2, [],
           r"\Anetfw-call: --ip takes an address or a host name, not ''\n")
    v6 = socket.socket(socket.AF_INET6)
    v6.bind(("::1", 0))
    port = v6.getsockname()[1]
    v6.close()
    for ip in ["::1", "[::1]"]:
        expect(["--proto", FS, "--port", str(port), "--ip", ip, "List"], 1, [],
               r"\Anetfw-call: \[::1\]:%d: connection refused\n\Z" % port)


def case_tlsmsg():
    p = ["--proto", FS, "--port", "1"]
    for flag in ["--tls-ca", "--tls-cert"]:
        args = [flag, "/nonexistent/x.pem"]
        if flag == "--tls-cert":
            args += ["--tls-key", "/nonexistent/x.key"]
        expect(p + args + ["List"], 2, [], r"\Anetfw-call: %s "
               r"/nonexistent/x\.pem: No such file or directory\n\Z" % flag)
    # a plaintext peer answering the ClientHello with frames
    talker = socket.socket()
    talker.bind(("127.0.0.1", 0))
    talker.listen(1)

    def hello():
        conn = talker.accept()[0]
        conn.recv(5)
        conn.sendall(frame(7, b"\x01") * 20)
        time.sleep(5)
    threading.Thread(target=hello, daemon=True).start()
    expect(["--proto", FS, "--port", str(talker.getsockname()[1]), "--tls",
            "--timeout", "2000", "List"], 1, [],
           r"\Anetfw-call: 127\.0\.0\.1:%d: TLS failed: [^\n]*\(run with "
           r"NETFW_LOG_LEVEL=debug for the log\)" % talker.getsockname()[1])


def case_hint():
    big = Peer(lambda conn, mid, payload: conn.sendall(
        struct.pack("<HI", 7, 0x7fffffff)))
    expect(["--proto", FS, "--port", str(big.port), "List"], 1, [],
           r"\Anetfw-call: 127\.0\.0\.1:%d: connection lost: dropped by this "
           r"client: [^\n]* \(not a netfw server, or a TLS server: try "
           r"--tls\?\)\n\Z" % big.port)
    shut = FakeServer([], close=True)
    expect(["--proto", FS, "--port", str(shut.port), "List"], 1, [],
           r"\Anetfw-call: 127\.0\.0\.1:%d: connection lost: closed by the "
           r"server \(before any reply: the server may expect TLS; try "
           r"--tls\?\)\n\Z" % shut.port)
    # a full backlog: the SYN goes unanswered, connect times out
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port, fill = full.getsockname()[1], []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fill.append(s)
    time.sleep(0.2)
    timed(["--proto", FS, "--port", str(port), "--timeout", "400", "List"],
          1, [], r"\Anetfw-call: 127\.0\.0\.1:%d: timed out after 400 ms\n\Z"
          % port, 0.39, 3)


def case_toserver():
    echo = FakeServer([(1, b"\x01a\x00\x00\x00\x00")])
    # an error line; and no reply of List's (ListResp) came
    expect(["--proto", FS, "--port", str(echo.port), "--timeout", "300",
            "List"], 1, [
        '{"message":"Add","id":1,"error":"Add is a message to the server '
        '(-> server), not a reply","fields":{"filename":"a","file":""}}'],
        r"^netfw-call: 127\.0\.0\.1:%d: no reply within 300 ms$"
        % echo.port)


def case_atfile():
    srv = FakeServer([(7, b"\x01")])
    c = ["--proto", FS, "--port", str(srv.port)]
    data = bytes(range(256)) * 800  # 200 KiB: base64 over argv's limit
    req = json.dumps({"filename": "big", "file":
                      base64.b64encode(data).decode()})
    path = os.path.join(TMP, "req.json")
    with open(path, "w") as f:
        f.write(req)
    expect(c + ["Add", "@" + path], 0, [ack("OK")])
    expect(c + ["Add", "-"], 0, [ack("OK")], stdin=req)
    want = (1, b"\x03big" + struct.pack("<I", len(data)) + data)
    if srv.got != [want, want]:
        fail("@FILE and - sent other payloads")
    expect(c + ["Add", "@" + os.path.join(TMP, "none.json")], 2, [],
           r"\Anetfw-call: cannot open \S*none\.json: No such file")
    huge = os.path.join(TMP, "huge.json")
    with open(huge, "wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    expect(c + ["Add", "@" + huge], 2, [],
           r"\Anetfw-call: \S*huge\.json is larger than 67108864 bytes\n\Z")


def case_schema():
    ping = os.path.join(TMP, "ping.netproto")
    with open(ping, "w") as f:
        f.write("protocol Ping;\nmessage Ping = 1 { u8 x; }\n")
    msg = ["message Ping = 1 {", "    u8 x;", "}"]
    expect(["--proto", ping, "--describe", "Ping"], 0, msg)
    expect(["--proto", ping, "--describe-schema"], 0,
           ["protocol Ping;", ""] + msg)
    out, _ = expect(["--proto", FS, "--describe-schema"], 0)
    again, _ = expect(["--proto", FS, "--describe", "file_storage"], 0)
    if out != again or "protocol file_storage;" not in out:
        fail("--describe-schema and --describe file_storage differ")
    expect(["--proto", ping, "--describe-schema", "--list"], 2, [],
           r"one at a time")


def stream_args(port, proto=FS):
    return [CALL, "--proto", proto, "--port", str(port), "--timeout", "300",
            "--stream"]


def check_stream(p, out, err, srv, who):
    """p's result: exit 2, two acks, line 2 reported, 2 requests sent."""
    if p.returncode != 2 or out.splitlines() != [ack("OK")] * 2:
        fail("%s: status %d, stdout %r" % (who, p.returncode, out))
    if err != "netfw-call: stdin line 2: longer than %s bytes (skipped)\n" \
            % os.environ["NETFW_CALL_MAX_LINE"]:
        fail("%s: stderr %r" % (who, err))
    if len(srv.got) != 2 or srv.got[1] != (2, b"\x01c"):
        fail("%s: the server got %r" % (who, srv.got))


def case_longline():
    good = ['{"message":"Del","fields":{"filename":"%s"}}' % n for n in "bc"]
    long = '{"message":"Del","fields":{"filename":"%s"}}' % ("x" * 150)
    os.environ["NETFW_CALL_MAX_LINE"] = "100"
    srv = FakeServer([(7, b"\x01")])
    path = os.path.join(TMP, "lines")
    with open(path, "w") as f:
        f.write("\n".join([good[0], long, good[1]]) + "\n")
    with open(path) as f:
        p = subprocess.run(WRAP + stream_args(srv.port), stdin=f,
                           capture_output=True, text=True, timeout=30)
    check_stream(p, p.stdout, p.stderr, srv, "from a file")
    srv = FakeServer([(7, b"\x01")])
    p = subprocess.Popen(WRAP + stream_args(srv.port), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    PROCS.append(p)
    p.stdin.write(good[0] + "\n" + long[:120])
    p.stdin.flush()
    time.sleep(0.3)  # netfw-call sees 120 bytes without a newline
    out, err = p.communicate(long[120:] + "\n" + good[1] + "\n", timeout=30)
    check_stream(p, out, err, srv, "from a pipe")
    # the real limit, 64 MiB, from a file: one line over it is skipped
    del os.environ["NETFW_CALL_MAX_LINE"]
    srv = FakeServer([(7, b"\x01")])
    with open(path, "w") as f:
        f.write(good[0] + "\n" + "x" * (64 * 1024 * 1024 + 1) + "\n" +
                good[1] + "\n")
    with open(path) as f:
        p = subprocess.run(WRAP + stream_args(srv.port), stdin=f,
                           capture_output=True, text=True, timeout=60)
    os.environ["NETFW_CALL_MAX_LINE"] = "67108864"
    check_stream(p, p.stdout, p.stderr, srv, "a 64 MiB + 1 line")


def case_streamcount():
    ask = '{"message":"Ask","fields":{"n":1}}\n'
    pushes = FakeServer([(5, b"\x01p")])
    expect(["--proto", CT, "--port", str(pushes.port), "--timeout", "300",
            "--stream"], 1, [line("Note", 5, '{"text":"p"}')] * 2,
           r"\Anetfw-call: 127\.0\.0\.1:%d: 2 of 2 requests got no reply\n\Z"
           % pushes.port, stdin=ask * 2)
    told = FakeServer([(2, b"\x00")])
    expect(["--proto", CT, "--port", str(told.port), "--timeout", "300",
            "--stream"], 0, [line("Told", 2, '{"rc":"OK"}')] * 2, None,
           stdin=ask * 2)
    # without returns nothing is counted: no reply is still status 0
    silent = FakeServer([])
    expect(["--proto", CT, "--port", str(silent.port), "--timeout", "300",
            "--stream"], 0, [], None,
           stdin='{"message":"Blob","fields":{"data":""}}\n')


def main():
    try:
        globals()["case_" + CASE]()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
            p.wait()
    print("ok: " + CASE)


main()
