"""netfw-call end to end, one case per run (ctest runs each):

  fs        every file_storage message against the real file_storage_server:
            exact reply lines, the bytes on disk, a client-only message
            refused, an unknown message name
  chat      every chat message against the real chat_server: two --stream
            members and single calls (Joined, MemberJoined, Line, Refused,
            MemberLeft; Leave ends with the server's close)
  errors    requests that do not match the schema (bad JSON, wrong types,
            out-of-range numbers, unknown fields, missing fields): exit 2
            and the field path, before any connection; usage and schema
            errors
  down      nothing listening: exit 1 naming host:port and the reason
  replies   a fake server (Python): --count, --count 0, --timeout, a
            silent server, unknown ids and refused payloads as error lines
  stream    --stream piped through against file_storage_server: replies in
            order, a bad line reported with its number and skipped (exit 2)
  describe  --list and --describe exact output, --help, --version
  tls       a round trip over TLS (scripts/make-test-certs), and a
            plaintext netfw-call refused

Usage: call_e2e.py BIN_DIR SOURCE_DIR CASE. Every wait is bounded; servers
are started on port 0 and killed at the end. NETFW_CALL_WRAP (e.g.
"valgrind -q --leak-check=full --error-exitcode=99") runs every netfw-call
under that command.
"""

import os
import re
import shutil
import subprocess
import time

from call_kit import (BIN, CASE, CHAT, CT, FS, PROCS, SRC, TMP, FakeServer,
                      ack, expect, fail, finish, free_port, line, read_line,
                      run, send, start_server, stream_proc)


def case_fs():
    store = os.path.join(TMP, "store")
    os.mkdir(store)
    _, port = start_server([os.path.join(BIN, "file_storage_server"),
                            "--dir", store, "--port", "0", "--workers", "2"])
    c = ["--proto", FS, "--port", str(port)]
    expect(c + ["Add", '{"filename":"a.txt","file":"AQID"}'], 0, [ack("OK")])
    with open(os.path.join(store, "a.txt"), "rb") as f:
        if f.read() != b"\x01\x02\x03":
            fail("Add stored other bytes")
    expect(c + ["Add", '{"filename":"a.txt","file":""}'], 0,
           [ack("FILE_EXISTS")])
    expect(c + ["Add", '{"file":"","filename":"empty"}'], 0, [ack("OK")])
    expect(c + ["Get", '{"filename":"a.txt"}'], 0,
           [line("GetResp", 4, '{"filename":"a.txt","file":"AQID"}')])
    expect(c + ["Get", '{"filename":"empty"}'], 0,
           [line("GetResp", 4, '{"filename":"empty","file":""}')])
    expect(c + ["Get", '{"filename":"nope"}'], 0, [ack("FILE_NOT_FOUND")])
    expect(c + ["List"], 0, [line(
        "ListResp", 6,
        '{"files":[{"name":"a.txt","size":3},{"name":"empty","size":0}]}')])
    expect(c + ["List", "{}"], 0, None)
    expect(c + ["Del", '{"filename":"a.txt"}'], 0, [ack("OK")])
    expect(c + ["Del", '{"filename":"a.txt"}'], 0, [ack("FILE_NOT_FOUND")])
    expect(c + ["--ip", "localhost", "List"], 0,
           [line("ListResp", 6, '{"files":[{"name":"empty","size":0}]}')])
    # names the server refuses come back as Ack NONE
    expect(c + ["Add", '{"filename":"../x","file":"AA=="}'], 0, [ack("NONE")])
    # a message to the client, an unknown name: refused before connecting
    expect(c + ["Ack", '{"rc":"OK"}'], 2, [],
           r"^netfw-call: Ack is a message to the client \(-> client\): a "
           r"client cannot send it$")
    expect(c + ["GetResp"], 2, [], r"^netfw-call: GetResp is a message to")
    expect(c + ["Ad", "{}"], 2, [],
           r"^netfw-call: unknown message 'Ad' \(did you mean 'Add'\?\)$")
    expect(c + ["Frobnicate"], 2, [],
           r"^netfw-call: unknown message 'Frobnicate' \(protocol "
           r"file_storage; --list shows its messages\)$")


