"""`kyb scheduler`: the scheduler, as a client of the API.

`serve_scheduler(rest, ...)` connects with the given settings and runs the scheduler
(`scheduler.runner.run_scheduler`) under the `kube-system/kube-scheduler` Lease; when
leadership is lost it starts over (fresh caches), as a restarted kube-scheduler would.
`kyb server` runs it beside its API server; `kyb scheduler --kubeconfig PATH` alone,
optionally with a KubeSchedulerConfiguration file (`--config`); it serves its metrics
(`scheduler.metrics`) and /healthz on `--metrics-bind-address` (127.0.0.1:10259).
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path

import yaml

from kybernetes.client import APIClient, RestConfig, load_kubeconfig
from kybernetes.client.endpoints import parse_address, serving_endpoints
from kybernetes.scheduler.configuration import (
    ConfigurationError,
    SchedulerConfiguration,
    load_configuration,
)
from kybernetes.scheduler.metrics import SchedulerMetrics
from kybernetes.scheduler.runner import run_scheduler

from .apiserver import run_component


async def serve_scheduler(
    rest: RestConfig,
    *,
    configuration: SchedulerConfiguration | None = None,
    leader_elect: bool = True,
    metrics_address: str = "",
) -> None:
    """Schedules until cancelled; with `metrics_address` ("HOST:PORT") it also serves
    /metrics and /healthz there (OSError if the address is taken)."""
    metrics = SchedulerMetrics()
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(APIClient(rest, component="scheduler"))
        if metrics_address:
            await stack.enter_async_context(serving_endpoints(metrics_address, metrics.registry))
        while True:
            await run_scheduler(
                client, configuration=configuration, leader_elect=leader_elect, metrics=metrics
            )


def with_lease_timings(
    configuration: SchedulerConfiguration,
    lease_duration: float | None,
    renew_deadline: float | None,
    retry_period: float | None,
) -> SchedulerConfiguration:
    """The configuration with the given leader election timings; ValueError if they
    do not fit together (lease > renew deadline > 1.2 x retry period)."""
    election = configuration.leader_election
    election = replace(
        election,
        lease_duration=election.lease_duration if lease_duration is None else lease_duration,
        renew_deadline=election.renew_deadline if renew_deadline is None else renew_deadline,
        retry_period=election.retry_period if retry_period is None else retry_period,
    )
    if not election.lease_duration > election.renew_deadline > 1.2 * election.retry_period:
        raise ValueError(
            "leader election: lease duration must exceed the renew deadline, which must "
            "exceed 1.2 x the retry period"
        )
    return replace(configuration, leader_election=election)


def read_configuration(path: Path) -> SchedulerConfiguration:
    """A KubeSchedulerConfiguration file; ValueError naming the problem."""
    try:
        return load_configuration(yaml.safe_load(path.read_text()))
    except (yaml.YAMLError, ConfigurationError) as e:
        raise ValueError(f"scheduler configuration {path}: {e}") from e


def run_scheduler_command(
    kubeconfig: Path,
    config: Path | None,
    leader_elect: bool,
    *,
    metrics_address: str = "",
    lease_timings: tuple[float | None, float | None, float | None] = (None, None, None),
) -> int:
    """`kyb scheduler`: returns the process exit status. `lease_timings` (lease
    duration, renew deadline, retry period; None keeps the configuration's) override
    the configuration file's `leaderElection`."""
    prog = "kyb scheduler"
    try:
        rest = load_kubeconfig(kubeconfig)
        configuration = read_configuration(config) if config else load_configuration(None)
        configuration = with_lease_timings(configuration, *lease_timings)
        if metrics_address:
            parse_address(metrics_address)
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1

    async def main(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(
                serve_scheduler(
                    rest,
                    configuration=configuration,
                    leader_elect=leader_elect,
                    metrics_address=metrics_address,
                )
            )
            print(f"{prog}: running", flush=True)
            await stop.wait()
            running.cancel()

    return run_component(prog, main)
