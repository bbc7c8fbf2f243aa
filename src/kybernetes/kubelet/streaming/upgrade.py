"""Taking over an aiohttp server connection after `101 Switching Protocols`.

aiohttp serves WebSockets itself but has no public hook for other upgrades (SPDY/3.1).
`accept_upgrade(request, headers)` sends the 101 and installs a payload parser on the
request's protocol, the same hook `WebSocketResponse` uses (`RequestHandler.set_parser`,
aiohttp pinned in pyproject), so every byte after the request's head — including
bytes that arrived with it — reaches the returned `UpgradedConnection`.
`WebSocketTransport` carries a byte stream in binary WebSocket messages instead.

Invariants: the handler that upgraded must keep running while the connection is in
use and return the response it got; aiohttp then closes the connection (keep-alive is
off). Reads see b"" once the peer closed; writes after that raise ConnectionError.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any, cast

from aiohttp import WSMsgType, web
from aiohttp.abc import AbstractStreamWriter

from .streams import CHUNK


class _FeedParser:
    """Stands in for aiohttp's payload parser: hands raw bytes to a StreamReader."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._reader.feed_data(data)
        return False, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()


class UpgradedConnection:
    """The raw connection under an upgraded request (a `Transport`)."""

    def __init__(
        self, request: web.Request, response: web.StreamResponse, writer: AbstractStreamWriter
    ) -> None:
        self.response = response
        self._request = request
        self._writer = writer
        self._reader = asyncio.StreamReader(limit=4 * CHUNK)
        transport = request.transport
        if transport is not None:
            self._reader.set_transport(transport)  # pauses reading when buffers fill
        request.protocol.set_parser(cast(Any, _FeedParser(self._reader)))
        request.protocol.keep_alive(False)

    async def read(self) -> bytes:
        try:
            return await self._reader.read(CHUNK)
        except ConnectionError:
            return b""

    async def write(self, data: bytes) -> None:
        transport = self._request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        transport.write(data)
        await self._writer.drain()  # waits while the transport's buffer is full

    async def close(self) -> None:
        transport = self._request.transport
        if transport is not None and not transport.is_closing():
            with contextlib.suppress(OSError, RuntimeError):
                transport.close()


async def accept_upgrade(request: web.Request, headers: Mapping[str, str]) -> UpgradedConnection:
    """Sends `101 Switching Protocols` with `headers` and returns the connection."""
    response = web.StreamResponse(status=101, reason="Switching Protocols", headers=headers)
    writer = await response.prepare(request)
    assert writer is not None
    writer.send_headers()
    await writer.drain()
    return UpgradedConnection(request, response, writer)


_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class WebSocketTransport:
    """A byte stream in binary WebSocket messages (kubectl's SPDY tunnel)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def read(self) -> bytes:
        while True:
            message = await self._ws.receive()
            if message.type == WSMsgType.BINARY:
                if message.data:
                    return bytes(message.data)
            elif message.type in _ENDED:
                return b""

    async def write(self, data: bytes) -> None:
        if self._ws.closed:
            raise ConnectionResetError("the WebSocket is closed")
        await self._ws.send_bytes(data)

    async def close(self) -> None:
        await self._ws.close()
