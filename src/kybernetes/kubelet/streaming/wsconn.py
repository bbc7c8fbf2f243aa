"""A WebSocket speaking a channel protocol, demultiplexed into per-channel streams.

`WebSocketChannels(ws, codec, readable)` reads messages in `serve()` and feeds the
payload of each readable channel to its `Pipe` (`source(n)`); `sink(n)` writes a
channel. Messages on channels the session does not read are ignored, as wsstream
ignores them. With v5 a CLOSE message ends that channel's source. Every source ends
when the WebSocket closes.

Invariants: sends are serialised (one message at a time on the wire); closing a sink
sends nothing (wsstream's write channels have no end marker).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiohttp import WSMsgType, web

from .channels import CLOSE, ChannelCodec, ChannelError
from .streams import Pipe

log = logging.getLogger(__name__)


class ChannelSink:
    """Writes to one channel of a WebSocketChannels."""

    def __init__(self, connection: WebSocketChannels, channel: int) -> None:
        self._connection = connection
        self._channel = channel

    async def write(self, data: bytes) -> None:
        await self._connection.send(self._channel, data)

    async def close(self) -> None:
        return None


class WebSocketChannels:
    def __init__(self, ws: web.WebSocketResponse, codec: ChannelCodec, readable: Iterable[int]):
        self.ws = ws
        self.codec = codec
        self._pipes = {channel: Pipe() for channel in readable}
        self._lock = asyncio.Lock()

    def source(self, channel: int) -> Pipe:
        return self._pipes[channel]

    def sink(self, channel: int) -> ChannelSink:
        return ChannelSink(self, channel)

    async def send(self, channel: int, data: bytes) -> None:
        """One message on `channel`; ConnectionError once the WebSocket is closed."""
        async with self._lock:
            if self.ws.closed:
                raise ConnectionResetError("the WebSocket is closed")
            message = self.codec.encode(channel, data)
            if isinstance(message, bytes):
                await self.ws.send_bytes(message)
            else:
                await self.ws.send_str(message)

    async def serve(self) -> None:
        """Dispatches incoming messages until the WebSocket closes."""
        try:
            async for message in self.ws:
                if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                    continue
                try:
                    channel, payload = self.codec.decode(message.data)
                except ChannelError as e:
                    log.info("bad WebSocket message: %s", e)
                    continue
                if channel == CLOSE and self.codec.close_signal:
                    if payload and payload[0] in self._pipes:
                        self._pipes[payload[0]].feed_eof()
                elif channel in self._pipes:
                    self._pipes[channel].feed(payload)
        finally:
            for pipe in self._pipes.values():
                pipe.feed_eof()

    async def close(self) -> None:
        await self.ws.close()
