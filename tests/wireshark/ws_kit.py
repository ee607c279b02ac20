"""The tools of test_dissector.py: netfw-gen, ws_frames, text2pcap and
tshark run from Python; tshark's -T json as a tree of Nodes; and the
Walker, which compares a value the generated Python module decoded with
the dissector's subtree of it, field by field."""

import dataclasses
import enum
import importlib.util
import json
import keyword
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

GEN = os.environ.get("NETFW_GEN")
FRAMES = os.environ.get("NETFW_WS_FRAMES")
SRC = os.environ.get("NETFW_SOURCE_DIR")
PORT = 54314
OTHER_PORT = 40123

SCHEMAS = {  # name: (schema file, ws_frames argument, Wireshark proto)
    "fs": ("protocols/file_storage.netproto", "fs", "file_storage"),
    "chat": ("protocols/chat.netproto", "chat", "chat"),
    "fz": ("tests/fuzz/all_types.netproto", "fz", "fz"),
    "atb": ("tests/gen/all_types_be.netproto", None, "atb"),
}


class Failure(Exception):
    """A check that did not hold."""


def check(cond, what):
    if not cond:
        raise Failure(what)


# ---- running the tools -----------------------------------------------------


def run(argv, **kw):
    """argv's stdout; Failure (with stderr) if it fails or times out."""
    try:
        p = subprocess.run(argv, capture_output=True, timeout=60, **kw)
    except subprocess.TimeoutExpired:
        raise Failure("timed out: %s" % " ".join(argv))
    if p.returncode != 0:
        raise Failure("%s: exit %d\n%s" % (" ".join(argv), p.returncode,
                                           p.stderr.decode(errors="replace")))
    return p.stdout


def generate(schema, lang):
    """Generates schema (a key of SCHEMAS) for lang into ./gen; the path."""
    path = os.path.join(SRC, SCHEMAS[schema][0])
    os.makedirs("gen", exist_ok=True)
    run([GEN, "--lang", lang, "-o", "gen", path])
    base = os.path.splitext(os.path.basename(path))[0]
    return os.path.join("gen", base + (".lua" if lang == "wireshark"
                                       else "_netfw.py"))


