"""`kyb scheduler`: the scheduler, as a client of the API.

`serve_scheduler(rest, ...)` connects with the given settings and runs the scheduler
(`scheduler.runner.run_scheduler`) under the `kube-system/kube-scheduler` Lease; when
leadership is lost it starts over (fresh caches), as a restarted kube-scheduler would.
`kyb server` runs it beside its API server; `kyb scheduler --kubeconfig PATH` alone,
optionally with a KubeSchedulerConfiguration file (`--config`).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import yaml

from kybernetes.client import APIClient, RestConfig, load_kubeconfig
from kybernetes.scheduler.configuration import (
    ConfigurationError,
    SchedulerConfiguration,
    load_configuration,
)
from kybernetes.scheduler.runner import run_scheduler

from .apiserver import run_component


async def serve_scheduler(
    rest: RestConfig,
    *,
    configuration: SchedulerConfiguration | None = None,
    leader_elect: bool = True,
) -> None:
    """Schedules until cancelled."""
    async with APIClient(rest, component="scheduler") as client:
        while True:
            await run_scheduler(client, configuration=configuration, leader_elect=leader_elect)


def read_configuration(path: Path) -> SchedulerConfiguration:
    """A KubeSchedulerConfiguration file; ValueError naming the problem."""
    try:
        return load_configuration(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, ConfigurationError) as e:
        raise ValueError(f"scheduler configuration {path}: {e}") from e


def run_scheduler_command(kubeconfig: Path, config: Path | None, leader_elect: bool) -> int:
    """`kyb scheduler`: returns the process exit status."""
    prog = "kyb scheduler"
    try:
        rest = load_kubeconfig(kubeconfig)
        configuration = read_configuration(config) if config else None
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1

    async def main(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(
                serve_scheduler(rest, configuration=configuration, leader_elect=leader_elect)
            )
            print(f"{prog}: running", flush=True)
            await stop.wait()
            running.cancel()

    return run_component(prog, main)
