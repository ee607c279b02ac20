"""Property tests (hypothesis, bounded): random values round-trip through
the generated Python codec; random and mutated bytes get the same verdict
from the Python decoder as from the C decoder (py_decode): both refuse, or
both accept and encode the value to the same bytes -- exactly the bytes
consumed for a type that does not evolve, the canonical form for one that
does. Then the same over the fuzz corpus (tests/fuzz/corpus/fuzz_decoders),
and the decoder's limits: recursion depth, impossible counts."""
import os
import sys
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from conftest import SOURCE_DIR, c_decoder, gen_module

EXAMPLES = 100  # per type and property: the whole file takes 15-30 s
KEYS = ["fz", "pyev2"]


def cases():
    """(schema key, type name) of every type of every schema."""
    return [(key, name) for key in KEYS for name in c_decoder(key).types]


def same(a, b):
    """Values equal (NaN equal to NaN: compared through repr)."""
    return a == b or repr(a) == repr(b)


def py_verdict(mod, cls, payload):
    """("ok", re-encoded bytes) or ("err", "NETFW_EPROTO"), as py_decode
    answers; any other exception than DecodeError propagates."""
    try:
        value = cls.decode(payload)
    except mod.DecodeError:
        return ("err", "NETFW_EPROTO")
    return ("ok", value.encode())


def check_same_verdict(key, name, payload):
    """The Python and C decoders agree on payload read as type name."""
    mod = gen_module(key)
    cls = getattr(mod, name)
    dec = c_decoder(key)
    py = py_verdict(mod, cls, payload)
    c = dec.verdict(bytes([dec.types.index(name)]) + payload)
    assert py == c, f"{key}.{name} {payload.hex()}: python {py}, C {c}"
    if py[0] == "ok":
        out = py[1]
        if evolving(key, name):
            assert cls.decode(out).encode() == out  # canonical
        else:
            assert payload[:len(out)] == out  # exactly the bytes consumed


@pytest.mark.parametrize("bits", ["0100807f", "ffffbfff", "0000c07f",
                                  "010080ff", "0000807f"])
def test_f32_nan_and_inf_keep_their_bits(bits):
    """C keeps an f32's bits (a signalling NaN 0x7f800001 stays one); so
    must the generated module, though struct's 'f' goes through a C double
    (which quiets it on CPython < 3.14)."""
    fz = gen_module("fz")
    payload = bytes.fromhex(bits + "0100000000000000" "00")
    c = c_decoder("fz")
    assert c.verdict(bytes([c.types.index("Floats")]) + payload) == \
        ("ok", payload)
    assert fz.Floats.decode(payload).encode() == payload


# The types whose decoding may fill defaults or skip bytes, so that their
# canonical form may differ from the bytes read (the C harness's
# "evolving"): those with [since] fields, extensible structs, and what
# contains them.
EVOLVING = {"fz": {"Ints", "Strings", "Enums", "Ext", "Window", "ETree",
                   "Grows"},
            "pyev2": {"Item", "Hello", "Status"}}


def evolving(key, name):
    return name in EVOLVING[key]


@pytest.mark.parametrize("key,name", cases())
def test_values_round_trip(key, name):
    mod = gen_module(key)
    cls = getattr(mod, name)
    dec = c_decoder(key)

    @settings(max_examples=EXAMPLES)
    @given(strategies.STRATEGIES[key](mod)[name])
    def run(value):
        data = value.encode()
        back = cls.decode(data)
        assert type(back) is cls
        assert same(back, value), f"{back!r} != {value!r}"
        assert back.encode() == data
        assert dec.verdict(bytes([dec.types.index(name)]) + data) == \
            ("ok", data)

    run()


@st.composite
def mutated(draw, value_strategy):
    """A valid encoding truncated, with a byte changed, or extended."""
    data = bytearray(draw(value_strategy).encode())
    how = draw(st.sampled_from(["cut", "flip", "grow", "cut+flip"]))
    if "flip" in how and data:
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if "cut" in how:
        data = data[:draw(st.integers(0, len(data)))]
    if how == "grow":
        data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@pytest.mark.parametrize("key,name", cases())
def test_random_bytes_same_verdict_as_c(key, name):
    mod = gen_module(key)
    values = strategies.STRATEGIES[key](mod)[name]

    @settings(max_examples=EXAMPLES)
    @given(st.binary(max_size=96) | mutated(values))
    def run(payload):
        check_same_verdict(key, name, payload)

    run()


def corpus_files():
    folder = os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus",
                          "fuzz_decoders")
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


def test_fuzz_corpus_same_verdict_as_c():
    """Every input of the checked-in fuzz corpus of all_types.netproto:
    first byte = the type (as the harness), the rest = the payload."""
    files = corpus_files()
    assert len(files) > 100
    dec = c_decoder("fz")
    verdicts = {"ok": 0, "err": 0}
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        if not data:
            continue
        name = dec.type_of(data)
        check_same_verdict("fz", name, data[1:])
        verdicts[dec.verdict(data)[0]] += 1
    assert verdicts["ok"] > 50 and verdicts["err"] > 50, verdicts


def tree_bytes(depth):
    """A Tree nested depth levels deep: each level one kid, empty labels."""
    return b"\x00\x01" * (depth - 1) + b"\x00\x00"


def test_recursion_limit_is_the_c_limit():
    mod = gen_module("fz")
    dec = c_decoder("fz")
    sel = bytes([dec.types.index("Tree")])
    deepest = max(d for d in range(100, 200)
                  if dec.verdict(sel + tree_bytes(d))[0] == "ok")
    assert 128 <= deepest < 199
    assert mod.Tree.decode(tree_bytes(deepest)).encode() == \
        tree_bytes(deepest)
    with pytest.raises(mod.DecodeError):
        mod.Tree.decode(tree_bytes(deepest + 1))
    assert sys.getrecursionlimit() < 60000
    with pytest.raises(mod.DecodeError):
        mod.Tree.decode(tree_bytes(60000))


def test_impossible_count_refused_before_allocating():
    """Repeats.points (repeated<u32> Point) claiming 2^32-1 elements, 8
    bytes left: DecodeError, without building a list first."""
    mod = gen_module("fz")
    payload = b"\x00" + b"\x00\x00" + b"\xff\xff\xff\xff" + bytes(8)
    tracemalloc.start()
    try:
        with pytest.raises(mod.DecodeError):
            mod.Repeats.decode(payload)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024
    assert c_decoder("fz").verdict(
        bytes([c_decoder("fz").types.index("Repeats")]) + payload) == \
        ("err", "NETFW_EPROTO")
