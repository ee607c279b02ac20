"""The generated module's API (the contract of issue 19) on
protocols/file_storage.netproto and chat.netproto: constants, classes and
defaults, frame(), decode_message and UnknownMessage, read_frames, the
errors encode raises, the Python name rule, and Python 3.9."""
import ast
import dataclasses
import enum
import os
import struct
import subprocess
import typing

import pytest

from conftest import _env, gen_module, generated_path, schema_path


@pytest.fixture(scope="module")
def fs():
    return gen_module("fs")


@pytest.fixture(scope="module")
def chat():
    return gen_module("chat")


def test_constants(fs):
    assert fs.PROTOCOL == "file_storage" and fs.VERSION == 1
    assert fs.MAX_PAYLOAD == 16 * 1024 * 1024
    assert issubclass(fs.DecodeError, ValueError)
    assert issubclass(fs.Rc, enum.IntEnum)
    assert [(c.name, c.value) for c in fs.Rc] == [
        ("NONE", 0), ("OK", 1), ("FILE_EXISTS", 2), ("FILE_NOT_FOUND", 3)]


def test_messages_table(fs):
    assert {i: c.__name__ for i, c in fs.MESSAGES.items()} == {
        1: "Add", 2: "Del", 3: "Get", 4: "GetResp", 5: "List",
        6: "ListResp", 7: "Ack"}
    for mid, cls in fs.MESSAGES.items():
        assert (cls.ID, cls.NAME) == (mid, cls.__name__)
    assert not hasattr(fs.FileEntry, "ID")


def test_dataclasses_in_schema_order_with_hints(fs):
    fields = [(f.name, f.type) for f in dataclasses.fields(fs.Add)]
    assert [n for n, _ in fields] == ["filename", "file"]
    hints = typing.get_type_hints(fs.ListResp)
    assert hints["files"] in (typing.List[fs.FileEntry], list[fs.FileEntry])
    assert typing.get_type_hints(gen_module("fz").Optionals)["n"] == \
        typing.Optional[int]
    assert fs.ListResp().files == [] and fs.ListResp().files is not \
        fs.ListResp().files
    assert fs.Add() == fs.Add(filename="", file=b"")
    assert fs.Ack().rc is fs.Rc.NONE


def test_frame(fs):
    add = fs.Add(filename="a", file=b"z")
    assert add.frame() == struct.pack("<HI", 1, 7) + b"\x01a\x01\x00\x00\x00z"
    assert fs.List().frame() == b"\x05\x00\x00\x00\x00\x00"


def test_decode_message(fs):
    assert fs.decode_message(7, b"\x02") == fs.Ack(rc=fs.Rc.FILE_EXISTS)
    assert fs.decode_message(5, b"") == fs.List()
    assert fs.decode_message(5, b"trailing") == fs.List()
    unknown = fs.decode_message(300, b"\x00\x01")
    assert unknown == fs.UnknownMessage(id=300, payload=b"\x00\x01")
    with pytest.raises(fs.DecodeError):
        fs.decode_message(7, b"\x04")  # not an Rc
    with pytest.raises(fs.DecodeError):
        fs.decode_message(7, b"")


def test_decoded_types(fs):
    got = fs.GetResp.decode(b"\x02\xc3\xa9\x02\x00\x00\x00ab")
    assert got.filename == "é" and type(got.filename) is str
    assert bytes(got.file) == b"ab"
    assert type(fs.Ack.decode(b"\x01").rc) is fs.Rc


def test_struct_decode_ignores_what_follows(fs):
    assert fs.FileEntry.decode(b"\x01a\x05\x00\x00\x00rest") == \
        fs.FileEntry(name="a", size=5)


@pytest.mark.parametrize("payload", [
    b"", b"\x05a.tx", b"\x01a\x03\x00\x00", b"\x01a\x03\x00\x00\x00\x01\x02",
    b"\x02\xc3\x28\x00\x00\x00\x00",          # invalid UTF-8
    b"\x03\xed\xa0\x80\x00\x00\x00\x00",      # a surrogate
    b"\x02\xc0\xaf\x00\x00\x00\x00",          # overlong '/'
    b"\x04\xf4\x90\x80\x80\x00\x00\x00\x00",  # above U+10FFFF
])
def test_decode_errors(fs, payload):
    with pytest.raises(fs.DecodeError):
        fs.Add.decode(payload)


