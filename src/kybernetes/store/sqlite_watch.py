"""Watches for `SqliteStore`: live fan-out of committed events, and replay from the log.

The writer hands each committed batch's events to `WatchHub.publish` (on the event
loop, in commit order); the hub appends the events under each watched prefix to the
queues of that prefix's watchers. Nothing polls.

A `WatchStream` that starts at an old revision registers its live queue FIRST, then
replays the log (rows with id > revision) page by page, then drains the live queue,
dropping live events it already replayed (revision <= the last one delivered). Every
event committed after registration is in the queue, every one before it is in the log,
so the stream has no gap and no duplicate.

Invariants: events reach each stream in revision order, each once; a slow consumer's
queue grows without bound rather than losing events; every stream ends (its iterator
stops) when the hub closes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from .interface import Event

HistoryReader = Callable[[str, int, int], Awaitable[list[Event]]]
"""Reads up to `limit` events under `prefix` with revision > `after`: (prefix, after, limit)."""

REPLAY_PAGE = 1000
"""Events read from the log per replay query."""


class Watcher:
    """One live queue: batches of events under `prefix`, then None once closed."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.closed = False
        self.queue: asyncio.Queue[list[Event] | None] = asyncio.Queue()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class WatchHub:
    """Fans committed events out to watchers by prefix. Used only on the event loop."""

    def __init__(self) -> None:
        self._by_prefix: dict[str, set[Watcher]] = {}
        self.closed = False

    def register(self, prefix: str) -> Watcher:
        watcher = Watcher(prefix)
        if self.closed:
            watcher.close()
        else:
            self._by_prefix.setdefault(prefix, set()).add(watcher)
        return watcher

    def unregister(self, watcher: Watcher) -> None:
        watchers = self._by_prefix.get(watcher.prefix)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._by_prefix[watcher.prefix]

    def publish(self, events: list[Event]) -> None:
        """Queues each event for every watcher of a prefix of its key, in order."""
        for prefix, watchers in self._by_prefix.items():
            matching = [e for e in events if e.kv.key.startswith(prefix)]
            if matching:
                for watcher in watchers:
                    watcher.queue.put_nowait(matching)

    def close(self) -> None:
        """Ends every stream; later registrations are closed from the start."""
        self.closed = True
        for watchers in self._by_prefix.values():
            for watcher in watchers:
                watcher.close()
        self._by_prefix.clear()


class WatchStream:
    """The events of one watch: replayed history (if any), then live events.

    `after` is the revision of the last event delivered (or the revision the watch
    started from); replay runs while `replaying` is set.
    """

    def __init__(
        self, watcher: Watcher, read_history: HistoryReader, after: int, replay: bool
    ) -> None:
        self._watcher = watcher
        self._read_history = read_history
        self._after = after
        self._replaying = replay
        self._pending: deque[Event] = deque()

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> Event:
        """The next event; raises `Compacted` if replay finds its history compacted."""
        while not self._pending:
            if self._watcher.closed and (self._replaying or self._watcher.queue.empty()):
                raise StopAsyncIteration
            if self._replaying:
                await self._replay_page()
            else:
                await self._take_live()
        event = self._pending.popleft()
        self._after = event.revision
        return event

    async def _replay_page(self) -> None:
        page = await self._read_history(self._watcher.prefix, self._after, REPLAY_PAGE)
        self._replaying = len(page) == REPLAY_PAGE
        self._pending.extend(page)

    async def _take_live(self) -> None:
        batch = await self._watcher.queue.get()
        if batch is None:
            return
        after = self._after
        self._pending.extend(e for e in batch if e.revision > after)
