"""The whole API server over a real etcd (`--datastore-endpoint etcd://…`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Cluster, _free_port
from tests.support.etcd import EtcdCluster, etcd_available

pytestmark = pytest.mark.skipif(not etcd_available(), reason="etcd is not installed")


@pytest.fixture(scope="module")
def etcd_cluster_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("etcd-backed")
    (base / "etcd").mkdir()
    with EtcdCluster(size=1, base_dir=base / "etcd") as etcd:
        data_dir = base / "server"
        port = _free_port()
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "server"),
                *("--data-dir", str(data_dir), "--bind-address", "127.0.0.1"),
                *("--https-listen-port", str(port), "--disable-agent"),
                *("--datastore-endpoint", etcd.endpoint_url),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if "kubeconfig written" in line:
                    break
            else:
                raise AssertionError(f"kyb server exited with {proc.wait()}")
            yield Cluster(data_dir, data_dir / "kubeconfig.yaml", port)
            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()


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
