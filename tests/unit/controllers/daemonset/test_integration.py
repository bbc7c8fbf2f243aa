"""The DaemonSet controller against a real in-process API server: nodes registered
through the API, the test playing kubelet (pods become Running and Ready)."""

from __future__ import annotations

from typing import Any

from kybernetes.client import APIClient
from kybernetes.client.resource import CONTROLLERREVISIONS, DAEMONSETS, NODES
from kybernetes.controllers.daemonset import DaemonSetController
from kybernetes.controllers.daemonset.nodes import pod_node
from kybernetes.controllers.replicaset.pods import is_pod_ready

from ..cluster import make_ready, running, wait_for

Obj = dict[str, Any]


def node(name: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": spec,
    }


def daemon_set(namespace: str) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "a"}]},
            },
        },
    }


def live(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def image(pod: Obj) -> str:
    return str(pod["spec"]["containers"][0]["image"])


async def test_one_pod_per_node_then_a_rolling_update(client: APIClient, namespace: str) -> None:
    names = [f"{namespace}-n{i}" for i in range(3)]
    tainted = f"{namespace}-tainted"
    for name in names:
        await client.create(NODES, node(name))
    await client.create(NODES, node(tainted, taints=[{"key": "x", "effect": "NoSchedule"}]))
    try:
        async with running(client, DaemonSetController) as (ctl, _):
            await client.create(DAEMONSETS, daemon_set(namespace))

            def mine(pods: list[Obj]) -> list[Obj]:
                return [p for p in live(pods) if p["metadata"]["namespace"] == namespace]

            pods = await wait_for(ctl.pods, lambda p: len(mine(p)) == 3)
            assert sorted(pod_node(p) or "" for p in mine(pods)) == names
            first = mine(pods)[0]
            assert first["metadata"]["labels"]["controller-revision-hash"]
            keys = {t["key"] for t in first["spec"]["tolerations"]}
            assert "node.kubernetes.io/unreachable" in keys
            assert "node.kubernetes.io/unschedulable" in keys
            revisions = await client.list(CONTROLLERREVISIONS, namespace)
            assert [r["revision"] for r in revisions["items"]] == [1]
            for pod in mine(pods):
                await make_ready(client, pod)
            await wait_for(
                ctl.daemon_sets,
                lambda ds: (
                    (ds[0].get("status") or {}).get("numberReady") == 3
                    and ds[0]["status"]["desiredNumberScheduled"] == 3
                    and ds[0]["status"]["updatedNumberScheduled"] == 3
                ),
            )

            patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "b"}]}}}}
            await client.patch(
                DAEMONSETS, "agent", patch, namespace=namespace, patch_type="strategic"
            )
            readied: set[str] = set()
            while True:
                pods = mine(ctl.pods.indexer.list())
                assert sum(1 for p in pods if is_pod_ready(p)) >= 2  # maxUnavailable 1
                if len(pods) == 3 and all(image(p) == "b" and is_pod_ready(p) for p in pods):
                    break
                fresh = [
                    p for p in pods if image(p) == "b" and p["metadata"]["name"] not in readied
                ]
                for pod in fresh:
                    await make_ready(client, pod)
                    readied.add(pod["metadata"]["name"])
                await wait_for(ctl.pods, lambda p, before=pods: mine(p) != before)
            status = (
                await wait_for(
                    ctl.daemon_sets,
                    lambda ds: (
                        (ds[0].get("status") or {}).get("updatedNumberScheduled") == 3
                        and ds[0]["status"]["numberAvailable"] == 3
                    ),
                )
            )[0]["status"]
            assert status["numberMisscheduled"] == 0
            revisions = await client.list(CONTROLLERREVISIONS, namespace)
            assert sorted(r["revision"] for r in revisions["items"]) == [1, 2]
    finally:
        for name in [*names, tainted]:
            await client.delete(NODES, name)
