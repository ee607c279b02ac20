#!/usr/bin/env python3
"""echo_server under systemd's protocols, with real processes.

Usage: systemd_e2e.py BIN_DIR CASE
  CASE activate  systemd-socket-activate -l 127.0.0.1:PORT echo_server
                 --workers 2 (the real tool, from the systemd package): the
                 first client connects before echo_server exists (the tool
                 execs it on that connection) and gets its exact bytes back;
                 the port served is the one the tool opened (netfw logs the
                 inherited socket, echo_server prints it), 20 more clients
                 echo; READY=1 and STOPPING=1 reach NOTIFY_SOCKET; SIGTERM
                 exits 0 and the port then refuses. A second run gives
                 --ip 203.0.113.7 --port 1 (unbindable here): unused.
                 A fd 3 that is not a socket: exit 1, saying so.
  CASE notify    echo_server --port 0 --workers 3 with NOTIFY_SOCKET naming a
                 unix datagram socket this test reads (abstract "@name",
                 then a path): READY=1 with the port, once all 3 workers are
                 there, and a client connects and echoes right after it;
                 nothing else; SIGTERM: STOPPING=1, exit 0, nothing more.
  CASE watchdog  WATCHDOG_USEC=200000 and WATCHDOG_PID=<echo_server's pid>:
                 WATCHDOG=1 every 100 ms (2 s: 20, slack for load); with
                 WATCHDOG_PID of another process: none.
  CASE config    examples/deploy is valid: `haproxy -c` accepts haproxy.cfg
                 (both servers send-proxy-v2 with checks) and haproxy runs
                 it (on free ports) until it accepts, `systemd-analyze
                 verify` accepts echo.socket and echo.service without a
                 word (ExecStart pointed at BIN_DIR), and the service is
                 Type=notify with ExecReload, KillSignal and WatchdogSec.
  CASE units     echo.service run as its lines say, on echo.socket's
                 address (a free port): ExecStart's command under
                 systemd-socket-activate serves (READY=1 with its worker
                 count); ExecReload's command leaves it serving (old and new
                 connections echo); KillSignal: STOPPING=1 and exit 0 within
                 TimeoutStopSec.

Every wait is bounded; every process started is killed at the end."""
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

