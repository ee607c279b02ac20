"""A file_storage server in pure Python: asyncio streams, the generated
module (file_storage_netfw.py: read_frames, ServerHandlers, send_*) and the
netframe stand-in (netframe_standin.py) for the Message / OwnedMessage /
Connection objects a netframe ServerApp receives. Files live in memory.

usage: py_fs_server.py MODULE_PATH
Listens on 127.0.0.1, a free port, prints "listening on 127.0.0.1:PORT"
(flushed) and serves until SIGTERM or SIGINT, then exits 0."""
import asyncio
import importlib.util
import logging
import signal
import sys

import netframe_standin as nf


def load(path):
    """Imports the generated module at path."""
    spec = importlib.util.spec_from_file_location("file_storage_netfw", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def make_app(fs):
    """The netframe-style ServerApp: on_message is one line."""

    class Store(fs.ServerHandlers):
        def __init__(self):
            self.files = {}

        def on_Add(self, conn, msg):
            if msg.filename in self.files:
                fs.send_Ack(conn, fs.Ack(rc=fs.Rc.FILE_EXISTS))
                return
            self.files[msg.filename] = bytes(msg.file)
            fs.send_Ack(conn, fs.Ack(rc=fs.Rc.OK))

        def on_Get(self, conn, msg):
            data = self.files.get(msg.filename)
            if data is None:
                fs.send_Ack(conn, fs.Ack(rc=fs.Rc.FILE_NOT_FOUND))
            else:
                fs.send_GetResp(conn, fs.GetResp(filename=msg.filename,
                                                 file=data))

        def on_Del(self, conn, msg):
            found = self.files.pop(msg.filename, None) is not None
            fs.send_Ack(conn, fs.Ack(
                rc=fs.Rc.OK if found else fs.Rc.FILE_NOT_FOUND))

        def on_List(self, conn, msg):
            fs.send_ListResp(conn, fs.ListResp(files=[
                fs.FileEntry(name=n, size=len(d))
                for n, d in sorted(self.files.items())]))

    class App:  # netframe's ServerApp protocol
        def __init__(self, context):
            self.handlers = Store()

        def on_message(self, owned):
            self.handlers.dispatch(owned)

    return App({})


async def serve_connection(fs, app, reader, writer):
    """Reads frames, hands each to the app as an OwnedMessage."""
    conn = nf.StreamConnection(writer)
    buf = bytearray()
    try:
        while not conn.closed:
            chunk = await reader.read(1 << 16)
            if not chunk:
                break
            buf += chunk
            for mid, payload in fs.read_frames(buf):
                app.on_message(nf.OwnedMessage(nf.message_of(mid, payload),
                                               conn))
                if conn.closed:
                    break
            await writer.drain()
    except (fs.DecodeError, ConnectionError) as err:
        logging.getLogger("py_fs_server").warning("closing: %s", err)
    finally:
        conn.shutdown()


async def main(path):
    nf.install()
    fs = load(path)
    app = make_app(fs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await asyncio.start_server(
        lambda r, w: serve_connection(fs, app, r, w), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(sys.argv[1]))