def python_module(schema):
    """The generated Python module of schema, imported."""
    path = generate(schema, "python")
    spec = importlib.util.spec_from_file_location("m_" + schema, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def c_frames(schema):
    """[(name, frame bytes)] from ws_frames."""
    out = run([FRAMES, SCHEMAS[schema][1]]).decode()
    return [(n, bytes.fromhex(h)) for n, h in
            (line.split() for line in out.splitlines())]


def frame(mid, payload):
    """A whole frame: u16 id, u32 size (little endian), the payload."""
    return (mid.to_bytes(2, "little") + len(payload).to_bytes(4, "little")
            + payload)


def pcap(name, segments, port=PORT):
    """A capture of one TCP stream from port 1000 to port, one packet per
    segment (text2pcap numbers the sequence); its path."""
    hexfile = name + ".txt"
    with open(hexfile, "w") as f:
        for seg in segments:
            for off in range(0, len(seg), 16):
                f.write("%06x  %s\n" % (off, seg[off:off + 16].hex(" ")))
    path = name + ".pcap"
    run(["text2pcap", "-q", "-T", "1000,%d" % port, hexfile, path])
    return path


def tshark(cap, lua, *extra, fmt="json"):
    """tshark's -T fmt output for cap with the dissector lua loaded (-Q:
    no packet lines, no warning about running as root)."""
    out = run(["tshark", "-Q", "-r", cap, "-X", "lua_script:" + lua,
               "-T", fmt] + list(extra))
    return out.decode()


# ---- tshark's JSON as a tree -----------------------------------------------


class Node:
    def __init__(self, key, value, kids):
        self.key, self.value, self.kids = key, value, kids

    def __repr__(self):
        return "%s=%r%s" % (self.key, self.value, self.kids or "")


def nodes(pairs):
    """A JSON object (its key/value pairs, duplicates kept) as Nodes; an
    "X_tree" entry holds the children of the X before it."""
    out = []
    for key, value in pairs:
        if key.endswith("_tree") and out and out[-1].key == key[:-5]:
            out[-1].kids = nodes(value)
        elif isinstance(value, list):
            out.append(Node(key, None, nodes(value)))
        else:
            out.append(Node(key, value, []))
    return out


def proto_frames(text, proto):
    """Every frame the dissector showed, across all packets: the Nodes of
    each "proto" layer, in order."""
    packets = json.loads(text, object_pairs_hook=lambda p: p)
    found = []
    for packet in packets:
        layers = dict(dict(packet)["_source"])["layers"]
        found += [nodes(v) for k, v in layers if k == proto]
    return found


def walk(ns):
    """Every Node under ns, depth first."""
    for n in ns:
        yield n
        yield from walk(n.kids)


def experts(ns):
    """The expert messages under ns, in order."""
    return [dict((k.key, k.value) for k in n.kids)["_ws.expert.message"]
            for n in walk(ns) if n.key == "_ws.expert"]


# ---- expected values beside the tree ---------------------------------------


def schema_name(py_name):
    """A Python name back to the schema's ("from_" -> "from")."""
    if py_name.endswith("_") and keyword.iskeyword(py_name[:-1]):
        return py_name[:-1]
    return py_name


class Walker:
    """Compares one decoded value with the dissector's subtree of it."""

    def __init__(self, proto):
        self.proto = proto
        # (abbreviation, constant name or None, value) of every enum and
        # integer, in order: an open enum's unlisted value is a plain int
        self.enum_labels = []

    def struct(self, value, kids, where):
        """value (a dataclass) against kids, its subtree's Nodes."""
        kids = [k for k in kids if k.key not in ("_ws.malformed",)]
        tname = schema_name(type(value).__name__)
        fields = [f for f in dataclasses.fields(value)
                  if f.name != "present_version"]
        i = 0
        for n, f in enumerate(fields):
            name = schema_name(f.name)
            abbr = "%s.%s.%s" % (self.proto, tname, name)
            at = "%s.%s" % (where, name)
            check(i < len(kids), "%s: missing from the tree" % at)
            k = kids[i]
            if k.key == "_ws.expert":
                self.defaults(value, fields[n:], k, at)
                return
            i += 1
            v = getattr(value, f.name)
            if k.key == abbr + ".present":
                check(k.value == ("0" if v is None else "1"),
                      "%s: presence %s" % (at, k.value))
                if v is not None:
                    check(i < len(kids), "%s: value missing" % at)
                    self.value(v, kids[i], abbr, at)
                    i += 1
            elif k.key == abbr + ".count":
                check(k.value == str(len(v)), "%s: count %s, expected %d"
                      % (at, k.value, len(v)))
                self.elements(v, k.kids, abbr, at)
            elif k.key == "_ws.lua.text" and isinstance(v, list):
                self.elements(v, k.kids, abbr, at)
            else:
                self.value(v, k, abbr, at)
        rest = [k.key for k in kids[i:] if k.key != self.proto + ".newer"]
        check(not rest, "%s: unexpected %s" % (where, rest))

    def defaults(self, value, fields, note, at):
        """The payload ended before a [since] group: the note names the
        fields left, which hold their defaults."""
        msg = dict((k.key, k.value) for k in note.kids)["_ws.expert.message"]
        check(hasattr(value, "present_version"), "%s: %r" % (at, msg))
        names = ", ".join(schema_name(f.name) for f in fields)
        version = value.present_version + 1
        check(msg == "Ends before the fields of version %d: %s take their "
              "defaults" % (version, names), "%s: note %r" % (at, msg))
        for f in fields:
            check(getattr(value, f.name) == type(value)().__getattribute__(
                f.name), "%s: not its default" % f.name)

    def elements(self, values, kids, abbr, at):
        check(len(kids) == len(values), "%s: %d elements shown, %d expected"
              % (at, len(kids), len(values)))
        for i, (v, k) in enumerate(zip(values, kids)):
            self.value(v, k, abbr, "%s[%d]" % (at, i))

    def value(self, v, k, abbr, at):
        """One value v against its Node k."""
        check(k.key == abbr, "%s: found %s, expected %s" % (at, k.key, abbr))
        if dataclasses.is_dataclass(v):
            self.struct(v, k.kids, at)
        elif isinstance(v, bool):
            check(k.value == ("1" if v else "0"), "%s: %s" % (at, k.value))
        elif isinstance(v, enum.Enum):
            check(k.value == str(int(v)), "%s: %s, expected %d"
                  % (at, k.value, v))
            self.enum_labels.append((abbr, v.name, int(v)))
        elif isinstance(v, float):
            self.float(v, k.value, at)
        elif isinstance(v, int):
            check(k.value == str(v), "%s: %s, expected %d" % (at, k.value, v))
            self.enum_labels.append((abbr, None, v))
        elif isinstance(v, str):
            v = v.replace("\0", "\\x00")  # as the dissector shows a NUL
            check(k.value == v, "%s: %r, expected %r" % (at, k.value, v))
        else:
            hexed = ":".join("%02x" % b for b in v)
            check(k.value == hexed, "%s: %s, expected %s" % (at, k.value, hexed))

    @staticmethod
    def float(v, shown, at):
        """tshark prints floats with 6 (f32) or 15 (f64) significant digits."""
        got = float(shown)
        if math.isinf(v) or v == 0:
            check(got == v and math.copysign(1, got) == math.copysign(1, v),
                  "%s: %s, expected %r" % (at, shown, v))
        else:
            check(math.isclose(got, v, rel_tol=1e-5), "%s: %s, expected %r"
                  % (at, shown, v))


def check_frames(shown, expected, mod, proto):
    """shown (proto_frames) against expected [(id, payload)]: header, the
    message's subtree, every field; the enum labels to check in PDML."""
    check(len(shown) == len(expected), "%d frames shown, %d sent"
          % (len(shown), len(expected)))
    w = Walker(proto)
    for n, (ns, (mid, payload)) in enumerate(zip(shown, expected)):
        msg = mod.decode_message(mid, payload)
        where = "frame %d (%s)" % (n, type(msg).__name__)
        check([x.key for x in ns[:2]] == [proto + ".id", proto + ".size"],
              "%s: header %s" % (where, ns[:2]))
        check(ns[0].value == str(mid) and ns[1].value == str(len(payload)),
              "%s: id %s size %s" % (where, ns[0].value, ns[1].value))
        check(ns[2].key == "%s.%s" % (proto, type(msg).__name__),
              "%s: subtree %s" % (where, ns[2].key))
        w.struct(msg, ns[2].kids, where)
        check(all(e.startswith("Ends before") or "after the known fields" in e
                  for e in experts(ns)),
              "%s: expert info %s" % (where, experts(ns)))
    return w.enum_labels


def check_enum_labels(cap, lua, labels):
    """Each enum field's line in PDML shows its constant's name (an open
    enum's unlisted value: "Unknown")."""
    root = ET.fromstring(tshark(cap, lua, fmt="pdml"))
    wanted = {a for a, name, _ in labels if name is not None}
    labels = [x for x in labels if x[0] in wanted]
    shown = [f.get("showname") for f in root.iter("field")
             if f.get("name") in wanted]
    check(len(shown) == len(labels), "%d enum fields in PDML, %d expected"
          % (len(shown), len(labels)))
    for s, (abbr, name, value) in zip(shown, labels):
        want = ": %s (%d)" % (name or "Unknown", value)
        check(s.endswith(want), "%s: %r, expected %r" % (abbr, s, want))
