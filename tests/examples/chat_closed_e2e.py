#!/usr/bin/env python3
"""chat_server forgets every member whose connection netfw closes.

Regression test of the ghost use-after-free: the room used to free a member
only in on_client_disconnect, which netfw calls when the peer closes, never
when netfw itself closes the connection (unknown message id, malformed
payload, output limit, ...). The room then kept a dangling netfw_conn *.

Usage: chat_closed_e2e.py BIN_DIR CASE
  CASE ghost  the attack, ROUNDS times over (allocator reuse): churn
              connections, alice and ghost join, ghost sends a frame with an
              unknown id (or a malformed Say) and closes; then the room must
              have forgotten ghost exactly.
  CASE slow   a member that never reads is closed by the output limit
              (max_output, 64 MiB by default) while another talks; it must
              leave the room.
  CASE limits with --idle-timeout and --max-payload: a silent member closed
              by the idle timeout and one closed for an oversized frame
              (netfw's own close, before any generated code) leave too.

Real chat_server process, real sockets on 127.0.0.1, port 0. The wire is
encoded by hand from protocols/chat.netproto: frame = u16 id LE, u32 size
LE, payload; string<u8>/string<u16> = length LE then bytes; repeated<u16> =
count LE then items. Every wait is bounded. Runs against whatever BIN_DIR
holds (build/bin or the ASan build's bin)."""
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROUNDS = 9
WAIT = 10.0  # seconds, for anything that must arrive
QUIET = 0.3  # seconds of silence that count as "receives nothing"

# message ids (protocols/chat.netproto)
JOIN, JOINED, REFUSED, SAY, LINE, MEMBER_JOINED, MEMBER_LEFT, LEAVE = range(1, 9)
NICK_TAKEN = 1
UNKNOWN_ID = 99


def s8(s):
    b = s.encode() if isinstance(s, str) else s
    assert len(b) < 256
    return bytes([len(b)]) + b


def s16(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<H", len(b)) + b


def frame(mid, payload=b""):
    return struct.pack("<HI", mid, len(payload)) + payload


def join(nick):
    return frame(JOIN, s8(nick))


def joined(members):
    return frame(JOINED, struct.pack("<H", len(members)) +
                 b"".join(s8(m) for m in members))


def refused(reason):
    return frame(REFUSED, bytes([reason]))


def say(text):
    return frame(SAY, s16(text))


def line(sender, text):
    return frame(LINE, s8(sender) + s16(text))


def member_joined(nick):
    return frame(MEMBER_JOINED, s8(nick))


def member_left(nick):
    return frame(MEMBER_LEFT, s8(nick))


LEAVE_FRAME = frame(LEAVE)
NAMES = {JOIN: "Join", JOINED: "Joined", REFUSED: "Refused", SAY: "Say",
         LINE: "Line", MEMBER_JOINED: "MemberJoined",
         MEMBER_LEFT: "MemberLeft", LEAVE: "Leave"}


def show(raw):
    """A frame for a failure message: its name and payload."""
    if raw is None:
        return "EOF"
    mid, size = struct.unpack_from("<HI", raw)
    body = raw[6:]
    if len(body) > 48:
        body = body[:48] + b"..."
    return f"{NAMES.get(mid, mid)}[{size}] {body!r}"


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class Peer:
    """A blocking client speaking the wire format by hand."""

    def __init__(self, port, name, rcvbuf=None):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connect: it sets the window
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(WAIT)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        """Reads more bytes into buf. False on timeout; sets eof."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            data = self.sock.recv(1 << 16)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        self.buf += data
        return True

    def recv_frame(self, timeout=WAIT):
        """The next whole frame (raw bytes), None on EOF at a frame boundary;
        fails on a timeout or on EOF inside a frame."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 6:
                size = struct.unpack_from("<I", self.buf, 2)[0]
                if len(self.buf) >= 6 + size:
                    raw, self.buf = self.buf[:6 + size], self.buf[6 + size:]
                    return raw
            if self.eof:
                check(not self.buf, f"{self.name}: EOF inside a frame "
                      f"({len(self.buf)} bytes pending)")
                return None
            if not self._fill(deadline):
                raise Fail(f"{self.name}: nothing within {timeout} s "
                           f"({len(self.buf)} bytes pending)")

    def expect(self, want, why=""):
        try:
            got = self.recv_frame()
        except Fail as e:
            raise Fail(f"{e}; wanted {show(want)}{why}")
        check(got == want,
              f"{self.name}: got {show(got)}, wanted {show(want)}{why}")

    def expect_quiet(self):
        """Receives nothing at all (not a byte) within QUIET."""
        deadline = time.monotonic() + QUIET
        while not self.buf and not self.eof and self._fill(deadline):
            pass
        check(not self.buf and not self.eof,
              f"{self.name} should receive nothing, got "
              f"{'EOF' if not self.buf else show(self.recv_frame())}")

    def expect_eof(self):
        """The server closes with nothing more sent."""
        got = self.recv_frame()
        check(got is None, f"{self.name}: got {show(got)}, wanted EOF")

    def close(self):
        self.sock.close()

    def close_rst(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()


class Server:
    """chat_server on 127.0.0.1 port 0, its stdout and stderr in files."""

    def __init__(self, bindir, tmp, args=()):
        self.out = open(os.path.join(tmp, "chat.out"), "w+")
        self.err = open(os.path.join(tmp, "chat.err"), "w+")
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "chat_server"), "--port", "0", *args],
            stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT
        self.port = None
        while self.port is None:
            m = re.search(r"^listening on 127\.0\.0\.1:(\d+)$",
                          self.read_out(), re.M)
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                raise Fail(f"chat_server exited ({self.proc.returncode}) "
                           f"before listening:\n{self.read_err()}")
            elif time.monotonic() > deadline:
                raise Fail("chat_server did not print 'listening on'")
            else:
                time.sleep(0.02)

    def read_out(self):
        self.out.seek(0)
        return self.out.read()

    def read_err(self):
        self.err.seek(0)
        return self.err.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; must exit 0 within 15 s."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            raise Fail("chat_server still running 15 s after SIGTERM")
        check(rc == 0, f"chat_server exited {rc} after SIGTERM")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def check_one_healthy_worker(srv):
    """Exactly one worker ever started, it stopped cleanly, nothing crashed
    (a crashed worker is respawned with an empty room: the checks above
    would fail too, but this names the cause)."""
    err = srv.read_err()
    started = re.findall(r"^\[(\d+)\] INFO: worker started \(slot 0\)$", err,
                         re.M)
    check(len(started) == 1, f"{len(started)} workers started, wanted 1")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                "killed by signal", "exited with status", "respawn",
                "used after on_client_closed", "corrupted", "ERROR"):
        check(bad not in err, f"server stderr mentions '{bad}'")
    check(re.search(rf"^\[{started[0]}\] INFO: worker stopped$", err, re.M),
          "the worker did not stop cleanly")
    return started[0]


