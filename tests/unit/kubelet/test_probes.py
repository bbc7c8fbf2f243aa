"""Probe and hook actions against real loopback servers, and the probe manager's
thresholds and initial delay on a FakeClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from kybernetes.client import FakeClock
from kybernetes.kubelet.hooks import run_hook
from kybernetes.kubelet.probes import ProbeManager, run_action
from kybernetes.kubelet.runtime.interface import ContainerConfig, ExecResult, PodSandboxConfig
from kybernetes.kubelet.runtime.simulated import SimulatedRuntime


@pytest.fixture
async def http_port() -> AsyncIterator[int]:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="fine")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def started(runtime: SimulatedRuntime) -> str:
    sandbox_config = PodSandboxConfig("p", "ns", "uid")
    sandbox = await runtime.run_pod_sandbox(sandbox_config)
    container = await runtime.create_container(
        sandbox, ContainerConfig("c", "busybox"), sandbox_config
    )
    await runtime.start_container(container)
    return container


async def test_http_and_tcp_actions(http_port: int) -> None:
    runtime = SimulatedRuntime()
    spec = {"name": "c", "ports": [{"name": "web", "containerPort": http_port}]}
    ok = {"httpGet": {"path": "/ok", "port": "web"}}
    assert await run_action(runtime, "x", spec, ok, "127.0.0.1", 1) == (True, "fine")
    broken = {"httpGet": {"path": "/broken", "port": http_port}}
    assert await run_action(runtime, "x", spec, broken, "127.0.0.1", 1) == (
        False,
        "HTTP probe failed with statuscode: 500",
    )
    assert (
        await run_action(runtime, "x", spec, {"tcpSocket": {"port": http_port}}, "127.0.0.1", 1)
    )[0]
    with_free = {"tcpSocket": {"port": 1}}
    assert not (await run_action(runtime, "x", spec, with_free, "127.0.0.1", 1))[0]
    # without a network (the simulated runtime) there is nothing to reach: success
    assert (await run_action(runtime, "x", spec, broken, "10.0.0.1", 1, network=False))[0]


async def test_exec_action_and_hook() -> None:
    runtime = SimulatedRuntime()
    container = await started(runtime)
    runtime.exec_handler = lambda c, cmd: ExecResult(0 if cmd[0] == "good" else 3, b"out", b"")
    spec = {"name": "c", "lifecycle": {"postStart": {"exec": {"command": ["bad"]}}}}
    good = {"exec": {"command": ["good"]}}
    assert await run_action(runtime, container, spec, good, "", 1) == (True, "out")
    failure = await run_hook(runtime, FakeClock(), container, spec, "postStart", "", 5)
    assert failure == 'Exec lifecycle hook ([bad]) for Container "c" failed - error: out'
    assert await run_hook(runtime, FakeClock(), container, spec, "preStop", "", 5) == ""


async def test_readiness_thresholds_and_initial_delay() -> None:
    clock = FakeClock()
    runtime = SimulatedRuntime(clock=clock)
    container = await started(runtime)
    answers = iter([0, 0, 1, 1, 1, 0])
    runtime.exec_handler = lambda c, cmd: ExecResult(next(answers), b"", b"")
    changes: list[str] = []
    manager = ProbeManager(runtime, clock, changes.append, network=False)
    probe = {
        "exec": {"command": ["x"]}, "initialDelaySeconds": 5, "periodSeconds": 1,
        "successThreshold": 2, "failureThreshold": 3,
    }  # fmt: skip
    pod = {"metadata": {"uid": "uid", "name": "p", "namespace": "ns"}}

    async def step(seconds: float) -> None:
        clock.advance(seconds)
        for _ in range(10):
            await asyncio.sleep(0)

    async with asyncio.TaskGroup() as group:
        running = group.create_task(manager.run())
        await asyncio.sleep(0)
        manager.add(pod, {"name": "c", "readinessProbe": probe}, container, "")
        await step(0)  # the probe task starts: its initial delay runs from now
        await step(4)
        assert manager.ready(container) is False and changes == []
        await step(1)  # first probe: success 1 of 2
        assert manager.ready(container) is False
        await step(1)  # success 2 of 2
        assert manager.ready(container) is True and changes == ["uid"]
        await step(1)
        await step(1)
        assert manager.ready(container) is True  # 2 failures of 3
        await step(1)
        assert manager.ready(container) is False
        running.cancel()
