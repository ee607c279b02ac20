"""End to end: the pure-Python file_storage server (py_fs_server.py: the
generated module's ServerHandlers and send helpers over the netframe
stand-in) serves the real C file_storage_client: the session of `make
demo`, byte for byte; a frame with an id the server does not receive is
logged and closes the connection."""
import os
import socket
import struct
import subprocess
import sys

import pytest

from conftest import HERE, WAIT, binary, generated_path


@pytest.fixture
def server(server_factory):
    env = dict(os.environ, PYTHONPATH=HERE)
    srv = server_factory([sys.executable, os.path.join(HERE, "py_fs_server.py"),
                          generated_path("fs")], env=env)
    yield srv
    assert srv.stop() == 0, srv.stderr()


def client(port, *args):
    """Runs the C client; (exit status, stdout, stderr)."""
    run = subprocess.run([binary("file_storage_client"), "--ip", "127.0.0.1",
                          "--port", str(port), *args], capture_output=True,
                         timeout=30)
    return run.returncode, run.stdout.decode(), run.stderr.decode()


def test_c_client_demo_session(server, tmp_path):
    files = {"hello.txt": b"hello from netfw\n",
             "random.bin": os.urandom(4096),
             "numbers.txt": "".join(f"{i}\n" for i in range(1, 2001)).encode()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        assert client(server.port, "put", name, str(tmp_path / name))[:2] == (
            0, f"stored {name} ({len(data)} bytes)\n")
    rc, out, _ = client(server.port, "ls")
    assert rc == 0
    assert out == "".join(f"{len(files[n]):10d}  {n}\n"
                          for n in sorted(files)) + "3 files\n"
    copy = tmp_path / "random.copy"
    assert client(server.port, "get", "random.bin", str(copy))[:2] == (
        0, f"got random.bin (4096 bytes) into {copy}\n")
    assert copy.read_bytes() == files["random.bin"]
    assert client(server.port, "del", "numbers.txt")[:2] == (
        0, "deleted numbers.txt\n")
    rc, out, _ = client(server.port, "ls")
    assert (rc, out) == (0, "        17  hello.txt\n"
                            "      4096  random.bin\n" "2 files\n")
    rc, _, err = client(server.port, "get", "numbers.txt", str(copy))
    assert rc == 1 and "FILE_NOT_FOUND" in err
    rc, _, err = client(server.port, "put", "hello.txt",
                        str(tmp_path / "hello.txt"))
    assert rc == 1 and "FILE_EXISTS" in err


def test_unknown_id_closes_the_connection(server):
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=WAIT) as s:
        s.sendall(struct.pack("<HI", 7, 1) + b"\x01")  # Ack: client-bound
        assert s.recv(100) == b""  # closed, nothing sent
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=WAIT) as s:
        s.sendall(struct.pack("<HI", 1, 2) + b"\x05a")  # malformed Add
        assert s.recv(100) == b""
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=WAIT) as s:
        s.sendall(struct.pack("<HI", 5, 0))  # still serving others
        mid, size = struct.unpack("<HI", s.recv(6, socket.MSG_WAITALL))
        assert (mid, size) == (6, 2)
    assert server.stop() == 0
    assert "netfw.file_storage" in server.stderr()
