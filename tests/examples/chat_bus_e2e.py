#!/usr/bin/env python3
"""chat_server as one room over several workers and several servers.

Usage: chat_bus_e2e.py BIN_DIR CASE
  CASE local  1 chat_server x 4 workers (--bus local)
  CASE redis  its own redis-server on a free port, 2 chat_servers x 4
              workers on it (--bus redis://127.0.0.1:PORT)
  CASE faults 1 chat_server x 1 worker on its own redis-server, which is
              stopped (SIGSTOP), continued and killed: the bounds on joins
              waiting for Redis and on what a joining connection queues,
              a stuck Redis dropped after 5 s, joins refused while it is
              down, members closed when it is lost, back once it is up

Each case: 8 real chat_clients (split over the servers; the server logs
which worker holds whom: the members must be spread over more than one
worker of each server) join one after the other, each says K lines
(interleaved); every member must print exactly the others' lines, each
sender's in order, and "* X joined" for everyone who came after it. Then:
8 raw-socket peers join at the same moment over every server: each must
learn every other exactly once (Joined.members or MemberJoined, never both,
never neither); then 4 of them leave while 4 others join, at once: every
member's view (Joined, then the joins and leaves it is told) must end up
exactly the room; a nickname held on one server is refused (NICK_TAKEN) on
the other; a member that resets its socket, one that sends Leave, one that
/quits and one whose worker is killed (SIGKILL: a ghost the store sweeps)
are announced as left to everybody, on every server; the members of a
server that stops are announced as left on the other.

Every process this test starts (servers, clients, redis-server) is killed
in all paths; every wait is bounded. Python stdlib only."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_closed_e2e import (JOINED, LEAVE_FRAME, MEMBER_JOINED, MEMBER_LEFT,
                             NICK_TAKEN, Fail, Peer, check, join, refused, say)

K = 20        # lines per member
MEMBERS = 8
WAIT = 15.0   # seconds for anything that must arrive
GHOST_WAIT = 20.0  # a killed worker's members: alive key expiry + sweep

PROCS = []    # everything started, killed at the end whatever happens


def die_with_parent():
    """In a child: SIGKILL when this test dies, however it dies."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PDEATHSIG


def start(args, **kw):
    p = subprocess.Popen(args, preexec_fn=die_with_parent, **kw)
    PROCS.append(p)
    return p


def kill_all():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
    for p in PROCS:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise Fail(f"timed out ({timeout} s) waiting for {what}")
        time.sleep(0.02)


class Redis:
    def __init__(self, tmp):
        self.port = free_port()
        self.log = open(os.path.join(tmp, "redis.log"), "w+")
        self.proc = start(["redis-server", "--port", str(self.port),
                           "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no"],
                          stdout=self.log, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)

        def up():
            check(self.proc.poll() is None, "redis-server exited")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        wait_until(up, "redis-server to listen")

    def command(self, *args):
        """Sends one command (RESP), returns the raw answer."""
        req = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        with socket.create_connection(("127.0.0.1", self.port), 5) as s:
            s.sendall(req)
            return s.recv(4096)


class Server:
    """chat_server on a free port; stdout and stderr in files."""

    def __init__(self, bindir, tmp, name, args):
        self.name = name
        self.out = open(os.path.join(tmp, name + ".out"), "w+")
        self.err = open(os.path.join(tmp, name + ".err"), "w+")
        self.proc = start([os.path.join(bindir, "chat_server"), "--port", "0",
                           *args], stdout=self.out, stderr=self.err,
                          stdin=subprocess.DEVNULL)
        self.port = None

        def listening():
            check(self.proc.poll() is None,
                  f"{name} exited early:\n{read(self.err)}")
            m = re.search(r"^listening on 127\.0\.0\.1:(\d+)$",
                          read(self.out), re.M)
            self.port = int(m.group(1)) if m else None
            return self.port is not None
        wait_until(listening, f"{name} to listen")

    def worker_of(self, nick):
        """The pid of the worker that logged nick's join (last one)."""
        pids = re.findall(rf"^\[(\d+)\] INFO: chat: {re.escape(nick)} joined$",
                          read(self.err), re.M)
        return int(pids[-1]) if pids else None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            raise Fail(f"{self.name} still running 15 s after SIGTERM")
        check(rc == 0, f"{self.name} exited {rc} after SIGTERM")
        err = read(self.err)
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                    "used after on_client_closed", "ERROR"):
            check(bad not in err, f"{self.name} stderr mentions '{bad}'")


