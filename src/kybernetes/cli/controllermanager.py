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
from kybernetes.controllers.deployment import DeploymentController
from kybernetes.controllers.garbagecollector import GarbageCollector
from kybernetes.controllers.namespace import NamespaceController
from kybernetes.controllers.replicaset import REPLICATION_CONTROLLER, ReplicaSetController
from kybernetes.controllers.serviceaccount import ServiceAccountController

from .apiserver import run_component


class Controller(Protocol):
    async def run(self) -> None: ...


@dataclass(frozen=True)
class Shared:
    """What every controller is built from."""

    client: APIClient
    factory: SharedInformerFactory
    recorder: EventRecorder
    clock: Clock


CONTROLLERS: dict[str, Callable[[Shared], Controller]] = {
    "deployment": lambda s: DeploymentController(s.client, s.factory, s.recorder, clock=s.clock),
    "garbagecollector": lambda s: GarbageCollector(s.client, s.factory, clock=s.clock),
    "namespace": lambda s: NamespaceController(s.client, s.factory, clock=s.clock),
    "replicaset": lambda s: ReplicaSetController(s.client, s.factory, s.recorder, clock=s.clock),
    "replicationcontroller": lambda s: ReplicaSetController(
        s.client, s.factory, s.recorder, clock=s.clock, kind=REPLICATION_CONTROLLER
    ),
    "serviceaccount": lambda s: ServiceAccountController(s.client, s.factory, clock=s.clock),
}


async def run_controllers(
    rest: RestConfig, *, enabled: frozenset[str] | None = None, leader_elect: bool = True
) -> None:
    """Runs the enabled controllers (all by default) until cancelled."""
    names = sorted(enabled if enabled is not None else CONTROLLERS)
    async with APIClient(rest, component="controller-manager") as client:

        async def lead() -> None:
            clock = SystemClock()
            shared = Shared(
                client,
                SharedInformerFactory(client, clock=clock),
                EventRecorder(client, "controller-manager", socket.gethostname(), clock=clock),
                clock,
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
        await LeaderElector(client, config).run(lead)


def run_controller_manager(
    kubeconfig: Path, enabled: frozenset[str] | None, leader_elect: bool
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
                run_controllers(rest, enabled=enabled, leader_elect=leader_elect)
            )
            print(f"{prog}: running {', '.join(sorted(enabled or CONTROLLERS))}", flush=True)
            await stop.wait()
            running.cancel()

    return run_component(prog, main)
