"""Raw-socket peer for file_storage_server tests: frames built and parsed by
hand from the protocol (protocols/file_storage.netproto), stdlib only."""
import socket
import struct
import time

HDR = struct.Struct("<HI")
ADD, DEL, GET, GET_RESP, LIST, LIST_RESP, ACK = range(1, 8)
NONE, OK, FILE_EXISTS, FILE_NOT_FOUND = range(4)


def frame(mid, payload=b""):
    return HDR.pack(mid, len(payload)) + payload


def _name(n):
    b = n.encode()
    return bytes([len(b)]) + b


def add(n, data):
    return frame(ADD, _name(n) + struct.pack("<I", len(data)) + data)


def get(n):
    return frame(GET, _name(n))


def delete(n):
    return frame(DEL, _name(n))


def list_():
    return frame(LIST)


def connect(port, timeout=10.0):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def recv_exact(s, n):
    """n bytes from s; EOFError (with the count got) if the peer closes."""
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError(len(buf))
        buf += chunk
    return bytes(buf)


def reply(s):
    """(id, payload) of the next frame."""
    mid, size = HDR.unpack(recv_exact(s, HDR.size))
    return mid, recv_exact(s, size)


def get_resp(body):
    """(name, data) of a GET_RESP payload, checking its lengths."""
    n = body[0]
    (flen,) = struct.unpack_from("<I", body, 1 + n)
    data = body[5 + n:]
    assert len(data) == flen, (len(data), flen)
    return body[1:1 + n].decode(), data


def list_resp(body):
    """{name: size} of a LIST_RESP payload."""
    (count,) = struct.unpack_from("<H", body, 0)
    pos, out = 2, {}
    for _ in range(count):
        n = body[pos]
        name = body[pos + 1:pos + 1 + n].decode()
        (size,) = struct.unpack_from("<I", body, pos + 1 + n)
        out[name] = size
        pos += 1 + n + 4
    return out


def expect_ack(s, rc):
    mid, body = reply(s)
    assert mid == ACK and body[0] == rc, (mid, body[:8], "wanted ACK", rc)


def timed_list(port, limit):
    """LIST on a new connection; returns the listing, asserting it came
    within limit seconds."""
    t0 = time.monotonic()
    with connect(port, timeout=limit + 1) as s:
        s.sendall(list_())
        mid, body = reply(s)
    took = time.monotonic() - t0
    assert mid == LIST_RESP, mid
    assert took < limit, f"LIST took {took:.2f} s (limit {limit} s)"
    return list_resp(body)


def read_to_eof(s, limit=10.0):
    """Everything until the peer closes (within limit seconds)."""
    s.settimeout(limit)
    buf = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return bytes(buf)
        buf += chunk


def closed_by_peer(s, limit=10.0):
    """True when the peer closes s (EOF or reset) within limit seconds,
    sending nothing more."""
    try:
        return read_to_eof(s, limit) == b""
    except ConnectionResetError:
        return True


def abort(s):
    """Closes s with a reset (SO_LINGER 0) instead of a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