def case_chat():
    _, port = start_server([os.path.join(BIN, "chat_server"), "--port", "0"])
    c = ["--proto", CHAT, "--port", str(port)]
    alice = stream_proc(port)
    send(alice, '{"message":"Join","fields":{"nick":"alice"}}')
    read_line(alice, line("Joined", 2, '{"members":[]}'), "alice")
    bob = stream_proc(port)
    send(bob, '{"message":"Join","fields":{"nick":"bob"}}')
    read_line(bob, line("Joined", 2, '{"members":["alice"]}'), "bob")
    read_line(alice, line("MemberJoined", 6, '{"nick":"bob"}'), "alice")
    send(bob, '{"message":"Say","fields":{"text":"hi \\u00e9 \\"q\\""}}')
    read_line(alice, line("Line", 5, '{"from":"bob","text":"hi \u00e9 \\"q\\""}'),
              "alice")
    send(bob, '{"message":"Say","fields":{"text":"nul\\u0000x"}}')
    read_line(alice, line("Line", 5, '{"from":"bob","text":"nul\\u0000x"}'),
              "alice")
    # a taken and an invalid nickname: Refused, one connection each
    expect(c + ["Join", '{"nick":"bob"}'], 0,
           [line("Refused", 3, '{"reason":"NICK_TAKEN"}')])
    expect(c + ["Join", '{"nick":"two words"}'], 0,
           [line("Refused", 3, '{"reason":"NICK_INVALID"}')])
    # carol joins and leaves at once: alice sees both
    expect(c + ["--count", "0", "--timeout", "300", "Join", '{"nick":"carol"}'],
           0, [line("Joined", 2, '{"members":["alice","bob"]}')])
    read_line(alice, line("MemberJoined", 6, '{"nick":"carol"}'), "alice")
    read_line(alice, line("MemberLeft", 7, '{"nick":"carol"}'), "alice")
    read_line(bob, line("MemberJoined", 6, '{"nick":"carol"}'), "bob")
    read_line(bob, line("MemberLeft", 7, '{"nick":"carol"}'), "bob")
    # Leave: the server closes bob's connection (status 1, and why)
    send(bob, '{"message":"Leave"}')
    read_line(alice, line("MemberLeft", 7, '{"nick":"bob"}'), "alice")
    finish(bob, 1, r"^netfw-call: 127\.0\.0\.1:%d: connection lost: closed "
           r"by the server$" % port, "bob")
    # a lone Leave (no Join): no reply, the connection closed
    expect(c + ["Leave"], 1, [],
           r"^netfw-call: 127\.0\.0\.1:%d: connection lost: closed by the "
           r"server \(before any reply: the server may expect TLS; try "
           r"--tls\?\)$" % port)
    # alice's stdin ends: quiet for --timeout, then status 0
    t0 = time.monotonic()
    finish(alice, 0, None, "alice")
    if time.monotonic() - t0 < 2.9:
        fail("alice exited before --timeout 3000 passed quietly")


