"""echo_server --proxy-protocol behind a real HAProxy (stdlib only).

usage: haproxy_e2e.py BIN_DIR CASE
  v2      send-proxy-v2: exact echo through HAProxy; each server logs
          "client 127.0.0.X:PORT" with the client's own source address
  v1      the same with send-proxy (v1 text header)
  health  check-send-proxy health checks (v2 LOCAL headers) log no
          warning; one server killed: HAProxy marks it DOWN, and every new
          connection echoes through the other
  refuse  a direct connection without a header and a header from an
          untrusted source are refused and logged once each
  flags   the three example servers: --help, --proxy-from without
          --proxy-protocol, a bad list; file_storage_server and chat_server
          serve after a v1 header and refuse a connection without one
Every wait is bounded; the processes started are ended at exit.
HX_LEVEL=debug sets the servers' NETFW_LOG_LEVEL; HX_KEEP=1 keeps the
temporary directory (configs and logs)."""
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HDR = struct.Struct("<HI")  # a netfw frame: id (u16 LE), length (u32 LE)
LOCAL = "127.0.0.1"
procs = []


def fail(msg):
    """Reports msg and exits 1 (the processes are ended by main)."""
    print("FAIL: " + msg)
    sys.exit(1)


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return s.getsockname()[1]


def read_log(path):
    """The whole text of a log file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def wait_for(what, cond, limit=10.0):
    """Polls cond() until true; fails after limit seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def start_echo(bin_dir, tmp, name, proxy_from, prog="echo_server",
               extra=()):
    """Starts prog --proxy-protocol; returns (proc, port, log)."""
    log = os.path.join(tmp, name + ".log")
    out = os.path.join(tmp, name + ".out")
    with open(log, "w") as err, open(out, "w") as so:
        p = subprocess.Popen(
            [os.path.join(bin_dir, prog), "--port", "0", "--workers", "1",
             "--proxy-protocol", "--proxy-from", proxy_from] + list(extra),
            stdout=so, stderr=err,
            env=dict(os.environ,
                     NETFW_LOG_LEVEL=os.environ.get("HX_LEVEL", "info")))
    procs.append(p)
    wait_for(name + " listening", lambda: "listening on" in read_log(out))
    port = int(re.search(r"listening on [\d.]+:(\d+)", read_log(out)).group(1))
    return p, port, log


def haproxy_cfg(fport, ports, send, check):
    """An haproxy.cfg: one TCP frontend, round robin over ports; check:
    None (no health checks), "plain" (TCP connect) or "proxy" (with
    check-send-proxy), fast (inter 200ms fall 2 rise 1); no stats socket."""
    opts = {None: "", "plain": " check inter 200ms fall 2 rise 1",
            "proxy": " check inter 200ms fall 2 rise 1 check-send-proxy"}
    servers = "".join(
        "    server s%d %s:%d %s%s\n" % (i + 1, LOCAL, p, send, opts[check])
        for i, p in enumerate(ports))
    return ("global\n    maxconn 256\n\n"
            "defaults\n    mode tcp\n    timeout connect 2s\n"
            "    timeout client 10s\n    timeout server 10s\n    retries 0\n\n"
            "frontend fe\n    bind %s:%d\n    default_backend be\n\n"
            "backend be\n    balance roundrobin\n    option tcp-check\n%s"
            % (LOCAL, fport, servers))


def listening(port):
    """True when 127.0.0.1:port is in LISTEN state (/proc/net/tcp)."""
    want = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == want and line.split()[3] == "0A"
                   for line in f.readlines()[1:])


def start_haproxy(tmp, ports, send, check):
    """Starts haproxy -db in front of ports; returns (proc, port, log)."""
    fport = free_port()
    cfg = os.path.join(tmp, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(haproxy_cfg(fport, ports, send, check))
    log = os.path.join(tmp, "haproxy.log")
    with open(log, "w") as out:
        p = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=out,
                             stderr=subprocess.STDOUT)
    procs.append(p)

    def up():
        if p.poll() is not None:
            fail("haproxy exited %d: %s" % (p.returncode, read_log(log)))
        return listening(fport)  # no probe: it would reach a server
    wait_for("haproxy listening", up)
    return p, fport, log


def recv_exact(s, n):
    """Exactly n bytes from s; EOFError if the peer closes first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def echo_via(port, src, mid, payload):
    """Connects from src, sends one frame, checks the exact bytes come back.
    Returns the client's source port."""
    with socket.socket() as s:
        s.settimeout(10)
        s.bind((src, 0))
        s.connect((LOCAL, port))
        sport = s.getsockname()[1]
        frame = HDR.pack(mid, len(payload)) + payload
        s.sendall(frame)
        got = recv_exact(s, len(frame))
        if got != frame:
            fail("echo from %s: sent %r, got %r" % (src, frame, got))
    return sport


def payload_for(i):
    """The payload of client i: 1..3000 pseudo-random bytes."""
    rnd = random.Random(i)
    return bytes(rnd.randrange(256) for _ in range(1 + rnd.randrange(3000)))


