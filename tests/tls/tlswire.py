"""The netfw wire for the TLS interop tests (Python stdlib only).

A frame is a 6-byte header, u16 message id then u32 payload size, both
little-endian (runtime/core/frame.c, docs/wire-format.md), then the payload.
"""
import struct

HDR = struct.Struct("<HI")
WHO = 0xFFF0  # tls_echo_app / py_tls_server: "who am I to you" query
BYE = 0xFFF1  # tls_echo_app: echoed, then netfw_conn_shutdown


def frame(msg_id, payload=b""):
    """Returns the bytes of one frame."""
    return HDR.pack(msg_id, len(payload)) + payload


def recv_exact(sock, n):
    """Reads exactly n bytes; raises EOFError when the peer closes first."""
    parts, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (got, n))
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def recv_frame(sock):
    """Reads one frame; returns (id, payload)."""
    msg_id, size = HDR.unpack(recv_exact(sock, HDR.size))
    return msg_id, recv_exact(sock, size)


def parse_frames(data):
    """Splits bytes made of whole frames into [(id, payload)]."""
    out, off = [], 0
    while off < len(data):
        msg_id, size = HDR.unpack_from(data, off)
        off += HDR.size
        out.append((msg_id, data[off:off + size]))
        off += size
    if off != len(data):
        raise ValueError("trailing partial frame")
    return out


def peer_text(has_cert, cn, version, alpn):
    """The WHO answer's text for these values."""
    return ("has_cert=%d cn=%s version=%s alpn=%s"
            % (1 if has_cert else 0, cn, version, alpn)).encode()
