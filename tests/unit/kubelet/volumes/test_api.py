"""Volumes and environments fed by a real API server: a ConfigMap update shows up
through the volume's links on the next refresh, and missing objects are reported
with the kubelet's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kybernetes.client.errors import is_not_found
from kybernetes.client.resource import CONFIGMAPS, SECRETS
from kybernetes.client.rest import APIClient
from kybernetes.kubelet.envvars import container_env
from kybernetes.kubelet.volumes.manager import MountError, VolumeManager


def _getter(client: APIClient) -> Any:
    kinds = {"configmaps": CONFIGMAPS, "secrets": SECRETS}

    async def get(resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(await client.get(kinds[resource], name, namespace))
        except Exception as error:
            if is_not_found(error):
                return None
            raise

    return get


async def test_configmap_updates_reach_the_volume(
    client: APIClient, namespace: str, tmp_path: Path
) -> None:
    cm = await client.create(
        CONFIGMAPS, {"metadata": {"name": "app", "namespace": namespace}, "data": {"k": "v1"}}
    )
    secret = {"metadata": {"name": "creds", "namespace": namespace}, "data": {"pw": "czM="}}
    await client.create(SECRETS, secret)
    pod = {
        "metadata": {"name": "p", "namespace": namespace, "uid": "uid-api"},
        "spec": {
            "volumes": [
                {"name": "cfg", "configMap": {"name": "app"}},
                {"name": "sec", "secret": {"secretName": "creds", "defaultMode": 0o400}},
            ],
            "containers": [{"name": "c"}],
        },
    }
    manager = VolumeManager(tmp_path, _getter(client), use_tmpfs=False)
    try:
        paths = await manager.setup(pod)
        assert (paths["cfg"] / "k").read_text() == "v1"
        assert (paths["sec"] / "pw").read_text() == "s3"

        await client.update(CONFIGMAPS, {**cm, "data": {"k": "v2", "new": "n"}})
        await manager.setup(pod)
        assert (paths["cfg"] / "k").read_text() == "v2"
        assert (paths["cfg"] / "new").read_text() == "n"

        container = {
            "name": "c",
            "envFrom": [{"secretRef": {"name": "creds"}, "prefix": "S_"}],
            "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "k"}}}],
        }
        env = await container_env(pod, container, _getter(client), {})
        assert env == [("S_pw", "s3"), ("K", "v2")]

        await client.delete(CONFIGMAPS, "app", namespace)
        with pytest.raises(MountError) as caught:
            await manager.setup(pod)
        assert caught.value.messages == [
            'MountVolume.SetUp failed for volume "cfg" : configmap "app" not found'
        ]
        assert (paths["cfg"] / "k").read_text() == "v2"  # the last content stays
    finally:
        await manager.teardown("uid-api")
