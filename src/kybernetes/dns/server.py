"""`DNSServer`: DNS over UDP and TCP on one address, answered by `Answerer`, the
rest forwarded.

`receive(wire)` is the synchronous core (no I/O): it parses a query and returns the
response's wire bytes, a `Pending` request that needs an upstream (a name outside
the zone, or an ExternalName's CNAME whose target the upstream resolves for the
client) to be completed by `await forward(pending)`, or None when nothing should be
sent (an unparseable packet shorter than a header, or a response). The zone's
answers never wait: a UDP query is answered inside `datagram_received`. They are
also remembered, by the query's bytes after its ID and the transport, while the index
stays at the same generation: a repeated query is a dict get with the ID patched in,
no parsing or rendering (at most `cache_size` responses; the cache empties when full).

`listening(host, port)` serves both transports on the same port while the block runs
(port 0: TCP picks a free port, UDP takes the same) and yields the port. Forwarded
UDP queries and TCP connections are tasks of the block's TaskGroup; at most
`max_pending` forwards run at once (more get SERVFAIL at once, like CoreDNS's
`max_concurrent`); TCP connections close after `idle_timeout` seconds without a
query. UDP responses are cut to 512 bytes (or the client's EDNS payload size) with
TC set; TCP ones to 65535.

Invariants: every parsed query that gets a response is counted in the metrics once,
with its duration on the injected clock; a failure while answering one query (an upstream
gone, a client gone) never stops the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final, cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from kybernetes.client.clock import Clock, SystemClock

from .answer import Answerer
from .forward import Forwarder
from .metrics import DNSMetrics, type_label

log = logging.getLogger(__name__)

HEADER: Final = struct.Struct("!HHHHHH")
Spawn = Callable[[Coroutine[Any, Any, None]], None]
UDP_DEFAULT_SIZE: Final = 512
TCP_MAX_SIZE: Final = 65535


@dataclass(frozen=True, slots=True)
class _Cached:
    """A response of the zone's, valid while the index is at `generation`."""

    generation: int
    tail: bytes  # the response's wire after its ID
    qtype: str
    rcode: str


@dataclass(frozen=True)
class Pending:
    """A query only an upstream can answer; or, with `partial`, the zone's answer
    ending at a CNAME out of the zone whose `target` the upstream resolves."""

    query: dns.message.Message
    tcp: bool
    family: str
    started: float
    partial: dns.message.Message | None = None
    target: dns.name.Name | None = None


