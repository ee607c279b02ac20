"""Helpers of call_e2e.py: running netfw-call and servers, bounded waits,
the expected reply lines, and a fake server speaking raw frames."""
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading

BIN, SRC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
CALL = os.path.join(BIN, "netfw-call")
FS = os.path.join(SRC, "protocols", "file_storage.netproto")
CHAT = os.path.join(SRC, "protocols", "chat.netproto")
HERE = os.path.dirname(os.path.abspath(__file__))
CT = os.path.join(HERE, "call_test.netproto")
TMP = tempfile.mkdtemp(prefix="netfw-call-")
PROCS = []
WRAP = os.environ.get("NETFW_CALL_WRAP", "").split()


def fail(why):
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def run(args, stdin=None, timeout=30):
    """Runs netfw-call with args; returns (status, stdout, stderr)."""
    p = subprocess.run(WRAP + [CALL] + args, input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def expect(args, status, out=None, err=None, stdin=None):
    """Runs netfw-call; its status must be status, its stdout exactly the
    lines out (a list), its stderr match the regex err (search)."""
    got, o, e = run(args, stdin)
    where = "netfw-call %s" % " ".join(args)
    if got != status:
        fail("%s exited %d, wanted %d\nstdout: %s\nstderr: %s"
             % (where, got, status, o, e))
    if out is not None and o.splitlines() != out:
        fail("%s printed\n%s\nwanted\n%s" % (where, o, "\n".join(out)))
    if err is not None and not re.search(err, e, re.M):
        fail("%s: stderr %r does not match /%s/" % (where, e, err))
    if err is None and e != "":
        fail("%s: unexpected stderr %r" % (where, e))
    return o, e


def start_server(args):
    """Starts a server; returns (Popen, port) once it prints 'listening on'."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    PROCS.append(p)
    box = {}

    def read():
        for line in p.stdout:
            m = re.match(r"^listening on .*:(\d+)$", line.strip())
            if m:
                box["port"] = int(m.group(1))
                return

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    if "port" not in box:
        fail("%s did not print 'listening on' within 10 s" % args[0])
    return p, box["port"]


def free_port():
    """A port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def line(message, mid, fields):
    return '{"message":"%s","id":%d,"fields":%s}' % (message, mid, fields)


def ack(rc):
    return line("Ack", 7, '{"rc":"%s"}' % rc)


def stream_proc(port, proto=CHAT, timeout="3000"):
    """A netfw-call --stream fed through a pipe."""
    p = subprocess.Popen(WRAP + [CALL, "--proto", proto, "--port", str(port),
                          "--timeout", timeout, "--stream"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    PROCS.append(p)
    return p


def send(p, text):
    p.stdin.write(text + "\n")
    p.stdin.flush()


def read_line(p, want, who):
    """The next stdout line of p (10 s at most) must be want."""
    box = {}
    t = threading.Thread(target=lambda: box.update(l=p.stdout.readline()),
                         daemon=True)
    t.start()
    t.join(10)
    got = box.get("l")
    if got is None:
        fail("%s: no line within 10 s, wanted %s" % (who, want))
    if got.rstrip("\n") != want:
        fail("%s printed %r, wanted %r" % (who, got, want))


def finish(p, status, err, who):
    """p (its stdin closed now) must exit with status within 15 s, stderr matching
    the regex err (or empty when err is None), no more stdout."""
    try:
        out, e = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        fail("%s still running 15 s after its stdin closed" % who)
    if p.returncode != status:
        fail("%s exited %d, wanted %d: %s" % (who, p.returncode, status, e))
    if out != "":
        fail("%s printed more: %r" % (who, out))
    if (err is None and e != "") or (err is not None and
                                     not re.search(err, e, re.M)):
        fail("%s: stderr %r, wanted /%s/" % (who, e, err))


class Listener:
    """A Python TCP server on a free loopback port: each connection is
    served by self.talk(conn) in a thread of its own (subclasses define
    it)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.talk, args=(conn,),
                             daemon=True).start()


class FakeServer(Listener):
    """A Python server: to each request frame it answers with the frames
    in replies (id, payload), then stays silent (or closes)."""

    def __init__(self, replies, close=False):
        self.replies, self.close = replies, close
        self.got = []
        super().__init__()

    def talk(self, conn):
        with conn:
            buf = b""
            while True:
                while len(buf) < 6 or len(buf) < 6 + struct.unpack_from(
                        "<I", buf, 2)[0]:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                mid, size = struct.unpack_from("<HI", buf)
                self.got.append((mid, buf[6:6 + size]))
                buf = buf[6 + size:]
                for rid, payload in self.replies:
                    conn.sendall(struct.pack("<HI", rid, len(payload)) +
                                 payload)
                if self.close:
                    return
