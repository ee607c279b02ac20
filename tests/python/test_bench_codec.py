"""bench/python-codec.py's hand-written codec (row (o)'s baseline B) is held
to the generated module's rules, so the comparison is fair: on random and
mutated payloads it accepts exactly what the generated decoders accept, as
the same value, and refuses the rest with DecodeError; it refuses to encode
what the generated encoders refuse."""
import importlib.util
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SOURCE_DIR, gen_module


@pytest.fixture(scope="module")
def codecs():
    path = os.path.join(SOURCE_DIR, "bench", "python-codec.py")
    spec = importlib.util.spec_from_file_location("python_codec", path)
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    fs = gen_module("fs")
    return fs, bench.HandCodec(fs), bench.messages(fs)


def verdict(fn, payload, error):
    try:
        return ("ok", fn(payload))
    except error:
        return ("err", None)


def entries(fs):
    return st.lists(st.builds(fs.FileEntry, name=st.text(max_size=20),
                              size=st.integers(0, 2**32 - 1)), max_size=6)


def test_same_bytes_for_the_bench_values(codecs):
    fs, hand, (list_resp, add) = codecs
    assert hand.encode_list_resp(list_resp) == list_resp.encode()
    assert hand.encode_add(add) == add.encode()
    assert len(list_resp.files) == 16 and len(add.file) == 1024


@settings(max_examples=300)
@given(data=st.data())
def test_same_verdict_on_payloads(codecs, data):
    fs, hand, _ = codecs
    which = data.draw(st.sampled_from(["list", "add"]))
    if which == "list":
        valid = fs.ListResp(files=data.draw(entries(fs))).encode()
        gen, own = fs.ListResp.decode, hand.decode_list_resp
    else:
        valid = fs.Add(filename=data.draw(st.text(max_size=20)),
                       file=data.draw(st.binary(max_size=40))).encode()
        gen, own = fs.Add.decode, hand.decode_add
    cut = data.draw(st.integers(0, len(valid)))
    payload = bytearray(valid[:cut] + data.draw(st.binary(max_size=4)))
    if payload and data.draw(st.booleans()):
        payload[data.draw(st.integers(0, len(payload) - 1))] = \
            data.draw(st.integers(0, 255))
    payload = bytes(payload)
    assert verdict(own, payload, fs.DecodeError) == \
        verdict(gen, payload, fs.DecodeError)


def test_same_encode_refusals(codecs):
    fs, hand, _ = codecs
    bad_lists = [fs.ListResp(files=[fs.FileEntry(name="x" * 256)]),
                 fs.ListResp(files=[fs.FileEntry(size=2**32)]),
                 fs.ListResp(files=[fs.FileEntry(name="\ud800")])]
    bad_adds = [fs.Add(filename="é" * 128), fs.Add(file="text"),
                fs.Add(filename=None)]
    for value in bad_lists:
        for enc in (hand.encode_list_resp, type(value).encode):
            with pytest.raises(ValueError):
                enc(value)
    for value in bad_adds:
        for enc in (hand.encode_add, type(value).encode):
            with pytest.raises(ValueError):
                enc(value)