def ghost_round(srv, rnd):
    """One attack round; leaves the room empty. Returns the log line the
    server must have written for ghost (None when the ghost reset)."""
    port = srv.port
    kind = ("unknown-close", "unknown-rst", "malformed-close")[rnd % 3]
    # line allocator reuse up: connections that come and go
    for _ in range(10):
        Peer(port, "churn").close()
    alice = Peer(port, "alice")
    alice.send(join("alice"))
    alice.expect(joined([]))  # the previous round left nobody behind
    ghost = Peer(port, "ghost")
    ghost.send(join("ghost"))
    ghost.expect(joined(["alice"]))
    alice.expect(member_joined("ghost"))

    # the attack: a frame the server closes the connection for, then go
    if kind == "malformed-close":  # a Say whose text runs past the payload
        ghost.send(frame(SAY, struct.pack("<H", 10) + b"ab"))
        log = (f"WARN: 127.0.0.1:{ghost.port}: chat: malformed Say "
               f"(id 4, 4 bytes): ")
    else:
        ghost.send(frame(UNKNOWN_ID, b"boo"))
        log = (f"WARN: 127.0.0.1:{ghost.port}: chat: unknown message id "
               f"99, closing the connection")
    if kind == "unknown-rst":
        ghost.close_rst()  # the server may see the reset before the frame
        log = None
    else:
        ghost.close()
    # the room tells alice exactly once, and only that
    alice.expect(member_left("ghost"), " (the room kept ghost)")

    lurker = Peer(port, "lurker")  # never joins; may get ghost's memory
    bob = Peer(port, "bob")
    bob.send(join("bob"))
    bob.expect(joined(["alice"]))  # not ["alice", "ghost"]
    alice.expect(member_joined("bob"))
    ghost2 = Peer(port, "ghost2")
    ghost2.send(join("ghost"))  # the nick is free again (no NICK_TAKEN)
    ghost2.expect(joined(["alice", "bob"]))
    alice.expect(member_joined("ghost"))
    bob.expect(member_joined("ghost"))

    text = f"round {rnd}: only members hear this"
    alice.send(say(text))
    bob.expect(line("alice", text))
    ghost2.expect(line("alice", text))
    lurker.expect_quiet()  # zero bytes: it never joined
    alice.expect_quiet()  # not her own line either

    # a nick still in use is still refused
    dup = Peer(port, "dup")
    dup.send(join("bob"))
    dup.expect(refused(NICK_TAKEN))
    dup.close()

    # everybody goes, three ways: peer close, Leave, Leave
    ghost2.close()
    alice.expect(member_left("ghost"))
    bob.expect(member_left("ghost"))
    bob.send(LEAVE_FRAME)
    bob.expect_eof()
    alice.expect(member_left("bob"))
    alice.send(LEAVE_FRAME)
    alice.expect_eof()
    lurker.expect_quiet()
    for p in (bob, alice, lurker):
        p.close()
    check(srv.alive(), f"chat_server died in round {rnd}")
    return log


