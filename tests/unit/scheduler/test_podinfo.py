"""Effective pod requests per Kubernetes' resource helpers."""

from __future__ import annotations

from kybernetes.scheduler.podinfo import normalized_image_name, pod_info, pod_requests


def c(name: str, restart: str | None = None, **requests: str) -> dict[str, object]:
    container: dict[str, object] = {"name": name, "resources": {"requests": requests}}
    if restart:
        container["restartPolicy"] = restart
    return container


def test_init_containers_set_a_floor() -> None:
    spec = {
        "containers": [c("a", cpu="1", memory="1Gi"), c("b", cpu="500m")],
        "initContainers": [c("i1", cpu="2"), c("i2", memory="3Gi")],
    }
    assert pod_requests(spec, non_zero=False) == {"cpu": 2000, "memory": 3 * 2**30}


def test_sidecars_add_to_containers_and_to_later_init_containers() -> None:
    spec = {
        "containers": [c("a", cpu="1")],
        "initContainers": [c("side", "Always", cpu="500m"), c("init", cpu="2")],
    }
    # running: 1 + 0.5 = 1.5; the init step: 2 + 0.5 sidecar started before = 2.5
    assert pod_requests(spec, non_zero=False) == {"cpu": 2500}


def test_overhead_and_unaccounted_resources() -> None:
    spec = {
        "containers": [c("a", cpu="100m", **{"nvidia.com/gpu": "1", "pods": "3"})],
        "overhead": {"cpu": "250m", "memory": "120Mi"},
    }
    assert pod_requests(spec, non_zero=False) == {
        "cpu": 350,
        "memory": 120 * 2**20,
        "nvidia.com/gpu": 1,
    }


def test_non_zero_defaults_apply_per_container_without_a_request() -> None:
    spec = {"containers": [c("a"), c("b", cpu="0", memory="1Gi")]}
    assert pod_requests(spec, non_zero=True) == {"cpu": 100, "memory": 2**30 + 200 * 2**20}


def test_pod_info_is_cached_per_version_and_reads_the_spec() -> None:
    obj = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "7"},
        "spec": {
            "containers": [
                {"name": "a", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 8080}]}
            ],
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "priority": 5,
        },
    }
    info = pod_info(obj)
    assert pod_info(obj) is info
    assert info.key == "u1" and info.priority == 5 and info.scheduler_name == "default-scheduler"
    assert info.images == ("nginx:latest",)
    assert [(p.ip, p.protocol, p.port) for p in info.host_ports] == [("0.0.0.0", "TCP", 8080)]
    assert info.tolerations[0].tolerates("k", "anything", "NoSchedule")


def test_normalized_image_name() -> None:
    assert normalized_image_name("registry:5000/app") == "registry:5000/app:latest"
    assert normalized_image_name("app:1.0") == "app:1.0"
