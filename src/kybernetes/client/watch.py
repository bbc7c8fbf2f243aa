"""One watch request's event stream: `(type, object)` pairs decoded as they arrive.

The API server answers a watch with newline-delimited JSON frames
`{"type": ..., "object": ...}` where type is ADDED, MODIFIED, DELETED, BOOKMARK or
ERROR. `WatchStream` yields every frame but ERROR as a `WatchEvent`; an ERROR frame
carries a Status and is raised as `APIError` (`Expired` for 410: resume by listing
afresh). The stream ends (StopAsyncIteration) when the server ends it (its
`timeoutSeconds`, or it shut the watch down) or when `close()` was called. A broken
connection, or one that ends inside a frame, raises `TransportError`.

Contract: the request is made on first iteration (or on `__aenter__`); use the stream
as an async context manager to release the connection promptly when leaving early.
`close()` is idempotent and may be called from another task to end an iteration in
progress. A stream is iterated once, by one task at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, NamedTuple, Self

import aiohttp
import orjson

from .errors import APIError, TransportError

Opener = Callable[[], Awaitable[aiohttp.ClientResponse]]


class WatchEvent(NamedTuple):
    """A watch event; `object` is the object after the change (for DELETED, its last
    state) or, for BOOKMARK, an object carrying only `metadata.resourceVersion`."""

    type: str
    object: dict[str, Any]


class WatchStream:
    """The events of one watch request (see module docstring)."""

    def __init__(self, open_response: Opener) -> None:
        self._open = open_response
        self._response: aiohttp.ClientResponse | None = None
        self._buffer = b""
        self._closed = False

    async def __aenter__(self) -> Self:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WatchEvent:
        if self._response is None and not self._closed:
            await self._start()
        line = await self._next_line()
        if line is None:
            self.close()
            raise StopAsyncIteration
        try:
            frame = orjson.loads(line)
            event_type, obj = str(frame["type"]), frame["object"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as e:
            self.close()
            raise TransportError(f"malformed watch event: {line[:200]!r}") from e
        if event_type == "ERROR":
            self.close()
            code = int(obj.get("code") or 500) if isinstance(obj, dict) else 500
            raise APIError.from_response(code, obj, f"watch error: {obj!r}")
        return WatchEvent(event_type, obj)

    def close(self) -> None:
        """Ends the stream and releases its connection. Idempotent."""
        self._closed = True
        if self._response is not None:
            self._response.close()

    async def _start(self) -> None:
        response = await self._open()
        if self._closed:  # closed while connecting
            response.close()
            return
        self._response = response

    async def _next_line(self) -> bytes | None:
        """The next complete frame, or None at the end of the stream."""
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
                if line.strip():
                    return line
                continue
            if self._closed or self._response is None:
                return None
            try:
                chunk = await self._response.content.readany()
            except (aiohttp.ClientError, OSError) as e:
                if self._closed:
                    return None
                raise TransportError(f"watch stream broken: {e}") from e
            if not chunk:
                if self._buffer.strip():
                    raise TransportError("watch stream ended inside an event")
                self._response.release()  # read to the end: the connection is reusable
                return None
            self._buffer += chunk
