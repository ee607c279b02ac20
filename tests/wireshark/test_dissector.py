"""The generated Wireshark dissector (netfw-gen --lang wireshark) under a
real tshark: test_dissector.py CASE, one ctest each (tests/wireshark).

Frames come from the generated C encoders (ws_frames, NETFW_WS_FRAMES), or,
for the big-endian schema, from the generated Python module; text2pcap wraps
them in TCP segments; tshark -T json shows what the dissector made of them.
The expected values are what the generated Python module decodes from the
same payloads (its codec is tested byte for byte against C in tests/python),
walked field by field beside tshark's tree: every field of every message must
be there, in schema order, with its value (enum names checked in -T pdml).

Exit status: 0 passed, 1 failed, 77 skipped (no tshark or text2pcap)."""

import os
import shutil
import subprocess
import sys

from ws_kit import (GEN, OTHER_PORT, SCHEMAS, SRC, Failure, c_frames,
                    check, check_enum_labels, check_frames, experts, frame,
                    generate, pcap, proto_frames, python_module, run, tshark,
                    walk)

# ---- the cases ---------------------------------------------------------------


def fields_case(schema, frames_of=None):
    """Every sample frame of schema, one per segment: every field shown."""
    mod = python_module(schema)
    lua = generate(schema, "wireshark")
    proto = SCHEMAS[schema][2]
    frames = frames_of(mod) if frames_of else [f for _, f in c_frames(schema)]
    expected = [(int.from_bytes(f[:2], "little"), f[6:]) for f in frames]
    names = {type(mod.decode_message(i, p)).__name__ for i, p in expected}
    check(names == {c.__name__ for c in mod.MESSAGES.values()},
          "messages without a sample: %s" % (
              {c.__name__ for c in mod.MESSAGES.values()} - names))
    cap = pcap(schema, frames)
    labels = check_frames(proto_frames(tshark(cap, lua), proto), expected,
                          mod, proto)
    check_enum_labels(cap, lua, labels)
    print("%s: %d frames, %d messages, every field as expected"
          % (schema, len(frames), len(names)))


def be_frames(mod):
    """Sample frames of the big-endian schema, from the Python encoders."""
    m = mod
    samples = [
        m.Scalars(a=200, b=0x0102, c=258, d=2**64 - 1, e=-1, f=-2,
                  g=-(2**31), h=-4, i=1.5, j=-2.0, k=True),
        m.Texts(s8="a.txt", s16="\u00fcn\u00efc\u00f6de", s32="",
                b8=b"\x01\x02\x03", b16=b"", b32=bytes(range(40))),
        m.Enums(color=m.Color.BLUE, wide=m.Wide.HIGH, big=m.Big.TOP),
        m.Arrays(fixed=[1, 0x0203, 65535],
                 pts=[m.Point(x=1, y=-1), m.Point(x=2, y=3)],
                 names=["ab", ""]),
        m.Repeats(nums=[1, 2**32 - 1], words=["x", "yz"],
                  points=[m.Point(x=-5, y=5)], colors=[m.Color.GREEN]),
        m.Optionals(maybe=7, note=None, where=m.Point(x=9, y=8),
                    inner=m.Inner(p=None, c=m.Color.RED)),
        m.Nested(tree=m.Tree(label="r", kids=[m.Tree(label="k", kids=[])]),
                 inner=m.Inner(p=m.Point(x=1, y=2), c=m.Color.GREEN)),
        m.Empty(),
    ]
    return [frame(s.ID, s.encode()) for s in samples]


