"""The sample values of test_fixtures.py and test_evolve.py, built with a
generated module: the same values, in the same order, as the C helper
py_fixtures prints (fixtures_fz.c, fixtures_other.c, fixtures_evolve.c).
The first sample of every type is `Cls()`. Each function takes the
generated module and returns [(type name, value)]."""

INF = float("inf")


def ramp(n):
    """bytes(i % 256 for i in range(n)), as fixtures_fz.c's ramp."""
    return bytes(i % 256 for i in range(n))


def fz_scalars(m):
    return [
        ("Ints", m.Ints()),
        ("Ints", m.Ints(a=255, b=65535, c=4294967295, d=2**64 - 1, e=-128,
                        f=-32768, g=-2**31, h=-2**63)),
        ("Ints", m.Ints(a=1, b=0x0102, c=258, d=1, e=-1, f=-2, g=2**31 - 1,
                        h=-4, k=65535, l=-2**31, m=-1.5, n=False, o=[1, 255])),
        ("Floats", m.Floats()),
        ("Floats", m.Floats(x=1.0, y=-2.0, z=True)),
        ("Floats", m.Floats(x=-0.0, y=1e300, z=False)),
        ("Floats", m.Floats(x=INF, y=-INF, z=True)),
        ("Floats", m.Floats(x=3.4028234663852886e38, y=5e-324, z=False)),
        ("Enums", m.Enums()),
        ("Enums", m.Enums(e8=m.E8.C, e16=m.E16.HI, e32=m.E32.BIG, rc=999,
                          hi=m.E16.LO, bad=m.Rc.OK)),
        ("Enums", m.Enums(e8=m.E8.B, e16=m.E16.LO, e32=m.E32.NIL)),
    ]


def fz_texts(m):
    return [
        ("Strings", m.Strings()),
        ("Strings", m.Strings(s8="a.txt", s16="ünïcödé ✓",
                              s32="\U0001d11e emoji \U0001f600")),
        ("Strings", m.Strings(s8="x" * 255, s16="x" * 300, s32="")),
        ("Strings", m.Strings(s8="\x7f", s16="x" * 65535, s32="x" * 70000)),
        ("Strings", m.Strings(s8="a", note="", tag=b"", maybe=7,
                              more=["x", "yz"])),
        ("Blobs", m.Blobs()),
        ("Blobs", m.Blobs(b8=b"\x01\x02\x03", b16=ramp(255), b32=b"\x00")),
        ("Blobs", m.Blobs(b8=ramp(255), b16=ramp(1000), b32=ramp(70000))),
        ("Blobs", m.Blobs(b8=b"", b16=ramp(65535), b32=b"")),
    ]


def fz_arrays(m):
    P = m.Point
    return [
        ("Arrays", m.Arrays()),
        ("Arrays", m.Arrays(raw=[1, 2, 3, 255], names=["ab", ""],
                            pts=[P(x=1, y=-1), P(x=-2**31, y=2**31 - 1),
                                 P(x=0, y=7)],
                            codes=[m.E16.HI, m.E16.LO])),
        ("Repeats", m.Repeats()),
        ("Repeats", m.Repeats(bytes8=[7, 8], words=["a", "bb", "ccc"],
                              points=[P(x=1, y=2), P(x=-3, y=-4)],
                              codes=[m.E32.BIG, m.E32.NIL],
                              blobs=[b"", b"\x00\xff"])),
        ("Repeats", m.Repeats(bytes8=[255 - i for i in range(255)])),
    ]


def fz_optionals(m):
    return [
        ("Optionals", m.Optionals()),
        ("Optionals", m.Optionals(
            n=2**64 - 1, s="s", b=b"\x01\x02", e=m.E8.C, p=m.Point(x=5, y=-5),
            i=m.Inner(p=None, e=m.E8.B, flag=True))),
        ("Optionals", m.Optionals(
            n=0, s="", b=b"", e=m.E8.A, p=m.Point(x=0, y=0),
            i=m.Inner(p=m.Point(x=1, y=2), e=m.E8.A, flag=False))),
    ]


