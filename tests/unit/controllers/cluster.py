"""Integration helpers for the workload controllers: run a controller (and an event
recorder) against a real API server, wait for what an informer shows — woken by its
events, never by sleeping — and play the kubelet by marking pods Running and Ready."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from kybernetes.client import (
    APIClient,
    EventRecorder,
    Informer,
    SharedInformerFactory,
    SystemClock,
)
from kybernetes.client.resource import PODS

Obj = dict[str, Any]


@asynccontextmanager
async def running(
    client: APIClient, make: Callable[..., Any]
) -> AsyncIterator[tuple[Any, SharedInformerFactory]]:
    """Runs `make(client, factory, recorder, clock=...)`'s controller while the block runs."""
    clock = SystemClock()
    factory = SharedInformerFactory(client, clock=clock)
    recorder = EventRecorder(client, "test-controller", clock=clock)
    controller = make(client, factory, recorder, clock=clock)
    async with factory.running(), asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(controller.run()), tg.create_task(recorder.run())]
        async with asyncio.timeout(10):
            await factory.wait_for_cache_sync()
        try:
            yield controller, factory
        finally:
            for task in tasks:
                task.cancel()


async def wait_for(informer: Informer, check: Callable[[list[Obj]], bool]) -> list[Obj]:
    """Waits (10 s at most) until `check` holds for the informer's objects; answers them."""
    changed = asyncio.Event()
    informer.add_handler(
        lambda _: changed.set(), lambda _, __: changed.set(), lambda _: changed.set()
    )
    async with asyncio.timeout(10):
        while not check(objects := informer.indexer.list()):
            changed.clear()
            await changed.wait()
    return objects


async def make_ready(client: APIClient, pod: Obj) -> None:
    """What a kubelet would report: the pod Running and Ready."""
    stamp = "2025-01-01T00:00:00Z"
    status = {
        "phase": "Running",
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": stamp},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": stamp},
        ],
    }
    fresh = await client.get(PODS, pod["metadata"]["name"], pod["metadata"]["namespace"])
    await client.update_status(PODS, {**fresh, "status": {**fresh.get("status", {}), **status}})
