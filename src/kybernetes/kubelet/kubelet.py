"""The kubelet: one process serving one node (or, simulated, many) through the API.

`Kubelet` is the process around one or more `agent.NodeAgent`s: one API
client, one pod informer (field selector `spec.nodeName=NODE` for a single node; all
pods, dispatched by `spec.nodeName`, for many), a node informer (labels and taints
for admission), one work queue of (node, pod uid) keys drained by `workers` tasks,
the PLEG relist (every `relist_period`: runtime containers whose state changed
enqueue their pod), node status updates (on change, at least every
`node_status_report_frequency`), lease heartbeats, and a periodic resync.

Mirror pods are kept by their agent, never run; manifests are re-read every 20 s and
whenever a mirror pod goes.

Start-up is restart-safe: once the pod informer has synced, sandboxes the runtime
still has are re-adopted by pod uid (their containers keep running) and sandboxes of
pods that no longer exist are stopped and removed; only then do pods get synced.
Handlers only enqueue; `run()` returns only by cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    EventRecorder,
    Informer,
    SystemClock,
    TransportError,
    WorkQueue,
    run_workers,
)
from kybernetes.client.informer import DeletedFinalStateUnknown
from kybernetes.client.resource import NODES, PODS

from .agent import STATIC, Enqueue, NodeAgent
from .lease import NodeLeases
from .staticpods import MIRROR, is_mirror, read_manifests

log = logging.getLogger(__name__)
RETRY_AFTER_TRANSPORT_ERROR = 2.0
Obj = dict[str, Any]
Key = tuple[str, str]


class Kubelet:
    """The process running one or more node agents (see module docstring)."""

    def __init__(
        self,
        client: APIClient,
        agents: Sequence[NodeAgent],
        *,
        clock: Clock | None = None,
        workers: int = 16,
        recorder: EventRecorder | None = None,
        extra: Sequence[Any] = (),
    ) -> None:
        self.client = client
        self.agents = {a.name: a for a in agents}
        self.clock = clock or SystemClock()
        self.queue: WorkQueue[Key] = WorkQueue(clock=self.clock)
        self._workers = workers
        # The periods are the first agent's (all agents of a process share them).
        config = agents[0].config
        self._sync_frequency = config.sync_frequency
        self._relist_period = config.relist_period
        self._status_frequency = config.node_status_update_frequency
        self._file_check_frequency = min(a.config.file_check_frequency for a in agents)
        self._recorder = recorder
        self._extra = extra
        single = len(self.agents) == 1
        selector = f"spec.nodeName={agents[0].name}" if single else ""
        self.pods = Informer(client, PODS, field_selector=selector, clock=self.clock)
        node_selector = f"metadata.name={agents[0].name}" if single else ""
        self.nodes = Informer(client, NODES, field_selector=node_selector, clock=self.clock)
        self.leases = NodeLeases(
            client,
            self.clock,
            self._lease_nodes,
            duration_seconds=config.node_lease_duration_seconds,
        )
        self.ready = asyncio.Event()
        for agent in agents:
            agent.enqueue = self._enqueuer(agent.name)

    def _enqueuer(self, node: str) -> Enqueue:
        def enqueue(uid: str, delay: float = 0.0) -> None:
            if not uid:
                return
            if delay > 0:
                self.queue.add_after((node, uid), delay)
            else:
                self.queue.add((node, uid))

        return enqueue

    def _lease_nodes(self) -> list[tuple[str, str]]:
        return [
            (a.name, (a.node or {}).get("metadata", {}).get("uid", ""))
            for a in self.agents.values()
        ]

    # --- informer handlers (enqueue only) -------------------------------------------

    def _on_pod(self, pod: Obj) -> None:
        agent = self.agents.get((pod.get("spec") or {}).get("nodeName", ""))
        if agent is not None and is_mirror(pod):
            agent.mirrors[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = pod
            agent.enqueue(pod["metadata"]["annotations"][MIRROR])  # its status goes there
            if pod["metadata"].get("deletionTimestamp"):
                agent.enqueue_static()
        elif agent is not None:
            agent.workers.update(pod)
            self.queue.add((agent.name, pod["metadata"]["uid"]))

    def _on_pod_update(self, old: Obj, new: Obj) -> None:
        self._on_pod(new)

    def _on_pod_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        pod = obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj
        agent = self.agents.get((pod.get("spec") or {}).get("nodeName", ""))
        if agent is not None and is_mirror(pod):
            agent.mirrors.pop((pod["metadata"]["namespace"], pod["metadata"]["name"]), None)
            agent.enqueue_static()
        elif agent is not None:
            agent.workers.forget(pod["metadata"]["uid"])
            self.queue.add((agent.name, pod["metadata"]["uid"]))

    def _on_node(self, node: Obj) -> None:
        agent = self.agents.get(node["metadata"]["name"])
        if agent is not None:
            agent.node = node

    # --- running -----------------------------------------------------------------------

    async def _sync(self, key: Key) -> None:
        node, uid = key
        agent = self.agents.get(node)
        if agent is None:
            return
        if uid == STATIC:
            await agent.sync_static_pods()
            return
        try:
            again = await agent.workers.sync(uid)
        except TransportError as e:  # no answer from the API (a slow server): retry soon
            log.info("node %s: sync of pod %s: %s; retrying", node, uid, e or type(e).__name__)
            again = RETRY_AFTER_TRANSPORT_ERROR
        if again is not None:
            self.queue.add_after(key, again)

    async def _each_agent(self, action: str) -> None:
        limit = asyncio.Semaphore(32)

        async def one(agent: NodeAgent) -> None:
            async with limit:
                try:
                    await getattr(agent, action)()
                except (APIError, TransportError) as e:
                    log.warning("node %s: %s: %s", agent.name, action, e)

        async with asyncio.TaskGroup() as group:
            for agent in self.agents.values():
                group.create_task(one(agent))

    async def _every(self, period: float, action: str) -> None:
        while True:
            await self.clock.sleep(period)
            await self._each_agent(action)

    async def _check_manifests(self) -> None:
        while True:
            await self.clock.sleep(self._file_check_frequency)
            for agent in self.agents.values():
                agent.enqueue_static()

    async def _resync(self) -> None:
        while True:
            await self.clock.sleep(self._sync_frequency)
            for agent in self.agents.values():
                for uid in list(agent.workers.records):
                    self.queue.add((agent.name, uid))

    async def run(self) -> None:
        """Registers the nodes, then runs everything until cancelled."""
        await self._each_agent("register")
        async with asyncio.TaskGroup() as group:
            group.create_task(self.leases.run())
            self.nodes.add_handler(self._on_node, lambda _, new: self._on_node(new))
            group.create_task(self.nodes.run())
            group.create_task(self.pods.run())
            for agent in self.agents.values():
                group.create_task(agent.probes.run())
            for extra in self._extra:
                group.create_task(extra.run())
            await self.pods.has_synced.wait()
            pods = self.pods.indexer.list()
            for agent in self.agents.values():
                mine = [p for p in pods if p.get("spec", {}).get("nodeName") == agent.name]
                if agent.config.pod_manifest_path is not None:
                    static = read_manifests(agent.config.pod_manifest_path, agent.name)
                    mine += static.values()
                await agent.adopt(mine)
                agent.enqueue_static()
            self.pods.add_handler(self._on_pod, self._on_pod_update, self._on_pod_delete)
            group.create_task(run_workers(self.queue, self._sync, self._workers))
            group.create_task(self._every(self._relist_period, "relist"))
            group.create_task(self._every(self._status_frequency, "update_status"))
            group.create_task(self._resync())
            group.create_task(self._every(10.0, "rotate_logs"))
            group.create_task(self._check_manifests())
            self.ready.set()