def case_ghost(srv):
    logs = [ghost_round(srv, rnd) for rnd in range(ROUNDS)]
    # the server stops with members in the room: they get EOF, nothing else
    alice = Peer(srv.port, "alice")
    alice.send(join("alice"))
    alice.expect(joined([]))
    carol = Peer(srv.port, "carol")
    carol.send(join("carol"))
    carol.expect(joined(["alice"]))
    alice.expect(member_joined("carol"))
    check(srv.alive(), "chat_server died")
    srv.proc.send_signal(signal.SIGTERM)
    alice.expect_eof()
    carol.expect_eof()
    alice.close()
    carol.close()
    try:
        rc = srv.proc.wait(15)
    except subprocess.TimeoutExpired:
        raise Fail("chat_server still running 15 s after SIGTERM")
    check(rc == 0, f"chat_server exited {rc} after SIGTERM")
    check_one_healthy_worker(srv)
    err = srv.read_err()
    for log in logs:
        if log is not None:
            check(log in err, f"no log line '{log}'")
    n_closed = len(re.findall(r"WARN: [0-9.]+:[0-9]+: chat: (unknown "
                              r"message id 99|malformed Say)", err))
    check(n_closed >= sum(1 for log in logs if log is not None)
          and n_closed <= ROUNDS, f"{n_closed} protocol closes logged")
    print(f"chat ghost e2e: {ROUNDS} rounds passed")


def case_slow(srv):
    port = srv.port
    talker = Peer(port, "talker")
    talker.send(join("talker"))
    talker.expect(joined([]))
    # a tiny receive window: the server's output for slow piles up in netfw
    slow = Peer(port, "slow", rcvbuf=4096)
    slow.send(join("slow"))
    slow.expect(joined(["talker"]))
    talker.expect(member_joined("slow"))
    # from now on slow reads nothing; every Say queues a ~64 KiB Line for it
    text = b"x" * 65535
    limit = 64 * 1024 * 1024  # NETFW_DEFAULT_MAX_OUTPUT
    per_line = len(line("talker", text))
    sent = 0
    left = None
    deadline = time.monotonic() + 120
    while left is None:
        check(sent * per_line < 4 * limit,
              f"slow still in the room after {sent} lines")
        check(time.monotonic() < deadline, "output limit not reached in 120 s")
        try:
            talker.send(say(text))
        except OSError as e:
            raise Fail(f"talker's connection failed after {sent} lines: {e}")
        sent += 1
        r, _, _ = select.select([talker.sock], [], [], 0)
        if r or sent % 64 == 0:
            try:
                left = talker.recv_frame(timeout=0.001 if not r else WAIT)
            except Fail:
                left = None
    check(left == member_left("slow"),
          f"talker: got {show(left)}, wanted {show(member_left('slow'))}")
    # the limit was passed: more than 64 MiB went out, minus what the
    # kernel's buffers hold (well under 16 MiB)
    check(sent * per_line > limit - 16 * 1024 * 1024,
          f"slow was closed after only {sent} lines")
    talker.expect_quiet()
    # slow is gone from the room: a newcomer does not see it, and its nick
    # is free
    carol = Peer(port, "carol")
    carol.send(join("carol"))
    carol.expect(joined(["talker"]))
    talker.expect(member_joined("carol"))
    slow2 = Peer(port, "slow2")
    slow2.send(join("slow"))
    slow2.expect(joined(["talker", "carol"]))
    talker.expect(member_joined("slow"))
    carol.expect(member_joined("slow"))
    talker.send(say("still here"))
    carol.expect(line("talker", "still here"))
    slow2.expect(line("talker", "still here"))
    # the closed socket ends (reset or EOF) after what was in flight
    deadline = time.monotonic() + WAIT
    slow.buf = b""
    while not slow.eof and slow._fill(deadline):
        slow.buf = b""
    check(slow.eof, "slow's connection was not closed")
    for p in (talker, carol, slow2, slow):
        p.close()
    check(srv.alive(), "chat_server died")
    srv.stop()
    check_one_healthy_worker(srv)
    err = srv.read_err()
    check(re.search(rf"WARN: 127\.0\.0\.1:{slow.port}: output limit reached "
                    rf"\(\d+ bytes unsent, limit {limit}\); closing", err),
          "no output limit log line for slow")
    print(f"chat slow reader e2e: closed after {sent} lines of {per_line} B")