def case_errors():
    p = ["--proto", CT, "--port", "1"]  # nothing is sent: refused first
    files = ",".join('{"name":"f%d","size":%s}' % (i, s)
                     for i, s in enumerate(["1", "2", "3", "4294967296"]))
    cases = [
        ("Put", '{"files":[%s],"rc":"OK","small":1,"big":0}' % files,
         r"fields\.files\[3\]\.size: expected an unsigned integer up to "
         r"4294967295"),
        ("Put", '{"files":[],"rc":"OKK","small":1,"big":0}',
         r"fields\.rc: unknown constant 'OKK' of enum Rc"),
        ("Put", '{"files":[],"rc":"OK","small":256,"big":0}',
         r"fields\.small: expected an unsigned integer up to 255"),
        ("Put", '{"files":[],"rc":"OK","small":-1,"big":0}',
         r"fields\.small: expected an unsigned integer up to 255"),
        ("Put", '{"files":[],"rc":"OK","small":"x","big":0}',
         r"fields\.small: expected an unsigned integer up to 255"),
        ("Put", '{"files":[],"rc":"OK","small":1.5,"big":0}',
         r"fields\.small: expected an unsigned integer up to 255"),
        ("Put", '{"files":[],"rc":"OK","small":1,"big":"9223372036854775808"}',
         r"fields\.big: expected an integer from -9223372036854775808 to "
         r"9223372036854775807"),
        ("Put", '{"files":{},"rc":"OK","small":1,"big":0}',
         r"fields\.files: expected an array"),
        ("Put", '{"files":[{"name":5,"size":1}],"rc":"OK","small":1,"big":0}',
         r"fields\.files\[0\]\.name: expected a string"),
        ("Put", '{"files":[],"rc":"OK","small":1}', r"fields\.big: missing"),
        ("Put", '{"files":[],"rc":"OK","smal":1,"big":0,"small":1}',
         r"fields\.smal: unknown field \(did you mean 'small'\?\)"),
        ("Put", '{"files":[],"rc":"OK","small":1,"big":0',
         r"invalid JSON at line 1, column 39: '}' expected near end of file"),
        ("Put", "[]", r"fields: expected an object"),
        ("Put", "", r"invalid JSON at line 1, column 0: "),
        ("Blob", '{"data":"AQI"}', r"fields\.data: invalid base64: "),
        ("Blob", '{"data":"AQ I="}', r"fields\.data: invalid base64: "),
    ]
    for msg, js, err in cases:
        expect(p + [msg, js], 2, [], r"\Anetfw-call: " + err + r"[^\n]*\n\Z")
    # what matches goes on to connect (port 1: refused, status 1)
    expect(p + ["Put", '{"files":[],"rc":1,"small":255,"big":"-9223372036854775808"}'],
           1, [], r"^netfw-call: 127\.0\.0\.1:1: connection refused$")
    expect(p + ["Blob", '{"data":"AQI="}'], 1, [], r"connection refused$")
    # usage
    usage = r"\(netfw-call --help tells how to use it\)"
    for args, err in [
            ([], r"^netfw-call: --proto FILE is required$"),
            (["--proto", CT], r"^netfw-call: nothing to do"),
            (["--proto", CT, "Put"], r"^netfw-call: --port N is required"),
            (p + ["--count", "x", "Put"], r"^netfw-call: --count takes a "
             r"number from 0 to 2147483647, not 'x'$"),
            (p + ["--timeout", "0", "Put"], r"--timeout takes a number from 1"),
            (["--proto", CT, "--port", "65536", "Put"], r"--port takes"),
            (p + ["--frob", "Put"], r"^netfw-call: unknown option --frob$"),
            (p + ["Put", "{}", "extra"], r"too many arguments from extra"),
            (p + ["--list", "Put"], r"one at a time"),
            (p + ["--stream", "--count", "2"], r"--count does not apply"),
            (p + ["--tls-cert", "x.pem", "Put"],
             r"--tls-cert and --tls-key go together"),
            (p + ["Put", "--port"], r"^netfw-call: missing argument for "
             r"--port$")]:
        expect(args, 2, [], err)
        expect(args, 2, [], usage)
    # schema errors: netfw-gen's diagnostics, status 2
    bad = os.path.join(TMP, "bad.netproto")
    with open(bad, "w") as f:
        f.write("protocol bad;\nmessage A = 1 { u33 x; }\n")
    expect(["--proto", bad, "--list"], 2, [],
           r"^%s:2:17: error: .*\n(.*\n)*netfw-call: 1 error in %s$"
           % (re.escape(bad), re.escape(bad)))
    expect(["--proto", os.path.join(TMP, "none.netproto"), "--list"], 2, [],
           r"^netfw-call: cannot open .*none\.netproto: No such file")