def reassembly_case():
    """The fz frames as one stream cut three ways: all in one segment;
    every frame split in two; 7-byte segments (frames across many)."""
    mod = python_module("fz")
    lua = generate("fz", "wireshark")
    frames = [f for _, f in c_frames("fz")]
    expected = [(int.from_bytes(f[:2], "little"), f[6:]) for f in frames]
    stream = b"".join(frames)
    halves = []
    for f in frames:
        halves += [f[:len(f) // 2 + 1], f[len(f) // 2 + 1:]]
    cuts = {
        "one_segment": [stream],
        "split_in_two": halves,
        "seven_bytes": [stream[i:i + 7] for i in range(0, len(stream), 7)],
    }
    for name, segments in cuts.items():
        cap = pcap("reasm_" + name, segments)
        check_frames(proto_frames(tshark(cap, lua), "fz"), expected, mod, "fz")
        print("%s: %d segments, %d frames as expected"
              % (name, len(segments), len(frames)))
    # Several frames in one packet: the Info column lists them all.
    cap = pcap("reasm_info", [stream[:len(frames[0]) + len(frames[1])]])
    info = tshark(cap, lua, "-e", "_ws.col.Info", fmt="fields").strip()
    check(info == "Ints, Ints", "Info column %r" % info)


MALFORMED = [  # (schema, id, payload hex, expert message)
    ("fs", 7, "09", "Ack.rc: 9 is not a constant of enum Rc"),
    ("fs", 1, "c8612e747874",
     "Add.filename: truncated (200 bytes needed, 5 left)"),
    ("fs", 1, "01", "Add.filename: truncated (1 bytes needed, 0 left)"),
    ("fs", 6, "e803000000",
     "ListResp.files.count: 1000 elements take at least 5000 bytes, 3 left"),
    ("fz", 2, "0000803f000000000000f03f02",
     "Floats.z: bool byte 0x02 (00 or 01 expected)"),
    ("fz", 8, "02", "Optionals.n.present: presence byte 0x02 (00 or 01 "
     "expected)"),
    ("chat", 1, "02c0af", "Join.nick: not valid UTF-8"),
    ("chat", 1, "03eda080", "Join.nick: not valid UTF-8"),
    ("chat", 1, "04f4908080", "Join.nick: not valid UTF-8"),
    ("fz", 11, "ff0001", "Grows.plain: truncated (255 bytes needed, 1 left)"),
    ("fz", 9, "0001" * 128 + "0000" + "00" * 21,  # 129 Trees, one in another
     "Tree.kids: structs nested more than 128 deep"),
]


def malformed_case():
    """Malformed payloads: one expert info each (the text says what), the
    frames after them still dissected, no Lua error; the Python decoder
    refuses the same payloads. Also: unknown ids, newer trailing bytes, and
    a payload that stops before a [since] group (a note, not an error)."""
    for schema in ("fs", "chat", "fz"):
        mod = python_module(schema)
        lua = generate(schema, "wireshark")
        proto = SCHEMAS[schema][2]
        cases = [c for c in MALFORMED if c[0] == schema]
        ok_frame = c_frames(schema)[0][1]
        segments = []
        for _, mid, hexed, _ in cases:
            payload = bytes.fromhex(hexed)
            try:
                mod.decode_message(mid, payload)
                raise Failure("Python decodes %s %d %s" % (schema, mid, hexed))
            except mod.DecodeError:
                pass
            segments.append(frame(mid, payload) + ok_frame)
        cap = pcap("malformed_" + schema, segments)
        text = tshark(cap, lua)
        check("_ws.lua.error" not in text and "Lua Error" not in text,
              "%s: a Lua error: %s" % (schema, text))
        shown = proto_frames(text, proto)
        check(len(shown) == 2 * len(cases), "%s: %d frames shown"
              % (schema, len(shown)))
        for n, (_, mid, hexed, msg) in enumerate(cases):
            check(experts(shown[2 * n]) == [msg], "%s %s: experts %s"
                  % (schema, hexed, experts(shown[2 * n])))
            check(any(k.key == "_ws.malformed" for k in walk(shown[2 * n])),
                  "%s %s: not flagged malformed" % (schema, hexed))
            check(experts(shown[2 * n + 1]) == [], "%s: next frame %s"
                  % (schema, experts(shown[2 * n + 1])))
        print("%s: %d malformed payloads flagged" % (schema, len(cases)))
    others_case()


def others_case():
    """Unknown id, trailing bytes, a payload ending before [since] fields."""
    mod = python_module("fz")
    lua = generate("fz", "wireshark")
    ints = c_frames("fz")[1][1]  # Ints with every field set
    v1 = frame(1, ints[6:6 + 30])  # the version-1 fields only
    trailing = frame(10, b"\x01\x02")  # Empty, and two bytes
    unknown = frame(99, b"\xaa\xbb")
    huge = bytes.fromhex("0100f0ffffff") + b"junk"  # not waited for
    deep = frame(9, bytes.fromhex("0001" * 127 + "0000" + "00" * 21))
    cap = pcap("others", [v1, trailing, unknown, huge, v1, deep])
    shown = proto_frames(tshark(cap, lua), "fz")
    check(len(shown) == 6, "%d frames" % len(shown))
    check(experts(shown[0]) == [
        "Ends before the fields of version 2: k, l, m, n, o take their "
        "defaults"], "v1 Ints: %s" % experts(shown[0]))
    check_frames(shown[:1], [(1, v1[6:])], mod, "fz")
    check(experts(shown[1]) == [
        "2 bytes after the known fields (a newer version's), skipped"],
        "trailing: %s" % experts(shown[1]))
    newer = [n for n in walk(shown[1]) if n.key == "fz.newer"]
    check(len(newer) == 1 and newer[0].value == "01:02", "newer %s" % newer)
    check(experts(shown[2]) == ["No message of this schema has id 99"],
          "unknown: %s" % experts(shown[2]))
    check(shown[2][2].key == "fz.payload" and shown[2][2].value == "aa:bb",
          "unknown payload %s" % shown[2][2])
    check(experts(shown[3]) == [
        "Payload size 4294967280 above the largest accepted (16777216): not "
        "dissected"], "huge: %s" % experts(shown[3]))
    check_frames(shown[4:], [(1, v1[6:]), (9, deep[6:])], mod, "fz")
    print("unknown id, trailing bytes, [since] defaults, a huge size, 128 "
          "nested structs: as expected")


def ports_case():
    """The port preference and Decode As."""
    lua = generate("fs", "wireshark")
    frames = [f for _, f in c_frames("fs")]
    default = pcap("port_default", frames)
    other = pcap("port_other", frames, port=OTHER_PORT)

    def count(cap, *extra):
        return len(proto_frames(tshark(cap, lua, *extra), "file_storage"))

    n = len(frames)
    check(count(default) == n, "default port: not dissected")
    check(count(other) == 0, "port %d dissected by default" % OTHER_PORT)
    check(count(other, "-d", "tcp.port==%d,file_storage" % OTHER_PORT) == n,
          "Decode As: not dissected")
    check(count(other, "-o", "file_storage.port:%d" % OTHER_PORT) == n,
          "port preference: not dissected")
    check(count(default, "-o", "file_storage.port:%d" % OTHER_PORT) == 0,
          "port preference: the default port still dissected")
    check(count(default, "-o", "file_storage.port:0") == 0,
          "port 0: still dissected")
    check(count(other, "-o", "file_storage.port:0", "-d",
                "tcp.port==%d,file_storage" % OTHER_PORT) == n,
          "port 0 with Decode As: not dissected")
    print("port preference and Decode As: as expected")


def corpus_case():
    """The fuzz corpus of the generated decoders (tests/fuzz/corpus/
    fuzz_decoders: a byte picking the type of all_types in declaration
    order, then the payload), as frames of its messages: the dissector
    refuses (one malformed expert info) exactly what the Python decoder
    refuses, shows every field of what it accepts, and never throws."""
    mod = python_module("fz")
    lua = generate("fz", "wireshark")
    ids = {4: 1, 5: 2, 6: 3, 7: 4, 8: 5, 9: 6, 10: 7, 11: 8, 12: 9, 13: 10,
           17: 11}  # the harness's type number -> message id
    corpus = os.path.join(SRC, "tests/fuzz/corpus/fuzz_decoders")
    good, bad = [], []
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            data = f.read()
        if not data or data[0] % 18 not in ids or len(data) > 60000:
            continue
        mid, payload = ids[data[0] % 18], data[1:]
        try:
            mod.decode_message(mid, payload)
            good.append((mid, payload))
        except mod.DecodeError:
            bad.append((mid, payload))
    check(len(good) > 50 and len(bad) > 50, "corpus: %d accepted, %d "
          "refused" % (len(good), len(bad)))
    cap = pcap("corpus_good", [frame(i, p) for i, p in good])
    text = tshark(cap, lua)
    check("_ws.lua.error" not in text, "a Lua error")
    check_frames(proto_frames(text, "fz"), good, mod, "fz")
    cap = pcap("corpus_bad", [frame(i, p) for i, p in bad])
    text = tshark(cap, lua)
    check("_ws.lua.error" not in text, "a Lua error")
    shown = proto_frames(text, "fz")
    check(len(shown) == len(bad), "%d of %d shown" % (len(shown), len(bad)))
    for ns, (mid, payload) in zip(shown, bad):
        flagged = [n for n in walk(ns) if n.key == "_ws.malformed"]
        check(len(flagged) == 1, "id %d %s: refused by Python, %d malformed "
              "flags %s" % (mid, payload.hex(), len(flagged), experts(ns)))
    print("corpus: %d payloads accepted and shown, %d refused and flagged"
          % (len(good), len(bad)))


KEYWORDS = """protocol Kw;
option endian = big;
enum then : u8 { nil = 0; local = 1; }
struct end { u8 and; string<u8> function; }
message repeat = 1 { end until; then while; repeated<u8> end do; }
message size2 = 2 { optional u16 goto; }
"""


def names_case():
    """Lua keywords and upper case as schema names still make a dissector
    that loads and shows them; a message named like a frame field is an
    error of the back end."""
    os.makedirs("gen", exist_ok=True)
    with open("gen/kw.netproto", "w") as f:
        f.write(KEYWORDS)
    run([GEN, "--lang", "wireshark", "-o", "gen", "gen/kw.netproto"])
    payload = bytes.fromhex("05" + "026869" + "01" + "00")
    cap = pcap("kw", [frame(1, payload), frame(2, bytes.fromhex("010102"))])
    text = tshark(cap, "gen/kw.lua")
    shown = proto_frames(text, "kw")
    check(len(shown) == 2 and not experts(shown[0]) and not experts(shown[1]),
          "kw: %s" % shown)
    keys = [(n.key, n.value) for n in walk(shown[0] + shown[1])]
    for want in [("kw.end.and", "5"), ("kw.end.function", "hi"),
                 ("kw.repeat.while", "1"), ("kw.repeat.do.count", "0"),
                 ("kw.size2.goto.present", "1"), ("kw.size2.goto", "258")]:
        check(want in keys, "kw: %s not in %s" % (want, keys))
    # 300 messages: more than the 200 locals a Lua chunk may have.
    with open("gen/many.netproto", "w") as f:
        f.write("protocol many;\n" + "".join(
            "message M%d = %d { u8 x; }\n" % (i, i) for i in range(300)))
    run([GEN, "--lang", "wireshark", "-o", "gen", "gen/many.netproto"])
    cap = pcap("many", [frame(299, b"\x07")])
    shown = proto_frames(tshark(cap, "gen/many.lua"), "many")
    check([(n.key, n.value) for n in walk(shown[0])][2:] ==
          [("many.M299", None), ("many.M299.x", "7")], "many: %s" % shown)
    with open("gen/clash.netproto", "w") as f:
        f.write("protocol clash;\nmessage size = 1 {}\n")
    p = subprocess.run([GEN, "--lang", "wireshark", "-o", "gen",
                        "gen/clash.netproto"], capture_output=True, timeout=60)
    err = p.stderr.decode()
    check(p.returncode == 1 and "message 'size' would be the Wireshark field "
          "'clash.size'" in err, "clash: exit %d %s" % (p.returncode, err))
    print("Lua keywords as names, 300 messages, and the frame-field clash: "
          "as expected")


CASES = {
    "fields_fs": lambda: fields_case("fs"),
    "fields_chat": lambda: fields_case("chat"),
    "fields_fz": lambda: fields_case("fz"),
    "big_endian": lambda: fields_case("atb", be_frames),
    "reassembly": reassembly_case,
    "malformed": malformed_case,
    "ports": ports_case,
    "names": names_case,
    "corpus": corpus_case,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: test_dissector.py %s" % "|".join(CASES), file=sys.stderr)
        return 2
    missing = [t for t in ("tshark", "text2pcap") if shutil.which(t) is None]
    if missing:
        print("SKIP: %s not installed (scripts/install-deps installs tshark)"
              % " and ".join(missing))
        return 77
    os.makedirs(sys.argv[1], exist_ok=True)
    os.chdir(sys.argv[1])
    try:
        CASES[sys.argv[1]]()
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
