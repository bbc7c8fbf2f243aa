"""The whole API server over a real etcd (`--datastore-endpoint etcd://…`)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Cluster, running_server
from tests.support.etcd import EtcdCluster, etcd_available

pytestmark = pytest.mark.skipif(not etcd_available(), reason="etcd is not installed")


@pytest.fixture(scope="module")
def etcd_cluster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("etcd-backed")
    (base / "etcd").mkdir()
    with (
        EtcdCluster(size=1, base_dir=base / "etcd") as etcd,
        running_server(base / "server", "--datastore-endpoint", etcd.endpoint_url) as server,
    ):
        yield server


def test_kubectl_against_an_etcd_backed_server(etcd_cluster_server: Cluster) -> None:
    cluster = etcd_cluster_server
    assert "namespace/kube-system" in cluster.kubectl("get", "ns", "-o", "name").split()
    cluster.kubectl("create", "namespace", "on-etcd")
    cluster.kubectl("create", "deployment", "web", "-n", "on-etcd", "--image=nginx")
    cluster.kubectl("scale", "deployment", "web", "-n", "on-etcd", "--replicas=3")
    got = json.loads(cluster.kubectl("get", "deploy", "web", "-n", "on-etcd", "-o", "json"))
    assert got["spec"]["replicas"] == 3
    assert int(got["metadata"]["resourceVersion"]) > 0
    cluster.kubectl("delete", "deploy", "web", "-n", "on-etcd")
    out = cluster.kubectl("get", "deploy", "web", "-n", "on-etcd", check=False)
    assert 'deployments.apps "web" not found' in out