def fz_structs(m):
    P, I, T = m.Point, m.Inner, m.Tree
    return [
        ("Point", P()),
        ("Point", P(x=-1, y=1)),
        ("Inner", I()),
        ("Inner", I(p=P(x=3, y=4), e=m.E8.C, flag=True)),
        ("Tree", T()),
        ("Tree", T(label="t", kids=[T(label="u", kids=[])])),
        ("Deep", m.Deep()),
        ("Deep", m.Deep(inner=I(p=None, e=m.E8.A, flag=False),
                        maybe=I(p=P(x=9, y=9), e=m.E8.B, flag=True),
                        corners=[P(x=0, y=1), P(x=2, y=3)])),
    ]


def fz_nested(m):
    P, I, T, D = m.Point, m.Inner, m.Tree, m.Deep
    tree = T(label="root", kids=[T(label="a", kids=[]),
                                 T(label="b", kids=[T(label="c", kids=[])])])
    deep = D(inner=I(p=P(x=1, y=2), e=m.E8.C, flag=True), maybe=None,
             corners=[P(x=1, y=1), P(x=2, y=2)])
    many = [D(), D(maybe=I(p=None, e=m.E8.B, flag=False),
                   corners=[P(x=-1, y=-2), P(x=-3, y=-4)])]
    return [
        ("Nested", m.Nested()),
        ("Nested", m.Nested(tree=tree, deep=deep, many=many)),
        ("Empty", m.Empty()),
    ]


def fz_evolving(m):
    """The schema's evolution part: extensible structs, Grows."""
    Ext, W, T = m.Ext, m.Window, m.ETree
    x1 = Ext(a=1, s="e", more=1, at=m.Point(x=1, y=2), rc=m.Rc.BAD)
    t1 = T(v=1, kids=[T(v=2, kids=[], w=3)], w=4)
    return [
        ("Ext", Ext()), ("Ext", x1),
        ("Window", W()), ("Window", W(x=5)),
        ("ETree", T()), ("ETree", t1),
        ("Grows", m.Grows()),
        ("Grows", m.Grows(plain=x1, many=[x1, Ext()], maybe=x1,
                          two=[Ext(), x1], win=W(x=9), wins=[W(x=1), W(x=2)],
                          tree=t1, rc=300, ports=[80, 443], later=x1,
                          flag=False)),
    ]


def fz(m):
    """tests/fuzz/all_types.netproto, as fixtures_fz.c."""
    return (fz_scalars(m) + fz_texts(m) + fz_arrays(m) + fz_optionals(m) +
            fz_structs(m) + fz_nested(m) + fz_evolving(m))


def fs(m):
    """protocols/file_storage.netproto, as fixtures_other.c."""
    E = m.FileEntry
    return [
        ("FileEntry", E()), ("FileEntry", E(name="bb", size=258)),
        ("Add", m.Add()), ("Add", m.Add(filename="a.txt", file=b"\1\2\3")),
        ("Del", m.Del()), ("Del", m.Del(filename="x")),
        ("Get", m.Get()), ("Get", m.Get(filename="y")),
        ("GetResp", m.GetResp()),
        ("GetResp", m.GetResp(filename="a.txt", file=b"hi")),
        ("List", m.List()),
        ("ListResp", m.ListResp()),
        ("ListResp", m.ListResp(files=[E(name="a.txt", size=3),
                                       E(name="bb", size=258)])),
        ("Ack", m.Ack()), ("Ack", m.Ack(rc=m.Rc.OK)),
        ("Ack", m.Ack(rc=m.Rc.FILE_NOT_FOUND)),
    ]


def chat(m):
    """protocols/chat.netproto, as fixtures_other.c (Line.from is from_)."""
    return [
        ("Join", m.Join()), ("Join", m.Join(nick="alice")),
        ("Joined", m.Joined()), ("Joined", m.Joined(members=["bob", "carol"])),
        ("Refused", m.Refused()),
        ("Refused", m.Refused(reason=m.Refusal.ALREADY_JOINED)),
        ("Say", m.Say()), ("Say", m.Say(text="hello ✓")),
        ("Line", m.Line()), ("Line", m.Line(from_="bob", text="hi")),
        ("MemberJoined", m.MemberJoined()),
        ("MemberJoined", m.MemberJoined(nick="dave")),
        ("MemberLeft", m.MemberLeft()), ("MemberLeft", m.MemberLeft(nick="eve")),
        ("Leave", m.Leave()),
    ]