def case_down():
    port = free_port()
    expect(["--proto", FS, "--port", str(port), "List"], 1, [],
           r"^netfw-call: 127\.0\.0\.1:%d: connection refused$" % port)
    expect(["--proto", FS, "--port", str(port), "--stream"], 1, [],
           r"^netfw-call: 127\.0\.0\.1:%d: connection refused$" % port,
           stdin='{"message":"List"}\n')
    expect(["--proto", FS, "--ip", "no-such-host.invalid", "--port", "9",
            "List"], 1, [], r"^netfw-call: no-such-host\.invalid:9: ")


def case_replies():
    two = FakeServer([(7, b"\x01"), (7, b"\x03")])
    c = ["--proto", FS, "--port", str(two.port), "--timeout", "300"]
    expect(c + ["Get", '{"filename":"x"}'], 0, [ack("OK")])
    if two.got[0] != (3, b"\x01x"):
        fail("the server got %r for Get x" % (two.got[0],))
    # Get returns GetResp | Ack: each Ack is one of its replies
    get = ["Get", '{"filename":"x"}']
    expect(c + ["--count", "2"] + get, 0, [ack("OK"), ack("FILE_NOT_FOUND")])
    expect(c + ["--count", "3"] + get, 1, [ack("OK"), ack("FILE_NOT_FOUND")],
           r"^netfw-call: 127\.0\.0\.1:%d: 2 of 3 replies, then none within "
           r"300 ms$" % two.port)
    t0 = time.monotonic()
    expect(c + ["--count", "0"] + get, 0, [ack("OK"), ack("FILE_NOT_FOUND")])
    if time.monotonic() - t0 < 0.29:
        fail("--count 0 did not wait --timeout 300 for more")
    # List returns ListResp only: an Ack is printed but answers nothing
    expect(c + ["List"], 1, [ack("OK"), ack("FILE_NOT_FOUND")],
           r"^netfw-call: 127\.0\.0\.1:%d: no reply within 300 ms$"
           % two.port)
    silent = FakeServer([])
    t0 = time.monotonic()
    expect(["--proto", FS, "--port", str(silent.port), "--timeout", "400",
            "List"], 1, [],
           r"^netfw-call: 127\.0\.0\.1:%d: no reply within 400 ms$"
           % silent.port)
    if not 0.39 < time.monotonic() - t0 < 5:
        fail("--timeout 400 waited %.2f s" % (time.monotonic() - t0))
    # an unknown id (no reply to anything) and payloads the schema refuses:
    # error lines, status 1
    odd = FakeServer([(99, b"\x01\x02"), (7, b"\x09"), (7, b""),
                      (4, b"\x05ab")])
    status, out, err = run(["--proto", FS, "--port", str(odd.port), "--count",
                            "3"] + get)
    want = [r'\{"message":null,"id":99,"error":"unknown message id 99",'
            r'"payload":"AQI="\}',
            r'\{"message":"Ack","id":7,"error":"fields\.rc: [^"]+",'
            r'"payload":"CQ=="\}',
            r'\{"message":"Ack","id":7,"error":"fields\.rc: [^"]+",'
            r'"payload":""\}',
            r'\{"message":"GetResp","id":4,"error":"fields\.filename: '
            r'[^"]+","payload":"BWFi"\}']
    lines = out.splitlines()
    if status != 1 or err != "" or len(lines) != 4 or not all(
            re.fullmatch(w, g) for w, g in zip(want, lines)):
        fail("error lines: status %d, stderr %r, stdout\n%s" % (status, err,
                                                                out))
    # a request that names its replies (returns Told): a push (Note) before
    # the reply is printed and does not count
    push = FakeServer([(5, b"\x02hi"), (2, b"\x01"), (5, b"\x00")])
    c = ["--proto", CT, "--port", str(push.port), "--timeout", "300"]
    note = line("Note", 5, '{"text":"hi"}')
    expect(c + ["Ask", '{"n":1}'], 0, [note, line("Told", 2, '{"rc":"BAD"}')])
    expect(c + ["--count", "2", "Ask", '{"n":1}'], 1,
           [note, line("Told", 2, '{"rc":"BAD"}'),
            line("Note", 5, '{"text":""}')],
           r"^netfw-call: 127\.0\.0\.1:%d: 1 of 2 replies, then none within "
           r"300 ms$" % push.port)
    # without returns, any message is a reply
    expect(c + ["Blob", '{"data":""}'], 0, [note])
    # the server closes after its reply: enough replies is success
    closing = FakeServer([(7, b"\x01")], close=True)
    expect(["--proto", FS, "--port", str(closing.port)] + get, 0,
           [ack("OK")])
    expect(["--proto", FS, "--port", str(closing.port), "--count", "2"] + get,
           1, [ack("OK")],
           r"^netfw-call: 127\.0\.0\.1:%d: connection lost: closed by the "
           r"server$" % closing.port)