def read(f):
    f.seek(0)
    return f.read()


class Client:
    """A real chat_client; its screen in a file, its keyboard a pipe."""

    def __init__(self, bindir, tmp, srv, nick):
        self.nick, self.srv = nick, srv
        self.out = open(os.path.join(tmp, nick + ".screen"), "w+")
        self.proc = start([os.path.join(bindir, "chat_client"), "--port",
                           str(srv.port), "--nick", nick],
                          stdin=subprocess.PIPE, stdout=self.out,
                          stderr=subprocess.STDOUT)
        wait_until(lambda: self.screen_has(r"^\* in the room:"),
                   f"{nick}'s welcome")

    def screen(self):
        return read(self.out)

    def screen_has(self, pattern):
        return re.search(pattern, self.screen(), re.M) is not None

    def wait_for(self, pattern, what, timeout=WAIT):
        wait_until(lambda: self.screen_has(pattern), f"{self.nick}: {what}",
                   timeout)

    def type(self, text):
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def lines_from(self):
        """{sender: [texts]} in the order the screen shows them."""
        got = {}
        for m in re.finditer(r"^<(\S+)> (.*)$", self.screen(), re.M):
            got.setdefault(m.group(1), []).append(m.group(2))
        return got


def talk(clients):
    """Everybody joined in order; says K lines each; checks every screen."""
    nicks = [c.nick for c in clients]
    for i, c in enumerate(clients):
        want = " ".join(nicks[:i]) if i else "nobody else yet"
        check(c.screen_has(rf"^\* in the room: {re.escape(want)}$"),
              f"{c.nick}'s welcome is not '{want}':\n{c.screen()}")
        for later in nicks[i + 1:]:
            c.wait_for(rf"^\* {later} joined$", f"'{later} joined'")
    for k in range(K):  # interleaved: everybody talks at once
        for c in clients:
            c.type(f"{c.nick} says {k}")
    for c in clients:
        def complete(c=c):
            got = c.lines_from()
            return sum(len(v) for v in got.values()) >= K * (len(clients) - 1)
        wait_until(complete, f"{c.nick} to receive {K * (len(clients) - 1)} "
                   "lines")
    time.sleep(0.3)  # nothing more may come
    for c in clients:
        got = c.lines_from()
        check(c.nick not in got, f"{c.nick} received its own lines")
        for o in clients:
            if o is not c:
                want = [f"{o.nick} says {k}" for k in range(K)]
                check(got.get(o.nick) == want,
                      f"{c.nick} got from {o.nick}: {got.get(o.nick)}")
    print(f"  {len(clients)} members x {K} lines: every member got the "
          "others' lines once, in order")


def check_spread(servers, clients):
    for srv in servers:
        pids = {srv.worker_of(c.nick) for c in clients if c.srv is srv}
        check(None not in pids, f"{srv.name} did not log every join")
        check(len(pids) >= 2, f"{srv.name}: all members on one worker")
        print(f"  {srv.name}: members on {len(pids)} workers")


def recv_msgs(peer, want_ids, timeout):
    """Frames (id, payload) until timeout passes with nothing new."""
    out = []
    while True:
        try:
            raw = peer.recv_frame(timeout)
        except Fail:
            return out
        check(raw is not None, f"{peer.name}: connection closed")
        mid = int.from_bytes(raw[:2], "little")
        check(mid in want_ids, f"{peer.name}: unexpected frame id {mid}")
        out.append((mid, raw[6:]))


def strings8(body, count_size):
    n = int.from_bytes(body[:count_size], "little")
    pos, out = count_size, []
    for _ in range(n):
        ln = body[pos]
        out.append(body[pos + 1:pos + 1 + ln].decode())
        pos += 1 + ln
    return out