IDLE_MS = 1000
MAX_PAYLOAD = 64


def case_limits(srv):
    port = srv.port
    alice = Peer(port, "alice")
    alice.send(join("alice"))
    alice.expect(joined([]))
    ghost = Peer(port, "ghost")
    ghost.send(join("ghost"))
    ghost.expect(joined(["alice"]))
    alice.expect(member_joined("ghost"))
    # ghost falls silent (it only reads); alice talks every 200 ms, so she
    # stays. The idle close is a graceful one: ghost gets alice's lines in
    # order, then EOF, and closes; then the room tells alice ghost is gone.
    t0 = time.monotonic()
    pings = heard = 0
    left = None
    while left is None:
        check(time.monotonic() - t0 < 8 * IDLE_MS / 1000,
              "the silent member did not leave the room")
        alice.send(say(f"ping {pings}"))
        pings += 1
        while not ghost.eof:
            try:
                got = ghost.recv_frame(timeout=0.01)
            except Fail:
                break
            if got is None:
                ghost_gone = time.monotonic() - t0
                ghost.close()
                break
            check(got == line("alice", f"ping {heard}"),
                  f"ghost: got {show(got)}, wanted ping {heard}")
            heard += 1
        try:
            left = alice.recv_frame(timeout=0.2)
        except Fail:
            pass
    check(left == member_left("ghost"),
          f"alice: got {show(left)}, wanted {show(member_left('ghost'))}")
    check(ghost.eof, "alice was told before ghost's connection ended")
    check(ghost_gone >= 0.8 * IDLE_MS / 1000,
          f"ghost closed after {ghost_gone:.2f} s")

    carol = Peer(port, "carol")
    carol.send(join("carol"))
    carol.expect(joined(["alice"]))  # not ghost
    alice.expect(member_joined("carol"))
    # over --max-payload: netfw closes before any handler runs, in order
    # (as the idle close above): carol gets EOF, not a reset, and closes;
    # then the room tells alice carol is gone.
    carol.send(say("y" * 100))  # payload 102 bytes
    carol.expect_eof()
    carol.close()
    alice.expect(member_left("carol"), " (oversized frame)")
    ghost2 = Peer(port, "ghost2")
    ghost2.send(join("ghost"))
    ghost2.expect(joined(["alice"]))
    alice.expect(member_joined("ghost"))
    carol2 = Peer(port, "carol2")
    carol2.send(join("carol"))
    carol2.expect(joined(["alice", "ghost"]))
    alice.expect(member_joined("carol"))
    ghost2.expect(member_joined("carol"))
    alice.send(say("bye"))
    ghost2.expect(line("alice", "bye"))
    carol2.expect(line("alice", "bye"))
    for p in (alice, carol, ghost2, carol2):
        p.close()
    check(srv.alive(), "chat_server died")
    srv.stop()
    check_one_healthy_worker(srv)
    err = srv.read_err()
    want = [f"INFO: 127.0.0.1:{ghost.port}: idle for {IDLE_MS} ms; closing",
            f"WARN: 127.0.0.1:{carol.port}: frame id 4 announces 102 bytes, "
            f"over max_payload ({MAX_PAYLOAD}); closing the connection"]
    for w in want:
        check(w in err, f"no log line '{w}'")
    print(f"chat limits e2e: idle close after {ghost_gone:.2f} s, "
          f"oversized frame")


CASES = {"ghost": (case_ghost, ()), "slow": (case_slow, ()),
         "limits": (case_limits, ("--idle-timeout", str(IDLE_MS),
                                  "--max-payload", str(MAX_PAYLOAD)))}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        sys.exit(__doc__)
    bindir, (run, args) = sys.argv[1], CASES[sys.argv[2]]
    with tempfile.TemporaryDirectory(prefix="netfw-chat-") as tmp:
        srv = None
        try:
            srv = Server(bindir, tmp, args)
            run(srv)
        except (Fail, OSError) as e:
            print(f"FAIL: {e}", file=sys.stderr)
            if srv is not None:
                print("--- chat_server stderr:\n" + srv.read_err()[-4000:],
                      file=sys.stderr)
            sys.exit(1)
        finally:
            if srv is not None:
                srv.kill()


if __name__ == "__main__":
    main()