def case_stream():
    store = os.path.join(TMP, "store")
    os.mkdir(store)
    _, port = start_server([os.path.join(BIN, "file_storage_server"),
                            "--dir", store, "--port", "0"])
    requests = "\n".join([
        '{"message":"Add","fields":{"filename":"s.txt","file":"aGk="}}',
        '{"message":"Get","fields":{"filename":"s.txt"}}',
        '',
        '{"message":"List"}',
        '{"message":"Get","fields":{"filename":"s.txt","size":1}}',
        'not json',
        '{"message":"Gett","fields":{}}',
        '{"message":"Ack","fields":{"rc":"OK"}}',
        '{"message":"Del","fields":{"filename":"s.txt"},"x":1}',
        '{"fields":{}}',
        '{"message":"Del","fields":{"filename":"s.txt"}}',
        '{"message":"Del","fields":{"filename":"s.txt"}}'])  # no final \n
    t0 = time.monotonic()
    expect(["--proto", FS, "--port", str(port), "--timeout", "500",
            "--stream"], 2, [
                ack("OK"),
                line("GetResp", 4, '{"filename":"s.txt","file":"aGk="}'),
                line("ListResp", 6, '{"files":[{"name":"s.txt","size":2}]}'),
                ack("OK"), ack("FILE_NOT_FOUND")],
           r"\Anetfw-call: stdin line 5: fields\.size: unknown field[^\n]*\n"
           r"netfw-call: stdin line 6: invalid JSON at column 3: '\[' or '\{' "
           r"expected near 'not'\n"
           r"netfw-call: stdin line 7: unknown message 'Gett' \(did you mean "
           r"'Get'\?\)\n"
           r"netfw-call: stdin line 8: Ack is a message to the client[^\n]*\n"
           r"netfw-call: stdin line 9: unknown key 'x' [^\n]*\n"
           r"netfw-call: stdin line 10: \"message\" must be a message name "
           r"\(a string\)\n\Z", stdin=requests)
    if time.monotonic() - t0 < 0.49:
        fail("--stream did not wait --timeout 500 after stdin ended")
    # good lines only: status 0; an empty stdin: nothing, status 0
    expect(["--proto", FS, "--port", str(port), "--timeout", "200",
            "--stream"], 0, [ack("FILE_NOT_FOUND")] * 2,
           stdin='{"message":"Del","fields":{"filename":"s.txt"}}\n' * 2)
    expect(["--proto", FS, "--port", str(port), "--timeout", "200",
            "--stream"], 0, [], stdin="")
    # 12 requests in one pipe (the server queues 16 a connection): Add
    # then Get of six files, the replies in order
    many, want = "", []
    for i in range(6):
        many += ('{"message":"Add","fields":{"filename":"m%d","file":"%s"}}\n'
                 '{"message":"Get","fields":{"filename":"m%d"}}\n'
                 % (i, "AQ==" if i % 2 else "", i))
        want += [ack("OK"), line("GetResp", 4, '{"filename":"m%d","file":"%s"}'
                                 % (i, "AQ==" if i % 2 else ""))]
    expect(["--proto", FS, "--port", str(port), "--timeout", "1000",
            "--stream"], 0, want, stdin=many)


