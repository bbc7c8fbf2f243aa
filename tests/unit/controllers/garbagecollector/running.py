"""Helpers for integration tests: run controllers against a real API server, and
wait (bounded, polling the API) for a condition instead of sleeping blindly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from kybernetes.client import APIClient, SharedInformerFactory


@asynccontextmanager
async def running(
    client: APIClient, *makers: Callable[[APIClient, SharedInformerFactory], Any]
) -> AsyncIterator[list[Any]]:
    """Runs the controllers `makers` build, on one shared factory, while the block runs."""
    factory = SharedInformerFactory(client)
    controllers = [make(client, factory) for make in makers]
    async with factory.running(), asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(c.run()) for c in controllers]
        async with asyncio.timeout(10):
            await factory.wait_for_cache_sync()
        try:
            yield controllers
        finally:
            for task in tasks:
                task.cancel()


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Polls `check` until it answers True; TimeoutError after 10 seconds."""
    async with asyncio.timeout(10):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)  # a bounded poll of the API, not a wait for time
