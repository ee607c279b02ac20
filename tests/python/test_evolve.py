"""Schema evolution in Python (issue 18's rules): py_evolve_v1.netproto
(version 1) against py_evolve_v2.netproto (version 3). Python v1 reads C v2
bytes (trailing fields left, extensible structs skipped, open enums as
ints); C v2 reads Python v1 bytes (defaults filled, present_version 1) to
the same canonical form as Python v2; defaults, present_version, and the
version boundaries where a shorter payload may end."""
import pytest

import samples
from conftest import c_decoder, c_fixtures, gen_module


@pytest.fixture(scope="module")
def v1():
    return gen_module("pyev1")


@pytest.fixture(scope="module")
def v2():
    return gen_module("pyev2")


def c_bytes(key):
    """{(type, index within the type): C bytes} of py_fixtures KEY."""
    out, seen = {}, {}
    for name, verdict, data in c_fixtures(key):
        assert verdict == "ok", (name, data)
        i = seen[name] = seen.get(name, -1) + 1
        out[name, i] = data
    return out


def test_v2_defaults(v2):
    assert v2.VERSION == 3
    hello = v2.Hello()
    assert (hello.seq, hello.who, hello.level, hello.ratio, hello.blob,
            hello.yes, hello.kind) == (0, "", -300, 1.5, b"\x00\x01\xff",
                                       True, v2.Kind.TWO)
    item = v2.Item()
    assert (item.weight, item.label) == (7, 't"1')
    status = v2.Status()
    assert status.more is v2.Rc.LATER and status.hint is None
    assert status.extra_list == [] and status.item == v2.Item()
    for value in (hello, item, status):
        assert value.present_version == 3


def test_encode_ignores_present_version(v2):
    a, b = v2.Hello(seq=1), v2.Hello(seq=1)
    b.present_version = 1
    assert a.encode() == b.encode()


def test_v1_reads_c_v2_bytes(v1, v2):
    """What a version-1 peer makes of version-3 bytes written by C."""
    c = c_bytes("pyev2")
    hello = v1.Hello.decode(c["Hello", 1])
    assert hello == v1.Hello(seq=7, who="ann")
    item = v1.Item.decode(c["Item", 1])
    assert item == v1.Item(id=1, name="a")
    status = v1.Status.decode(c["Status", 1])
    assert status.rc == 300 and type(status.rc) is int
    assert status.kind is v1.Kind.ONE
    assert status.item == v1.Item(id=2, name="b")
    assert status.extra == v1.Item(id=4, name="d")
    assert status.items == [v1.Item(id=3, name="c")]
    # the v1 canonical form: the v1 fields, extensible structs shrunk
    assert status.encode() == v1.Status(
        rc=300, kind=v1.Kind.ONE, item=v1.Item(id=2, name="b"),
        extra=v1.Item(id=4, name="d"), items=[v1.Item(id=3, name="c")]).encode()
    assert c_decoder("pyev1").verdict(b"\x02" + c["Status", 1]) == \
        ("ok", status.encode())
    unknown = v1.Status.decode(c["Status", 2])
    assert unknown.rc == 999 and type(unknown.rc) is int


def test_c_v2_reads_python_v1_bytes(v1, v2):
    """Version-1 bytes written by Python: C v2 and Python v2 fill the same
    defaults, so both re-encode to the same canonical version-3 bytes."""
    dec = c_decoder("pyev2")
    for name, value in samples.pyev1(v1):
        data = value.encode()
        got = getattr(v2, name).decode(data)
        verdict = dec.verdict(bytes([dec.types.index(name)]) + data)
        assert verdict == ("ok", got.encode()), (name, value)
        if name != "Bye":
            assert got.present_version == 1, (name, got)
    status = v2.Status.decode(v1.Status(
        rc=v1.Rc.BUSY, kind=v1.Kind.ONE, item=v1.Item(id=2, name="b"),
        items=[v1.Item(id=3, name="c")]).encode())
    assert status.more is v2.Rc.LATER and status.hint is None
    assert status.item == v2.Item(id=2, name="b", weight=7, label='t"1')
    assert status.item.present_version == 1
    assert status.items[0].present_version == 1
    assert status.rc is v2.Rc.BUSY


def test_present_version_at_each_boundary(v2):
    full = v2.Hello(seq=9, who="z", level=5, ratio=2.0, blob=b"b", yes=False,
                    kind=v2.Kind.ONE).encode()
    v1_len = 4 + 1 + 1            # seq, who
    v2_len = v1_len + 2 + 4       # + level, ratio
    at = {v1_len: 1, v2_len: 2, len(full): 3}
    for cut, version in at.items():
        got = v2.Hello.decode(full[:cut])
        assert got.present_version == version
        assert got.seq == 9 and got.who == "z"
    mid = v2.Hello.decode(full[:v2_len])
    assert (mid.level, mid.ratio, mid.blob, mid.yes, mid.kind) == (
        5, 2.0, b"\x00\x01\xff", True, v2.Kind.TWO)
    dec = c_decoder("pyev2")
    sel = bytes([dec.types.index("Hello")])
    for cut in range(len(full) + 1):
        if cut in at:
            assert dec.verdict(sel + full[:cut])[0] == "ok"
            continue
        with pytest.raises(v2.DecodeError):
            v2.Hello.decode(full[:cut])
        assert dec.verdict(sel + full[:cut]) == ("err", "NETFW_EPROTO"), cut


def test_extensible_struct_length_checked(v2):
    data = v2.Item(id=1, name="a").encode()
    assert data[:2] == (len(data) - 2).to_bytes(2, "little")
    longer = (len(data) - 2 + 1).to_bytes(2, "little") + data[2:]
    with pytest.raises(v2.DecodeError):
        v2.Item.decode(longer)
    grown = (len(data) - 2 + 3).to_bytes(2, "little") + data[2:] + b"xyz"
    assert v2.Item.decode(grown) == v2.Item(id=1, name="a")
    assert v2.Item.decode(grown).encode() == data


def test_open_enum_values(v2):
    listed = v2.Status.decode(v2.Status(rc=2).encode())
    assert listed.rc is v2.Rc.GONE
    unlisted = v2.Status.decode(v2.Status(rc=65535).encode())
    assert unlisted.rc == 65535 and type(unlisted.rc) is int
    with pytest.raises(ValueError):
        v2.Status(rc=65536).encode()