DESCRIBE = {
    "Add": """/// Store a file; answered by Ack OK or FILE_EXISTS.
message Add = 1 -> server returns Ack {
    string<u8> filename;
    bytes<u32> file;
}
""",
    "List": """/// List every stored file; answered by ListResp.
message List = 5 -> server returns ListResp {}
""",
    "ListResp": """message ListResp = 6 -> client {
    repeated<u16> FileEntry files;
}
""",
    "FileEntry": """/// One stored file, as listed by LIST_RESP.
struct FileEntry {
    string<u8> name;
    u32 size;
}
""",
    "Rc": """/// Result of ADD and DEL, and of a GET or DEL of a missing file.
enum Rc : u8 {
    NONE = 0;
    OK = 1;
    FILE_EXISTS = 2;
    FILE_NOT_FOUND = 3;
}
""",
}

LIST = """message Add = 1 -> server returns Ack
message Del = 2 -> server returns Ack
message Get = 3 -> server returns GetResp | Ack
message GetResp = 4 -> client
message List = 5 -> server returns ListResp
message ListResp = 6 -> client
message Ack = 7 -> client
struct FileEntry
enum Rc : u8
"""

# evolution.netproto: [since], defaults, open enums, extensible structs.
EVOLUTION = os.path.join(SRC, "tests", "gen", "evolution.netproto")
DESCRIBE_EV = {
    "Put": """message Put = 1 -> server {
    string<u8> path;
    u32 mode = 420 [since 2];
    Access access [since 2];
    string<u8> note = "none" [since 3];
    optional u64 mtime [since 3];
}
""",
    "Hello": """/// Every field added later: an empty payload is a version-1 Hello.
message Hello = 6 {
    i16 delta = -2 [since 2];
    f32 ratio = 1.5 [since 2];
    bool fast = true [since 2];
    bytes<u8> tag = "\\x00\\xff" [since 2];
    string<u8> who = "caf\\xc3\\xa9" [since 2];
    Rc rc = DENIED [since 2];
    repeated<u8> u16 ports [since 2];
    u8 pad[2] [since 2];
}
""",
    "Entry": """/// Length-prefixed (u8) so that it can grow inside a repeated field.
struct Entry extensible<u8> {
    string<u8> name;
    u32 size;
    u32 mode = 420 [since 2];
}
""",
    "Rc": """/// Open: a peer may send a value this schema does not list.
enum Rc : u8 open {
    OK = 0;
    DENIED = 1;
}
""",
}