WAIT = 10.0  # seconds, for anything that must happen
PROCS = []


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def start(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    PROCS.append(p)
    return p


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_until(cond, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Fail(f"timed out ({timeout} s) waiting for {what}")
        time.sleep(0.02)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(mid, payload):
    return struct.pack("<HI", mid, len(payload)) + payload


def recv_exact(sock, n):
    buf = b""
    deadline = time.monotonic() + WAIT
    while len(buf) < n:
        left = deadline - time.monotonic()
        check(left > 0, f"timed out reading {n} bytes (got {len(buf)})")
        r, _, _ = select.select([sock], [], [], left)
        if r:
            chunk = sock.recv(n - len(buf))
            check(chunk, f"EOF after {len(buf)} of {n} bytes")
            buf += chunk
    return buf


def echo(sock, mid, payload):
    """Sends one frame and expects exactly it back."""
    f = frame(mid, payload)
    sock.sendall(f)
    got = recv_exact(sock, len(f))
    check(got == f, f"echo: sent {f!r}, got {got!r}")


def connect(port):
    return socket.create_connection(("127.0.0.1", port), WAIT)


def children(pid):
    """The pids whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = read(f"/proc/{d}/stat")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(d))
    return out


class Notify:
    """The service manager's side of NOTIFY_SOCKET: a unix datagram socket
    bound to an abstract name ("@...") or to a path in tmp."""

    def __init__(self, tmp, abstract=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.name = f"@netfw-sd-e2e-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + self.name[1:])
        else:
            self.name = os.path.join(tmp, "notify.sock")
            self.sock.bind(self.name)

    def recv(self, timeout=WAIT):
        """The next datagram (str), or None after timeout seconds."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        return self.sock.recv(4096).decode() if r else None

    def expect(self, want, what):
        got = self.recv()
        check(got == want, f"{what}: expected {want!r}, got {got!r}")

    def expect_none(self, seconds, what):
        got = self.recv(seconds)
        check(got is None, f"{what}: unexpected {got!r}")


def stop(proc, err_path, name="echo_server"):
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(15)
    except subprocess.TimeoutExpired:
        raise Fail(f"{name} still running 15 s after SIGTERM")
    err = read(err_path)
    check(rc == 0, f"{name} exited {rc} after SIGTERM:\n{err}")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                "ERROR"):
        check(bad not in err, f"{name} stderr mentions '{bad}':\n{err}")


def ready_line(where, workers):
    s = "" if workers == 1 else "s"
    return f"READY=1\nSTATUS=serving {where}, {workers} worker{s}"


# ---- activate ----

def activate_once(bindir, tmp, extra):
    """One systemd-socket-activate run; returns when it passed."""
    for attempt in range(3):  # the free port may be taken meanwhile
        port = free_port()
        out, err = os.path.join(tmp, "sa.out"), os.path.join(tmp, "sa.err")
        notify = Notify(tmp)
        env = dict(os.environ, NOTIFY_SOCKET=notify.name)
        with open(out, "w") as o, open(err, "w") as e:
            # the tool passes on only the variables -E names
            proc = start(["systemd-socket-activate", "-l",
                          f"127.0.0.1:{port}", "-E", "NOTIFY_SOCKET",
                          os.path.join(bindir, "echo_server"), "--workers",
                          "2", *extra],
                         stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env)

        wait_until(lambda: proc.poll() is not None or
                   f"Listening on 127.0.0.1:{port} as 3." in read(err),
                   "systemd-socket-activate to listen")
        if proc.poll() is None:
            break
        check("Address already in use" in read(err),
              f"systemd-socket-activate exited:\n{read(err)}")
    else:
        raise Fail("systemd-socket-activate could not bind a free port")
    check("server started" not in read(err), "echo_server ran before a client")
    # the first client: queued on systemd's socket, served once echo_server
    # (exec'ed in the same process on this connection) runs
    first = connect(port)
    echo(first, 7, b"activated \x00\xff exact bytes")
    check(os.path.basename(os.readlink(f"/proc/{proc.pid}/exe")) ==
          "echo_server", "the tool did not exec echo_server in its process")
    notify.expect(ready_line(f"inherited socket (fd 3), 127.0.0.1 port {port}",
                             2), "READY=1")
    log = read(err)
    check(re.search(rf"^\[{proc.pid}\] INFO: server started: inherited socket "
                    rf"\(fd 3\), 127\.0\.0\.1 port {port}, 2 workers$",
                    log, re.M), f"no 'server started' line:\n{log}")
    wait_until(lambda: f"listening on 127.0.0.1:{port}\n" in read(out),
               "'listening on' with systemd's port")
    workers = children(proc.pid)
    check(len(workers) == 2, f"2 workers expected, found {workers}")
    socks = [connect(port) for _ in range(20)]
    for i, s in enumerate(socks):
        echo(s, 100 + i, f"client {i}".encode() * (i + 1))
    for s in socks + [first]:
        s.close()
    notify.expect_none(0.2, "after READY=1")
    stop(proc, err)
    notify.expect("STOPPING=1", "on SIGTERM")
    try:
        connect(port).close()
        raise Fail("the port still accepts after the exit")
    except ConnectionRefusedError:
        pass
    print(f"activate {extra}: port {port} served by pid {proc.pid} with "
          f"workers {workers}; 21 exact echoes")


def case_activate(bindir, tmp):
    activate_once(bindir, tmp, [])
    activate_once(bindir, tmp, ["--ip", "203.0.113.7", "--port", "1"])
    # fd 3 passed but not a socket: refused, exit 1, saying why
    r = subprocess.run(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" '
                        '3</dev/null', os.path.join(bindir, "echo_server")],
                       capture_output=True, text=True, timeout=WAIT)
    check(r.returncode == 1, f"a non-socket fd 3: exit {r.returncode}")
    check("ERROR: listen_fd 3 cannot be served: not a socket" in r.stderr and
          "error: cannot serve the socket systemd passed (fd 3): Socket "
          "operation on non-socket" in r.stderr, f"stderr: {r.stderr}")


# ---- notify ----

def run_server(bindir, tmp, args, env, argv0=None):
    out, err = os.path.join(tmp, "echo.out"), os.path.join(tmp, "echo.err")
    cmd = argv0 or [os.path.join(bindir, "echo_server")]
    with open(out, "w") as o, open(err, "w") as e:
        proc = start([*cmd, *args], stdout=o, stderr=e,
                     stdin=subprocess.DEVNULL, env=dict(os.environ, **env))
    return proc, out, err


