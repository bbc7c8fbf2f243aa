"""Port forwarding sessions over SPDY streams or WebSocket channels.

SPDY (`portforward.k8s.io`, kubectl): the client opens, per forwarded connection, an
`error` and a `data` stream carrying the same `port` and `requestID` headers; once both
are there the kubelet connects to the port in the pod and copies bytes both ways. A
failure is written to the error stream as the 1.32 kubelet does (kubectl 1.32 shows it
verbatim): `error forwarding port P to pod NAME, uid UID: ...`.

WebSocket (`v4.channel.k8s.io`, the official Python client): the ports are in the
query (`?ports=80&ports=8080` or `ports=80,8080`); the i-th port uses channel 2i for
data and 2i+1 for errors, and the first message on both is the port (uint16 LE).
One connection per port for the life of the WebSocket, closed once every port's
connection has ended.

Invariants: a forwarded connection ends when the pod's side ends (the data stream is
then half-closed); the client's half-close is passed on as a write EOF to the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from . import channels
from .spdy import Headers, header_value
from .spdysession import SpdyConnection, SpdyStream
from .streams import ByteSink, ByteSource, ReaderSource, copy, drain
from .wsconn import WebSocketChannels

Forwarder = Callable[[int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
"""Opens a TCP connection to a port in the pod's network namespace."""


@dataclass(frozen=True)
class PodRef:
    name: str
    uid: str


class _Duplex:
    def __init__(self, source: ByteSource, sink: ByteSink) -> None:
        self._source, self._sink = source, sink

    async def read(self) -> bytes:
        return await self._source.read()

    async def write(self, data: bytes) -> None:
        await self._sink.write(data)

    async def close(self) -> None:
        await self._sink.close()


def parse_ports(values: Sequence[str]) -> list[int]:
    """The `ports` query values (each may hold a comma-separated list); ValueError
    worded as the kubelet's NewV4Options."""
    if not values:
        raise ValueError('query parameter "port" is required')
    ports: list[int] = []
    for value in values:
        if not value:
            raise ValueError('query parameter "port" cannot be empty')
        for item in value.split(","):
            port = _port(item)
            if port is None:
                raise ValueError(f'unable to parse "{value}" as a port')
            if port < 1:
                raise ValueError(f'port "{value}" must be > 0')
            ports.append(port)
    return ports


def _port(text: str) -> int | None:
    if not text.isdigit() or int(text) > 65535:
        return None
    return int(text)


def validate_stream(headers: Headers) -> str | None:
    """Kubernetes' httpStreamReceived checks for a port-forward stream."""
    port_text = header_value(headers, "port")
    if not port_text:
        return '"port" header is required'
    port = _port(port_text)
    if port is None:
        return f'unable to parse "{port_text}" as a port'
    if port < 1:
        return f'port "{port_text}" must be > 0'
    kind = header_value(headers, "streamType")
    if not kind:
        return '"streamType" header is required'
    if kind not in ("error", "data"):
        return f'invalid stream type "{kind}"'
    return None


async def forward(stream: _Duplex | SpdyStream, forwarder: Forwarder, port: int) -> None:
    """Copies between `stream` and the pod's `port` until the pod's side ends."""
    reader, writer = await forwarder(port)
    try:
        async with asyncio.TaskGroup() as tg:
            upstream = tg.create_task(_to_pod(stream, writer))
            await copy(ReaderSource(reader), stream)
            upstream.cancel()
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.close()


async def _to_pod(source: ByteSource, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read():
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        await drain(source)


def _failure(pod: PodRef, port: int, error: BaseException) -> str:
    return f"error forwarding port {port} to pod {pod.name}, uid {pod.uid}: {error}"


async def _forward_pair(
    data: SpdyStream, error: SpdyStream, forwarder: Forwarder, pod: PodRef
) -> None:
    port = int(data.header("port"))
    try:
        await forward(data, forwarder, port)
    except* (ConnectionError, OSError) as group:
        with contextlib.suppress(ConnectionError):
            await error.write(_failure(pod, port, group.exceptions[0]).encode())
    finally:
        with contextlib.suppress(ConnectionError):
            await data.close()
            await error.close()


def _request_id(stream: SpdyStream) -> str:
    """The requestID header; for old clients, derived from the stream id as kubelet does."""
    request_id = stream.header("requestID")
    if request_id:
        return request_id
    offset = 2 if stream.header("streamType") == "data" else 0
    return str(stream.stream_id - offset)


async def serve_spdy(connection: SpdyConnection, forwarder: Forwarder, pod: PodRef) -> None:
    """Pairs the client's streams by request id and forwards each pair, until the
    connection ends; forwarding still running then is cancelled."""
    pending: dict[str, dict[str, SpdyStream]] = {}
    async with asyncio.TaskGroup() as tg:
        tasks: list[asyncio.Task[None]] = []
        while (stream := await connection.accept()) is not None:
            request_id = _request_id(stream)
            kind = stream.header("streamType")
            pair = pending.setdefault(request_id, {})
            if kind in pair:
                message = f"error processing stream for request {request_id}: "
                message += f"{kind} stream already assigned"
                with contextlib.suppress(ConnectionError):
                    await pair.get("error", stream).write(message.encode())
                continue
            pair[kind] = stream
            if len(pair) == 2:
                del pending[request_id]
                tasks.append(
                    tg.create_task(_forward_pair(pair["data"], pair["error"], forwarder, pod))
                )
        for task in tasks:
            task.cancel()


async def serve_websocket(
    connection: WebSocketChannels, ports: Sequence[int], forwarder: Forwarder, pod: PodRef
) -> None:
    """Forwards each port over its channel pair; closes the WebSocket at the end."""
    for index, port in enumerate(ports):
        await connection.send(2 * index, channels.port_prefix(port))
        await connection.send(2 * index + 1, channels.port_prefix(port))
    async with asyncio.TaskGroup() as tg:
        reader = tg.create_task(connection.serve())
        async with asyncio.TaskGroup() as forwards:
            for index, port in enumerate(ports):
                forwards.create_task(_forward_channel(connection, index, port, forwarder, pod))
        await connection.close()
        reader.cancel()


async def _forward_channel(
    connection: WebSocketChannels, index: int, port: int, forwarder: Forwarder, pod: PodRef
) -> None:
    stream = _Duplex(connection.source(2 * index), connection.sink(2 * index))
    try:
        await forward(stream, forwarder, port)
    except* (ConnectionError, OSError) as group:
        with contextlib.suppress(ConnectionError):
            await connection.send(2 * index + 1, _failure(pod, port, group.exceptions[0]).encode())
