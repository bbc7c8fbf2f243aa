"""The scheduler's cache: the `NodeSnapshot` kept in step with the cluster.

Informer handlers feed it nodes (`add_node`, `update_node`, `remove_node`) and
assigned pods (`add_pod`, `update_pod`, `remove_pod`, objects with `spec.nodeName`):
a non-terminal assigned pod counts on its node; a pod that reached Succeeded or Failed
no longer does. The scheduling loop adds *assumed* pods (kube-scheduler's
`AssumePod`): a pod counts on its chosen node from the moment it is assumed, so the
next cycle sees its resources taken although the binding is still in flight.

An assumed pod ends in one of three ways:
- its binding is observed (an add or update of the pod with a node name): from then
  on it is an ordinary assigned pod, at the node the API server reports;
- the binding failed: `forget` removes it at once;
- it was bound (`finish_binding`) but the binding is never observed: it expires
  `ttl` seconds later (30 s, a timer on the injected clock) and stops counting, in
  case the pod was deleted before the watch caught up.

The snapshot is updated in place (it *is* the scheduler's view; the scheduling cycle is
synchronous, so no cycle sees a half-applied change). Every method is idempotent.
Not thread-safe: one event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from kybernetes.client.clock import Clock, Timer
from kybernetes.scheduler.podinfo import PodInfo, pod_info
from kybernetes.scheduler.snapshot import NodeSnapshot

log = logging.getLogger(__name__)

DEFAULT_ASSUMED_POD_TTL: Final = 30.0
_TERMINAL_PHASES: Final = frozenset({"Succeeded", "Failed"})


class SchedulerCache:
    """See the module docstring."""

    def __init__(self, clock: Clock, *, ttl: float = DEFAULT_ASSUMED_POD_TTL) -> None:
        self.snapshot = NodeSnapshot()
        self.ttl = ttl
        self._clock = clock
        self._assumed: dict[str, Timer | None] = {}  # key -> expiry timer once bound

    # -- nodes ---------------------------------------------------------------------

    def add_node(self, node: Mapping[str, Any]) -> None:
        self.snapshot.add_node(node)

    def update_node(self, node: Mapping[str, Any]) -> None:
        self.snapshot.update_node(node)

    def remove_node(self, name: str) -> None:
        self.snapshot.remove_node(name)

    # -- observed pods -------------------------------------------------------------

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        """An assigned pod was observed (this also confirms an assumed one)."""
        info = pod_info(pod)
        self._end_assumption(info.key)
        phase = (pod.get("status") or {}).get("phase")
        if not info.node_name or phase in _TERMINAL_PHASES:
            self.snapshot.remove_pod(info.key)
        else:
            self.snapshot.add_pod(info, info.node_name)

    update_pod = add_pod

    def remove_pod(self, pod: Mapping[str, Any]) -> None:
        """An assigned pod was deleted."""
        key = pod_info(pod).key
        self._end_assumption(key)
        self.snapshot.remove_pod(key)

    # -- assumed pods --------------------------------------------------------------

    def is_assumed(self, key: str) -> bool:
        return key in self._assumed

    def assume(self, pod: PodInfo, node_name: str) -> None:
        """Count `pod` on `node_name` until its binding is observed or it is forgotten."""
        self._end_assumption(pod.key)
        self.snapshot.add_pod(pod, node_name)
        self._assumed[pod.key] = None

    def finish_binding(self, key: str) -> None:
        """The binding was sent; the assumed pod expires after `ttl` unless observed."""
        if key not in self._assumed:
            return  # already observed (the watch can beat the binding's response)
        self._end_assumption(key)
        deadline = self._clock.now() + self.ttl
        self._assumed[key] = self._clock.call_at(deadline, lambda: self._expire(key))

    def forget(self, key: str) -> None:
        """The binding failed: the assumed pod stops counting. No-op if not assumed."""
        if key in self._assumed:
            self._end_assumption(key)
            self.snapshot.remove_pod(key)

    def _expire(self, key: str) -> None:
        if key in self._assumed:
            log.warning("assumed pod %s expired before its binding was observed", key)
            self.forget(key)

    def _end_assumption(self, key: str) -> None:
        timer = self._assumed.pop(key, None)
        if timer is not None:
            timer.cancel()
