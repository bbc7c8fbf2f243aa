"""aiohttp handlers that run exec, attach and port-forward over every protocol.

`serve_command` answers an exec or attach request: a WebSocket upgrade
(`v5/v4/v1 channel.k8s.io`, binary or base64) or an `Upgrade: SPDY/3.1` with
`X-Stream-Protocol-Version` negotiation (v5, v4, v3, v2, v1, as the kubelet's
`httpstream.Handshake`: the client's first protocol the server supports; none
offered means v1). `serve_port_forward` answers a port-forward: SPDY/3.1 directly
(`portforward.k8s.io`), SPDY/3.1 tunnelled in a WebSocket (kubectl 1.30+, subprotocol
`SPDY/3.1+portforward.k8s.io`), or WebSocket channels (`v4.channel.k8s.io`).

`start(options)` is called once the protocol is known and streams are open, and
returns the StreamedProcess (or raises to have the error reported on the error
stream). A client that goes away ends its session, and so the exec'd process.
Errors before the upgrade are raised as `StreamingError(code, message)` for the caller
to answer with a Status.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from kybernetes.kubelet.runtime.interface import StreamedProcess

from . import channels, portforward, remotecommand
from .remotecommand import CommandStreams, StreamOptions
from .spdysession import SpdyConnection, SpdyStream
from .upgrade import WebSocketTransport, accept_upgrade
from .wsconn import WebSocketChannels

SPDY = "SPDY/3.1"
PROTOCOL_HEADER = "X-Stream-Protocol-Version"
ACCEPTED_HEADER = "X-Accepted-Stream-Protocol-Versions"
REMOTECOMMAND_SPDY = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)
PORTFORWARD_SPDY = ("portforward.k8s.io",)
STREAM_CREATION_TIMEOUT = 30.0
"""Kubernetes' DefaultStreamCreationTimeout."""

Starter = Callable[[StreamOptions], Awaitable[StreamedProcess]]


class StreamingError(Exception):
    """The request cannot be upgraded: answer `code` with `message`."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.headers = headers or {}


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _spdy_protocol(request: web.Request, supported: Sequence[str]) -> str:
    """httpstream.Handshake + the upgrader's header checks; StreamingError otherwise."""
    connection = request.headers.get("Connection", "").lower()
    if "upgrade" not in connection or request.headers.get("Upgrade", "").lower() != "spdy/3.1":
        raise StreamingError(400, "unable to upgrade: missing upgrade headers in request")
    offered = [p.strip() for v in request.headers.getall(PROTOCOL_HEADER, []) for p in v.split(",")]
    offered = [p for p in offered if p]
    if not offered:
        return ""
    chosen = next((p for p in offered if p in supported), None)
    if chosen is None:
        raise StreamingError(
            403,
            f"unable to upgrade: unable to negotiate protocol: client supports {offered}, "
            f"server accepts {list(supported)}",
            {ACCEPTED_HEADER: ", ".join(supported)},
        )
    return chosen


async def serve_command(
    request: web.Request, options: StreamOptions, start: Starter, command: Sequence[str] | None
) -> web.StreamResponse:
    """Runs an exec (command given) or attach session over the request's protocol."""
    if is_websocket(request):
        return await _command_websocket(request, options, start, command)
    protocol = _spdy_protocol(request, REMOTECOMMAND_SPDY)
    headers = {"Connection": "Upgrade", "Upgrade": SPDY}
    if protocol:
        headers[PROTOCOL_HEADER] = protocol
    upgraded = await accept_upgrade(request, headers)
    connection = SpdyConnection(upgraded)

    async def session() -> None:
        try:
            streams = await _spdy_command_streams(connection, options, protocol)
            if streams is not None:
                await _run(streams, options, start, command)
        finally:
            await connection.close()

    async with asyncio.TaskGroup() as tg:
        work = tg.create_task(session())
        reader = tg.create_task(connection.serve())
        reader.add_done_callback(lambda _: work.cancel())  # the client went away
    return upgraded.response


async def _spdy_command_streams(
    connection: SpdyConnection, options: StreamOptions, protocol: str
) -> CommandStreams | None:
    """Waits for the streams the client must open (error, the requested stdio, resize
    for a TTY from v3 on); None if they do not all come within the timeout."""
    resizable = protocol not in ("", "channel.k8s.io", "v2.channel.k8s.io")
    expected = 1 + options.stdin + options.stdout + options.stderr
    expected += 1 if options.tty and resizable else 0
    received: dict[str, SpdyStream] = {}
    try:
        async with asyncio.timeout(STREAM_CREATION_TIMEOUT):
            while len(received) < expected:
                stream = await connection.accept()
                if stream is None:
                    return None
                received[stream.header("streamType")] = stream
    except TimeoutError:
        return None
    if "error" not in received:
        return None
    return CommandStreams(
        error=received["error"],
        json_status=protocol.startswith(("v4.", "v5.")),
        stdin=received.get("stdin"),
        stdout=received.get("stdout"),
        stderr=received.get("stderr"),
        resize=received.get("resize"),
    )


