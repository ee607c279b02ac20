"""TLS peer for the examples' TLS tests: Python's ssl module (OpenSSL) over
real sockets, netfw frames built by hand (fs_peer). Stdlib only."""
import hashlib
import socket
import ssl

import fs_peer


def context(ca, cert=None, key=None, max_version=None):
    """A client context trusting ca (certificate and hostname verified),
    presenting cert/key when given."""
    ctx = ssl.create_default_context(cafile=ca)
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def connect(port, ctx, server_name="localhost", timeout=10.0):
    """A TLS connection to 127.0.0.1:port, handshake done."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=server_name)


def echo(s, mid, payload):
    """Sends one frame and checks the reply is the same bytes exactly."""
    s.sendall(fs_peer.frame(mid, payload))
    hdr = fs_peer.recv_exact(s, fs_peer.HDR.size)
    assert hdr == fs_peer.HDR.pack(mid, len(payload)), (hdr, mid, len(payload))
    body = fs_peer.recv_exact(s, len(payload))
    assert body == payload, f"echo of id {mid}: {len(payload)} bytes differ"


def fingerprint(s):
    """SHA-256 of the peer's certificate (DER), 64 lowercase hex digits."""
    return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