def case_describe():
    expect(["--proto", FS, "--list"], 0, LIST.splitlines())
    for name, text in DESCRIBE.items():
        expect(["--proto", FS, "--describe", name], 0, text.splitlines())
    for name, text in DESCRIBE_EV.items():
        expect(["--proto", EVOLUTION, "--describe", name], 0,
               text.splitlines())
    expect(["--proto", CT, "--describe", "Ask"], 0, [
        "/// Answered by Told; Note is a push that may come first.",
        "message Ask = 4 -> server returns Told {", "    u8 n;", "}"])
    expect(["--proto", CT, "--list"], 0, [
        "message Put = 1 -> server", "message Told = 2 -> client",
        "message Blob = 3", "message Ask = 4 -> server returns Told",
        "message Note = 5 -> client", "struct FileEntry", "enum Rc : u8"])
    expect(["--proto", CT, "--describe", "Blob"], 0, [
        "/// Raw bytes.", "message Blob = 3 {",
        "    /// The bytes,", "    /// base64 in JSON.",
        "    bytes<u16> data;", "}"])
    expect(["--proto", FS, "--describe", "Acks"], 2, [],
           r"^netfw-call: no message, struct or enum 'Acks' \(did you mean "
           r"'Ack'\?\)$")
    expect(["--proto", FS, "--describe", "Zzzzzzzz"], 2, [],
           r"^netfw-call: no message, struct or enum 'Zzzzzzzz' in protocol "
           r"file_storage \(--list shows them\)$")
    # --describe PROTOCOL writes the whole schema; compiled again, it gives
    # the same descriptor (netfw-gen --descriptor) as the original
    for path, proto in [(FS, "file_storage"), (CHAT, "chat"),
                        (EVOLUTION, "ev"), (CT, "ct"),
                        (os.path.join(SRC, "tests", "gen", "calls.netproto"),
                         "calls"),
                        (os.path.join(SRC, "tests", "fuzz",
                                      "all_types.netproto"), "fz"),
                        (os.path.join(SRC, "tests", "gen",
                                      "all_types_be.netproto"), "atb")]:
        out, _ = expect(["--proto", path, "--describe", proto], 0)
        again = os.path.join(TMP, proto + ".netproto")
        with open(again, "w") as f:
            f.write(out)
        jsons = []
        for i, src in enumerate([path, again]):
            j = os.path.join(TMP, "%s.%d.json" % (proto, i))
            subprocess.run([os.path.join(BIN, "netfw-gen"), "--descriptor", j,
                            src], check=True, timeout=30)
            with open(j) as f:
                jsons.append(f.read())
        if jsons[0] != jsons[1] or len(jsons[0]) < 100:
            fail("--describe %s does not compile to the same descriptor"
                 % proto)
    out, _ = expect(["--proto", FS, "--describe", "file_storage"], 0)
    if not out.startswith(
            "/// The file-storage protocol of netframe's example, byte for "
            "byte: a client\n/// stores, fetches, deletes and lists files "
            "kept by the server.\nprotocol file_storage;\n\n"
            + DESCRIBE["Rc"] + "\n" + DESCRIBE["FileEntry"] + "\n"
            + DESCRIBE["Add"]):
        fail("--describe file_storage printed\n" + out)
    out, _ = expect(["--help"], 0)
    for opt in ["--proto FILE", "--ip IP", "--port N", "--count N",
                "--timeout MS", "--stream", "--list", "--describe NAME",
                "--tls-ca FILE", "--tls-cert FILE", "--tls-key FILE",
                "--tls-server-name NAME", "--version", "Exit status"]:
        if opt not in out:
            fail("--help does not mention %s" % opt)
    out, _ = expect(["--version"], 0)
    if not re.fullmatch(r"netfw-call \d+\.\d+\.\d+\n", out):
        fail("--version printed %r" % out)


def case_tls():
    certs = os.path.join(TMP, "certs")
    subprocess.run([os.path.join(SRC, "scripts", "make-test-certs"), certs],
                   check=True, capture_output=True, timeout=60)
    store = os.path.join(TMP, "store")
    os.mkdir(store)
    _, port = start_server([
        os.path.join(BIN, "file_storage_server"), "--dir", store, "--port",
        "0", "--tls-cert", os.path.join(certs, "server.pem"), "--tls-key",
        os.path.join(certs, "server.key")])
    c = ["--proto", FS, "--port", str(port), "--timeout", "3000"]
    ca = ["--tls-ca", os.path.join(certs, "ca.pem")]
    expect(c + ca + ["Add", '{"filename":"t","file":"dGxz"}'], 0, [ack("OK")])
    expect(c + ca + ["--tls-server-name", "localhost", "Get",
                     '{"filename":"t"}'], 0,
           [line("GetResp", 4, '{"filename":"t","file":"dGxz"}')])
    expect(c + ["--tls-ca", os.path.join(certs, "other-ca.pem"), "List"], 1,
           [], r"^netfw-call: 127\.0\.0\.1:%d: .*certificate verify failed"
           % port)
    expect(c + ["--timeout", "500", "List"], 1, [],
           r"^netfw-call: 127\.0\.0\.1:%d: " % port)
    expect(c + ["--tls-ca", os.path.join(TMP, "none.pem"), "List"], 2, [],
           r"^netfw-call: --tls-ca \S*none\.pem: No such file or directory$")


def main():
    try:
        {"fs": case_fs, "chat": case_chat, "errors": case_errors,
         "down": case_down, "replies": case_replies, "stream": case_stream,
         "describe": case_describe, "tls": case_tls}[CASE]()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
            p.wait()
        shutil.rmtree(TMP, ignore_errors=True)
    print("ok: " + CASE)


main()
