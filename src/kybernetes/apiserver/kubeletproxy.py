"""Proxying a request to a kubelet: plain HTTP streamed back, or an upgrade spliced.

The API server reaches a kubelet over TLS with its kubelet client certificate
(`pki.kubelet_client`, CN=kube-apiserver-kubelet-client); the kubelet's serving
certificate is not verified, which is Kubernetes' behaviour without
`--kubelet-certificate-authority`.

- `proxy_http` forwards a request (method, body, content type) and streams the
  kubelet's answer (status, type, body) as it arrives, so `follow` on logs keeps
  flowing.
- `proxy_upgrade` forwards an Upgrade request (WebSocket or SPDY/3.1) verbatim except
  for hop-by-hop credentials, and when the kubelet answers 101 sends the same 101 to
  the client and then copies raw bytes both ways until either side ends: every
  streaming protocol passes through unchanged. A non-101 answer is relayed as is.

Invariants: the client's credentials (Authorization) never reach the kubelet; both
connections are closed when the splice ends; a kubelet that cannot be reached is a
503 Status naming the error, as kube-apiserver's proxy answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from typing import Any, cast

import aiohttp
from aiohttp import web
from yarl import URL

from . import status
from .pki import PKI

_FORWARDED_UPGRADE_HEADERS = (
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "X-Stream-Protocol-Version",
    "User-Agent",
)
_HEAD_LIMIT = 64 * 1024
_CHUNK = 64 * 1024


def kubelet_ssl_context(pki: PKI) -> ssl.SSLContext:
    """The client side: our kubelet client certificate, kubelet certificates unverified."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(pki.kubelet_client.cert_path, pki.kubelet_client.key_path)
    context.set_alpn_protocols(["http/1.1"])
    return context


def _unreachable(url: URL, error: BaseException) -> status.StatusError:
    return status.service_unavailable(f"error trying to reach service: {url}: {error}")


async def proxy_http(request: web.Request, url: URL, context: ssl.SSLContext) -> web.StreamResponse:
    """Sends the request to `url` on the kubelet and streams the answer to the client."""
    body = await request.read()
    headers = {"Content-Type": request.content_type} if body else {}
    connector = aiohttp.TCPConnector(ssl=context)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
        try:
            upstream = await session.request(
                request.method,
                url,
                data=body or None,
                headers=headers,
                timeout=aiohttp.ClientTimeout(sock_connect=10),
            )
        except (aiohttp.ClientError, OSError) as e:
            raise _unreachable(url, e) from None
        async with upstream:
            response = web.StreamResponse(status=upstream.status)
            for name in ("Content-Type", "Content-Encoding"):
                if name in upstream.headers:
                    response.headers[name] = upstream.headers[name]
            response.enable_chunked_encoding()
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response


def _request_head(request: web.Request, url: URL) -> bytes:
    lines = [f"{request.method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.raw_authority}"]
    for name in _FORWARDED_UPGRADE_HEADERS:
        lines += [f"{name}: {value}" for value in request.headers.getall(name, [])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[int, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"malformed response from the kubelet: {lines[0]!r}")
    headers = [tuple(s.strip() for s in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return int(parts[1]), cast(list[tuple[str, str]], headers)


class _Feed:
    """Stands in for aiohttp's payload parser after an upgrade (as WebSocketResponse
    does through `RequestHandler.set_parser`): raw client bytes go to a StreamReader."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._reader.feed_data(data)
        return False, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()


async def proxy_upgrade(
    request: web.Request, url: URL, context: ssl.SSLContext
) -> web.StreamResponse:
    """Forwards an Upgrade request to the kubelet and splices the two connections."""
    host, port = url.raw_host or "", url.port or 10250
    try:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, limit=_HEAD_LIMIT), 10
        )
    except (OSError, TimeoutError, ssl.SSLError) as e:
        raise _unreachable(url, e) from None
    try:
        up_writer.write(_request_head(request, url))
        try:
            head = await up_reader.readuntil(b"\r\n\r\n")
            code, headers = _parse_head(head[:-4])
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            raise _unreachable(url, e) from None
        if code != 101:
            return await _relay_refusal(up_reader, code, headers)
        response = web.StreamResponse(status=101, reason="Switching Protocols")
        for name, value in headers:
            if name.lower() not in ("date", "server", "content-length"):
                response.headers.add(name, value)
        writer = await response.prepare(request)
        assert writer is not None
        writer.send_headers()
        await writer.drain()
        client_reader = asyncio.StreamReader(limit=_CHUNK)
        if request.transport is not None:
            client_reader.set_transport(request.transport)
        request.protocol.set_parser(cast(Any, _Feed(client_reader)))
        request.protocol.keep_alive(False)
        await _splice(request, writer, client_reader, up_reader, up_writer)
        return response
    finally:
        up_writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await up_writer.wait_closed()


async def _relay_refusal(
    reader: asyncio.StreamReader, code: int, headers: list[tuple[str, str]]
) -> web.Response:
    fields: Mapping[str, str] = {k.lower(): v for k, v in headers}
    length = fields.get("content-length")
    try:
        body = await reader.readexactly(int(length)) if length else await reader.read(_CHUNK)
    except (asyncio.IncompleteReadError, ValueError, OSError):
        body = b""
    response = web.Response(status=code, body=body)
    if "content-type" in fields:
        response.headers["Content-Type"] = fields["content-type"]
    for name, value in headers:
        if name.lower().startswith("x-accepted-stream-protocol"):
            response.headers.add(name, value)
    return response


async def _splice(
    request: web.Request,
    client_writer: Any,
    client_reader: asyncio.StreamReader,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    async def downstream() -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await up_reader.read(_CHUNK):
                transport = request.transport
                if transport is None or transport.is_closing():
                    return
                transport.write(data)
                await client_writer.drain()

    async def upstream() -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            while data := await client_reader.read(_CHUNK):
                up_writer.write(data)
                await up_writer.drain()

    # Either side ending ends the splice; what the kubelet already sent has been
    # written to the client's transport, which flushes it before closing.
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(downstream()), tg.create_task(upstream())]
        for task in tasks:
            task.add_done_callback(lambda _: [t.cancel() for t in tasks])
    transport = request.transport
    if transport is not None and not transport.is_closing():
        transport.close()
