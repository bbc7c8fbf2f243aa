"""The kubelet's settings (a subset of KubeletConfiguration, same defaults) and the
small helpers every kubelet module shares: the CRI label names.

Invariants: `KubeletConfig` is immutable; directories follow the node layout shared
by the kubelet helpers (DATA_DIR/kubelet/{pods,logs}, DATA_DIR/runtime/NAME).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_UID_LABEL = "io.kubernetes.pod.uid"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"
RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount"


@dataclass(frozen=True)
class KubeletConfig:
    """One node's kubelet settings.

    `capacity` overrides what the machine reports (simulated nodes); `reserved` is
    systemReserved + kubeReserved; `eviction_memory` the hard eviction threshold of
    memory.available (both subtracted from capacity to make allocatable).
    """

    node_name: str
    data_dir: Path
    node_ip: str = "127.0.0.1"
    port: int = 10250
    pod_manifest_path: Path | None = None
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"
    resolv_conf: Path | None = Path("/etc/resolv.conf")
    pod_cidr: str = ""
    max_pods: int = 110
    capacity: Mapping[str, str] | None = None
    reserved: Mapping[str, str] = field(default_factory=dict)
    eviction_memory: str = "100Mi"
    node_labels: Mapping[str, str] = field(default_factory=dict)
    node_status_update_frequency: float = 10.0
    node_status_report_frequency: float = 300.0
    node_lease_duration_seconds: int = 40
    sync_frequency: float = 60.0
    file_check_frequency: float = 20.0
    relist_period: float = 1.0

    @property
    def root(self) -> Path:
        return self.data_dir / "kubelet"

    def pod_dir(self, uid: str) -> Path:
        return self.root / "pods" / uid

    def log_directory(self, namespace: str, name: str, uid: str) -> Path:
        return self.root / "logs" / f"{namespace}_{name}_{uid}"
