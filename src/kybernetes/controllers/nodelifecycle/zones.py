"""Zones and the pace of NoExecute tainting (Kubernetes' node lifecycle controller's
`ComputeZoneState`, `handleDisruption` and its per-zone rate-limited taint queues).

A node's zone is its `topology.kubernetes.io/region` and `.../zone` labels (the
deprecated `failure-domain.beta.kubernetes.io/*` ones as fallback); nodes with
neither share the zone "". A zone's state, from its nodes' Ready statuses (nodes
labelled `node.kubernetes.io/exclude-disruption` do not count):
- `FullDisruption`: no node Ready (and at least one not);
- `PartialDisruption`: more than 2 nodes not Ready, and at least
  `unhealthy_zone_threshold` (55 %) of them;
- `Normal` otherwise.

When every zone is fully disrupted the controller is in *full disruption mode*: the
problem is more likely the control plane's network than the nodes, so no NoExecute
taint is added and those it added are removed. Otherwise new NoExecute taints are
paced per zone by a token bucket of burst 1: `node_eviction_rate` per second (0.1)
in a Normal or fully disrupted zone; in a partially disrupted one
`secondary_node_eviction_rate` (0.01) if the zone has more than
`large_cluster_size_threshold` (50) nodes, else none at all.

`Pacer.try_taint(zone, state, size)` answers 0 when a taint may be added now (taking
the token), else how many seconds to wait (`math.inf`: tainting is stopped in that
zone). Times come from the injected clock; not thread-safe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

from kybernetes.client import Clock

Obj = dict[str, Any]

EXCLUDE_DISRUPTION_LABEL: Final = "node.kubernetes.io/exclude-disruption"
NORMAL: Final = "Normal"
PARTIAL_DISRUPTION: Final = "PartialDisruption"
FULL_DISRUPTION: Final = "FullDisruption"

_REGION_LABELS: Final = (
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/region",
)
_ZONE_LABELS: Final = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")


def zone_key(node: Obj) -> str:
    labels = node["metadata"].get("labels") or {}
    region = next((labels[k] for k in _REGION_LABELS if labels.get(k)), "")
    zone = next((labels[k] for k in _ZONE_LABELS if labels.get(k)), "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def zone_state(ready_statuses: Iterable[str], unhealthy_threshold: float) -> str:
    statuses = list(ready_statuses)
    ready = sum(1 for s in statuses if s == "True")
    not_ready = len(statuses) - ready
    if ready == 0 and not_ready > 0:
        return FULL_DISRUPTION
    if not_ready > 2 and not_ready / len(statuses) >= unhealthy_threshold:
        return PARTIAL_DISRUPTION
    return NORMAL


class Pacer:
    """Per-zone token buckets for new NoExecute taints (module docstring)."""

    def __init__(
        self,
        clock: Clock,
        *,
        node_eviction_rate: float = 0.1,
        secondary_node_eviction_rate: float = 0.01,
        large_cluster_size_threshold: int = 50,
        unhealthy_zone_threshold: float = 0.55,
    ) -> None:
        self._clock = clock
        self.node_eviction_rate = node_eviction_rate
        self.secondary_node_eviction_rate = secondary_node_eviction_rate
        self.large_cluster_size_threshold = large_cluster_size_threshold
        self.unhealthy_zone_threshold = unhealthy_zone_threshold
        self._next_token: dict[str, float] = {}

    def states(self, nodes: Iterable[tuple[str, str]]) -> dict[str, tuple[str, int]]:
        """{zone: (state, size)} of (zone, Ready status) pairs."""
        by_zone: dict[str, list[str]] = {}
        for zone, ready in nodes:
            by_zone.setdefault(zone, []).append(ready)
        return {
            zone: (zone_state(statuses, self.unhealthy_zone_threshold), len(statuses))
            for zone, statuses in by_zone.items()
        }

    def rate(self, state: str, size: int) -> float:
        if state == PARTIAL_DISRUPTION:
            if size > self.large_cluster_size_threshold:
                return self.secondary_node_eviction_rate
            return 0.0
        return self.node_eviction_rate

    def try_taint(self, zone: str, state: str, size: int) -> float:
        """0 if a taint may be added in `zone` now (the token is taken), else the
        seconds to wait (`math.inf` when the zone's rate is 0)."""
        rate = self.rate(state, size)
        if rate <= 0:
            return math.inf
        now = self._clock.now()
        next_token = self._next_token.get(zone, now)
        if now >= next_token:
            self._next_token[zone] = now + 1 / rate
            return 0.0
        return next_token - now