def concurrent_joins(servers, present):
    """8 peers join at once over every server: each learns every other once."""
    nicks = [f"race{i}" for i in range(MEMBERS)]
    peers = [Peer(servers[i % len(servers)].port, n)
             for i, n in enumerate(nicks)]
    for p, n in zip(peers, nicks):
        p.send(join(n))
    for p in peers:
        msgs = recv_msgs(p, (JOINED, MEMBER_JOINED), 1.5)
        check(msgs and msgs[0][0] == JOINED, f"{p.name}: no Joined first")
        snap = strings8(msgs[0][1], 2)
        later = [b[1:1 + b[0]].decode() for _, b in msgs[1:]]
        both = set(snap) & set(later)
        check(not both, f"{p.name}: {both} in Joined and MemberJoined")
        check(len(later) == len(set(later)), f"{p.name}: duplicate joins")
        others = (set(nicks) | set(present)) - {p.name}
        check(set(snap) | set(later) == others,
              f"{p.name} knows {sorted(set(snap) | set(later))}")
    print(f"  {MEMBERS} concurrent joins over {len(servers)} server(s): each "
          "member learned every other exactly once")
    return churn(servers, present, peers)


def apply_view(p, view, msgs):
    """Applies MemberJoined/MemberLeft frames to view (a set), checking that
    nobody joins twice or leaves unknown."""
    for mid, body in msgs:
        nick = body[1:1 + body[0]].decode()
        if mid == MEMBER_JOINED:
            check(nick not in view, f"{p.name}: {nick} joined twice")
            view.add(nick)
        elif mid == MEMBER_LEFT:
            check(nick in view, f"{p.name}: unknown {nick} left")
            view.remove(nick)


def churn(servers, present, peers):
    """Half the peers leave while 4 others join, all at once: every member's
    view (Joined, then the joins and leaves it is told) ends up exactly the
    room. Returns the peers still in the room."""
    leavers, stayers = peers[0::2], peers[1::2]
    late = [Peer(servers[i % len(servers)].port, f"late{i}") for i in range(4)]
    for i, p in enumerate(leavers):
        (p.close_rst if i % 2 else (lambda p=p: p.send(LEAVE_FRAME)))()
    for p in late:
        p.send(join(p.name))
    room = set(present) | {p.name for p in stayers + late}
    views = {}
    for p in stayers:
        views[p] = {n for n in room | {q.name for q in leavers}} - {
            q.name for q in late} - {p.name}
    for p in late:
        raw = p.recv_frame()
        check(raw is not None and raw[0] == JOINED, f"{p.name}: no Joined")
        views[p] = set(strings8(raw[6:], 2))
    for p in stayers + late:
        apply_view(p, views[p], recv_msgs(p, (MEMBER_JOINED, MEMBER_LEFT),
                                           1.5))
        check(views[p] == room - {p.name},
              f"{p.name} sees {sorted(views[p])}, the room is "
              f"{sorted(room - {p.name})}")
    for p in leavers:
        p.close()
    print(f"  {len(leavers)} leaving while {len(late)} join: every member's "
          "view is exactly the room")
    return stayers + late


def departures(bindir, tmp, servers, clients, peers):
    """Taken nick across servers, then four ways of leaving."""
    a, b = servers[0], servers[-1]
    dup = Peer(b.port, "dup")
    dup.send(join(clients[0].nick))  # clients[0] is on servers[0]
    dup.expect(refused(NICK_TAKEN), " (nick held on another server)")
    dup.close()
    # the race peers go: reset, Leave, plain close
    for i, p in enumerate(peers):
        if i % 3 == 0:
            p.close_rst()
        elif i % 3 == 1:
            p.send(LEAVE_FRAME)
        else:
            p.close()
    for c in clients:
        for p in peers:
            c.wait_for(rf"^\* {p.name} left$", f"'{p.name} left'")
    print("  reset / Leave / close: every member was told, on every server")
    quitter, killed = clients[0], clients[1]
    quitter.type("/quit")
    killed.proc.kill()  # its socket closes without a Leave
    ghost = Client(bindir, tmp, b, "ghost")
    rest = clients[2:]
    for c in rest:
        c.wait_for(r"^\* ghost joined$", "'ghost joined'")
    pid = b.worker_of("ghost")
    os.kill(pid, signal.SIGKILL)  # the worker dies: its members are ghosts
    victims = [ghost] + [c for c in rest
                         if c.srv is b and b.worker_of(c.nick) == pid]
    rest = [c for c in rest if c not in victims]
    check(rest, "every member was on the killed worker")
    for v in victims:
        v.wait_for(r"^\* the server closed the connection$", "its close")
    for c in rest:
        for gone in (quitter.nick, killed.nick):
            c.wait_for(rf"^\* {gone} left$", f"'{gone} left'")
        for v in victims:
            c.wait_for(rf"^\* {v.nick} left$", f"'{v.nick} left' (swept)",
                       GHOST_WAIT)
    print(f"  /quit, killed client, killed worker ({len(victims)} ghosts "
          "swept): every member was told, on every server")
    check(quitter.proc.wait(5) == 0, "the /quit client exited non-zero")
    for c in rest:
        c.proc.stdin.close()
    for c in rest:
        check(c.proc.wait(10) == 0, f"{c.nick}'s client exited non-zero")


