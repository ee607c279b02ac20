#!/usr/bin/env python3
"""A TLS echo server on Python's ssl module, the peer of test_tls_client.

Usage: py_tls_server.py --cert PEM --key KEY [--ca PEM] [--alpn NAME]
                        [--max12] [--log FILE] [--host ADDR]

Listens on ADDR (default 127.0.0.1), port 0, and prints "port N". Every connection runs in
its own thread: the handshake, then every netfw frame is echoed, but a frame
of id 0xFFF0 (WHO), answered with "has_cert=H cn=CN version=V alpn=A" about
the client as this server sees it. --ca requires a client certificate
signed by that CA; --max12 caps the version at TLS 1.2; --log appends
"end close_notify" or "end ragged" per connection, as the client left (a
close_notify is answered with the server's own). Exits when stdin
reaches EOF or after --lifetime seconds (default 120), so it never outlives
its test.
"""
import argparse
import os
import socket
import ssl
import sys
import threading

import tlswire


def make_context(args):
    """Returns the server SSLContext the arguments ask for."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.ca)
    if args.alpn:
        ctx.set_alpn_protocols([args.alpn])
    if args.max12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def client_cn(ssock):
    """Returns the common name of the verified client certificate, or ""."""
    cert = ssock.getpeercert()
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


def who(ssock):
    """The WHO answer for this connection."""
    cn = client_cn(ssock)
    return tlswire.peer_text(bool(cn), cn, ssock.version(),
                             ssock.selected_alpn_protocol() or "")


def note(log, text):
    """Appends one line to the --log file (when given)."""
    if log:
        with open(log, "a") as f:
            f.write(text + "\n")


def echo(ssock):
    """Echoes frames (answers WHO) until the client's close_notify."""
    while True:
        try:
            msg_id, payload = tlswire.recv_frame(ssock)
        except EOFError:
            return
        if msg_id == tlswire.WHO:
            payload = who(ssock)
        ssock.sendall(tlswire.frame(msg_id, payload))


def serve(ctx, sock, log):
    """Handshakes, echoes, and logs how the client left: "end close_notify"
    (then answers with its own) or "end ragged" (EOF without one)."""
    sock.settimeout(30)
    try:
        with ctx.wrap_socket(sock, server_side=True,
                             suppress_ragged_eofs=False) as ssock:
            try:
                echo(ssock)
            except ssl.SSLEOFError:
                note(log, "end ragged")
                return
            note(log, "end close_notify")
            ssock.unwrap()
    except (ssl.SSLError, OSError) as e:
        print("py_tls_server: connection ended: %s" % e, file=sys.stderr,
              flush=True)


def accept_loop(ctx, listener, log):
    """Accepts connections forever, one thread each."""
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=serve, args=(ctx, sock, log),
                         daemon=True).start()


def main():
    """Serves until stdin's EOF or the lifetime ends."""
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca")
    p.add_argument("--alpn")
    p.add_argument("--max12", action="store_true")
    p.add_argument("--log")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--lifetime", type=float, default=120)
    args = p.parse_args()
    ctx = make_context(args)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family)
    listener.bind((args.host, 0))
    listener.listen(64)
    print("port %d" % listener.getsockname()[1], flush=True)
    threading.Thread(target=accept_loop, args=(ctx, listener, args.log),
                     daemon=True).start()
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), done.set()),
                     daemon=True).start()
    done.wait(args.lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
