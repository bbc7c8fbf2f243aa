"""`NodeAgent`: one node of the kubelet — its runtime and image service, pod workers
(`podworkers`), probes, static pods, and its Node object and status.

- Registration creates the Node (or takes over an existing one, keeping its labels
  and adding ours) and reports its status; `update_status` reports again when the
  status changed (heartbeat times aside) or `node_status_report_frequency` passed.
- Pod status goes through the pods/status subresource as a merge patch, only when it
  differs from what the API holds; a static pod's status goes to its mirror pod.
  The final delete of a terminated pod uses gracePeriodSeconds=0 and a uid
  precondition.
- `adopt` re-adopts the sandboxes that survived a kubelet restart (by pod uid) and
  removes the others; `relist` is the PLEG (pods whose containers changed state are
  enqueued); `sync_static_pods` follows the manifest directory and its mirror pods;
  `rotate_logs` is the container log manager.

Not thread-safe; the `Kubelet` drives it from one event loop, one sync per pod at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    EventRecorder,
    is_already_exists,
    is_conflict,
    is_not_found,
)
from kybernetes.client.resource import NODES, PODS

from .backoff import Backoff
from .config import POD_UID_LABEL, KubeletConfig
from .containers import ContainerStarter, EnvBuilder, MountBuilder
from .logmanager import rotate_logs
from .nodestatus import Machine, Pressure, node_object, node_status
from .podworkers import Hooks, PodWorkers
from .probes import ProbeManager
from .runtime.interface import ContainerState, ImageService, RuntimeService, SandboxState
from .staticpods import MIRROR, mirror_pod, read_manifests

log = logging.getLogger(__name__)
Obj = dict[str, Any]
STATIC = "*static-pods*"  # the queue key (node, STATIC) re-reads the node's manifests
Enqueue = Callable[..., None]  # (pod uid, delay seconds = 0)


def _nowhere(uid: str, delay: float = 0.0) -> None:
    """The enqueue of an agent no Kubelet runs: syncs are driven by hand."""


class NodeAgent:
    """One node's kubelet state (see module docstring)."""

    def __init__(
        self,
        config: KubeletConfig,
        runtime: RuntimeService,
        images: ImageService,
        client: APIClient,
        clock: Clock,
        machine: Machine,
        *,
        network: bool = True,
        recorder: EventRecorder | None = None,
        env: EnvBuilder | None = None,
        mounts: MountBuilder | None = None,
    ) -> None:
        self.config = config
        self.name = config.node_name
        self.runtime = runtime
        self.images = images
        self.client = client
        self.clock = clock
        self.machine = machine
        self.network = network
        self.node: Obj | None = None
        self.static: dict[str, Obj] = {}  # uid → static pod (from the manifest directory)
        self.mirrors: dict[tuple[str, str], Obj] = {}  # (namespace, name) → mirror pod
        self.enqueue: Enqueue = _nowhere  # set by the Kubelet
        self._last_report = float("-inf")
        self._last_status: bytes = b""
        self._containers: dict[str, tuple[ContainerState, str]] = {}
        self.probes = ProbeManager(
            runtime, clock, lambda uid: self.enqueue(uid), network=network, recorder=recorder
        )
        starter = ContainerStarter(
            runtime, images, clock, Backoff(clock), recorder, env, mounts, network
        )
        hooks = Hooks(
            node=lambda: self.node,
            write_status=self._write_status,
            delete_pod=self._delete_pod,
        )
        self.workers = PodWorkers(
            config, runtime, clock, hooks, starter, self.probes, recorder=recorder, network=network
        )

    # --- node registration and status --------------------------------------------

    async def register(self) -> None:
        """Creates the Node (or takes over the existing one) and reports its status."""
        wanted = node_object(self.config, self.machine)
        try:
            self.node = await self.client.create(NODES, wanted)
        except APIError as e:
            if not is_already_exists(e):
                raise
            existing = await self.client.get(NODES, self.name)
            labels = {**(existing["metadata"].get("labels") or {}), **wanted["metadata"]["labels"]}
            patch: Obj = {"metadata": {"labels": labels}}
            self.node = await self.client.patch(NODES, self.name, patch)
        await self.update_status(force=True)

    async def update_status(self, *, force: bool = False) -> None:
        """Reports the node's status if it changed (heartbeats aside) or if the report
        frequency elapsed."""
        if self.node is None:  # not registered yet (the API was unreachable): try again
            await self.register()
            return
        images = await self.images.list_images()
        pressure = (
            Pressure() if self.config.capacity is not None else Pressure.probe(self.config.data_dir)
        )
        old = (self.node.get("status") or {}).get("conditions") or []
        status = node_status(
            self.config, self.machine, runtime_name=self.runtime.name,
            runtime_version=self.runtime.version, images=images, pressure=pressure,
            runtime_error="", old_conditions=old, now=self.clock.wall(),
        )  # fmt: skip
        comparable = orjson.dumps(
            {
                **status,
                "conditions": [{**c, "lastHeartbeatTime": ""} for c in status["conditions"]],
            },
            option=orjson.OPT_SORT_KEYS,
        )
        due = self.clock.now() - self._last_report >= self.config.node_status_report_frequency
        if not force and not due and comparable == self._last_status:
            return
        self.node = await self.client.patch(
            NODES, self.name, {"status": status}, subresource="status"
        )
        self._last_status, self._last_report = comparable, self.clock.now()

    async def rotate_logs(self) -> None:
        """The container log manager: rotates oversized logs (real runtimes only)."""
        directories = {
            r.sandbox.id: r.sandbox.config.log_directory
            for r in self.workers.records.values()
            if r.sandbox is not None
        }
        if self.network and directories:
            await rotate_logs(self.runtime, self.clock, directories)

    # --- pods ----------------------------------------------------------------------

    async def _write_status(self, pod: Obj, status: Obj) -> None:
        meta = pod["metadata"]
        if meta["uid"] in self.static:  # reported on its mirror pod
            mirror = self.mirrors.get((meta["namespace"], meta["name"]))
            pod["status"] = status  # our own object: the next status keeps its times
            if mirror is None:
                return
            if mirror["metadata"].get("deletionTimestamp"):
                return
            pod = mirror
        old = pod.get("status") or {}
        if status == old:
            return
        patch: Obj = {k: None for k in old if k not in status and k not in ("nominatedNodeName",)}
        patch.update(status)
        try:
            await self.client.patch(
                PODS,
                meta["name"],
                {"status": patch},
                namespace=meta["namespace"],
                subresource="status",
            )
        except APIError as e:
            if not is_not_found(e):
                raise

    async def _delete_pod(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(
                PODS, meta["name"], meta["namespace"], grace_period_seconds=0,
                preconditions={"uid": meta["uid"]},
            )  # fmt: skip
        except APIError as e:
            if not (is_not_found(e) or is_conflict(e)):
                raise

    def enqueue_static(self) -> None:
        if self.config.pod_manifest_path is not None:
            self.enqueue(STATIC)

    async def sync_static_pods(self) -> None:
        """Runs the manifests' pods and keeps one current mirror pod for each."""
        directory = self.config.pod_manifest_path
        if directory is None:
            return
        pods = await asyncio.to_thread(read_manifests, directory, self.name)
        for uid in self.static.keys() - pods.keys():
            self.workers.forget(uid)
            self.enqueue(uid)
        for uid, pod in pods.items():
            if uid not in self.static:
                self.workers.update(pod)
                self.enqueue(uid)
        self.static = pods
        wanted = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in pods.values()}
        for key, mirror in list(self.mirrors.items()):
            static = wanted.get(key)
            current = (
                static is not None
                and mirror["metadata"]["annotations"][MIRROR] == static["metadata"]["uid"]
            )
            if not current or mirror["metadata"].get("deletionTimestamp"):
                await self._delete_pod(mirror)
        node_uid = (self.node or {}).get("metadata", {}).get("uid", "")
        for key, pod in wanted.items():
            if key not in self.mirrors:
                try:
                    await self.client.create(PODS, mirror_pod(pod, node_uid))
                except APIError as e:
                    if not is_already_exists(e):
                        raise

    async def adopt(self, pods: Sequence[Obj]) -> None:
        """Re-adopts the sandboxes that survived a restart, for the pods in `pods`;
        other sandboxes are stopped and removed."""
        by_uid = {p["metadata"]["uid"]: p for p in pods}
        sandboxes = sorted(
            await self.runtime.list_pod_sandboxes(), key=lambda s: s.created_at, reverse=True
        )
        for sandbox in sandboxes:
            uid = sandbox.config.labels.get(POD_UID_LABEL, sandbox.config.uid)
            pod = by_uid.get(uid)
            if (
                pod is not None
                and sandbox.state is SandboxState.READY
                and uid not in self.workers.records
            ):
                self.workers.adopt(uid, pod, sandbox)
                log.info(
                    "node %s: re-adopted pod %s/%s",
                    self.name,
                    pod["metadata"]["namespace"],
                    pod["metadata"]["name"],
                )
            elif (
                pod is None
                or self.workers.records.get(uid) is None
                or self.workers.records[uid].sandbox != sandbox
            ):
                await self.runtime.stop_pod_sandbox(sandbox.id)
                await self.runtime.remove_pod_sandbox(sandbox.id)

    async def relist(self) -> None:
        """PLEG: enqueues the pods whose containers changed state since the last relist."""
        seen: dict[str, tuple[ContainerState, str]] = {}
        for container in await self.runtime.list_containers():
            uid = container.labels.get(POD_UID_LABEL, "")
            seen[container.id] = (container.state, uid)
            if self._containers.get(container.id) != seen[container.id]:
                self.enqueue(uid)
        for container_id, (_, uid) in self._containers.items():
            if container_id not in seen:
                self.enqueue(uid)
        self._containers = seen
