"""The Deployment and ReplicaSet controllers against a real in-process API server,
with the test playing kubelet (pods become Running and Ready; terminating pods go)."""

from __future__ import annotations

import asyncio
from typing import Any

from kybernetes.client import APIClient, APIError
from kybernetes.client.resource import DEPLOYMENTS, PODS
from kybernetes.controllers.deployment import DeploymentController
from kybernetes.controllers.replicaset import ReplicaSetController
from kybernetes.controllers.replicaset.pods import is_pod_ready

from ..cluster import make_ready, running, wait_for

Obj = dict[str, Any]


def live(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def images(pods: list[Obj]) -> set[str]:
    return {p["spec"]["containers"][0]["image"] for p in live(pods)}


def rolled_out(deployments: list[Obj]) -> bool:
    if not deployments:
        return False
    d = deployments[0]
    status = d.get("status") or {}
    progressing = [c for c in status.get("conditions") or [] if c["type"] == "Progressing"]
    return (
        status.get("observedGeneration") == d["metadata"]["generation"]
        and status.get("updatedReplicas") == status.get("availableReplicas") == 3
        and status.get("replicas") == 3
        and bool(progressing)
        and progressing[0]["reason"] == "NewReplicaSetAvailable"
    )


async def test_rolls_from_image_a_to_b_within_max_unavailable(
    client: APIClient, namespace: str
) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "a"}]},
            },
        },
    }
    async with (
        running(client, ReplicaSetController) as (rsc, _),
        running(client, DeploymentController) as (dc, _),
        asyncio.TaskGroup() as tg,
    ):
        kubelet_work: asyncio.Queue[Obj] = asyncio.Queue()
        rsc.pods.add_handler(kubelet_work.put_nowait, lambda _, new: kubelet_work.put_nowait(new))

        async def kubelet() -> None:
            while True:
                pod = await kubelet_work.get()
                try:
                    if pod["metadata"].get("deletionTimestamp"):
                        meta = pod["metadata"]
                        await client.delete(
                            PODS, meta["name"], meta["namespace"], grace_period_seconds=0
                        )
                    elif not is_pod_ready(pod):
                        await make_ready(client, pod)
                except APIError:
                    pass  # gone meanwhile

        kubelet_task = tg.create_task(kubelet())
        try:
            await client.create(DEPLOYMENTS, deployment)
            await wait_for(dc.deployments, rolled_out)
            assert images(rsc.pods.indexer.list()) == {"a"}

            fewest_ready = 3

            def watch_availability(_: Any, __: Any = None) -> None:
                nonlocal fewest_ready
                ready = [p for p in live(rsc.pods.indexer.list()) if is_pod_ready(p)]
                fewest_ready = min(fewest_ready, len(ready))

            rsc.pods.add_handler(watch_availability, watch_availability, watch_availability)
            patch = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "b"}]}}}}
            await client.patch(
                DEPLOYMENTS, "web", patch, namespace=namespace, patch_type="strategic"
            )
            await wait_for(dc.deployments, rolled_out)
            await wait_for(rsc.pods, lambda pods: images(pods) == {"b"} and len(live(pods)) == 3)
            assert fewest_ready >= 2  # maxUnavailable 1 of 3

            d = dc.deployments.indexer.get(f"{namespace}/web")
            assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
            sets = dc.replica_sets.indexer.list()
            assert sorted(s["spec"]["replicas"] for s in sets) == [0, 3]
        finally:
            kubelet_task.cancel()