def run(bindir, tmp, case):
    args = ["--workers", "4"]
    nservers = 1
    if case == "redis":
        redis = Redis(tmp)
        args += ["--bus", f"redis://127.0.0.1:{redis.port}"]
        nservers = 2
    servers = [Server(bindir, tmp, f"server{i}", args)
               for i in range(nservers)]
    if case == "redis":
        time.sleep(1.5)  # the workers connect to Redis (joins refused before)
    clients = [Client(bindir, tmp, servers[i % nservers], f"m{i}")
               for i in range(MEMBERS)]
    check_spread(servers, clients)
    talk(clients)
    peers = concurrent_joins(servers, [c.nick for c in clients])
    departures(bindir, tmp, servers, clients, peers)
    if case == "redis":  # a server that stops: its members leave
        watcher = Client(bindir, tmp, servers[1], "watcher")
        stopper = Client(bindir, tmp, servers[0], "stopper")
        watcher.wait_for(r"^\* stopper joined$", "'stopper joined'")
        servers[0].stop()
        watcher.wait_for(r"^\* stopper left$", "'stopper left'", GHOST_WAIT)
        check(stopper.proc.wait(5) == 1, "stopper's client not told")
        watcher.proc.stdin.close()
        check(watcher.proc.wait(10) == 0, "watcher's client exited non-zero")
        print("  a server stopped: its members left for the other server")
        servers = servers[1:]
    for srv in servers:
        srv.stop()
    if case == "local":
        full_room(bindir, tmp)


def full_room(bindir, tmp):
    """--max-members 2: a third join is closed, a leave makes room."""
    srv = Server(bindir, tmp, "small",
                 ["--workers", "2", "--max-members", "2"])
    a = join_when_back(srv, "a", WAIT)
    b = join_when_back(srv, "b", WAIT)
    c = Peer(srv.port, "c")
    c.send(join("c"))
    check(eof_within(c, 5), "a third member joined a room of 2")
    b.send(LEAVE_FRAME)
    check(eof_within(b, 5), "b's Leave did not close")
    join_when_back(srv, "c", WAIT).close()
    a.close()
    srv.stop()
    check("cannot join 'c': the room is full" in read(srv.err),
          "no 'room is full' log line")
    print("  --max-members 2: a third join closed, a leave made room")


