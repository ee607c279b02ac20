"""The generated module's netframe helpers, duck-typed, against the
stand-in for netframe's documented API (netframe_standin.py): to_netframe,
from_netframe, ServerHandlers.dispatch with its default hooks (log at
WARNING on "netfw.<protocol>", conn.shutdown()), send_<Message>,
ClientHandlers.dispatch and client_send_<Message>."""
import logging
import sys

import pytest

import netframe_standin as nf
from conftest import gen_module


@pytest.fixture(scope="module")
def fs():
    nf.install()
    return gen_module("fs")


def test_module_does_not_import_netframe(fs):
    """The module was imported; netframe is only the stand-in we put."""
    assert sys.modules["netframe"] is nf


def test_to_netframe_sets_id_and_appends(fs):
    msg = nf.Message()
    add = fs.Add(filename="a.txt", file=b"\1\2\3")
    assert add.to_netframe(msg) is msg
    assert (msg.hdr.id, msg.hdr.size) == (1, 13)
    assert bytes(msg.payload) == add.encode()
    assert msg.pop(1) == b"\x05"


def test_from_netframe_decodes_by_id(fs):
    msg = nf.message_of(7, b"\x03")
    assert fs.from_netframe(msg) == fs.Ack(rc=fs.Rc.FILE_NOT_FOUND)
    unknown = fs.from_netframe(nf.message_of(99, b"xy"))
    assert unknown == fs.UnknownMessage(id=99, payload=b"xy")
    with pytest.raises(fs.DecodeError):
        fs.from_netframe(nf.message_of(1, b"\x05a.t"))


def test_from_netframe_reads_only_hdr_size_bytes(fs):
    msg = nf.message_of(3, b"\x01y")
    msg.payload += b"\x99\x99"  # beyond hdr.size: not the message's
    assert fs.from_netframe(msg) == fs.Get(filename="y")


def make_handlers(fs):
    """ServerHandlers of a file store in a dict (Add and List only)."""
    class Handlers(fs.ServerHandlers):
        def __init__(self):
            self.files, self.calls = {}, []

        def on_Add(self, conn, msg):
            self.calls.append(("Add", msg))
            rc = fs.Rc.FILE_EXISTS if msg.filename in self.files else fs.Rc.OK
            self.files.setdefault(msg.filename, bytes(msg.file))
            fs.send_Ack(conn, fs.Ack(rc=rc))

        def on_List(self, conn, msg):
            self.calls.append(("List", msg))
            fs.send_ListResp(conn, fs.ListResp(files=[
                fs.FileEntry(name=n, size=len(d))
                for n, d in sorted(self.files.items())]))

    return Handlers()


def test_server_dispatch_calls_the_handler(fs):
    h, conn = make_handlers(fs), nf.RecordingConnection()
    add = fs.Add(filename="n", file=b"data")
    h.dispatch(nf.OwnedMessage(add.to_netframe(nf.Message()), conn))
    h.dispatch(nf.OwnedMessage(nf.message_of(5, b""), conn))
    assert h.calls == [("Add", add), ("List", fs.List())]
    assert [(m.hdr.id, bytes(m.payload)) for m in conn.sent] == [
        (7, b"\x01"), (6, fs.ListResp(files=[
            fs.FileEntry(name="n", size=4)]).encode())]
    assert [m.hdr.size for m in conn.sent] == [1, 8]
    assert not conn.shut


def test_server_unknown_and_malformed_log_and_shut_down(fs, caplog):
    h = make_handlers(fs)
    cases = [nf.message_of(99, b""),      # not in the schema
             nf.message_of(7, b"\x01"),   # Ack: the server does not receive it
             nf.message_of(3, b""),       # Get without its filename
             nf.message_of(1, b"\x02a")]  # malformed Add
    for msg in cases:
        conn = nf.RecordingConnection()
        with caplog.at_level(logging.WARNING, logger="netfw.file_storage"):
            caplog.clear()
            h.dispatch(nf.OwnedMessage(msg, conn))
        assert conn.shut, msg
        assert conn.sent == []
        assert [r.name for r in caplog.records] == ["netfw.file_storage"]
        assert caplog.records[0].levelno == logging.WARNING
    assert h.calls == []


def test_server_hooks_are_overridable(fs):
    seen = []

    class Handlers(fs.ServerHandlers):
        def on_unknown(self, conn, msg):
            # a netframe Message (unknown id) or, from the default
            # on_<Message>, the decoded message
            seen.append(("unknown", msg.hdr.id if hasattr(msg, "hdr")
                         else msg.ID))

        def on_malformed(self, conn, msg, err):
            seen.append(("malformed", msg.hdr.id, type(err)))

    conn = nf.RecordingConnection()
    Handlers().dispatch(nf.OwnedMessage(nf.message_of(42, b""), conn))
    Handlers().dispatch(nf.OwnedMessage(nf.message_of(2, b"\x09"), conn))
    Handlers().dispatch(nf.OwnedMessage(nf.message_of(5, b""), conn))
    assert seen == [("unknown", 42), ("malformed", 2, fs.DecodeError),
                    ("unknown", 5)]
    assert not conn.shut


def test_client_side(fs, caplog):
    got = []

    class Handlers(fs.ClientHandlers):
        def on_Ack(self, msg):
            got.append(msg)

    client = nf.RecordingClient()
    fs.client_send_Get(client, fs.Get(filename="f"))
    assert [(m.hdr.id, m.hdr.size, bytes(m.payload))
            for m in client.sent] == [(3, 2, b"\x01f")]
    client.feed(fs.Ack(rc=fs.Rc.OK).to_netframe(nf.Message()))
    Handlers().dispatch(client.recv(timeout=1))
    assert got == [fs.Ack(rc=fs.Rc.OK)]
    with caplog.at_level(logging.WARNING, logger="netfw.file_storage"):
        Handlers().dispatch(nf.message_of(99, b""))
        Handlers().dispatch(nf.message_of(7, b"\x09"))
    assert len(caplog.records) == 2 and got == [fs.Ack(rc=fs.Rc.OK)]


def test_send_helpers_follow_direction(fs):
    for name in ("send_Ack", "send_ListResp", "send_GetResp",
                 "client_send_Add", "client_send_Del", "client_send_Get",
                 "client_send_List"):
        assert callable(getattr(fs, name)), name
    for name in ("send_Add", "client_send_Ack", "ServerHandlers.on_Ack",
                 "ClientHandlers.on_Add"):
        owner, _, attr = name.rpartition(".")
        where = getattr(fs, owner) if owner else fs
        assert not hasattr(where, attr), name
