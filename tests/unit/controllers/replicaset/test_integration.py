"""The ReplicaSet controller against a real in-process API server."""

from __future__ import annotations

from kybernetes.client import APIClient
from kybernetes.client.resource import PODS, REPLICASETS
from kybernetes.controllers.replicaset import ReplicaSetController

from ..cluster import make_ready, running, wait_for


def live(pods: list[dict]) -> list[dict]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


async def test_replica_set_keeps_three_pods(client: APIClient, namespace: str) -> None:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    async with running(client, ReplicaSetController) as (ctl, _):
        await client.create(REPLICASETS, rs)
        pods = await wait_for(ctl.pods, lambda pods: len(live(pods)) == 3)
        assert all(p["metadata"]["name"].startswith("web-") for p in pods)
        for pod in pods:
            await make_ready(client, pod)
        await wait_for(
            ctl.owners, lambda sets: (sets[0].get("status") or {}).get("readyReplicas") == 3
        )

        victim = pods[0]["metadata"]["name"]
        await client.delete(PODS, victim, namespace, grace_period_seconds=0)
        replaced = await wait_for(
            ctl.pods,
            lambda pods: (
                len(live(pods)) == 3 and victim not in {p["metadata"]["name"] for p in live(pods)}
            ),
        )
        owners = {p["metadata"]["ownerReferences"][0]["name"] for p in live(replaced)}
        assert owners == {"web"}
