"""Services and serving pods for the endpoint controllers' tests."""

from __future__ import annotations

from typing import Any

from ..fakes import pod

Obj = dict[str, Any]


def service(
    name: str = "web",
    *,
    selector: dict[str, str] | None = None,
    ports: list[Obj] | None = None,
    cluster_ip: str = "10.43.0.10",
    **spec: Any,
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"svc-{name}",
            "labels": {"team": "a"},
            "creationTimestamp": "2025-01-01T00:00:00Z",
            "resourceVersion": "3",
        },
        "spec": {
            "selector": {"app": "web"} if selector is None else selector,
            "clusterIP": cluster_ip,
            "ports": (
                [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
                if ports is None
                else ports
            ),
            **spec,
        },
    }


def serving_pod(
    name: str,
    ip: str | None,
    *,
    ready: bool = True,
    port: int | None = 8080,
    node: str = "n1",
    deleting: bool = False,
    phase: str = "Running",
    labels: dict[str, str] | None = None,
) -> Obj:
    p = pod(name, node=node, ready=ready, phase=phase, labels=labels)
    if ip is not None:
        p["status"]["podIP"] = ip
        p["status"]["podIPs"] = [{"ip": ip}]
    if port is not None:
        p["spec"]["containers"][0]["ports"] = [
            {"name": "http", "containerPort": port, "protocol": "TCP"}
        ]
    if deleting:
        p["metadata"]["deletionTimestamp"] = "2025-01-01T00:01:00Z"
    return p
