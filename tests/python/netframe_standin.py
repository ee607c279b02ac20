"""A stand-in for netframe, NOT netframe: the smallest Python code with the
API netframe's README documents (shared/design/netframe-readme.md), so that
the generated module's netframe helpers can be tested and a Python server
written on them can run, without netframe installed.

Documented API reproduced here:
- Message: a dataclass of a header (hdr.id, hdr.size) and a payload;
  append(data) adds to the payload and updates hdr.size (which the user
  does not set); pop(length) returns the next `length` bytes not yet
  extracted (payload and size unchanged).
- OwnedMessage: .msg and .conn (the Connection it came from).
- Connection: send(msg), shutdown(), addr() -> (ip, port).
- Client: send(msg), recv(timeout) -> Message (queue.Empty on timeout,
  ConnectionResetError once the connection is lost).

Not reproduced: processes and workers (Server, Config); this Connection
runs on one asyncio loop (StreamConnection) or records what it is given
(RecordingConnection). install() makes `import netframe` find this module,
as the generated helpers import netframe lazily."""
import asyncio
import dataclasses
import queue
import struct
import sys

HEADER = struct.Struct("<HI")  # netframe's header: id u16, size u32, LE


@dataclasses.dataclass
class Header:
    id: int = 0
    size: int = 0


@dataclasses.dataclass
class Message:
    hdr: Header = dataclasses.field(default_factory=Header)
    payload: bytearray = dataclasses.field(default_factory=bytearray)
    _read: int = 0

    def append(self, data):
        """Appends data to the payload and sets hdr.size."""
        self.payload += data
        self.hdr.size = len(self.payload)

    def pop(self, length):
        """The next length bytes not yet extracted (payload unchanged)."""
        out = bytes(self.payload[self._read:self._read + length])
        self._read += len(out)
        return out

    def to_bytes(self):
        """The frame on the wire: header then payload."""
        return HEADER.pack(self.hdr.id, self.hdr.size) + bytes(self.payload)


@dataclasses.dataclass
class OwnedMessage:
    msg: Message
    conn: object


def message_of(mid, payload):
    """A Message as a netframe worker hands it over after reading a frame."""
    msg = Message()
    msg.hdr.id = mid
    msg.append(payload)
    return msg


class RecordingConnection:
    """A Connection that keeps what it is sent: .sent (Messages) and
    .shut (whether shutdown() was called)."""

    def __init__(self, addr=("127.0.0.1", 40000)):
        self.sent, self.shut, self._addr = [], False, addr

    def send(self, msg):
        self.sent.append(msg)

    def shutdown(self):
        self.shut = True

    def addr(self):
        return self._addr


class StreamConnection:
    """A Connection over an asyncio stream: send() writes the frame at once
    (buffered by asyncio), shutdown() closes the socket."""

    def __init__(self, writer):
        self.writer = writer
        self.closed = False

    def send(self, msg):
        if self.closed:
            raise ConnectionResetError("connection shut down")
        self.writer.write(msg.to_bytes())

    def shutdown(self):
        if not self.closed:
            self.closed = True
            self.writer.close()

    def addr(self):
        return self.writer.get_extra_info("peername")[:2]


class RecordingClient:
    """A Client whose send() records Messages and whose recv() returns
    those queued with feed(); queue.Empty when none is there in time."""

    def __init__(self):
        self.sent, self._in = [], queue.Queue()

    def send(self, msg):
        self.sent.append(msg)

    def feed(self, msg):
        self._in.put(msg)

    def recv(self, timeout=None):
        return self._in.get(timeout=timeout)


def install():
    """Makes `import netframe` (and `from netframe import Message`) give
    this module."""
    sys.modules["netframe"] = sys.modules[__name__]
