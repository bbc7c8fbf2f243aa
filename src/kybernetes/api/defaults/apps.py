"""Defaults of the apps/v1 kinds: k8s.io/kubernetes/pkg/apis/apps/v1 in 1.32.

Each kind's own defaults, then its pod template's (`default_pod_template`). For a
StatefulSet the `persistentVolumeClaimRetentionPolicy` default is that of the
StatefulSetAutoDeletePVC gate (beta, on in 1.32), and each claim template gets the
PersistentVolumeClaim defaults plus the `apiVersion: v1` / `kind:
PersistentVolumeClaim` that apps/v1 conversion always writes into claim templates.

Invariants: in place, fills only unset fields (claim templates' apiVersion/kind aside,
which Kubernetes overwrites too), idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    child,
    items,
    set_if_absent,
    set_if_zero,
    struct,
)
from kybernetes.api.defaults.podspec import default_pod_template
from kybernetes.api.defaults.volumes import default_claim

REVISION_HISTORY_LIMIT: Final = 10
PROGRESS_DEADLINE_SECONDS: Final = 600


def _deployment(deployment: JSONObject) -> None:
    spec = struct(deployment, "spec")
    if spec is None:
        return
    set_if_absent(spec, "replicas", 1)
    strategy = struct(spec, "strategy")
    if strategy is not None:
        set_if_zero(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling_update = struct(strategy, "rollingUpdate")
            if rolling_update is not None:
                set_if_absent(rolling_update, "maxUnavailable", "25%")
                set_if_absent(rolling_update, "maxSurge", "25%")
    set_if_absent(spec, "revisionHistoryLimit", REVISION_HISTORY_LIMIT)
    set_if_absent(spec, "progressDeadlineSeconds", PROGRESS_DEADLINE_SECONDS)
    default_pod_template(struct(spec, "template"))


def _daemon_set(daemon_set: JSONObject) -> None:
    spec = struct(daemon_set, "spec")
    if spec is None:
        return
    strategy = struct(spec, "updateStrategy")
    if strategy is not None:
        set_if_zero(strategy, "type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling_update = struct(strategy, "rollingUpdate")
            if rolling_update is not None:
                set_if_absent(rolling_update, "maxUnavailable", 1)
                set_if_absent(rolling_update, "maxSurge", 0)
    set_if_absent(spec, "revisionHistoryLimit", REVISION_HISTORY_LIMIT)
    default_pod_template(struct(spec, "template"))


def _stateful_set(stateful_set: JSONObject) -> None:
    spec = struct(stateful_set, "spec")
    if spec is None:
        return
    set_if_zero(spec, "podManagementPolicy", "OrderedReady")
    strategy = struct(spec, "updateStrategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
            struct(strategy, "rollingUpdate")
        rolling_update = child(strategy, "rollingUpdate")
        if strategy["type"] == "RollingUpdate" and rolling_update is not None:
            set_if_absent(rolling_update, "partition", 0)
    retention = struct(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        set_if_zero(retention, "whenDeleted", "Retain")
        set_if_zero(retention, "whenScaled", "Retain")
    set_if_absent(spec, "replicas", 1)
    set_if_absent(spec, "revisionHistoryLimit", REVISION_HISTORY_LIMIT)
    default_pod_template(struct(spec, "template"))
    for claim in items(spec, "volumeClaimTemplates"):
        claim["apiVersion"] = "v1"
        claim["kind"] = "PersistentVolumeClaim"
        default_claim(claim)


def _replica_set(replica_set: JSONObject) -> None:
    spec = struct(replica_set, "spec")
    if spec is None:
        return
    set_if_absent(spec, "replicas", 1)
    default_pod_template(struct(spec, "template"))


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("apps", "v1", "Deployment"): _deployment,
    ("apps", "v1", "DaemonSet"): _daemon_set,
    ("apps", "v1", "StatefulSet"): _stateful_set,
    ("apps", "v1", "ReplicaSet"): _replica_set,
}