def client_lines(log):
    """The addresses echo_server logged, in order."""
    return re.findall(r"INFO: client (\S+)", read_log(log))


def proxy_lines(log):
    """The runtime's PROXY refusals at WARN (DEBUG ones are not counted)."""
    return re.findall(r"WARN: proxy: .*", read_log(log))


def through(fport, srcs, first_id):
    """One exact echo per source through HAProxy; returns "ip:port" each."""
    return ["%s:%d" % (src, echo_via(fport, src, first_id + i,
                                     payload_for(first_id + i)))
            for i, src in enumerate(srcs)]


def check_seen(servers, want, before=()):
    """Every client in want is logged exactly once, by one of the servers,
    and each server saw some; no other client than those before and
    HAProxy's checks."""
    def all_seen():
        got = sum((client_lines(s[2]) for s in servers), [])
        return all(w in got for w in want)
    wait_for("the servers' client lines", all_seen, 5)
    per = [client_lines(s[2]) for s in servers]
    for w in want:
        n = sum(lines.count(w) for lines in per)
        if n != 1:
            fail("client %s logged %d times: %r" % (w, n, per))
    for i, lines in enumerate(per):
        mine = [a for a in lines if a in want]
        if not mine:
            fail("server %d saw no client: %r" % (i + 1, lines))
        others = [a for a in lines
                  if a not in want and a not in before
                  and not a.startswith(LOCAL + ":")]
        if others:
            fail("server %d logged unknown clients %r" % (i + 1, others))


def srcs(n, first=2):
    """n source addresses 127.0.0.first, 127.0.0.first+1, ..."""
    return ["127.0.0.%d" % (first + i) for i in range(n)]


def addresses(bin_dir, tmp, send, check):
    """12 clients from 127.0.0.2.. through HAProxy: exact echo, and the
    servers' logs name exactly those clients (address and port), each
    once, half on each server (round robin); no PROXY warning anywhere."""
    servers = [start_echo(bin_dir, tmp, "s%d" % i, "127.0.0.1/32")
               for i in (1, 2)]
    _, fport, _ = start_haproxy(tmp, [s[1] for s in servers], send,
                                check)
    want = through(fport, srcs(12), 1)
    check_seen(servers, want)
    counts = [len([a for a in client_lines(s[2]) if a in want])
              for s in servers]
    if sorted(counts) not in ([6, 6], [5, 7]):  # round robin, +-1
        fail("round robin: %r" % counts)
    time.sleep(1)  # five check rounds
    for s in servers:
        if proxy_lines(s[2]):
            fail("PROXY warnings: %r" % proxy_lines(s[2]))
    return servers, fport, want


def case_v2(bin_dir, tmp):
    """v2 header; checks with check-send-proxy (v2 LOCAL headers)."""
    addresses(bin_dir, tmp, "send-proxy-v2", "proxy")


def case_v1(bin_dir, tmp):
    """v1 header; checks without check-send-proxy (HAProxy still sends its
    header on them, as for the traffic: "PROXY TCP4" naming itself)."""
    addresses(bin_dir, tmp, "send-proxy", "plain")


def case_health(bin_dir, tmp):
    """Kill s1: HAProxy marks it DOWN (fall 2 x inter 200ms), then 20 new
    connections all echo through s2, and s2 logs each of them."""
    servers, fport, first = addresses(bin_dir, tmp, "send-proxy-v2", "proxy")
    hlog = os.path.join(tmp, "haproxy.log")
    if "is DOWN" in read_log(hlog):
        fail("a server went DOWN while both ran: " + read_log(hlog))
    s1 = servers[0][0]
    s1.send_signal(signal.SIGKILL)
    s1.wait(10)
    wait_for("HAProxy to mark s1 DOWN",
             lambda: "Server be/s1 is DOWN" in read_log(hlog), 5)
    want = through(fport, srcs(20, 30), 100)
    check_seen([servers[1]], want, first)
    if proxy_lines(servers[1][2]):
        fail("PROXY warnings: %r" % proxy_lines(servers[1][2]))


def expect_closed(s):
    """The peer closes s without sending a byte (EOF or reset)."""
    try:
        data = s.recv(1)
    except ConnectionResetError:
        return
    if data != b"":
        fail("expected the connection closed, got %r" % data)


