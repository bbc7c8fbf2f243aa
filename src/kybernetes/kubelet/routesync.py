"""Keeps this node's pod routes to the other nodes current (`routes.sync_routes`).

`RouteSyncer(client, node_name).run()` watches every Node (an informer of its own);
any change marks the routes dirty and a single loop re-syncs them from the informer's
cache, at most every `min_interval` seconds, retrying after `retry` seconds when `ip`
fails. Only the oci runtime needs it (pods with their own addresses on a bridge).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kybernetes.client import APIClient, Clock, Informer, SystemClock
from kybernetes.client.resource import NODES

from .routes import RouteApplier, RouteError, sync_routes

log = logging.getLogger(__name__)


class RouteSyncer:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        node_name: str,
        *,
        clock: Clock | None = None,
        apply: RouteApplier | None = None,
        min_interval: float = 0.5,
        retry: float = 5.0,
    ) -> None:
        self.node_name = node_name
        self.clock = clock or SystemClock()
        self.nodes = Informer(client, NODES, clock=self.clock)
        self.apply = apply
        self.min_interval = min_interval
        self.retry = retry
        self._dirty = asyncio.Event()
        self.nodes.add_handler(self._changed, lambda _o, _n: self._changed(), self._changed)

    def _changed(self, obj: Any = None) -> None:
        del obj
        self._dirty.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.nodes.run())
            await self.nodes.has_synced.wait()
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                try:
                    await sync_routes(self.node_name, self.nodes.indexer.list(), self.apply)
                except (RouteError, OSError) as e:
                    log.warning("could not sync pod routes: %s", e)
                    self._dirty.set()
                    await self.clock.sleep(self.retry)
                    continue
                await self.clock.sleep(self.min_interval)
