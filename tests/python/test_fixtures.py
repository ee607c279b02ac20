"""Byte fixtures: the generated Python module writes exactly the bytes the C
encoders write for the same values (samples.py against py_fixtures), each
side decodes the other's bytes back to the same value, and the fixtures of
docs/netproto.md hold in Python."""
import os
import re
import struct

import pytest

import samples
from conftest import SOURCE_DIR, c_decoder, c_fixtures, gen_module

KEYS = ["fz", "fs", "chat", "atb", "pyev1", "pyev2"]


def pairs(key):
    """[(name, Python value, C bytes)], the two lists checked to agree."""
    py = samples.SAMPLES[key](gen_module(key))
    c = c_fixtures(key)
    assert [n for n, _ in py] == [n for n, _, _ in c], "sample lists differ"
    bad = [(n, v, d) for n, v, d in c if v != "ok"]
    assert not bad, f"the C encoder refused samples: {bad}"
    return [(n, v, d) for (n, v), (_, _, d) in zip(py, c)]


@pytest.mark.parametrize("key", KEYS)
def test_python_encodes_the_c_bytes(key):
    wrong = [f"{n} #{i}: {v!r}\n  python {v.encode().hex()}\n  c      {d.hex()}"
             for i, (n, v, d) in enumerate(pairs(key)) if v.encode() != d]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("key", KEYS)
def test_python_decodes_the_c_bytes(key):
    wrong = []
    for i, (name, value, data) in enumerate(pairs(key)):
        got = type(value).decode(data)
        assert type(got) is type(value)
        if got != value:
            wrong.append(f"{name} #{i}: {got!r} != {value!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("key", KEYS)
def test_c_decodes_the_python_bytes(key):
    dec = c_decoder(key)
    wrong = []
    for i, (name, value, _) in enumerate(pairs(key)):
        data = value.encode()
        verdict = dec.verdict(bytes([dec.types.index(name)]) + data)
        if verdict != ("ok", data):
            wrong.append(f"{name} #{i}: {verdict}")
    assert not wrong, "\n".join(wrong)


def test_every_type_has_a_sample():
    for key in KEYS:
        names = {n for n, _ in samples.SAMPLES[key](gen_module(key))}
        assert names == set(c_decoder(key).types), key


def docs_fixtures():
    """The 'Whole messages' fixtures of docs/netproto.md: {text: hex}."""
    with open(os.path.join(SOURCE_DIR, "docs", "netproto.md")) as f:
        text = f.read()
    block = text.split("Whole messages of protocols/file_storage.netproto")[1]
    block = block.split("```")[1]
    found, key = {}, None
    for line in block.splitlines():
        m = re.match(r"^(\S.*\})(?:\s{2,}(.*))?$", line)
        if m:
            key, found[m.group(1)] = m.group(1), m.group(2) or ""
        elif key and line.strip():
            found[key] += " " + line.strip()
    return {k: v.replace("(empty payload)", "").replace(" ", "")
            for k, v in found.items()}


def test_docs_netproto_fixtures():
    m = gen_module("fs")
    docs = docs_fixtures()
    assert docs == {
        'Add{filename="a.txt", file=01 02 03}': "05612e747874" "03000000" "010203",
        'ListResp{files=[{"a.txt",3},{"bb",258}]}':
            "0200" "05612e747874" "03000000" "026262" "02010000",
        "Ack{rc=OK}": "01",
        "List{}": "",
    }
    values = [m.Add(filename="a.txt", file=b"\1\2\3"),
              m.ListResp(files=[m.FileEntry(name="a.txt", size=3),
                                m.FileEntry(name="bb", size=258)]),
              m.Ack(rc=m.Rc.OK), m.List()]
    for value, hexed in zip(values, docs.values()):
        assert value.encode().hex() == hexed
        assert value.frame() == struct.pack("<HI", value.ID, len(hexed) // 2) \
            + bytes.fromhex(hexed)
    assert m.FileEntry(name="bb", size=258).encode() == bytes.fromhex(
        "02 62 62 02 01 00 00")


def test_docs_type_table():
    """docs/netproto.md section 4's examples, through all_types.netproto."""
    m = gen_module("fz")
    ints = m.Ints(a=200, b=0x0102, c=258, d=1, e=-1, f=-2, g=-2**31, h=-4)
    assert ints.encode()[:30] == bytes.fromhex(
        "c8" "0201" "02010000" "0100000000000000" "ff" "feff" "00000080"
        "fcffffffffffffff")
    assert m.Floats(x=1.0, y=-2.0, z=True).encode() == bytes.fromhex(
        "0000803f" "00000000000000c0" "01")
    assert m.Strings(s8="a.txt").encode()[:6] == bytes.fromhex("05612e747874")
    assert m.Blobs(b32=b"\1\2\3").encode()[-7:] == bytes.fromhex(
        "03000000010203")
    assert m.Optionals().encode() == bytes(6)
    assert m.Repeats(bytes8=[7, 8]).encode()[:3] == bytes.fromhex("020708")
    be = gen_module("atb")
    assert be.Scalars(b=0x0102, i=1.0).encode()[1:3] == bytes.fromhex("0102")
    assert be.Scalars(i=1.0).encode()[30:34] == bytes.fromhex("3f800000")