def atb(m):
    """tests/gen/all_types_be.netproto (big-endian), as fixtures_other.c."""
    P, T, I, C = m.Point, m.Tree, m.Inner, m.Color
    return [
        ("Point", P()), ("Point", P(x=-2, y=0x01020304)),
        ("Tree", T()), ("Inner", I()),
        ("Scalars", m.Scalars()),
        ("Scalars", m.Scalars(a=1, b=0x0102, c=258, d=1, e=-1, f=-2, g=-2**31,
                              h=-4, i=1.0, j=-2.0, k=True)),
        ("Texts", m.Texts()),
        ("Texts", m.Texts(s8="a", s16="bc", s32="", b8=b"\x01",
                          b16=b"\x02\x03", b32=b"")),
        ("Enums", m.Enums()),
        ("Enums", m.Enums(color=C.GREEN, wide=m.Wide.HIGH, big=m.Big.TOP)),
        ("Arrays", m.Arrays()),
        ("Arrays", m.Arrays(fixed=[1, 0x0203, 65535],
                            pts=[P(x=1, y=-1), P(x=0, y=2)], names=["n", ""])),
        ("Repeats", m.Repeats()),
        ("Repeats", m.Repeats(nums=[1, 0x01020304], words=["x"],
                              points=[P(x=1, y=2)], colors=[C.BLUE, C.RED])),
        ("Optionals", m.Optionals()),
        ("Optionals", m.Optionals(maybe=5, note=None, where=P(x=1, y=-1),
                                  inner=I(p=None, c=C.GREEN))),
        ("Nested", m.Nested()),
        ("Nested", m.Nested(tree=T(label="r", kids=[T(label="k", kids=[])]),
                            inner=I(p=P(x=1, y=2), c=C.RED))),
        ("Empty", m.Empty()),
    ]


def pyev1(m):
    """py_evolve_v1.netproto, as fixtures_evolve.c."""
    It = m.Item
    return [
        ("Item", It()), ("Item", It(id=1, name="a")),
        ("Hello", m.Hello()), ("Hello", m.Hello(seq=7, who="ann")),
        ("Status", m.Status()),
        ("Status", m.Status(rc=m.Rc.BUSY, kind=m.Kind.ONE,
                            item=It(id=2, name="b"), extra=None,
                            items=[It(id=3, name="c")])),
        ("Status", m.Status(rc=999, kind=m.Kind.NONE, item=It(),
                            extra=It(id=4, name="d"), items=[])),
        ("Bye", m.Bye()),
    ]


def pyev2(m):
    """py_evolve_v2.netproto, as fixtures_evolve.c."""
    It = m.Item
    return [
        ("Item", It()), ("Item", It(id=1, name="a", weight=9, label="L")),
        ("Hello", m.Hello()),
        ("Hello", m.Hello(seq=7, who="ann", level=-2, ratio=0.25,
                          blob=b"\xaa\xbb", yes=False, kind=m.Kind.ONE)),
        ("Status", m.Status()),
        ("Status", m.Status(rc=m.Rc.LATER, kind=m.Kind.ONE,
                            item=It(id=2, name="b", weight=8, label="x"),
                            extra=It(id=4, name="d"),
                            items=[It(id=3, name="c", weight=1, label="")],
                            more=m.Rc.GONE, hint=5, extra_list=[1, 2])),
        ("Status", m.Status(rc=999, kind=m.Kind.ONE, item=It(), extra=None,
                            items=[], more=12345, hint=None, extra_list=[])),
        ("Bye", m.Bye()),
        ("Extra", m.Extra()), ("Extra", m.Extra(x=5)),
    ]


SAMPLES = {"fz": fz, "fs": fs, "chat": chat, "atb": atb, "pyev1": pyev1,
           "pyev2": pyev2}
