"""WATCH: a chunked stream of JSON watch events, served from the watch cache.

Kubernetes' semantics: with no `resourceVersion` (or "0") the stream starts with a
synthetic ADDED event per matching object, then follows changes; with
`resourceVersion=N` it sends every change after N; N older than the cache's history
gets one ERROR event carrying a 410 Expired Status. Selectors apply to the old and the
new object, so an object leaving the selector arrives as DELETED. `timeoutSeconds`
ends the stream; `allowWatchBookmarks` lets BOOKMARK events through.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable

import orjson
from aiohttp import web

from . import status
from .app import METRICS_KEY
from .listing import ListOptions, matcher
from .printing import TableRequest
from .registry import Registry
from .stored import StoredObject
from .watchcache import CacheEvent, TooOld

DEFAULT_TIMEOUT = 1800.0


def _frame(event_type: str, raw: bytes) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + raw + b"}\n"


def _bookmark(registry: Registry, revision: int) -> bytes:
    obj = {
        "kind": registry.info.kind,
        "apiVersion": registry.info.group_version,
        "metadata": {"resourceVersion": str(revision)},
    }
    return _frame("BOOKMARK", orjson.dumps(obj))


async def serve_watch(
    request: web.Request, registry: Registry, namespace: str, options: ListOptions
) -> web.StreamResponse:
    """Streams the watch until the timeout, the client leaving or the server stopping."""
    cache = registry.cache
    timeout_text = request.query.get("timeoutSeconds", "")
    if timeout_text and not (timeout_text.isascii() and timeout_text.isdigit()):
        raise status.bad_request(f'invalid value "{timeout_text}" for timeoutSeconds')
    timeout = float(timeout_text) if timeout_text else DEFAULT_TIMEOUT * (1 + random.random())
    bookmarks = request.query.get("allowWatchBookmarks", "") in ("true", "1")
    matches = matcher(registry, options)
    prefix = registry.prefix(namespace)
    rv = options.resource_version

    table = TableRequest.of(request, registry)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)

    initial: list[StoredObject] = []
    if rv in ("", "0"):
        if rv == "":
            with contextlib.suppress(TimeoutError):
                await cache.wait_fresh()
        revision = cache.revision
        objects = registry.cached(namespace)
        initial = [o for o in objects if matches(o)]
    else:
        revision = int(rv)
    try:
        watcher = cache.watch(prefix, revision, matches)
    except TooOld as e:
        error = status.expired(str(e)).status()
        await response.write(_frame("ERROR", orjson.dumps(error)))
        await response.write_eof()
        return response
    info = registry.info
    try:
        async with request.app[METRICS_KEY].watching(info.group, info.version, info.plural):
            encode = _encoder(registry, table)
            if initial:
                await response.write(b"".join(_frame("ADDED", encode(o)) for o in initial))
            async with asyncio.timeout(timeout):
                await _stream(response, registry, watcher.events(), bookmarks, encode)
        await response.write_eof()
    except TimeoutError:
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away: nothing more to send
    finally:
        cache.stop_watching(watcher)
    return response


async def _stream(
    response: web.StreamResponse,
    registry: Registry,
    events: AsyncIterator[CacheEvent],
    bookmarks: bool,
    encode: Callable[[StoredObject], bytes],
) -> None:
    async for event in events:
        if event.type == "BOOKMARK":
            if bookmarks:
                await response.write(_bookmark(registry, event.revision))
        elif event.obj is not None:
            await response.write(_frame(event.type, encode(event.obj)))


def _encoder(registry: Registry, table: TableRequest | None) -> Callable[[StoredObject], bytes]:
    """How each event's object is written: as served, or as a one-row Table (with the
    column definitions in the first event only, as kube-apiserver does)."""
    if table is None:
        return lambda obj: registry.present(obj).raw
    first = True

    def as_table(obj: StoredObject) -> bytes:
        nonlocal first
        encoded = table.event_object(registry.present(obj), first)
        first = False
        return encoded

    return as_table
