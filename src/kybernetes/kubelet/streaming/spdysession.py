"""The server side of a SPDY/3.1 connection (what moby/spdystream does for the kubelet).

`SpdyConnection(transport, validate)` runs over any `Transport`. `serve()` reads frames
until the peer goes away; every SYN_STREAM the peer opens becomes a `SpdyStream` that
`accept()` hands out, after a SYN_REPLY (or an RST_STREAM when `validate(headers)`
returns an error, as Kubernetes' NewStreamHandler does). PINGs from the peer are
echoed; SETTINGS and WINDOW_UPDATE are accepted and ignored, exactly like spdystream,
which does no flow control.

Invariants:
- Frames are encoded and written under one lock: the header compressor is shared by
  the whole connection, so header blocks must reach the wire in encoding order.
- A stream's incoming data ends (b"") when the peer sends FIN, resets it, or the
  connection ends; writing to a stream the peer reset is silently dropped.
- `close()` sends GOAWAY (the last stream id accepted) and closes the transport; it is
  idempotent, and `accept()` returns None afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from . import spdy
from .streams import CHUNK, Pipe, Transport

log = logging.getLogger(__name__)


class SpdyStream:
    """One stream the peer opened: a ByteSource and a ByteSink with its headers."""

    def __init__(self, connection: SpdyConnection, stream_id: int, headers: spdy.Headers) -> None:
        self.connection = connection
        self.stream_id = stream_id
        self.headers = headers
        self.incoming = Pipe()
        self.reset_by_peer = False
        self._closed = False

    def header(self, name: str) -> str:
        return spdy.header_value(self.headers, name)

    async def read(self) -> bytes:
        return await self.incoming.read()

    async def write(self, data: bytes) -> None:
        if self._closed or self.reset_by_peer:
            return
        for start in range(0, len(data), CHUNK):
            await self.connection.send(spdy.DataFrame(self.stream_id, data[start : start + CHUNK]))

    async def close(self) -> None:
        """Half-closes: an empty DATA frame with FIN (spdystream's Stream.Close)."""
        if self._closed or self.reset_by_peer:
            return
        self._closed = True
        await self.connection.send(spdy.DataFrame(self.stream_id, b"", fin=True))

    async def reset(self) -> None:
        """Aborts the stream in both directions (RST_STREAM CANCEL)."""
        self.incoming.feed_eof()
        if not self.reset_by_peer:
            self.reset_by_peer = True
            await self.connection.send(spdy.RstStream(self.stream_id, spdy.CANCEL))


class SpdyConnection:
    """A SPDY/3.1 server connection over `transport`."""

    def __init__(
        self, transport: Transport, validate: Callable[[spdy.Headers], str | None] | None = None
    ) -> None:
        self._transport = transport
        self._validate = validate
        self._encoder = spdy.FrameEncoder()
        self._decoder = spdy.FrameDecoder()
        self._write_lock = asyncio.Lock()
        self._streams: dict[int, SpdyStream] = {}
        self._accepted: asyncio.Queue[SpdyStream | None] = asyncio.Queue()
        self._last_received = 0
        self._closed = False

    async def send(self, frame: spdy.Frame) -> None:
        """Writes one frame; ConnectionError if the transport is gone."""
        async with self._write_lock:
            await self._transport.write(self._encoder.encode(frame))

    async def accept(self) -> SpdyStream | None:
        """The next stream the peer opened, or None once the connection has ended."""
        stream = await self._accepted.get()
        if stream is None:
            self._accepted.put_nowait(None)
        return stream

    async def serve(self) -> None:
        """Reads and dispatches frames until the peer closes, sends GOAWAY, or breaks
        the protocol (then GOAWAY with PROTOCOL_ERROR)."""
        try:
            while data := await self._transport.read():
                for frame in self._decoder.feed(data):
                    if not await self._dispatch(frame):
                        return
        except spdy.ProtocolError as e:
            log.info("SPDY protocol error: %s", e)
            await self._send_quietly(spdy.GoAway(self._last_received, 1))
        except ConnectionError:
            pass
        finally:
            self._end()

    async def close(self) -> None:
        """GOAWAY, then closes the transport. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._send_quietly(spdy.GoAway(self._last_received, 0))
        await self._transport.close()
        self._end()

    def _end(self) -> None:
        for stream in self._streams.values():
            stream.incoming.feed_eof()
        self._accepted.put_nowait(None)

    async def _send_quietly(self, frame: spdy.Frame) -> None:
        with contextlib.suppress(ConnectionError):
            await self.send(frame)

    async def _dispatch(self, frame: spdy.Frame) -> bool:
        """Handles one frame; False when the peer said GOAWAY."""
        if isinstance(frame, spdy.DataFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream.incoming.feed(frame.data)
                if frame.fin:
                    stream.incoming.feed_eof()
        elif isinstance(frame, spdy.SynStream):
            await self._open(frame)
        elif isinstance(frame, spdy.RstStream):
            stream = self._streams.pop(frame.stream_id, None)
            if stream is not None:
                stream.reset_by_peer = True
                stream.incoming.feed_eof()
        elif isinstance(frame, spdy.Ping):
            if frame.ping_id % 2 == 1:  # the client's (odd); ours would be even
                await self.send(frame)
        elif isinstance(frame, spdy.GoAway):
            return False
        elif isinstance(frame, spdy.HeadersFrame) and frame.fin:
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream.incoming.feed_eof()
        return True

    async def _open(self, frame: spdy.SynStream) -> None:
        if frame.stream_id % 2 == 0 or frame.stream_id <= self._last_received or self._closed:
            await self.send(spdy.RstStream(frame.stream_id, spdy.PROTOCOL_ERROR))
            return
        self._last_received = frame.stream_id
        problem = self._validate(frame.headers) if self._validate else None
        if problem is not None:
            log.info("SPDY stream %d refused: %s", frame.stream_id, problem)
            await self.send(spdy.RstStream(frame.stream_id, spdy.CANCEL))
            return
        stream = SpdyStream(self, frame.stream_id, frame.headers)
        if frame.fin:
            stream.incoming.feed_eof()
        self._streams[frame.stream_id] = stream
        await self.send(spdy.SynReply(frame.stream_id, {}))
        self._accepted.put_nowait(stream)
