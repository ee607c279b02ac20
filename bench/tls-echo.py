#!/usr/bin/env python3
"""tls-echo.py: a TLS echo server in Python (asyncio + the ssl module, i.e.
OpenSSL through another stack than the benchmark tools'), for testing the
TLS side of netfw-loadgen, idle-rss and handshake-bench without netfw.

usage: tls-echo.py CERT KEY [--flip-at N]
Echoes every byte back. --flip-at N flips byte N (0-based) of the echo
stream of every connection, so a client that checks its echoes must notice.
Prints "listening on 127.0.0.1:PORT" once it listens; exits 0 on SIGTERM.
"""
import asyncio
import signal
import ssl
import sys


def parse_args(argv):
    """Returns (cert, key, flip_at or None) from the command line."""
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--flip-at"):
        sys.exit(__doc__)
    return argv[1], argv[2], int(argv[4]) if len(argv) == 5 else None


async def main():
    """Serves until SIGTERM."""
    cert, key, flip_at = parse_args(sys.argv)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def echo(reader, writer):
        """Sends back what reader gets, flipping byte flip_at if asked."""
        sent = 0
        try:
            while data := await reader.read(65536):
                if flip_at is not None and sent <= flip_at < sent + len(data):
                    data = bytearray(data)
                    data[flip_at - sent] ^= 0x01
                sent += len(data)
                writer.write(bytes(data))
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=ctx)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