def test_read_frames(fs):
    a, b = fs.Ack(rc=fs.Rc.OK).frame(), fs.Get(filename="x").frame()
    buf = bytearray(a + b + b[:3])
    assert fs.read_frames(buf) == [(7, b"\x01"), (3, b"\x01x")]
    assert buf == bytearray(b[:3])
    buf += b[3:]
    assert fs.read_frames(buf) == [(3, b"\x01x")] and buf == bytearray()
    assert fs.read_frames(bytearray(b"\x01\x00\x05")) == []
    at_limit = bytearray(struct.pack("<HI", 1, 10) + bytes(10))
    assert fs.read_frames(at_limit, max_payload=10) == [(1, bytes(10))]
    with pytest.raises(fs.DecodeError):
        fs.read_frames(bytearray(struct.pack("<HI", 1, 11)), max_payload=10)
    with pytest.raises(fs.DecodeError):
        fs.read_frames(bytearray(struct.pack("<HI", 1, 16 * 1024 * 1024 + 1)))


@pytest.mark.parametrize("make,field", [
    (lambda m: m.Add(filename="x" * 256), "filename"),
    (lambda m: m.Add(filename="é" * 128), "filename"),
    (lambda m: m.FileEntry(name="a", size=2**32), "size"),
    (lambda m: m.FileEntry(name="a", size=-1), "size"),
    (lambda m: m.Ack(rc=9), "rc"),
    (lambda m: m.Add(filename=b"bytes"), "filename"),
    (lambda m: m.Add(file="text"), "file"),
    (lambda m: m.FileEntry(name="a", size="1"), "size"),
    (lambda m: m.ListResp(files=[m.FileEntry()] * 65536), "files"),
    (lambda m: m.Add(filename="\ud800"), "filename"),
])
def test_encode_errors_name_the_field(fs, make, field):
    with pytest.raises(ValueError) as err:
        make(fs).encode()
    assert field in str(err.value)
    assert not isinstance(err.value, fs.DecodeError)


def test_fixed_array_length_checked():
    fz = gen_module("fz")
    for bad in ([1, 2, 3], [1, 2, 3, 4, 5]):
        with pytest.raises(ValueError) as err:
            fz.Arrays(raw=bad).encode()
        assert "raw" in str(err.value)
    assert len(fz.Arrays().raw) == 4 and len(fz.Arrays().pts) == 3
    assert fz.Arrays().pts[0] == fz.Point()


def test_keyword_field_spelled_with_underscore(chat):
    line = chat.Line(from_="bob", text="hi")
    assert [f.name for f in dataclasses.fields(chat.Line)] == ["from_", "text"]
    assert line.encode() == b"\x03bob\x02\x00hi"
    assert chat.Line.decode(b"\x03bob\x02\x00hi").from_ == "bob"


def test_enum_without_zero_defaults_to_first_constant(chat):
    assert chat.Refused().reason is chat.Refusal.NICK_TAKEN


def test_generation_is_deterministic(tmp_path):
    first = open(generated_path("fs")).read()
    subprocess.run([_env("NETFW_GEN"), "--lang", "python", "-o",
                    str(tmp_path), schema_path("fs")], check=True, timeout=60)
    assert (tmp_path / "file_storage_netfw.py").read_text() == first


STDLIB = {"__future__", "struct", "enum", "dataclasses", "typing", "asyncio",
          "logging"}


@pytest.mark.parametrize("key", ["fs", "chat", "fz", "atb", "pyev2"])
def test_standard_library_only_netframe_lazily(key):
    """Top-level imports are the standard library's; netframe is imported
    only inside functions."""
    tree = ast.parse(open(generated_path(key)).read())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            top.add(node.module.split(".")[0])
    assert top <= STDLIB, top - STDLIB
    lazy = [n for n in ast.walk(tree) if isinstance(n, (ast.Import,
            ast.ImportFrom)) and "netframe" in ast.dump(n)]
    assert key != "fs" or lazy, "send helpers import netframe lazily"


