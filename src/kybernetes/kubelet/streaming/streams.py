"""The byte-stream vocabulary every streaming protocol here is built from.

A `ByteSource` yields chunks and then b"" forever (end of stream); a `ByteSink` takes
chunks until `close()` (a half-close: the peer sees end of stream). A `Transport` is a
bidirectional connection carrying a whole protocol (an upgraded HTTP connection, or the
binary messages of a WebSocket that tunnels SPDY). `Pipe` is the in-memory source a
demultiplexer feeds. None of these are safe to read from two tasks at once.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

CHUNK = 32 * 1024
"""How much is copied at a time (Go's io.Copy buffer)."""


class ByteSource(Protocol):
    async def read(self) -> bytes:
        """The next chunk, or b"" once the stream has ended."""
        ...


class ByteSink(Protocol):
    async def write(self, data: bytes) -> None:
        """Sends `data`; may raise ConnectionError once the peer is gone."""
        ...

    async def close(self) -> None:
        """No more data will be written. Idempotent."""
        ...


class Transport(ByteSource, ByteSink, Protocol):
    """A whole connection: `close()` ends it in both directions."""


class Pipe:
    """A ByteSource fed by someone else (`feed`, `feed_eof`); unbounded."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._ended = False

    def feed(self, data: bytes) -> None:
        if data and not self._ended:
            self._queue.put_nowait(data)

    def feed_eof(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(b"")

    @property
    def ended(self) -> bool:
        return self._ended

    async def read(self) -> bytes:
        data = await self._queue.get()
        if not data:
            self._queue.put_nowait(b"")  # every later read sees the end too
        return data


class ReaderSource:
    """An asyncio.StreamReader as a ByteSource."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def read(self) -> bytes:
        return await self._reader.read(CHUNK)


async def copy(source: ByteSource, sink: ByteSink) -> None:
    """Copies until the source ends, then closes the sink."""
    while data := await source.read():
        await sink.write(data)
    await sink.close()


async def drain(source: ByteSource) -> None:
    """Reads and discards until the source ends (so a writer never blocks on it)."""
    while await source.read():
        pass
