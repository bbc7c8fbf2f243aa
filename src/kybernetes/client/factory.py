"""`SharedInformerFactory`: one informer per (resource, namespace, selectors), shared by
every consumer in a process, all run in one `TaskGroup`.

A component asks the factory for the informers it needs (`informer(...)` answers the
same object for the same arguments), registers handlers, then runs the factory:
`async with factory.running(): ...` (the informers stop when the block exits) or
`await factory.run()` (until cancelled). An informer asked for while the factory runs
is started at once, in the same TaskGroup. `wait_for_cache_sync()` waits until every
informer handed out so far has synced.

Errors: informers retry API failures forever, so the TaskGroup fails only on a bug
(an unexpected exception in an informer), which then stops them all and propagates.
Not thread-safe: one event loop. The factory runs once at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .clock import Clock
from .informer import Informer
from .resource import Resource
from .rest import APIClient

_Key = tuple[Resource, str, str, str]


class SharedInformerFactory:
    """Hands out shared informers and runs them (see module docstring).

    `namespace` is the default for `informer()`; `resync_period` and `clock` apply to
    every informer made.
    """

    def __init__(
        self,
        client: APIClient,
        *,
        namespace: str = "",
        resync_period: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.resync_period = resync_period
        self._clock = clock
        self._informers: dict[_Key, Informer] = {}
        self._task_group: asyncio.TaskGroup | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def informer(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> Informer:
        """The informer for these arguments, made (and started, if the factory runs)
        on first request. Cluster-scoped resources ignore `namespace`."""
        if not resource.namespaced:
            namespace = ""
        elif namespace is None:
            namespace = self.namespace
        key = (resource, namespace, label_selector, field_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = self._informers[key] = Informer(
                self.client,
                resource,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                resync_period=self.resync_period,
                clock=self._clock,
            )
            if self._task_group is not None:
                self._tasks.append(self._task_group.create_task(informer.run()))
        return informer

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    async def run(self) -> None:
        """Runs every informer, present and future, until cancelled."""
        async with self.running():
            await asyncio.Future()  # only cancellation ends this

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SharedInformerFactory]:
        """Runs every informer, present and future, while the block runs."""
        if self._task_group is not None:
            raise RuntimeError("the informer factory is already running")
        async with asyncio.TaskGroup() as task_group:
            self._task_group = task_group
            self._tasks = [task_group.create_task(i.run()) for i in self._informers.values()]
            try:
                yield self
            finally:
                self._task_group = None
                for task in self._tasks:
                    task.cancel()
                self._tasks = []

    async def wait_for_cache_sync(self) -> None:
        """Waits until every informer handed out so far has synced. Bound it with
        `asyncio.timeout` (an informer whose list keeps failing never syncs)."""
        for informer in list(self._informers.values()):
            await informer.has_synced.wait()