def _check_offer(request: web.Request, supported: Sequence[str]) -> None:
    """wsstream's handshake: a client that offers protocols must share one."""
    offered = channels.offered_protocols(request.headers.get("Sec-WebSocket-Protocol", ""))
    if channels.negotiate(offered, supported) is None:
        raise StreamingError(
            400,
            f"requested protocol(s) are not supported: {offered}; supports {list(supported)}",
        )


async def _command_websocket(
    request: web.Request, options: StreamOptions, start: Starter, command: Sequence[str] | None
) -> web.StreamResponse:
    _check_offer(request, channels.REMOTECOMMAND_PROTOCOLS)
    ws = web.WebSocketResponse(protocols=channels.REMOTECOMMAND_PROTOCOLS, autoping=True)
    await ws.prepare(request)
    codec = channels.ChannelCodec(ws.ws_protocol or "")
    readable = [channels.RESIZE] + ([channels.STDIN] if options.stdin else [])
    connection = WebSocketChannels(ws, codec, readable)
    # The kubelet tells the client the session is open: an empty message on the
    # lowest writable channel.
    first = channels.STDOUT if options.stdout else channels.STDERR
    await connection.send(first if options.stdout or options.stderr else channels.ERROR, b"")
    streams = CommandStreams(
        error=connection.sink(channels.ERROR),
        json_status=codec.json_status,
        stdin=connection.source(channels.STDIN) if options.stdin else None,
        stdout=connection.sink(channels.STDOUT) if options.stdout else None,
        stderr=connection.sink(channels.STDERR) if options.stderr else None,
        resize=connection.source(channels.RESIZE) if options.tty else None,
    )
    async with asyncio.TaskGroup() as tg:
        work = tg.create_task(_run(streams, options, start, command))
        reader = tg.create_task(connection.serve())
        reader.add_done_callback(lambda _: work.cancel())  # the client went away
        await asyncio.wait([work])
        await _stop(reader)  # close() then reads the client's close reply itself
        await connection.close()
    return ws


async def _run(
    streams: CommandStreams, options: StreamOptions, start: Starter, command: Sequence[str] | None
) -> None:
    try:
        process = await start(options)
    except Exception as e:
        what = "executing command in" if command is not None else "attaching to"
        await remotecommand.open_error_only(
            streams.error, streams.json_status, f"error {what} container: {e}"
        )
        return
    await remotecommand.run_session(process, streams, command)


async def serve_port_forward(
    request: web.Request, forwarder: portforward.Forwarder, pod: portforward.PodRef
) -> web.StreamResponse:
    """Port-forward over SPDY, SPDY-in-WebSocket or WebSocket channels."""
    if is_websocket(request):
        offered = channels.offered_protocols(request.headers.get("Sec-WebSocket-Protocol", ""))
        if channels.SPDY_PORTFORWARD_TUNNEL in offered:
            ws = web.WebSocketResponse(protocols=(channels.SPDY_PORTFORWARD_TUNNEL,))
            await ws.prepare(request)
            tunnel = SpdyConnection(WebSocketTransport(ws), portforward.validate_stream)
            await _port_forward_spdy(tunnel, forwarder, pod)
            return ws
        try:
            ports = portforward.parse_ports(request.query.getall("ports", []))
        except ValueError as e:
            raise StreamingError(400, str(e)) from None
        _check_offer(request, channels.PORTFORWARD_PROTOCOLS)
        ws = web.WebSocketResponse(protocols=channels.PORTFORWARD_PROTOCOLS, autoping=True)
        await ws.prepare(request)
        codec = channels.ChannelCodec(ws.ws_protocol or "")
        connection = WebSocketChannels(ws, codec, [2 * i for i in range(len(ports))])
        await portforward.serve_websocket(connection, ports, forwarder, pod)
        return ws
    protocol = _spdy_protocol(request, PORTFORWARD_SPDY)
    headers = {"Connection": "Upgrade", "Upgrade": SPDY}
    if protocol:
        headers[PROTOCOL_HEADER] = protocol
    upgraded = await accept_upgrade(request, headers)
    await _port_forward_spdy(SpdyConnection(upgraded, portforward.validate_stream), forwarder, pod)
    return upgraded.response


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _port_forward_spdy(
    connection: SpdyConnection, forwarder: portforward.Forwarder, pod: portforward.PodRef
) -> None:
    async with asyncio.TaskGroup() as tg:
        reader = tg.create_task(connection.serve())
        try:
            await portforward.serve_spdy(connection, forwarder, pod)
        finally:
            await connection.close()
            reader.cancel()
