"""End to end: generated asyncio clients (open_connection) in a room of the
real C chat_server (2 workers, port 0), with the C chat_client as a third
member: joins, lines both ways (the schema's `from` field is `from_`),
refusals, leaving. Every wait is bounded."""
import asyncio

import pytest

from conftest import WAIT, binary, gen_module

QUIET = 0.3  # seconds of silence that count as "nothing more arrives"


@pytest.fixture
def chat():
    return gen_module("chat")


@pytest.fixture
def server(server_factory):
    srv = server_factory([binary("chat_server"), "--ip", "127.0.0.1",
                          "--port", "0", "--workers", "2"])
    yield srv
    assert srv.stop() == 0, srv.stderr()


async def member(chat, port, nick):
    """A connection that joined as nick; returns (conn, Joined)."""
    conn = await asyncio.wait_for(chat.open_connection("127.0.0.1", port), WAIT)
    conn.send(chat.Join(nick=nick))
    await conn.drain()
    return conn, await conn.recv(timeout=WAIT)


async def say(conn, chat, text):
    conn.send(chat.Say(text=text))
    await conn.drain()


async def nothing_more(conn):
    with pytest.raises(asyncio.TimeoutError):
        await conn.recv(timeout=QUIET)


async def c_line(proc):
    """The C client's next output line (bounded)."""
    line = await asyncio.wait_for(proc.stdout.readline(), WAIT)
    assert line, "chat_client closed its output"
    return line.decode().rstrip("\n")


async def c_member_joins(chat, port, alice, bob):
    carol = await asyncio.create_subprocess_exec(
        binary("chat_client"), "--ip", "127.0.0.1", "--port", str(port),
        "--nick", "carol", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    try:
        first = await c_line(carol)
        assert first.startswith("* in the room: ")
        assert sorted(first.split()[4:]) == ["alice", "bob"]
        for conn in (alice, bob):
            assert await conn.recv(timeout=WAIT) == \
                chat.MemberJoined(nick="carol")
        carol.stdin.write("hello from C ✓\n".encode())
        await carol.stdin.drain()
        for conn in (alice, bob):
            assert await conn.recv(timeout=WAIT) == \
                chat.Line(from_="carol", text="hello from C ✓")
        await say(alice, chat, "to carol")
        assert await c_line(carol) == "<alice> to carol"
        assert await bob.recv(timeout=WAIT) == \
            chat.Line(from_="alice", text="to carol")
        carol.stdin.close()  # end of input: carol leaves
        assert await asyncio.wait_for(carol.wait(), WAIT) == 0
        for conn in (alice, bob):
            assert await conn.recv(timeout=WAIT) == \
                chat.MemberLeft(nick="carol")
    finally:
        if carol.returncode is None:
            carol.kill()
            await carol.wait()


async def refusals(chat, port, bob):
    for nick, why in (("alice", chat.Refusal.NICK_TAKEN),
                      ("a b", chat.Refusal.NICK_INVALID)):
        conn, reply = await member(chat, port, nick)
        assert reply == chat.Refused(reason=why)
        conn.close()
        await asyncio.wait_for(conn.wait_closed(), WAIT)
    bob.send(chat.Join(nick="bob2"))
    await bob.drain()
    assert await bob.recv(timeout=WAIT) == \
        chat.Refused(reason=chat.Refusal.ALREADY_JOINED)


async def room(chat, port):
    alice, joined = await member(chat, port, "alice")
    assert joined == chat.Joined(members=[])
    bob, joined = await member(chat, port, "bob")
    try:
        assert joined == chat.Joined(members=["alice"])
        assert await alice.recv(timeout=WAIT) == chat.MemberJoined(nick="bob")
        await say(bob, chat, "hi ✓")
        assert await alice.recv(timeout=WAIT) == \
            chat.Line(from_="bob", text="hi ✓")
        await nothing_more(bob)
        await c_member_joins(chat, port, alice, bob)
        await refusals(chat, port, bob)
        alice.send(chat.Leave())
        await alice.drain()
        with pytest.raises(ConnectionResetError):
            await alice.recv(timeout=WAIT)
        assert await bob.recv(timeout=WAIT) == chat.MemberLeft(nick="alice")
        await nothing_more(bob)
    finally:
        for conn in (alice, bob):
            conn.close()
            await asyncio.wait_for(conn.wait_closed(), WAIT)


def test_chat_room_with_c_server_and_c_client(chat, server):
    asyncio.run(asyncio.wait_for(room(chat, server.port), 90))
