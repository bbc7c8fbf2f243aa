"""Node health as the node lifecycle controller sees it (Kubernetes'
`tryUpdateNodeHealth`).

`HealthTracker.observe(node, lease, now)` records when this controller last saw the
node's kubelet alive — the *probe time*: the local time at which it first saw a new
Ready-condition `lastHeartbeatTime` or a later Lease `renewTime` (never the
timestamps themselves, so clock skew between machines does not matter). A node seen
for the first time counts as probed now; one that never posted a Ready condition
counts from its `creationTimestamp` and gets the startup grace period instead.

`stale_conditions(node, now)` is the status a node past its grace period gets:
Ready, MemoryPressure, DiskPressure and PIDPressure set to Unknown with reason
`NodeStatusUnknown` ("Kubelet stopped posting node status."), or, for conditions
the kubelet never posted, reason `NodeStatusNeverUpdated` ("Kubelet never posted
node status."). Conditions already Unknown are left as they are (idempotent).

Not thread-safe: one event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from kybernetes.client.events import event_time

from ..replicaset.pods import parse_time, ready_condition

Obj = dict[str, Any]

MONITORED_CONDITIONS: Final = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def ready_status(node: Obj) -> str:
    """The Ready condition's status: True, False or Unknown (absent counts Unknown)."""
    ready = ready_condition(node)
    return str(ready.get("status") or "Unknown") if ready else "Unknown"


@dataclass(slots=True)
class _Health:
    probe: datetime
    heartbeat: str | None
    renew: datetime | None


class HealthTracker:
    """Probe times per node (see module docstring)."""

    def __init__(self, grace_period: float, startup_grace_period: float) -> None:
        self.grace_period = grace_period
        self.startup_grace_period = startup_grace_period
        self._nodes: dict[str, _Health] = {}

    def observe(self, node: Obj, lease: Obj | None, now: datetime) -> datetime:
        """Records what `node` and its `lease` show; answers the node's deadline: the
        time after which it counts as stale."""
        name = node["metadata"]["name"]
        ready = ready_condition(node)
        heartbeat = ready.get("lastHeartbeatTime") if ready else None
        renew = parse_time(((lease or {}).get("spec") or {}).get("renewTime"))
        health = self._nodes.get(name)
        if health is None:
            created = parse_time(node["metadata"].get("creationTimestamp"))
            start = created if ready is None and created is not None else now
            health = self._nodes[name] = _Health(start, heartbeat, None)
        elif heartbeat != health.heartbeat:
            health.heartbeat = heartbeat
            health.probe = now
        if renew is not None and (health.renew is None or renew > health.renew):
            health.renew = renew
            health.probe = now
        grace = self.grace_period if ready is not None else self.startup_grace_period
        return health.probe + timedelta(seconds=grace)

    def restart(self, now: datetime) -> None:
        """Counts every node as probed `now` (leaving full disruption mode: every
        node gets its grace period afresh)."""
        for health in self._nodes.values():
            health.probe = now

    def forget(self, name: str) -> None:
        """Drops a deleted node's record. Idempotent."""
        self._nodes.pop(name, None)


def stale_conditions(node: Obj, now: datetime) -> list[Obj]:
    """The node's conditions once it is past its grace period (module docstring)."""
    status = node.get("status") or {}
    conditions = [dict(c) for c in status.get("conditions") or []]
    stamp = event_time(now)
    for kind in MONITORED_CONDITIONS:
        existing = next((c for c in conditions if c.get("type") == kind), None)
        if existing is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "lastHeartbeatTime": node["metadata"].get("creationTimestamp"),
                    "lastTransitionTime": stamp,
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                }
            )
        elif existing.get("status") != "Unknown":
            existing.update(
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                lastTransitionTime=stamp,
            )
    return conditions
