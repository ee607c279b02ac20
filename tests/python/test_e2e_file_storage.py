"""End to end: the generated asyncio client (open_connection) runs the
session of `make demo` (scripts/demo) against the real C
file_storage_server (4 workers, port 0): put three files, list, get one
back byte for byte, delete one, list again -- then the C
file_storage_client reads what Python stored, and the other way round.
Every wait is bounded."""
import asyncio
import os
import subprocess

import pytest

from conftest import WAIT, binary, gen_module

REPLY = 10.0  # seconds for each reply


@pytest.fixture
def fs():
    return gen_module("fs")


@pytest.fixture
def server(server_factory, tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    srv = server_factory([binary("file_storage_server"), "--dir", str(store),
                          "--ip", "127.0.0.1", "--port", "0",
                          "--workers", "4"])
    yield srv
    assert srv.stop() == 0, srv.stderr()


def demo_files():
    """The demo's three files: hello.txt, random.bin (4096 random bytes),
    numbers.txt (seq 1 2000)."""
    return {"hello.txt": b"hello from netfw\n",
            "random.bin": os.urandom(4096),
            "numbers.txt": "".join(f"{i}\n" for i in range(1, 2001)).encode()}


async def ask(conn, m):
    """Sends m and returns the reply (bounded)."""
    conn.send(m)
    await conn.drain()
    return await conn.recv(timeout=REPLY)


async def demo_session(fs, port, files):
    async with await asyncio.wait_for(
            fs.open_connection("127.0.0.1", port), WAIT) as conn:
        for name, data in files.items():
            assert await ask(conn, fs.Add(filename=name, file=data)) == \
                fs.Ack(rc=fs.Rc.OK)
        listed = await ask(conn, fs.List())
        assert type(listed) is fs.ListResp
        assert sorted((e.name, e.size) for e in listed.files) == sorted(
            (n, len(d)) for n, d in files.items())
        got = await ask(conn, fs.Get(filename="random.bin"))
        assert got == fs.GetResp(filename="random.bin",
                                 file=files["random.bin"])
        assert await ask(conn, fs.Del(filename="numbers.txt")) == \
            fs.Ack(rc=fs.Rc.OK)
        listed = await ask(conn, fs.List())
        assert sorted(e.name for e in listed.files) == ["hello.txt",
                                                        "random.bin"]
        # the refusals
        assert await ask(conn, fs.Add(filename="hello.txt", file=b"")) == \
            fs.Ack(rc=fs.Rc.FILE_EXISTS)
        assert await ask(conn, fs.Get(filename="numbers.txt")) == \
            fs.Ack(rc=fs.Rc.FILE_NOT_FOUND)
        assert await ask(conn, fs.Del(filename="nope")) == \
            fs.Ack(rc=fs.Rc.FILE_NOT_FOUND)
        # nothing more is coming
        with pytest.raises(asyncio.TimeoutError):
            await conn.recv(timeout=0.2)


def test_demo_session_against_c_server(fs, server):
    files = demo_files()
    asyncio.run(asyncio.wait_for(demo_session(fs, server.port, files), 60))


def c_client(port, *args):
    run = subprocess.run([binary("file_storage_client"), "--ip", "127.0.0.1",
                          "--port", str(port), *args], capture_output=True,
                         timeout=30)
    return run.returncode, run.stdout.decode(), run.stderr.decode()


async def put_get(fs, port, name, data):
    async with await asyncio.wait_for(
            fs.open_connection("127.0.0.1", port), WAIT) as conn:
        if data is not None:
            assert await ask(conn, fs.Add(filename=name, file=data)) == \
                fs.Ack(rc=fs.Rc.OK)
            return None
        return await ask(conn, fs.Get(filename=name))


def test_c_client_and_python_client_share_the_store(fs, server, tmp_path):
    data = os.urandom(70000)
    asyncio.run(asyncio.wait_for(put_get(fs, server.port, "py.bin", data), 30))
    out = tmp_path / "copy.bin"
    rc, stdout, _ = c_client(server.port, "get", "py.bin", str(out))
    assert rc == 0 and out.read_bytes() == data
    assert stdout == f"got py.bin (70000 bytes) into {out}\n"
    src = tmp_path / "c.txt"
    src.write_bytes("écrit en C\n".encode())
    assert c_client(server.port, "put", "c.txt", str(src))[:2] == (
        0, "stored c.txt (12 bytes)\n")
    got = asyncio.run(asyncio.wait_for(
        put_get(fs, server.port, "c.txt", None), 30))
    assert got == fs.GetResp(filename="c.txt", file=src.read_bytes())


async def big_and_closed(fs, port):
    conn = await asyncio.wait_for(fs.open_connection("127.0.0.1", port), WAIT)
    try:
        big = os.urandom(3 * 1024 * 1024)
        assert await ask(conn, fs.Add(filename="big", file=big)) == \
            fs.Ack(rc=fs.Rc.OK)
        got = await ask(conn, fs.Get(filename="big"))
        assert got.file == big
        # GetResp (id 4), which the server never receives: it closes
        conn.send(fs.GetResp(filename="x", file=b""))
        await conn.drain()
        with pytest.raises(ConnectionResetError):
            await conn.recv(timeout=REPLY)
    finally:
        conn.close()
        await asyncio.wait_for(conn.wait_closed(), WAIT)


def test_large_frames_and_peer_close(fs, server):
    asyncio.run(asyncio.wait_for(big_and_closed(fs, server.port), 60))
