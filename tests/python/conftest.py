"""Shared by the Python back end's tests (tests/python).

Paths come from the environment ctest sets (tests/python/CMakeLists.txt):
NETFW_GEN (netfw-gen), NETFW_PY_FIXTURES and NETFW_PY_DECODE (the C helper
programs), NETFW_BIN (build/bin: the example programs), NETFW_SOURCE_DIR.

- gen_module(key): the module `netfw-gen --lang python` writes for one of
  SCHEMAS, generated once per session into a temporary directory and
  imported (generated_path(key) is its file).
- c_fixtures(key): the C encoding of the schema's sample values.
- c_decoder(key): a CDecoder, the C decoders' verdict on payloads.
- Server: a real server process on port 0, stopped with SIGTERM.
Every wait is bounded."""
import importlib.util
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import pytest
from hypothesis import settings

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)  # netframe_standin, samples ...


def _env(name):
    """The path in environment variable name; the test fails without it."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests through ctest "
                    "(tests/python/CMakeLists.txt sets it)")
    return value


SOURCE_DIR = os.environ.get("NETFW_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(HERE)))

# key -> schema path (relative to the source tree)
SCHEMAS = {
    "fz": "tests/fuzz/all_types.netproto",
    "atb": "tests/gen/all_types_be.netproto",
    "fs": "protocols/file_storage.netproto",
    "chat": "protocols/chat.netproto",
    "pyev1": "tests/python/py_evolve_v1.netproto",
    "pyev2": "tests/python/py_evolve_v2.netproto",
    "greeter": "examples/tutorial/greeter.netproto",
}

# Bounded, repeatable in time: no example database written into the tree.
settings.register_profile("netfw", deadline=None, database=None,
                          print_blob=True)
settings.load_profile("netfw")

WAIT = 10.0  # seconds for anything that must happen

_GEN_DIR = tempfile.mkdtemp(prefix="netfw-pygen-")
_modules = {}


def schema_path(key):
    """The absolute path of SCHEMAS[key]."""
    return os.path.join(SOURCE_DIR, SCHEMAS[key])


def generated_path(key):
    """Runs netfw-gen --lang python for SCHEMAS[key] (once); the file path."""
    base = os.path.splitext(os.path.basename(SCHEMAS[key]))[0]
    out_dir = os.path.join(_GEN_DIR, key)
    path = os.path.join(out_dir, base + "_netfw.py")
    if not os.path.exists(path):
        os.makedirs(out_dir, exist_ok=True)
        run = subprocess.run([_env("NETFW_GEN"), "--lang", "python", "-o",
                              out_dir, schema_path(key)],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, (
            f"netfw-gen --lang python {SCHEMAS[key]} exited "
            f"{run.returncode}:\n{run.stderr}")
        assert os.path.exists(path), f"netfw-gen wrote no {path}"
    return path


def import_path(name, path):
    """Imports the file at path as module name (registered in sys.modules,
    which dataclasses need)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def gen_module(key):
    """The generated module of SCHEMAS[key], imported once per session."""
    if key not in _modules:
        _modules[key] = import_path(f"netfw_test_{key}",
                                    generated_path(key))
    return _modules[key]


def c_fixtures(key):
    """[(type name, "ok"|"err", bytes or error name)] from py_fixtures."""
    run = subprocess.run([_env("NETFW_PY_FIXTURES"), key],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = []
    for line in run.stdout.splitlines():
        name, verdict, *rest = line.split(" ", 2)
        data = rest[0] if rest else ""
        rows.append((name, verdict,
                     bytes.fromhex(data) if verdict == "ok" else data))
    return rows


class CDecoder:
    """A py_decode process for one schema: verdict(data) sends one record
    (data[0] selects the type, the rest is the payload) and returns
    ("ok", re-encoded bytes) or ("err", "NETFW_EPROTO") etc."""

    def __init__(self, key):
        self.proc = subprocess.Popen([_env("NETFW_PY_DECODE"), key],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        self.buf = b""
        self.types = subprocess.run(
            [_env("NETFW_PY_DECODE"), key, "--types"], capture_output=True,
            text=True, timeout=WAIT, check=True).stdout.split()

    def type_of(self, data):
        """The type name data's first byte selects (as the fuzz harness)."""
        return self.types[data[0] % len(self.types)]

    def _line(self):
        deadline = time.monotonic() + WAIT
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            assert ready, "py_decode did not answer within 10 s"
            chunk = os.read(fd, 1 << 20)
            assert chunk, f"py_decode exited ({self.proc.poll()})"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def verdict(self, data):
        self.proc.stdin.write(struct.pack("<I", len(data)) + data)
        self.proc.stdin.flush()
        kind, _, rest = self._line().partition(" ")
        assert kind in ("ok", "err"), f"py_decode: {kind} {rest}"
        return (kind, bytes.fromhex(rest)) if kind == "ok" else (kind, rest)

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=WAIT) == 0


_decoders = {}


def c_decoder(key):
    """The session's CDecoder for SCHEMAS[key]."""
    if key not in _decoders:
        _decoders[key] = CDecoder(key)
    return _decoders[key]


def pytest_sessionfinish(session, exitstatus):
    """Ends the py_decode processes (each must exit 0) and removes the
    generated modules."""
    try:
        for dec in _decoders.values():
            dec.close()
    finally:
        shutil.rmtree(_GEN_DIR, ignore_errors=True)


def binary(name):
    """build/bin/<name>; the test fails when it was not built."""
    path = os.path.join(_env("NETFW_BIN"), name)
    assert os.access(path, os.X_OK), f"{path} not built"
    return path


class Server:
    """A server process started with argv (its --port 0), running until
    stop(): port is what it printed as "listening on ADDR:PORT"."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=self.err, env=env,
                                     stdin=subprocess.DEVNULL)
        self.port = self._await_listening()

    def _await_listening(self):
        deadline = time.monotonic() + WAIT
        fd, buf = self.proc.stdout.fileno(), b""
        while True:
            for line in buf.split(b"\n")[:-1]:
                if line.startswith(b"listening on "):
                    return int(line.rsplit(b":", 1)[1])
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                self.kill()
                pytest.fail(f"{self.argv[0]} did not print 'listening on' "
                            f"within {WAIT} s: {self.stderr()}")
            chunk = os.read(fd, 4096)
            if not chunk:
                self.kill()
                pytest.fail(f"{self.argv[0]} exited before listening: "
                            f"{self.stderr()}")
            buf += chunk

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)

    def stop(self):
        """SIGTERM; returns the exit status (killed after 10 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.argv[0]} ignored SIGTERM for {WAIT} s")


@pytest.fixture
def server_factory():
    """Starts Servers; every one still running at the end is killed."""
    started = []

    def start(argv, env=None):
        srv = Server(argv, env)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.kill()
