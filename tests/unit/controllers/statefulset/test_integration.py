"""The StatefulSet controller against a real in-process API server, the test playing
kubelet (pods become Running and Ready)."""

from __future__ import annotations

from typing import Any

from kybernetes.client import APIClient
from kybernetes.client.resource import PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS
from kybernetes.controllers.replicaset.pods import is_pod_ready
from kybernetes.controllers.statefulset import StatefulSetController

from ..cluster import make_ready, running, wait_for

Obj = dict[str, Any]


def stateful_set(namespace: str, replicas: int, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "a"}]},
            },
            **spec,
        },
    }


def status_of(sets: list[Obj]) -> Obj:
    return dict((sets[0].get("status") or {}) if sets else {})


async def scale(client: APIClient, namespace: str, replicas: int) -> None:
    patch = {"spec": {"replicas": replicas}}
    await client.patch(STATEFULSETS, "db", patch, namespace=namespace)


def live(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def names(pods: list[Obj]) -> list[str]:
    return sorted(p["metadata"]["name"] for p in live(pods))


async def test_ordered_scale_up_rolling_update_and_scale_down(
    client: APIClient, namespace: str
) -> None:
    async with running(client, StatefulSetController) as (ctl, _):
        await client.create(STATEFULSETS, stateful_set(namespace, 0))
        await wait_for(ctl.sets, lambda s: "updateRevision" in status_of(s))
        await scale(client, namespace, 3)
        for ordinal in range(3):
            expected = [f"db-{i}" for i in range(ordinal + 1)]
            pods = await wait_for(ctl.pods, lambda p, want=expected: names(p) == want)
            newest = next(p for p in pods if p["metadata"]["name"] == f"db-{ordinal}")
            labels = newest["metadata"]["labels"]
            assert labels["statefulset.kubernetes.io/pod-name"] == f"db-{ordinal}"
            assert labels["apps.kubernetes.io/pod-index"] == str(ordinal)
            assert labels["controller-revision-hash"].startswith("db-")
            assert newest["spec"]["hostname"] == f"db-{ordinal}"
            assert newest["spec"]["subdomain"] == "db"
            await make_ready(client, newest)
        sets = await wait_for(
            ctl.sets, lambda s: (s[0].get("status") or {}).get("readyReplicas") == 3
        )
        status = sets[0]["status"]
        assert status["currentReplicas"] == status["updatedReplicas"] == 3
        assert status["currentRevision"] == status["updateRevision"]
        first_revision = status["currentRevision"]

        patch = {
            "spec": {
                "template": {"spec": {"containers": [{"name": "c", "image": "b"}]}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            }
        }
        await client.patch(STATEFULSETS, "db", patch, namespace=namespace, patch_type="strategic")
        for ordinal in (2, 1):
            pods = await wait_for(
                ctl.pods,
                lambda p, o=ordinal: any(
                    x["metadata"]["name"] == f"db-{o}"
                    and x["spec"]["containers"][0]["image"] == "b"
                    for x in live(p)
                ),
            )
            pod = next(p for p in live(pods) if p["metadata"]["name"] == f"db-{ordinal}")
            await make_ready(client, pod)
        sets = await wait_for(
            ctl.sets,
            lambda s: (
                (s[0].get("status") or {}).get("updatedReplicas") == 2
                and s[0]["status"]["readyReplicas"] == 3
            ),
        )
        status = sets[0]["status"]
        assert status["currentRevision"] == first_revision != status["updateRevision"]
        db0 = await client.get(PODS, "db-0", namespace)
        assert db0["spec"]["containers"][0]["image"] == "a"  # below the partition

        await scale(client, namespace, 1)
        pods = await wait_for(ctl.pods, lambda p: names(p) == ["db-0", "db-1"])
        assert all(is_pod_ready(p) for p in live(pods))
        await wait_for(ctl.pods, lambda p: names(p) == ["db-0"])


async def test_parallel_creates_all_at_once_with_claims(client: APIClient, namespace: str) -> None:
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    spec = {"podManagementPolicy": "Parallel", "volumeClaimTemplates": [claim]}
    async with running(client, StatefulSetController) as (ctl, _):
        await client.create(STATEFULSETS, stateful_set(namespace, 3, **spec))
        pods = await wait_for(ctl.pods, lambda p: names(p) == ["db-0", "db-1", "db-2"])
        volumes = next(p for p in pods if p["metadata"]["name"] == "db-1")["spec"]["volumes"]
        assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in volumes
        claims = await client.list(PERSISTENTVOLUMECLAIMS, namespace)
        assert sorted(c["metadata"]["name"] for c in claims["items"]) == [
            "data-db-0",
            "data-db-1",
            "data-db-2",
        ]


async def test_claims_follow_the_retention_policy(client: APIClient, namespace: str) -> None:
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    spec = {
        "podManagementPolicy": "Parallel",
        "volumeClaimTemplates": [claim],
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
    }
    async with running(client, StatefulSetController) as (ctl, _):
        await client.create(STATEFULSETS, stateful_set(namespace, 2, **spec))
        pods = await wait_for(ctl.pods, lambda p: names(p) == ["db-0", "db-1"])
        for pod in pods:
            await make_ready(client, pod)
        claims = {
            c["metadata"]["name"]: c
            for c in (await client.list(PERSISTENTVOLUMECLAIMS, namespace))["items"]
        }
        owners = claims["data-db-1"]["metadata"]["ownerReferences"]
        assert [(o["kind"], o["name"]) for o in owners] == [("StatefulSet", "db")]
        await scale(client, namespace, 1)
        await wait_for(ctl.pods, lambda p: names(p) == ["db-0"])
        scaled = await client.get(PERSISTENTVOLUMECLAIMS, "data-db-1", namespace)
        kinds = [o["kind"] for o in scaled["metadata"]["ownerReferences"]]
        assert kinds == ["StatefulSet", "Pod"]