def test_python39_imports_and_round_trips():
    py39 = os.environ.get("NETFW_PYTHON39")
    if not py39:
        pytest.skip("no python3.9 found at configure time")
    script = (
        "import importlib.util, sys\n"
        "for i, p in enumerate(sys.argv[1:]):\n"
        "    s = importlib.util.spec_from_file_location(f'm{i}', p)\n"
        "    m = importlib.util.module_from_spec(s); sys.modules[f'm{i}'] = m\n"
        "    s.loader.exec_module(m)\n"
        "    assert sys.version_info[:2] == (3, 9)\n"
        "fs = sys.modules['m0']\n"
        "v = fs.ListResp(files=[fs.FileEntry(name='a', size=3)])\n"
        "assert fs.ListResp.decode(v.encode()) == v\n"
        "print('ok')\n")
    run = subprocess.run([py39, "-c", script] + [
        generated_path(k) for k in ("fs", "chat", "fz", "pyev2")],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr


NAMES = """protocol names;
enum Flag : u8 { None = 0; True = 1; lambda = 2; }
struct class { u8 from; bool async; }
message Msg = 1 { class decode; Flag encode; u8 ID; u8 frame; u16 import; }
message await = 2 { u8 x; }
"""


def test_name_rule_keywords_and_members(tmp_path):
    """Keywords and generated members take a trailing underscore; the wire
    and the schema's names (NAME) do not change."""
    (tmp_path / "names.netproto").write_text(NAMES)
    subprocess.run([_env("NETFW_GEN"), "--lang", "python", "-o",
                    str(tmp_path), str(tmp_path / "names.netproto")],
                   check=True, timeout=60)
    from conftest import import_path
    m = import_path("netfw_test_names", str(tmp_path / "names_netfw.py"))
    assert [c.name for c in m.Flag] == ["None_", "True_", "lambda_"]
    assert [f.name for f in dataclasses.fields(m.class_)] == ["from_",
                                                              "async_"]
    assert [f.name for f in dataclasses.fields(m.Msg)] == [
        "decode_", "encode_", "ID_", "frame_", "import_"]
    assert (m.await_.ID, m.await_.NAME) == (2, "await")
    msg = m.Msg(decode_=m.class_(from_=7, async_=True), encode_=m.Flag.True_,
                ID_=3, frame_=4, import_=0x0102)
    assert msg.encode() == bytes([7, 1, 1, 3, 4, 2, 1])
    assert m.Msg.decode(msg.encode()) == msg
    assert m.decode_message(2, b"\x09") == m.await_(x=9)


def test_name_rule_clash_is_an_error(tmp_path):
    schema = tmp_path / "clash.netproto"
    schema.write_text("protocol clash;\nmessage M = 1 { u8 from; u8 from_; }\n")
    run = subprocess.run([_env("NETFW_GEN"), "--lang", "python", "-o",
                          str(tmp_path), str(schema)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 1
    assert "clash.netproto:2:" in run.stderr and "'from_'" in run.stderr
    assert "'from'" in run.stderr
    assert not (tmp_path / "clash_netfw.py").exists()


def test_element_fields_keep_apart_from_the_message_s():
    """Greeting.visitor and its repeated Visit's visitor share a name: the
    element codec inside the loop must not overwrite the message's local."""
    g = gen_module("greeter")
    m = g.Greeting(text="t", visitor=7, kind=g.Kind.AGAIN,
                   recent=[g.Visit("a", 1), g.Visit("b", 2)])
    assert m.encode() == (b"\x01\x00t\x07\x00\x00\x00\x01\x02"
                          b"\x01a\x01\x00\x00\x00\x01b\x02\x00\x00\x00")
    assert g.Greeting.decode(m.encode()) == m
