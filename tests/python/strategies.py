"""Hypothesis strategies for values of the generated modules of
tests/fuzz/all_types.netproto (fz) and py_evolve_v2.netproto (pyev2): every
value they draw is valid (in range, lengths within their prefixes), so it
must encode, and decode back to itself."""
from hypothesis import strategies as st

u8, u16 = st.integers(0, 2**8 - 1), st.integers(0, 2**16 - 1)
u32, u64 = st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1)
i8, i16 = st.integers(-2**7, 2**7 - 1), st.integers(-2**15, 2**15 - 1)
i32, i64 = st.integers(-2**31, 2**31 - 1), st.integers(-2**63, 2**63 - 1)
f32, f64 = st.floats(width=32), st.floats()
# at most 4 UTF-8 bytes a character: 63 characters fit a u8 prefix
text8, text = st.text(max_size=63), st.text(max_size=200)
blob8, blob = st.binary(max_size=255), st.binary(max_size=600)


def fixed(elem, n):
    return st.lists(elem, min_size=n, max_size=n)


def fz(m):
    """{type name: strategy} for all_types.netproto."""
    e8, e16, e32 = (st.sampled_from(list(e)) for e in (m.E8, m.E16, m.E32))
    point = st.builds(m.Point, x=i32, y=i32)
    inner = st.builds(m.Inner, p=st.none() | point, e=e8, flag=st.booleans())
    leaf = st.builds(m.Tree, label=text8, kids=st.just([]))
    tree = st.recursive(leaf, lambda kids: st.builds(
        m.Tree, label=text8, kids=st.lists(kids, max_size=4)), max_leaves=12)
    deep = st.builds(m.Deep, inner=inner, maybe=st.none() | inner,
                     corners=fixed(point, 2))
    rc = open_enum(m.Rc, 16)
    ext = st.builds(m.Ext, a=u8, s=text8, more=u32, at=st.none() | point,
                    rc=rc)
    window = st.builds(m.Window, x=u8)
    eleaf = st.builds(m.ETree, v=u8, kids=st.just([]), w=u8)
    etree = st.recursive(eleaf, lambda kids: st.builds(
        m.ETree, v=u8, kids=st.lists(kids, max_size=3), w=u8), max_leaves=8)
    return {
        "Point": point, "Inner": inner, "Tree": tree, "Deep": deep,
        "Ints": st.builds(m.Ints, a=u8, b=u16, c=u32, d=u64, e=i8, f=i16,
                          g=i32, h=i64, k=u16, l=i32, m=f64,
                          n=st.booleans(), o=fixed(u8, 2)),
        "Floats": st.builds(m.Floats, x=f32, y=f64, z=st.booleans()),
        "Strings": st.builds(m.Strings, s8=text8, s16=text, s32=text,
                             note=text8, tag=blob, maybe=st.none() | u32,
                             more=st.lists(text8, max_size=5)),
        "Blobs": st.builds(m.Blobs, b8=blob8, b16=blob, b32=blob),
        "Enums": st.builds(m.Enums, e8=e8, e16=e16, e32=e32, rc=rc, hi=e16,
                           bad=rc),
        "Arrays": st.builds(m.Arrays, raw=fixed(u8, 4), names=fixed(text8, 2),
                            pts=fixed(point, 3), codes=fixed(e16, 2)),
        "Repeats": st.builds(
            m.Repeats, bytes8=st.lists(u8, max_size=255),
            words=st.lists(text, max_size=8), points=st.lists(point, max_size=8),
            codes=st.lists(e32, max_size=8), blobs=st.lists(blob8, max_size=8)),
        "Optionals": st.builds(
            m.Optionals, n=st.none() | u64, s=st.none() | text8,
            b=st.none() | blob, e=st.none() | e8, p=st.none() | point,
            i=st.none() | inner),
        "Nested": st.builds(m.Nested, tree=tree, deep=deep,
                            many=st.lists(deep, max_size=4)),
        "Empty": st.builds(m.Empty),
        "Ext": ext, "Window": window, "ETree": etree,
        "Grows": st.builds(
            m.Grows, plain=ext, many=st.lists(ext, max_size=3),
            maybe=st.none() | ext, two=fixed(ext, 2), win=window,
            wins=st.lists(window, max_size=3), tree=etree, rc=rc,
            ports=st.lists(u16, max_size=5), later=st.none() | ext,
            flag=st.booleans()),
    }


def open_enum(e, width):
    """A listed constant or any value of the enum's width."""
    return st.sampled_from(list(e)) | st.integers(0, 2**width - 1)


def pyev2(m):
    """{type name: strategy} for py_evolve_v2.netproto."""
    kind = st.sampled_from(list(m.Kind))
    item = st.builds(m.Item, id=u32, name=text8, weight=u16, label=text8)
    return {
        "Item": item,
        "Hello": st.builds(m.Hello, seq=u32, who=text8, level=i16, ratio=f32,
                           blob=blob8, yes=st.booleans(), kind=kind),
        "Status": st.builds(
            m.Status, rc=open_enum(m.Rc, 16), kind=kind, item=item,
            extra=st.none() | item, items=st.lists(item, max_size=5),
            more=open_enum(m.Rc, 16), hint=st.none() | u32,
            extra_list=st.lists(u16, max_size=20)),
        "Bye": st.builds(m.Bye),
        "Extra": st.builds(m.Extra, x=u32),
    }


STRATEGIES = {"fz": fz, "pyev2": pyev2}
