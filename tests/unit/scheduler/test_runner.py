"""The scheduler against a real in-process API server; the test plays the kubelet.

Nodes are registered through the API (created, then their status written as a kubelet
does); pods are created and the test polls the API, with a deadline, for the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kybernetes.client import APIClient, APIError, SharedInformerFactory
from kybernetes.client.resource import EVENTS, LEASES, NODES, PODS
from kybernetes.scheduler.runner import Scheduler, run_scheduler

Obj = dict[str, Any]


async def register_node(
    client: APIClient, name: str, *, cpu: str = "2", labels: dict[str, str] | None = None
) -> None:
    created = await client.create(NODES, {"metadata": {"name": name, "labels": labels or {}}})
    resources = {"cpu": cpu, "memory": "8Gi", "pods": "110"}
    created["status"] = {
        "capacity": resources,
        "allocatable": resources,
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
    }
    await client.update_status(NODES, created)


async def create_pod(
    client: APIClient, namespace: str, name: str, *, cpu: str = "100m", **spec: Any
) -> None:
    container = {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}
    body = {"metadata": {"name": name}, "spec": {"containers": [container], **spec}}
    await client.create(PODS, body, namespace=namespace)


DEADLINE = 15.0


async def eventually(fetch: Callable[[], Any], predicate: Callable[[Any], bool]) -> Any:
    """Polls `fetch()` until `predicate` holds; fails after `DEADLINE` seconds."""
    async with asyncio.timeout(DEADLINE):
        while True:
            value = await fetch()
            if predicate(value):
                return value
            await asyncio.sleep(0.05)


async def pod_of(client: APIClient, namespace: str, name: str) -> Obj:
    return await eventually(
        lambda: client.get(PODS, name, namespace), lambda p: bool(p["spec"].get("nodeName"))
    )


def scheduled_condition(pod: Obj) -> Obj | None:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return next((c for c in conditions if c["type"] == "PodScheduled"), None)


async def events(client: APIClient, namespace: str, reason: str) -> list[Obj]:
    items: list[Obj] = (await client.list(EVENTS, namespace))["items"]
    return [e for e in items if e["reason"] == reason]


@contextlib.asynccontextmanager
async def running(work: Any) -> AsyncIterator[None]:
    task = asyncio.ensure_future(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def scheduler(client: APIClient) -> AsyncIterator[Scheduler]:
    scheduler = Scheduler(client, SharedInformerFactory(client))
    async with running(scheduler.run()):
        yield scheduler


async def test_pods_are_bound_to_nodes_with_room(
    client: APIClient, namespace: str, scheduler: Scheduler
) -> None:
    await register_node(client, "n1")
    await register_node(client, "n2")
    for i in range(4):
        await create_pod(client, namespace, f"p{i}", cpu="1")
    nodes = [(await pod_of(client, namespace, f"p{i}"))["spec"]["nodeName"] for i in range(4)]
    assert sorted(nodes) == ["n1", "n1", "n2", "n2"]
    bound = await client.get(PODS, "p0", namespace)
    assert (scheduled_condition(bound) or {}).get("status") == "True"
    scheduled = await eventually(
        lambda: events(client, namespace, "Scheduled"), lambda found: len(found) == 4
    )
    messages = {e["message"] for e in scheduled}
    assert f"Successfully assigned {namespace}/p0 to {bound['spec']['nodeName']}" in messages
    metric = scheduler.metrics.registry.get_sample_value
    labels = {"result": "scheduled", "profile": "default-scheduler"}
    assert metric("scheduler_schedule_attempts_total", labels) == 4
    assert metric("scheduler_scheduling_attempt_duration_seconds_count", labels) == 4
    assert metric("scheduler_pending_pods", {"queue": "active"}) == 0


async def test_a_pod_too_big_waits_for_a_big_enough_node(
    client: APIClient, namespace: str, scheduler: Scheduler
) -> None:
    await register_node(client, "n1")
    await register_node(client, "n2")
    await create_pod(client, namespace, "big", cpu="4")
    message = (
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: "
        "2 No preemption victims found for incoming pod.."
    )
    pending = await eventually(
        lambda: client.get(PODS, "big", namespace),
        lambda p: (scheduled_condition(p) or {}).get("message") == message,
    )
    assert pending["status"]["phase"] == "Pending"
    assert not pending["spec"].get("nodeName")
    condition = scheduled_condition(pending)
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    failed = await eventually(
        lambda: events(client, namespace, "FailedScheduling"), lambda found: bool(found)
    )
    assert failed[0]["type"] == "Warning"
    assert failed[0]["message"] == message
    assert scheduler.queue.location(scheduler_key(pending)) == "unschedulable"

    await register_node(client, "huge", cpu="8")
    assert (await pod_of(client, namespace, "big"))["spec"]["nodeName"] == "huge"


async def test_node_selector_is_respected(
    client: APIClient, namespace: str, scheduler: Scheduler
) -> None:
    await register_node(client, "hdd", labels={"disk": "hdd"})
    await register_node(client, "ssd", labels={"disk": "ssd"})
    for i in range(3):
        await create_pod(client, namespace, f"p{i}", nodeSelector={"disk": "ssd"})
    for i in range(3):
        assert (await pod_of(client, namespace, f"p{i}"))["spec"]["nodeName"] == "ssd"


async def test_other_schedulers_pods_are_left_alone(
    client: APIClient, namespace: str, scheduler: Scheduler
) -> None:
    await register_node(client, "n1")
    await create_pod(client, namespace, "theirs", schedulerName="someone-else")
    await create_pod(client, namespace, "ours")
    await pod_of(client, namespace, "ours")
    theirs = await client.get(PODS, "theirs", namespace)
    assert not theirs["spec"].get("nodeName")
    assert scheduler.queue.location(scheduler_key(theirs)) is None


async def test_a_failed_binding_is_forgotten_and_retried(
    client: APIClient, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []
    real_bind = client.bind

    async def flaky_bind(pod: Obj, node: str) -> None:
        attempts.append(node)
        if len(attempts) == 1:
            raise APIError({"code": 500, "reason": "InternalError", "message": "etcd is sad"})
        await real_bind(pod, node)

    monkeypatch.setattr(client, "bind", flaky_bind)
    scheduler = Scheduler(client, SharedInformerFactory(client))
    async with running(scheduler.run()):
        await register_node(client, "n1", cpu="1")
        await create_pod(client, namespace, "p", cpu="1")
        assert (await pod_of(client, namespace, "p"))["spec"]["nodeName"] == "n1"
        failed = await eventually(
            lambda: events(client, namespace, "FailedScheduling"), lambda found: bool(found)
        )
    assert attempts == ["n1", "n1"]  # the forgotten assumption freed the cpu
    assert "etcd is sad" in failed[0]["message"]


async def test_run_scheduler_leads_through_the_lease(client: APIClient, namespace: str) -> None:
    async with running(run_scheduler(client, identity="scheduler-a")):
        await register_node(client, "n1")
        await create_pod(client, namespace, "p")
        assert (await pod_of(client, namespace, "p"))["spec"]["nodeName"] == "n1"
        lease = await client.get(LEASES, "kube-scheduler", "kube-system")
        assert lease["spec"]["holderIdentity"] == "scheduler-a"


def scheduler_key(pod: Obj) -> str:
    return str(pod["metadata"]["uid"])