def case_notify(bindir, tmp):
    for abstract in (True, False):
        notify = Notify(tmp, abstract)
        proc, out, err = run_server(bindir, tmp,
                                    ["--port", "0", "--workers", "3"],
                                    {"NOTIFY_SOCKET": notify.name})
        got = notify.recv()
        check(got is not None, f"no READY=1 within {WAIT} s:\n{read(err)}")
        m = re.fullmatch(r"READY=1\nSTATUS=serving 127\.0\.0\.1 port (\d+), "
                         r"3 workers", got)
        check(m, f"READY=1 expected, got {got!r}")
        port = int(m.group(1))
        s = connect(port)  # at once: every worker accepts by now
        echo(s, 1, b"ready means ready")
        workers = children(proc.pid)
        check(len(workers) == 3, f"3 workers expected, found {workers}")
        check(f"listening on 127.0.0.1:{port}\n" in read(out),
              f"stdout: {read(out)!r}")
        s.close()
        notify.expect_none(0.3, "after READY=1")
        stop(proc, err)
        notify.expect("STOPPING=1", "on SIGTERM")
        notify.expect_none(0.2, "after STOPPING=1")
        print(f"notify ({'abstract' if abstract else 'path'} "
              f"{notify.name}): READY=1 port {port}, STOPPING=1, exit 0")


# ---- watchdog ----

def case_watchdog(bindir, tmp):
    notify = Notify(tmp)
    # $$ is the shell's pid, which exec makes echo_server's
    sh = ["sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"',
          os.path.join(bindir, "echo_server")]
    proc, out, err = run_server(bindir, tmp, ["--port", "0"],
                                {"NOTIFY_SOCKET": notify.name,
                                 "WATCHDOG_USEC": "200000"}, sh)
    got = notify.recv()
    check(got is not None and got.startswith("READY=1\n"), f"READY: {got!r}")
    stamps = []
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        got = notify.recv(max(0.0, end - time.monotonic()))
        if got is None:
            break
        check(got == "WATCHDOG=1", f"WATCHDOG=1 expected, got {got!r}")
        stamps.append(time.monotonic())
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
    median = gaps[len(gaps) // 2] if gaps else 0
    print(f"watchdog: {len(stamps)} pings in 2 s, median gap "
          f"{median * 1000:.0f} ms")
    check(14 <= len(stamps) <= 21, f"{len(stamps)} pings in 2 s (20 expected)")
    check(0.07 <= median <= 0.14, f"median gap {median:.3f} s (0.1 expected)")
    check("systemd: watchdog every 100 ms (WATCHDOG_USEC=200000)" in read(err),
          f"no watchdog log line:\n{read(err)}")
    stop(proc, err)
    while True:
        got = notify.recv(2)
        check(got is not None, "no STOPPING=1")
        if got == "STOPPING=1":
            break
        check(got == "WATCHDOG=1", f"unexpected {got!r}")

    notify = Notify(tmp)
    proc, out, err = run_server(bindir, tmp, ["--port", "0"],
                                {"NOTIFY_SOCKET": notify.name,
                                 "WATCHDOG_USEC": "200000",
                                 "WATCHDOG_PID": "1"})
    got = notify.recv()
    check(got is not None and got.startswith("READY=1\n"), f"READY: {got!r}")
    notify.expect_none(0.6, "WATCHDOG_PID of another process")
    stop(proc, err)
    notify.expect("STOPPING=1", "on SIGTERM")
    print("watchdog: none for WATCHDOG_PID=1")


# ---- examples/deploy ----

DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "examples", "deploy")


def unit_values(name):
    """{key: [values]} of a unit file in examples/deploy."""
    out = {}
    for line in read(os.path.join(DEPLOY, name)).splitlines():
        m = re.match(r"^(\w+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def service_unit_for(bindir, tmp):
    """Copies the units into tmp with ExecStart on BIN_DIR's echo_server."""
    for name in ("echo.socket", "echo.service"):
        text = read(os.path.join(DEPLOY, name))
        text = text.replace("/usr/local/bin/echo_server",
                            os.path.join(bindir, "echo_server"))
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)


