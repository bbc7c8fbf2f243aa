"""Threads that run SQLite calls off the event loop and hand results back in batches.

SQLite calls block (disk I/O, fsync, lock waits), so `SqliteStore` never makes them on
the event loop. Each thread owns one connection. A thread takes every job queued so far
(up to a cap), runs them, and resolves their futures with ONE `call_soon_threadsafe`,
which keeps the per-call overhead small under load.

Invariants: a future is resolved only on the event loop's thread; a future that is
already done (its caller was cancelled) is left alone; a raw `sqlite3.Error` never
reaches a caller (it becomes `Unavailable` naming the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .interface import Unavailable

T = TypeVar("T")

Resolution = tuple["asyncio.Future[Any]", object]
"""A future and what to resolve it with: a result, or an exception to raise."""

STOP = object()
"""Queued to tell a thread to exit once the jobs queued before it are done."""


def take_batch(jobs: queue.SimpleQueue[Any], limit: int) -> list[Any]:
    """Blocks for one item, then takes whatever else is queued, up to `limit` items."""
    batch = [jobs.get()]
    while len(batch) < limit:
        try:
            batch.append(jobs.get_nowait())
        except queue.Empty:
            break
    return batch


def resolve_all(resolutions: list[Resolution]) -> None:
    """Resolves each future (on the event loop) unless its caller has given up on it."""
    for future, outcome in resolutions:
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)


def post(loop: asyncio.AbstractEventLoop, callback: Callable[[T], None], arg: T) -> None:
    """Schedules `callback(arg)` on `loop` from another thread; a closed loop drops it."""
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        loop.call_soon_threadsafe(callback, arg)


def as_store_error(path: Path, error: Exception) -> Exception:
    """`error` as callers should see it: SQLite errors become `Unavailable`."""
    if isinstance(error, sqlite3.Error):
        return Unavailable(f"datastore {path}: {error}")
    return error


ReadJob = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


class ReaderPool:
    """Threads, each with its own connection, running read jobs from one queue.

    WAL lets them read concurrently with each other and with the writer; each job sees
    every write acknowledged before it was submitted. A thread runs up to `batch`
    queued jobs before handing their results back.
    """

    def __init__(
        self,
        path: Path,
        loop: asyncio.AbstractEventLoop,
        connections: list[sqlite3.Connection],
        batch: int,
    ) -> None:
        self._path = path
        self._loop = loop
        self._batch = batch
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(
                target=self._serve, args=(conn,), name=f"kyb-sqlite-reader-{i}", daemon=True
            )
            for i, conn in enumerate(connections)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Runs `fn(connection, *args)` on a reader thread; the future gets its result."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put((fn, args, future))
        return future

    def stop(self) -> None:
        """Blocks until the queued jobs are done and the threads have exited."""
        for _ in self._threads:
            self._jobs.put(STOP)
        for thread in self._threads:
            thread.join()

    def _serve(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                batch = take_batch(self._jobs, self._batch)
                jobs = [job for job in batch if job is not STOP]
                post(self._loop, resolve_all, [self._run(conn, job) for job in jobs])
                if len(jobs) < len(batch):
                    for _ in range(len(batch) - len(jobs) - 1):
                        self._jobs.put(STOP)  # another thread's: hand it back
                    return
        finally:
            conn.close()

    def _run(self, conn: sqlite3.Connection, job: ReadJob) -> Resolution:
        fn, args, future = job
        try:
            return future, fn(conn, *args)
        except Exception as e:
            return future, as_store_error(self._path, e)