class DNSServer:
    """See the module docstring. `forwarder` None: names outside the zone are REFUSED
    (the constructor sets `answerer.forwarding` to match)."""

    def __init__(
        self,
        answerer: Answerer,
        metrics: DNSMetrics,
        *,
        forwarder: Forwarder | None = None,
        clock: Clock | None = None,
        max_pending: int = 1000,
        idle_timeout: float = 10.0,
        cache_size: int = 10_000,
    ) -> None:
        self.answerer = answerer
        self.metrics = metrics
        self.forwarder = forwarder
        self.answerer.forwarding = forwarder is not None
        self._clock = clock or SystemClock()
        self._max_pending = max_pending
        self._pending = 0
        self.idle_timeout = idle_timeout
        self._cache: dict[tuple[bool, bytes], _Cached] = {}
        self._cache_size = cache_size

    # --- the core --------------------------------------------------------------------

    def receive(self, wire: bytes, *, tcp: bool, family: str) -> bytes | Pending | None:
        """The response to one packet; see the module docstring."""
        started = self._clock.now()
        key = (tcp, wire[2:])
        cached = self._cache.get(key)
        if cached is not None and cached.generation == self.answerer.index.generation:
            self._observe(tcp, family, cached.qtype, cached.rcode, "kubernetes", started)
            return wire[:2] + cached.tail
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _formerr(wire)
        if query.flags & dns.flags.QR:
            return None
        response = self.answerer.answer(query)
        target = None
        if response is not None and self.forwarder is not None:
            target = self.answerer.external_target(query, response)
        if response is None or target is not None:
            if self._pending >= self._max_pending:
                response = dns.message.make_response(query, recursion_available=True)
                response.set_rcode(dns.rcode.SERVFAIL)
                return self._finish(query, response, tcp, family, started, "")
            return Pending(query, tcp, family, started, response, target)
        out = self._finish(query, response, tcp, family, started, "kubernetes")
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[key] = _Cached(
            self.answerer.index.generation, out[2:], _qtype(query), _rcode(response)
        )
        return out

    async def forward(self, pending: Pending) -> bytes:
        """The upstream's response to `pending` (SERVFAIL if none answered)."""
        assert self.forwarder is not None  # Pending only exists with a forwarder
        self._pending += 1
        try:
            if pending.partial is None or pending.target is None:
                response = await self.forwarder.forward(pending.query, tcp=pending.tcp)
                plugin = "forward"
            else:
                response, plugin = pending.partial, "kubernetes"
                rdtype = pending.query.question[0].rdtype
                lookup = dns.message.make_query(pending.target, rdtype)
                upstream = await self.forwarder.forward(lookup, tcp=pending.tcp)
                response.answer.extend(upstream.answer)
                response.set_rcode(upstream.rcode())
        finally:
            self._pending -= 1
        return self._finish(
            pending.query, response, pending.tcp, pending.family, pending.started, plugin
        )

    def _finish(
        self,
        query: dns.message.Message,
        response: dns.message.Message,
        tcp: bool,
        family: str,
        started: float,
        plugin: str,
    ) -> bytes:
        if tcp:
            limit = TCP_MAX_SIZE
        else:
            limit = max(UDP_DEFAULT_SIZE, query.payload) if query.edns >= 0 else UDP_DEFAULT_SIZE
        wire = response.to_wire(max_size=limit, prefer_truncation=True)
        self._observe(tcp, family, _qtype(query), _rcode(response), plugin, started)
        return wire

    def _observe(
        self, tcp: bool, family: str, qtype: str, rcode: str, plugin: str, started: float
    ) -> None:
        proto = "tcp" if tcp else "udp"
        seconds = self._clock.now() - started
        self.metrics.observe(
            proto=proto, family=family, qtype=qtype, rcode=rcode, plugin=plugin, seconds=seconds
        )

    # --- the transports ----------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def listening(self, host: str, port: int) -> AsyncIterator[int]:
        """Serves UDP and TCP on host:port while the block runs; yields the port.
        OSError if the address is taken."""
        loop = asyncio.get_running_loop()
        family = "2" if ":" in host else "1"
        tcp_sock, udp_sock = _bind(host, port)
        tasks: set[asyncio.Task[None]] = set()
        async with asyncio.TaskGroup() as group:

            def spawn(coro: Coroutine[Any, Any, None]) -> None:
                task = group.create_task(coro)
                tasks.add(task)
                task.add_done_callback(tasks.discard)

            tcp = await asyncio.start_server(
                lambda r, w: spawn(self._connection(r, w, family)), sock=tcp_sock
            )
            udp, protocol = await loop.create_datagram_endpoint(
                lambda: _UDPProtocol(self, family, spawn), sock=udp_sock
            )
            try:
                yield int(tcp_sock.getsockname()[1])
            finally:
                udp.close()
                tcp.close()
                for task in list(tasks):
                    task.cancel()
                await protocol.closed.wait()  # the port is free once the block is left
                await tcp.wait_closed()

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, family: str
    ) -> None:
        try:
            while True:
                async with asyncio.timeout(self.idle_timeout):
                    size = int.from_bytes(await reader.readexactly(2), "big")
                    wire = await reader.readexactly(size)
                result = self.receive(wire, tcp=True, family=family)
                if result is None:
                    break
                if isinstance(result, Pending):
                    result = await self.forward(result)
                writer.write(len(result).to_bytes(2, "big") + result)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("DNS over TCP: connection failed")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class _UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DNSServer, family: str, spawn: Spawn) -> None:
        self.server = server
        self.family = family
        self.spawn = spawn
        self.transport: asyncio.DatagramTransport | None = None
        self.closed = asyncio.Event()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's UDP transport does not derive from DatagramTransport (3.11).
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            result = self.server.receive(data, tcp=False, family=self.family)
        except Exception:
            log.exception("DNS over UDP: cannot answer a query")
            return
        if isinstance(result, Pending):
            self.spawn(self._forward(result, addr))
        elif result is not None and self.transport is not None:
            self.transport.sendto(result, addr)

    async def _forward(self, pending: Pending, addr: tuple[str | object, ...]) -> None:
        try:
            reply = await self.server.forward(pending)
        except Exception:
            log.exception("DNS over UDP: forwarding failed")
            return
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


def _qtype(query: dns.message.Message) -> str:
    return type_label(dns.rdatatype.to_text(query.question[0].rdtype)) if query.question else ""


def _rcode(response: dns.message.Message) -> str:
    return dns.rcode.to_text(response.rcode())


def _bind(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """A listening TCP socket and a UDP socket on the same host:port (port 0: the one
    the TCP socket got). OSError (both closed) if the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    tcp = socket.socket(family, socket.SOCK_STREAM)
    udp = socket.socket(family, socket.SOCK_DGRAM)
    try:
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((host, port))
        tcp.listen(128)
        udp.bind((host, tcp.getsockname()[1]))
    except OSError:
        tcp.close()
        udp.close()
        raise
    tcp.setblocking(False)
    udp.setblocking(False)
    return tcp, udp


def _formerr(wire: bytes) -> bytes | None:
    """A FORMERR response to an unparseable query (None if it has no full header or
    is itself a response)."""
    if len(wire) < HEADER.size:
        return None
    ident, flags, *_ = HEADER.unpack_from(wire)
    if flags & dns.flags.QR:
        return None
    opcode_bits = flags & 0x7800
    return HEADER.pack(ident, 0x8000 | opcode_bits | dns.rcode.FORMERR, 0, 0, 0, 0)