def haproxy_starts(cfg, tmp):
    """haproxy -c passes configurations that cannot start (a maxconn over
    the descriptor limit): run it, on free ports, until its frontend
    accepts."""
    text = read(cfg)
    for old in re.findall(r"127\.0\.0\.1:\d+", text):
        text = text.replace(old, f"127.0.0.1:{free_port()}")
    port = int(re.search(r"^\s*bind 127\.0\.0\.1:(\d+)", text, re.M)[1])
    path, log = os.path.join(tmp, "haproxy.cfg"), os.path.join(tmp, "h.log")
    with open(path, "w") as f:
        f.write(text)
    with open(log, "w") as o:
        h = start(["haproxy", "-db", "-f", path], stdout=o,
                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def accepts():
        check(h.poll() is None, f"haproxy exited {h.poll()}:\n{read(log)}")
        try:
            connect(port).close()
            return True
        except OSError:
            return False
    wait_until(accepts, "haproxy to accept on its frontend")
    h.send_signal(signal.SIGTERM)
    h.wait(10)


def case_config(bindir, tmp):
    cfg = os.path.join(DEPLOY, "haproxy.cfg")
    r = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and "Configuration file is valid" in r.stdout,
          f"haproxy -c: {r.returncode}\n{r.stdout}{r.stderr}")
    servers = re.findall(r"^\s*server (\S+) (\S+)", read(cfg), re.M)
    check(len(servers) == 2, f"two servers expected: {servers}")
    check(re.search(r"^\s*default-server .*\bsend-proxy-v2\b.*\bcheck\b",
                    read(cfg), re.M), "default-server: send-proxy-v2 check")
    haproxy_starts(cfg, tmp)
    service_unit_for(bindir, tmp)
    r = subprocess.run(["systemd-analyze", "verify", "./echo.socket",
                        "./echo.service"], capture_output=True, text=True,
                       timeout=60, cwd=tmp)
    check(r.returncode == 0 and r.stdout + r.stderr == "",
          f"systemd-analyze verify: {r.returncode}\n{r.stdout}{r.stderr}")
    svc = unit_values("echo.service")
    for key, want in (("Type", "notify"), ("KillSignal", "SIGTERM"),
                      ("ExecReload", "/bin/kill -HUP $MAINPID")):
        check(svc.get(key) == [want], f"echo.service {key}={svc.get(key)}")
    check("WatchdogSec" in svc, "echo.service has no WatchdogSec")
    print(f"config: haproxy -c valid ({servers}), units verified")


def case_units(bindir, tmp):
    sock, svc = unit_values("echo.socket"), unit_values("echo.service")
    host = sock["ListenStream"][0].rsplit(":", 1)[0]
    argv = svc["ExecStart"][0].split()
    argv[0] = os.path.join(bindir, "echo_server")
    workers = int(argv[argv.index("--workers") + 1])
    stop_s = int(svc["TimeoutStopSec"][0].rstrip("s"))
    port = free_port()
    notify = Notify(tmp)
    out, err = os.path.join(tmp, "u.out"), os.path.join(tmp, "u.err")
    with open(out, "w") as o, open(err, "w") as e:
        proc = start(["systemd-socket-activate", "-l", f"{host}:{port}",
                      "-E", "NOTIFY_SOCKET", *argv], stdout=o, stderr=e,
                     stdin=subprocess.DEVNULL,
                     env=dict(os.environ, NOTIFY_SOCKET=notify.name))
    wait_until(lambda: f"Listening on {host}:{port}" in read(err),
               "systemd-socket-activate to listen")
    old = connect(port)
    echo(old, 1, b"before reload")
    notify.expect(ready_line(f"inherited socket (fd 3), {host} port {port}",
                             workers), "READY=1")
    reload = svc["ExecReload"][0].replace("$MAINPID", str(proc.pid))
    subprocess.run(reload.split(), check=True, timeout=10)
    time.sleep(0.5)
    check(proc.poll() is None, f"ExecReload stopped it:\n{read(err)}")
    echo(old, 2, b"after reload, old connection")
    new = connect(port)
    echo(new, 3, b"after reload, new connection")
    old.close()
    new.close()
    t0 = time.monotonic()
    proc.send_signal(getattr(signal, svc["KillSignal"][0]))
    try:
        rc = proc.wait(stop_s)
    except subprocess.TimeoutExpired:
        raise Fail(f"still running {stop_s} s (TimeoutStopSec) after "
                   f"{svc['KillSignal'][0]}")
    check(rc == 0, f"exit {rc}:\n{read(err)}")
    while True:
        got = notify.recv(2)
        check(got is not None, "no STOPPING=1")
        if got == "STOPPING=1":
            break
    print(f"units: {' '.join(argv[1:])} on {host}:{port}, reload by "
          f"'{reload}', stopped in {(time.monotonic() - t0) * 1000:.0f} ms")


def main():
    bindir, case = sys.argv[1], sys.argv[2]
    cases = {"activate": case_activate, "notify": case_notify,
             "watchdog": case_watchdog, "config": case_config,
             "units": case_units}
    with tempfile.TemporaryDirectory(prefix="netfw-systemd-") as tmp:
        try:
            cases[case](os.path.abspath(bindir), tmp)
        except Fail as e:
            print(f"FAIL ({case}): {e}", file=sys.stderr)
            return 1
        finally:
            for p in PROCS:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    print(f"systemd_e2e {case}: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
