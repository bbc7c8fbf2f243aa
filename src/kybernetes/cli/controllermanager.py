"""`kyb controller-manager`: the control loops, as a client of the API.

`run_controllers(rest, ...)` connects with the given settings, builds every enabled
controller on one shared informer factory and, when leader election is on, runs them
only while holding the `kube-controller-manager` Lease in `kube-system` (so several
controller managers can run and only one acts). `kyb server` runs it beside its API
server with the admin connection; `kyb controller-manager --kubeconfig PATH` alone.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kybernetes.client import (
    APIClient,
    Clock,
    EventRecorder,
    LeaderElectionConfig,
    LeaderElector,
    RestConfig,
    SharedInformerFactory,
    SystemClock,
    load_kubeconfig,
)
from kybernetes.controllers.cronjob import CronJobController
from kybernetes.controllers.daemonset import DaemonSetController
from kybernetes.controllers.deployment import DeploymentController
from kybernetes.controllers.disruption import DisruptionController
from kybernetes.controllers.endpoints import EndpointsController
from kybernetes.controllers.endpointslice import EndpointSliceController
from kybernetes.controllers.endpointslicemirroring import EndpointSliceMirroringController
from kybernetes.controllers.garbagecollector import GarbageCollector
from kybernetes.controllers.job import JobController
from kybernetes.controllers.namespace import NamespaceController
from kybernetes.controllers.nodeipam import NodeIpamController
from kybernetes.controllers.nodelifecycle import NodeLifecycleController
from kybernetes.controllers.podgc import PodGCController
from kybernetes.controllers.replicaset import REPLICATION_CONTROLLER, ReplicaSetController
from kybernetes.controllers.resourcequota import ResourceQuotaController
from kybernetes.controllers.serviceaccount import ServiceAccountController
from kybernetes.controllers.statefulset import StatefulSetController
from kybernetes.controllers.ttlafterfinished import TTLAfterFinishedController

from .apiserver import run_component
from .controlleroptions import DEFAULT_OPTIONS, ControllerOptions


class Controller(Protocol):
    async def run(self) -> None: ...


@dataclass(frozen=True)
class Shared:
    """What every controller is built from."""

    client: APIClient
    factory: SharedInformerFactory
    recorder: EventRecorder
    clock: Clock
    options: ControllerOptions = DEFAULT_OPTIONS


CONTROLLERS: dict[str, Callable[[Shared], Controller]] = {
    "cronjob": lambda s: CronJobController(s.client, s.factory, s.recorder, clock=s.clock),
    "daemonset": lambda s: DaemonSetController(s.client, s.factory, s.recorder, clock=s.clock),
    "deployment": lambda s: DeploymentController(s.client, s.factory, s.recorder, clock=s.clock),
    "disruption": lambda s: DisruptionController(s.client, s.factory, s.recorder, clock=s.clock),
    "endpoints": lambda s: EndpointsController(s.client, s.factory, clock=s.clock),
    "endpointslice": lambda s: EndpointSliceController(
        s.client,
        s.factory,
        clock=s.clock,
        max_endpoints_per_slice=s.options.max_endpoints_per_slice,
    ),
    "endpointslicemirroring": lambda s: EndpointSliceMirroringController(
        s.client, s.factory, clock=s.clock
    ),
    "garbagecollector": lambda s: GarbageCollector(s.client, s.factory, clock=s.clock),
    "job": lambda s: JobController(s.client, s.factory, s.recorder, clock=s.clock),
    "namespace": lambda s: NamespaceController(s.client, s.factory, clock=s.clock),
    "nodeipam": lambda s: NodeIpamController(
        s.client,
        s.factory,
        s.recorder,
        clock=s.clock,
        cluster_cidr=s.options.cluster_cidr,
        node_cidr_mask_size=s.options.node_cidr_mask_size,
    ),
    "nodelifecycle": lambda s: NodeLifecycleController(
        s.client,
        s.factory,
        s.recorder,
        clock=s.clock,
        grace_period=s.options.node_monitor_grace_period,
        startup_grace_period=s.options.node_startup_grace_period,
        node_eviction_rate=s.options.node_eviction_rate,
        secondary_node_eviction_rate=s.options.secondary_node_eviction_rate,
        large_cluster_size_threshold=s.options.large_cluster_size_threshold,
        unhealthy_zone_threshold=s.options.unhealthy_zone_threshold,
    ),
    "podgc": lambda s: PodGCController(
        s.client,
        s.factory,
        clock=s.clock,
        terminated_pod_gc_threshold=s.options.terminated_pod_gc_threshold,
    ),
    "replicaset": lambda s: ReplicaSetController(s.client, s.factory, s.recorder, clock=s.clock),
    "replicationcontroller": lambda s: ReplicaSetController(
        s.client, s.factory, s.recorder, clock=s.clock, kind=REPLICATION_CONTROLLER
    ),
    "resourcequota": lambda s: ResourceQuotaController(
        s.client, s.factory, clock=s.clock, resync_period=s.options.resource_quota_sync_period
    ),
    "serviceaccount": lambda s: ServiceAccountController(s.client, s.factory, clock=s.clock),
    "statefulset": lambda s: StatefulSetController(s.client, s.factory, s.recorder, clock=s.clock),
    "ttlafterfinished": lambda s: TTLAfterFinishedController(s.client, s.factory, clock=s.clock),
}


async def run_controllers(
    rest: RestConfig,
    *,
    enabled: frozenset[str] | None = None,
    leader_elect: bool = True,
    options: ControllerOptions = DEFAULT_OPTIONS,
) -> None:
    """Runs the enabled controllers (all by default) until cancelled; with leader
    election, only while holding the `kube-system/kube-controller-manager` Lease, and
    again with fresh caches whenever it is won back after being lost."""
    names = sorted(enabled if enabled is not None else CONTROLLERS)
    async with APIClient(rest, component="controller-manager") as client:

        async def lead() -> None:
            clock = SystemClock()
            shared = Shared(
                client,
                SharedInformerFactory(client, clock=clock),
                EventRecorder(client, "controller-manager", socket.gethostname(), clock=clock),
                clock,
                options,
            )
            controllers = [CONTROLLERS[name](shared) for name in names]
            async with asyncio.TaskGroup() as tg:
                tg.create_task(shared.factory.run())
                tg.create_task(shared.recorder.run())
                for controller in controllers:
                    tg.create_task(controller.run())

        if not leader_elect:
            await lead()
            return
        identity = f"{socket.gethostname()}_{uuid.uuid4()}"
        config = LeaderElectionConfig("kube-controller-manager", "kube-system", identity)
        while True:  # leadership lost: the controllers stopped; campaign again, fresh
            await LeaderElector(client, config).run(lead)


def run_controller_manager(
    kubeconfig: Path,
    enabled: frozenset[str] | None,
    leader_elect: bool,
    options: ControllerOptions = DEFAULT_OPTIONS,
) -> int:
    """`kyb controller-manager`: returns the process exit status."""
    prog = "kyb controller-manager"
    try:
        rest = load_kubeconfig(kubeconfig)
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1

    async def main(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(
                run_controllers(rest, enabled=enabled, leader_elect=leader_elect, options=options)
            )
            print(f"{prog}: running {', '.join(sorted(enabled or CONTROLLERS))}", flush=True)
            await stop.wait()
            running.cancel()

    return run_component(prog, main)
