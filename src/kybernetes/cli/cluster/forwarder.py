"""A userspace TCP port forwarder from the host's loopback into a network namespace.

`Forwarder` accepts connections on a listening socket in the caller's (host) network
namespace; for each it opens a connection to `target` from INSIDE the namespace
`netns` and copies bytes both ways until both directions are closed (a half-close is
passed on). The in-namespace sockets are created by worker threads that `setns()`
into the namespace once, at start (a socket belongs to the namespace of the thread
that created it, and may then be used from any thread); the copying runs on the
event loop.

Invariants: the host's namespace gets nothing but the listening socket; a connection
that cannot reach the target is closed at once (and logged); every socket is closed
when its connection ends or the forwarder stops. Needs CAP_SYS_ADMIN (setns).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CLONE_NEWNET = 0x40000000
CONNECT_TIMEOUT = 10.0
_CHUNK = 65536


def enter_netns(path: Path) -> None:
    """Moves the calling THREAD into the network namespace at `path`. OSError."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


class NetnsConnector:
    """Opens TCP connections from inside one network namespace (see module doc)."""

    def __init__(self, netns_path: Path, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="netns-connect",
            initializer=enter_netns,
            initargs=(netns_path,),
        )

    def check(self) -> None:
        """Raises (BrokenThreadPool carrying the OSError) if setns is impossible."""
        self._pool.submit(lambda: None).result()

    @staticmethod
    def _connect(host: str, port: int) -> socket.socket:
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
        sock.setblocking(False)
        return sock

    async def connect(self, host: str, port: int) -> socket.socket:
        """A connected, non-blocking socket to host:port inside the namespace. OSError."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._connect, host, port)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies until EOF, then half-closes the writer."""
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.transport.abort()


class Forwarder:
    """Forwards connections accepted on `listener` to `target` inside `netns_path`."""

    def __init__(self, listener: socket.socket, netns_path: Path, target: tuple[str, int]) -> None:
        self.listener = listener
        self.target = target
        self.connector = NetnsConnector(netns_path)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            sock = await self.connector.connect(*self.target)
        except OSError as e:
            print(f"kyb cluster forward: {self.target[0]}:{self.target[1]}: {e}",
                  file=sys.stderr, flush=True)  # fmt: skip
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(sock=sock)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(_pipe(reader, up_writer))
                tg.create_task(_pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await w.wait_closed()

    async def serve(self, stop: asyncio.Event) -> None:
        """Serves until `stop` is set. Raises if the namespace cannot be entered."""
        await asyncio.to_thread(self.connector.check)
        server = await asyncio.start_server(self._handle, sock=self.listener)
        try:
            async with server:
                await stop.wait()
        finally:
            self.connector.close()
