#!/usr/bin/python3
"""python-codec: row (o) of `make bench`. Nanoseconds per encode+decode of
file_storage's ListResp (16 entries) and Add (1 KiB file), the messages of
codec-bench, with the module `netfw-gen --lang python` generates (A)
against a hand-written codec of the same bytes (B) that uses precompiled
struct.Struct objects and does the same checks: lengths against their
prefixes and integers against their ranges on encode (ValueError); every
read bounded, the count against the bytes left, strict UTF-8 on decode
(DecodeError). Both work on the generated dataclasses, so only the codecs
differ. Target: A <= 1.2 x B.

Before timing, each codec's bytes are checked against the other's and
decoded back to the value. Each figure is the median of --runs timeit runs
(default 9, at least 7 unless --quick), A and B alternating within rounds
(A B, then B A); each run repeats the operation for about --run-seconds of
CPU time, measured with time.process_time (the process's CPU clock), so a
busy machine's waits for a CPU are not counted.

usage: bench/python-codec.py [--gen NETFW_GEN | --module FILE] [--runs N]
                             [--run-seconds S] [--quick] [--json]
--gen: netfw-gen to generate the module with (default build/bin/netfw-gen);
--module: an already generated file_storage_netfw.py instead.
Exit status 0, 1 when the codecs disagree or generation fails, 2 on usage."""
import argparse
import importlib.util
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "protocols", "file_storage.netproto")
ENTRIES, FILE_SIZE = 16, 1024


def load_module(args):
    """The generated file_storage module (generated into a temporary
    directory unless --module names one)."""
    if args.module is not None:
        return import_file(args.module)
    with tempfile.TemporaryDirectory(prefix="netfw-pybench-") as out:
        run = subprocess.run([args.gen, "--lang", "python", "-o", out, SCHEMA],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"python-codec: {args.gen} --lang python failed:\n"
                     f"{run.stderr}")
        return import_file(os.path.join(out, "file_storage_netfw.py"))