def case_refuse(bin_dir, tmp):
    """A direct frame without a header, and HAProxy's header from
    127.0.0.1 to a server trusting only 10.0.0.0/8: both closed, each
    logged once with its reason; the app never sees them."""
    _, port, log = start_echo(bin_dir, tmp, "s1", "127.0.0.1/32")
    with socket.create_connection((LOCAL, port), timeout=10) as s:
        s.sendall(HDR.pack(1, 3) + b"abc")
        expect_closed(s)
    wait_for("the refusal logged", lambda: proxy_lines(log), 5)
    want = r"WARN: proxy: connection from 127\.0\.0\.1:\d+ refused: " \
           r"no PROXY protocol header"
    if len(proxy_lines(log)) != 1 or not re.search(want, read_log(log)):
        fail("direct connection: %r" % proxy_lines(log))
    _, port2, log2 = start_echo(bin_dir, tmp, "s2", "10.0.0.0/8")
    _, fport, _ = start_haproxy(tmp, [port2], "send-proxy-v2", None)
    with socket.socket() as s:
        s.settimeout(10)
        s.bind(("127.0.0.2", 0))
        s.connect((LOCAL, fport))
        s.sendall(HDR.pack(1, 3) + b"abc")
        expect_closed(s)
    wait_for("the refusal logged", lambda: proxy_lines(log2), 5)
    lines = proxy_lines(log2)
    if len(lines) != 1 or not re.match(
            r"WARN: proxy: connection from 127\.0\.0\.1:\d+ refused: "
            r"not in proxy_from$", lines[0]):
        fail("untrusted source: %r" % lines)
    for lg in (log, log2):
        if client_lines(lg):
            fail("a refused connection reached the app: %r" % client_lines(lg))


def run(bin_dir, prog, *args):
    """(status, stdout + stderr) of prog args, bounded."""
    r = subprocess.run([os.path.join(bin_dir, prog)] + list(args),
                       capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def check_flags(bin_dir, prog, extra):
    """--help lists both flags; misuse exits 2; a bad list exits 1."""
    st, out = run(bin_dir, prog, "--help")
    if st != 0 or "--proxy-protocol" not in out or "--proxy-from LIST" \
            not in out:
        fail("%s --help: %d %s" % (prog, st, out))
    st, out = run(bin_dir, prog, "--port", "0", "--proxy-from",
                  "127.0.0.1", *extra)
    if st != 2 or "error: --proxy-from needs --proxy-protocol" not in out:
        fail("%s --proxy-from alone: %d %s" % (prog, st, out))
    st, out = run(bin_dir, prog, "--port", "0", "--proxy-protocol",
                  "--proxy-from", "127.0.0.1/32,10.0.0.0/33", *extra)
    if st != 1 or 'proxy_from: "10.0.0.0/33" is not an address' not in out:
        fail("%s with a bad list: %d %s" % (prog, st, out))


def case_flags(bin_dir, tmp):
    """The flags on all three servers, and the two others behind a header."""
    store = os.path.join(tmp, "store")
    os.mkdir(store)
    for prog, extra in (("echo_server", []), ("chat_server", []),
                        ("file_storage_server", ["--dir", store])):
        check_flags(bin_dir, prog, extra)
    _, port, log = start_echo(bin_dir, tmp, "fs", "127.0.0.1/32",
                              "file_storage_server", ["--dir", store])
    with socket.create_connection((LOCAL, port), timeout=10) as s:
        s.sendall(b"PROXY TCP4 127.0.0.9 127.0.0.1 4242 %d\r\n" % port +
                  HDR.pack(5, 0))  # LIST
        mid, size = HDR.unpack(recv_exact(s, HDR.size))
        if (mid, recv_exact(s, size)) != (6, b"\x00\x00"):
            fail("file_storage_server LIST after a v1 header")
    _, cport, clog = start_echo(bin_dir, tmp, "chat", "127.0.0.1/32",
                                "chat_server")
    for p, lg in ((port, log), (cport, clog)):
        with socket.create_connection((LOCAL, p), timeout=10) as s:
            s.sendall(HDR.pack(5, 0))
            expect_closed(s)
        wait_for("the refusal logged", lambda: proxy_lines(lg), 5)
        if len(proxy_lines(lg)) != 1 or "no PROXY protocol header" not in \
                proxy_lines(lg)[0]:
            fail("headerless connection: %r" % proxy_lines(lg))


CASES = {"v2": case_v2, "v1": case_v1, "health": case_health,
         "refuse": case_refuse, "flags": case_flags}


def check_sanitizers(tmp):
    """No sanitizer report in any server's log (a sanitized build)."""
    for name in sorted(os.listdir(tmp)):
        path = os.path.join(tmp, name)
        if name.endswith(".log") and re.search(
                r"AddressSanitizer|LeakSanitizer|runtime error:",
                read_log(path)):
            fail("sanitizer report in %s:\n%s" % (name, read_log(path)))


def stop_all():
    """Ends every process started (SIGTERM, then SIGKILL after 10 s)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    """Runs the case named on the command line; exit status 0 = passed."""
    if len(sys.argv) != 3:
        fail(__doc__)
    if shutil.which("haproxy") is None:
        fail("haproxy is not installed (scripts/install-deps)")
    bin_dir, case = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="netfw-haproxy-")
    try:
        CASES[case](bin_dir, tmp)
        stop_all()  # leaks are reported at exit
        check_sanitizers(tmp)
        print("PASS: haproxy %s" % case)
    finally:
        stop_all()
        if not os.environ.get("HX_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
