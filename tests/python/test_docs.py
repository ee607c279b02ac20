"""docs/python.md's greeter, from the page itself: every code block marked
<!-- file: NAME --> is written out and run against the C greeter of the
README's tutorial (examples/tutorial) and against each other."""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys

import pytest

import netframe_standin as nf
from conftest import SOURCE_DIR, WAIT, binary, generated_path, import_path


def doc_files():
    with open(os.path.join(SOURCE_DIR, "docs", "python.md")) as f:
        text = f.read()
    return dict(re.findall(r"<!-- file: (\S+) -->\n```python\n(.*?)```",
                           text, re.S))


@pytest.fixture
def docdir(tmp_path):
    files = doc_files()
    assert sorted(files) == ["greeter_app.py", "greeter_client.py",
                             "greeter_server.py"]
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    shutil.copy(generated_path("greeter"), tmp_path / "greeter_netfw.py")
    return tmp_path


def env_for(folder):
    return dict(os.environ, PYTHONPATH=str(folder))


def py_client(docdir, port, *names):
    run = subprocess.run([sys.executable, str(docdir / "greeter_client.py"),
                          str(port), *names], capture_output=True, text=True,
                         timeout=30, env=env_for(docdir))
    return run.returncode, run.stdout, run.stderr


def c_client(port, *names):
    run = subprocess.run([binary("greeter_client"), str(port), *names],
                         capture_output=True, text=True, timeout=30)
    return run.returncode, run.stdout, run.stderr


@pytest.fixture
def py_server(server_factory, docdir):
    srv = server_factory([sys.executable, str(docdir / "greeter_server.py")],
                         env=env_for(docdir))
    yield srv
    srv.kill()


def test_python_client_against_c_server(server_factory, docdir):
    srv = server_factory([binary("greeter_server")])
    assert py_client(docdir, srv.port, "Ada", "Bob", "Ada")[:2] == (
        0, "Hello, Ada! (visitor 1)\n"
           "Hello, Bob! (visitor 2; before you: Ada)\n"
           "Welcome back, Ada! (visitor 3, again; before you: Bob, Ada)\n")
    rc, out, _ = py_client(docdir, srv.port, "Grace ✓")
    assert rc == 0 and out in (  # 2 workers: the fresh one or Ada's
        "Hello, Grace ✓! (visitor 1)\n",
        "Hello, Grace ✓! (visitor 4; before you: Ada, Bob, Ada)\n")
    assert srv.stop() == 0, srv.stderr()


def test_c_client_against_python_server(py_server):
    assert c_client(py_server.port, "Ada")[:2] == (
        0, "Hello, Ada! (visitor 1)\n")
    assert c_client(py_server.port, "Linus", "Ada")[:2] == (
        0, "Hello, Linus! (visitor 2; before you: Ada)\n"
           "Welcome back, Ada! (visitor 3, again; before you: Linus, Ada)\n")


def test_python_client_against_python_server(py_server, docdir):
    assert py_client(docdir, py_server.port, "Ada")[:2] == (
        0, "Hello, Ada! (visitor 1)\n")


def test_python_server_closes_on_unexpected_frames(py_server):
    for frame in (struct.pack("<HI", 2, 0),            # a Greeting
                  struct.pack("<HI", 1, 3) + b"\x05ab",  # a malformed Hello
                  struct.pack("<HI", 1, 0x7fffffff)):    # too large
        with socket.create_connection(("127.0.0.1", py_server.port),
                                      timeout=WAIT) as s:
            s.sendall(frame)
            assert s.recv(100) == b""


def test_netframe_app_with_the_standin(docdir):
    nf.install()
    sys.path.insert(0, str(docdir))
    try:
        import_path("greeter_netfw", str(docdir / "greeter_netfw.py"))
        app_mod = import_path("greeter_app", str(docdir / "greeter_app.py"))
    finally:
        sys.path.remove(str(docdir))
    app, conn = app_mod.App({}), nf.RecordingConnection()
    assert app.on_client_connect(conn) is True
    for name in ("Ada", "Bob"):
        app.on_message(nf.OwnedMessage(
            nf.message_of(1, bytes([len(name)]) + name.encode()), conn))
    greeting = [(m.hdr.id, bytes(m.payload)) for m in conn.sent]
    assert greeting == [
        (2, b"\x0b\x00Hello, Ada!\x01\x00\x00\x00\x00\x00"),
        (2, b"\x0b\x00Hello, Bob!\x02\x00\x00\x00\x00"
            b"\x01\x03Ada\x01\x00\x00\x00")]
    app.on_message(nf.OwnedMessage(nf.message_of(9, b""), conn))
    assert conn.shut