def import_file(path):
    """Imports the module file at path as file_storage_netfw."""
    spec = importlib.util.spec_from_file_location("file_storage_netfw", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


class HandCodec:
    """A careful hand-written codec of ListResp and Add: what one writes
    without a generator (the floor the generated code is held to). Its four
    functions are closures over precompiled Structs' bound methods and the
    classes they build (free variables: the fastest look-ups)."""

    def __init__(self, fs):
        self.DecodeError = fs.DecodeError
        (self.encode_list_resp, self.decode_list_resp, self.encode_add,
         self.decode_add) = _hand_functions(fs)


def _hand_functions(fs):
    """The four functions of HandCodec over the generated module fs."""
    decode_error, entry, list_resp, add = (fs.DecodeError, fs.FileEntry,
                                           fs.ListResp, fs.Add)
    pack_u8, pack_u16, pack_u32 = _U8.pack, _U16.pack, _U32.pack
    unpack_u16, unpack_u32 = _U16.unpack_from, _U32.unpack_from

    def encode_list_resp(m):
        files = m.files
        try:
            out = bytearray(pack_u16(len(files)))
            for e in files:
                name = e.name.encode("utf-8")
                out.append(len(name))  # ValueError over 255
                out += name
                out += pack_u32(e.size)
        except (struct.error, UnicodeEncodeError, AttributeError,
                TypeError) as err:
            raise ValueError(f"ListResp.files: {err}") from None
        return bytes(out)

    def decode_list_resp(buf):  # buf: bytes, as received
        n = len(buf)
        try:
            count = unpack_u16(buf, 0)[0]
            if count * 5 > n - 2:  # each entry takes at least 1 + 4 bytes
                raise decode_error("ListResp.files: count exceeds payload")
            files = []
            append = files.append
            off = 2
            for _ in range(count):
                start = off + 1
                off = start + buf[off]
                if off + 4 > n:
                    raise decode_error("FileEntry: truncated")
                append(entry(buf[start:off].decode(),  # strict UTF-8
                             unpack_u32(buf, off)[0]))
                off += 4
        except (IndexError, struct.error):
            raise decode_error("ListResp: truncated") from None
        except UnicodeDecodeError:
            raise decode_error("FileEntry.name: invalid UTF-8") from None
        return list_resp(files)

    def encode_add(m):
        try:
            name = m.filename.encode("utf-8")
            data = m.file
            return b"".join((pack_u8(len(name)), name, pack_u32(len(data)),
                             data))
        except (struct.error, UnicodeEncodeError, AttributeError,
                TypeError) as err:
            raise ValueError(f"Add: {err}") from None

    def decode_add(buf):  # buf: bytes, as received
        try:
            end = 1 + buf[0]
            name = buf[1:end].decode()
            start = end + 4
            stop = start + unpack_u32(buf, end)[0]
        except (IndexError, struct.error):
            raise decode_error("Add: truncated") from None
        except UnicodeDecodeError:
            raise decode_error("Add.filename: invalid UTF-8") from None
        if stop > len(buf):
            raise decode_error("Add.file: truncated")
        return add(name, buf[start:stop])

    return encode_list_resp, decode_list_resp, encode_add, decode_add


def messages(fs):
    """The values of codec-bench (bench/codec_bench.c make_messages)."""
    stems = ["notes", "report-final", "a", "photo_0042", "ünïcödé-name",
             "backup.tar"]
    files = [fs.FileEntry(name=f"{stems[i % len(stems)]}-{i:02d}.dat",
                          size=i * 100003 + 17) for i in range(ENTRIES)]
    data = bytes((i * 7 + 3) & 0xFF for i in range(FILE_SIZE))
    return (fs.ListResp(files=files),
            fs.Add(filename="upload-0001.bin", file=data))


def check(fs, hand, list_resp, add):
    """Both codecs write the same bytes and read them back to the value."""
    pairs = [(list_resp, hand.encode_list_resp, hand.decode_list_resp),
             (add, hand.encode_add, hand.decode_add)]
    for value, enc, dec in pairs:
        gen_bytes, hand_bytes = value.encode(), enc(value)
        if gen_bytes != hand_bytes:
            sys.exit(f"python-codec: {type(value).__name__}: generated and "
                     f"hand-written bytes differ:\n  {gen_bytes.hex()}\n"
                     f"  {hand_bytes.hex()}")
        if type(value).decode(gen_bytes) != value or dec(gen_bytes) != value:
            sys.exit(f"python-codec: {type(value).__name__} does not decode "
                     "back to its value")
    return len(pairs[0][0].encode()), len(pairs[1][0].encode())


def timer(value, enc, dec):
    """A timeit.Timer of one encode+decode of value, on the process's CPU
    clock: time spent waiting for a CPU on a busy machine is not counted."""
    return timeit.Timer("dec(enc(v))", timer=time.process_time,
                        globals={"dec": dec, "enc": enc, "v": value})


def calibrate(t, seconds):
    """Calls per run so that a run lasts about seconds."""
    number, took = t.autorange()  # >= 0.2 s
    return max(1, int(number * seconds / took))


def measure(cells, runs, seconds):
    """{name: ([A's ns per call], [B's])}; cells is {name: (timer A, timer
    B)}, the two measured alternately (A B, then B A) in each of runs
    rounds."""
    times = {}
    for name, (ta, tb) in cells.items():
        na, nb = calibrate(ta, seconds), calibrate(tb, seconds)
        a, b = [], []
        for r in range(runs):
            order = [(ta, na, a), (tb, nb, b)]
            for t, number, out in (order if r % 2 == 0 else order[::-1]):
                out.append(t.timeit(number) / number * 1e9)
        times[name] = (a, b)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gen", default=os.path.join(ROOT, "build", "bin",
                                                 "netfw-gen"))
    p.add_argument("--module")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--run-seconds", type=float, default=0.1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.runs, args.run_seconds = min(args.runs, 3), 0.02
    elif args.runs < 7:
        p.error("--runs: at least 7 (or --quick)")
    fs = load_module(args)
    hand = HandCodec(fs)
    list_resp, add = messages(fs)
    size_list, size_add = check(fs, hand, list_resp, add)
    gen = {"list": timer(list_resp, type(list_resp).encode,
                         type(list_resp).decode),
           "add": timer(add, type(add).encode, type(add).decode)}
    hw = {"list": timer(list_resp, hand.encode_list_resp,
                        hand.decode_list_resp),
          "add": timer(add, hand.encode_add, hand.decode_add)}
    t = measure({k: (gen[k], hw[k]) for k in gen}, args.runs, args.run_seconds)
    report(t, args, size_list, size_add)


def report(runs, args, size_list, size_add):
    """The table (medians, and the fastest runs: the figure least disturbed
    by a busy machine) on stderr with --json, else on stdout; the medians as
    JSON on stdout with --json."""
    out = sys.stderr if args.json else sys.stdout
    med = {k: (statistics.median(a), statistics.median(b))
           for k, (a, b) in runs.items()}
    print(f"python codec ({sys.executable} {sys.version.split()[0]}): ns per "
          f"encode+decode, median of {args.runs} (fastest run)", file=out)
    print(f"{'message':<20} {'generated':>18} {'hand-written':>18} "
          f"{'gen/hand':>9}", file=out)
    for key, name in (("list", f"ListResp(16) {size_list} B"),
                      ("add", f"Add(1 KiB) {size_add} B")):
        (a, b), (ra, rb) = med[key], runs[key]
        print(f"{name:<20} {a:9.0f} ({min(ra):6.0f}) {b:9.0f} ({min(rb):6.0f})"
              f" {a / b:9.3f}", file=out)
    if args.json:
        print(json.dumps({
            "gen_list_ns": round(med["list"][0], 1),
            "hand_list_ns": round(med["list"][1], 1),
            "gen_add_ns": round(med["add"][0], 1),
            "hand_add_ns": round(med["add"][1], 1),
            "gen_ns": round(med["list"][0] + med["add"][0], 1),
            "hand_ns": round(med["list"][1] + med["add"][1], 1),
            "runs": args.runs, "python": sys.version.split()[0]},
            separators=(",", ":")))  # run-bench's json_field reads "k":v


if __name__ == "__main__":
    main()