def eof_within(peer, timeout):
    """True if the server closes peer within timeout (frames before EOF are
    skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            if peer.recv_frame(left) is None:
                return True
        except Fail:
            return peer.eof


def closed_now(peer):
    """True if the server closed peer already (nothing else was sent)."""
    peer.sock.setblocking(False)
    try:
        data = peer.sock.recv(1 << 16)
        check(not data, f"{peer.name} received {data!r}")
        peer.eof = True
    except BlockingIOError:
        pass
    except ConnectionResetError:
        peer.eof = True
    peer.sock.settimeout(WAIT)
    return peer.eof


def join_when_back(srv, nick, timeout):
    """Joins nick, retrying while the server refuses (closes); the peer."""
    deadline = time.monotonic() + timeout
    while True:
        p = Peer(srv.port, nick)
        p.send(join(nick))
        raw = p.recv_frame()
        if raw is not None and raw[0] == JOINED:
            return p
        p.close()
        if time.monotonic() > deadline:
            raise Fail(f"{nick} could not join within {timeout} s")
        time.sleep(0.3)


def faults(bindir, tmp):
    redis = Redis(tmp)
    srv = Server(bindir, tmp, "server0",
                 ["--workers", "1",
                  "--bus", f"redis://127.0.0.1:{redis.port}"])
    alice = join_when_back(srv, "alice", WAIT)
    redis.proc.send_signal(signal.SIGSTOP)  # Redis stops answering
    t0 = time.monotonic()
    j = Peer(srv.port, "joiner")
    j.send(join("joiner"))  # waits for Redis, queues the room's events
    time.sleep(0.3)  # its Join is read before alice's lines
    alice.send(b"".join(say(f"line {k}") for k in range(1100)))
    check(eof_within(j, 3), "the joiner's queue was not bounded")
    peers = [Peer(srv.port, f"p{i}") for i in range(299)]
    for p in peers:
        p.send(join(p.name))
    time.sleep(0.5)
    closed = [p for p in peers if closed_now(p)]
    check(len(closed) == 299 - 255,
          f"{len(closed)} joins closed at once, wanted {299 - 255} "
          "(256 may wait for Redis)")
    check(time.monotonic() - t0 < 4.5, "too slow to test the 5 s bound")
    for p in peers:
        if p not in closed:
            check(eof_within(p, 10), f"{p.name} still waits for Redis")
    check(eof_within(alice, 5), "alice kept after Redis was lost")
    print(f"  Redis stopped: 1 joiner closed for its queue, 44 of 299 joins "
          f"closed at once, the rest and the member closed after "
          f"{time.monotonic() - t0:.1f} s")
    for p in peers + [alice, j]:
        p.close()
    redis.proc.send_signal(signal.SIGCONT)
    # entries no chat_server writes (bad UTF-8, too long) are never shown
    redis.command(b"HSET", b"chat:members", b"\xff\xfe", b"1 x",
                  b"x" * 100, b"2 x")
    bob = join_when_back(srv, "bob", WAIT)
    dave = join_when_back(srv, "dave", WAIT)
    check(b"\xff" not in dave.buf and b"x" * 40 not in dave.buf,
          "junk from Redis in dave's frames")
    dave.close()
    print("  Redis continued: joins work again (junk entries skipped)")
    redis.proc.kill()
    redis.proc.wait(5)
    check(eof_within(bob, 5), "bob kept after Redis died")
    carol = Peer(srv.port, "carol")
    t0 = time.monotonic()
    carol.send(join("carol"))
    check(eof_within(carol, 3), "a join hangs while Redis is down")
    print(f"  Redis killed: the member closed, a join refused in "
          f"{time.monotonic() - t0:.2f} s")
    srv.stop()
    err = read(srv.err)
    for want in ("too much room traffic while 'joiner' joins",
                 "too many joins in progress", "no answer for 5 s",
                 "cannot join 'carol': the room is unavailable",
                 "chat: Redis at 127.0.0.1:%d: connection lost" % redis.port,
                 "unreachable (Connection refused)"):
        check(want in err, f"no log line '{want}'")


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("local", "redis", "faults"):
        sys.exit(__doc__)
    bindir, case = sys.argv[1], sys.argv[2]
    if case != "local" and shutil.which("redis-server") is None:
        sys.exit("FAIL: redis-server is not installed")
    tmp = tempfile.mkdtemp(prefix="netfw-chatbus-")
    ok = False
    # ctest's timeout (SIGTERM) still runs the cleanup below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    try:
        print(f"chat bus e2e ({case}):")
        if case == "faults":
            faults(bindir, tmp)
        else:
            run(bindir, tmp, case)
        ok = True
    except (Fail, OSError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".err"):
                with open(os.path.join(tmp, name)) as f:
                    print(f"--- {name}:\n{f.read()[-3000:]}", file=sys.stderr)
    finally:
        kill_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"chat bus e2e ({case}): {'passed' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
