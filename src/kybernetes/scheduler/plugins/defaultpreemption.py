"""DefaultPreemption: when a pod fits nowhere, find lower-priority victims to evict.

Kubernetes 1.32's `defaultpreemption` + `preemption.Evaluator`, as a PostFilter:

- a pod with `preemptionPolicy: Never` is not eligible ("not eligible due to
  preemptionPolicy=Never."), nor one whose nominated node already has a terminating
  lower-priority pod ("not eligible due to a terminating pod on the nominated node.");
- only nodes rejected as Unschedulable are candidates (the others: "Preemption is not
  helpful for scheduling"); on each, every pod of lower priority is removed from the
  snapshot and the profile's PreFilter and Filter plugins are run again: no fit ends
  the node's chance (the filter's reasons are kept for the message), no lower-priority
  pod at all is "No preemption victims found for incoming pod";
- then victims are reprieved one by one, most important first (higher priority, then
  earlier start), those whose eviction would violate a PodDisruptionBudget
  (`status.disruptionsAllowed` exhausted) first: a pod whose return keeps the fit
  stays; the rest are the node's victims;
- up to max(10% of the nodes, 100) candidates are examined, from a random offset,
  and the best is picked by Kubernetes' `pickOneNodeForPreemption` order: fewest PDB
  violations, lowest highest victim priority, smallest sum of (priority + 2^31),
  fewest victims, latest earliest start time among the highest-priority victims, the
  first.

The decision is pure: the snapshot is restored before returning. The chosen node is
returned as the nominated node and the victims are written to the cycle state under
`VICTIMS_KEY` as PodInfos; the scheduler evicts them (DisruptionTarget condition,
delete, `Preempted` event) and sets the pod's `status.nominatedNodeName`. Failure
messages are "preemption: " + a FitError message over every node.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np

from kybernetes.api.selectors import SelectorError, label_selector_as_selector
from kybernetes.scheduler.framework import Code, CycleState, Mask, Status
from kybernetes.scheduler.messages import fit_error_message
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.profile import Profile
from kybernetes.scheduler.schedule import run_pre_filter
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "DefaultPreemption"
VICTIMS_KEY: Final = NAME + "/victims"
NOT_HELPFUL: Final = "Preemption is not helpful for scheduling"
NO_VICTIMS: Final = "No preemption victims found for incoming pod"
_PRIORITY_OFFSET: Final = 2**31


@dataclass(frozen=True, slots=True)
class _Candidate:
    node: str
    victims: tuple[PodInfo, ...]
    pdb_violations: int


class DefaultPreemption:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.min_percentage = int(args.get("minCandidateNodesPercentage", 10))
        self.min_absolute = int(args.get("minCandidateNodesAbsolute", 100))
        if not 0 <= self.min_percentage <= 100:
            raise ValueError("minCandidateNodesPercentage: must be in the range [0, 100]")
        if self.min_absolute < 0 or self.min_percentage == self.min_absolute == 0:
            raise ValueError("minCandidateNodesAbsolute: must be positive")
        self.profile: Profile | None = None
        self.rng = random.Random()

    def attach(self, profile: Profile) -> None:
        self.profile = profile

    def post_filter(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, candidates: Mask
    ) -> tuple[str | None, Status]:
        if pod.preemption_policy == "Never":
            return None, _unschedulable("not eligible due to preemptionPolicy=Never.")
        if self._waiting_on_nominated(pod, snapshot):
            reason = "not eligible due to a terminating pod on the nominated node."
            return None, _unschedulable(reason)
        reasons: Counter[str] = Counter()
        reasons[NOT_HELPFUL] = int(np.count_nonzero(snapshot.present & ~candidates))
        slots = np.flatnonzero(candidates & snapshot.present)
        found: list[_Candidate] = []
        if slots.size:
            wanted = min(
                max(slots.size * self.min_percentage // 100, self.min_absolute), slots.size
            )
            offset = self.rng.randrange(slots.size)
            for slot in np.concatenate([slots[offset:], slots[:offset]]):
                candidate, reason = self._select_victims(pod, snapshot, int(slot))
                if candidate is None:
                    reasons[reason] += 1
                    continue
                found.append(candidate)
                if len(found) >= wanted:
                    break
        if not found:
            message = fit_error_message(snapshot.num_nodes, +reasons)
            return None, _unschedulable(message)
        best = min(found, key=_rank)
        state.write(VICTIMS_KEY, best.victims)
        return best.node, Status()

    @staticmethod
    def _waiting_on_nominated(pod: PodInfo, snapshot: NodeSnapshot) -> bool:
        nominated = (pod.pod.get("status") or {}).get("nominatedNodeName") or ""
        slot = snapshot.slots.get(nominated)
        if slot is None:
            return False
        return any(p.terminating and p.priority < pod.priority for p in snapshot.pods_on(slot))

    def _select_victims(
        self, pod: PodInfo, snapshot: NodeSnapshot, slot: int
    ) -> tuple[_Candidate | None, str]:
        """SelectVictimsOnNode; the snapshot is left as it was found."""
        node = snapshot.names[slot]
        assert node is not None
        lower = [p for p in snapshot.pods_on(slot) if p.priority < pod.priority]
        if not lower:
            return None, NO_VICTIMS
        for victim in lower:
            snapshot.remove_pod(victim.key)
        try:
            fits, reason = self._fits(pod, snapshot, slot)
            if not fits:
                return None, reason
            lower.sort(key=lambda p: (-p.priority, p.start_time or "~"))
            violating, safe = _split_by_pdb(lower, snapshot)
            victims: list[PodInfo] = []
            violations = 0
            for group, violates in ((violating, True), (safe, False)):
                for candidate in group:
                    snapshot.add_pod(candidate, node)
                    if self._fits(pod, snapshot, slot)[0]:
                        continue
                    snapshot.remove_pod(candidate.key)
                    victims.append(candidate)
                    violations += violates
            return _Candidate(node, tuple(victims), violations), ""
        finally:
            for victim in lower:
                snapshot.add_pod(victim, node)

    def _fits(self, pod: PodInfo, snapshot: NodeSnapshot, slot: int) -> tuple[bool, str]:
        assert self.profile is not None, "DefaultPreemption used outside a profile"
        state = CycleState()
        status = run_pre_filter(self.profile, state, pod, snapshot)
        if not status.is_success:
            return False, status.message
        for plugin in self.profile.filter:
            if plugin.name in state.skip_filter_plugins:
                continue
            result = plugin.filter(state, pod, snapshot)
            if not result.feasible[slot]:
                hit = [r.reason for r in result.rejections if r.nodes[slot]]
                return False, hit[0] if hit else plugin.name
        return True, ""


def _unschedulable(message: str) -> Status:
    return Status(Code.UNSCHEDULABLE, (f"preemption: {message}",), NAME)


def _split_by_pdb(
    pods: list[PodInfo], snapshot: NodeSnapshot
) -> tuple[list[PodInfo], list[PodInfo]]:
    """filterPodsWithPDBViolation: (violating, non-violating), order kept."""
    allowed: dict[str, int] = {}
    violating: list[PodInfo] = []
    safe: list[PodInfo] = []
    for pod in pods:
        violates = False
        for key, pdb in snapshot.pdbs.items():
            if (pdb.get("metadata") or {}).get("namespace") != pod.namespace:
                continue
            try:
                selector = label_selector_as_selector((pdb.get("spec") or {}).get("selector"))
            except SelectorError:
                continue
            if selector.empty or not selector.matches(pod.labels):
                continue
            status = pdb.get("status") or {}
            if pod.name in (status.get("disruptedPods") or {}):
                continue
            allowed.setdefault(key, int(status.get("disruptionsAllowed") or 0))
            allowed[key] -= 1
            if allowed[key] < 0:
                violates = True
        (violating if violates else safe).append(pod)
    return violating, safe


def _rank(candidate: _Candidate) -> tuple[int, int, int, int, float]:
    """Smaller is better (see the module docstring)."""
    victims = candidate.victims
    highest = max((v.priority for v in victims), default=0)
    earliest_of_highest = min(
        (_epoch(v.start_time) for v in victims if v.priority == highest), default=0.0
    )
    return (
        candidate.pdb_violations,
        highest,
        sum(v.priority + _PRIORITY_OFFSET for v in victims),
        len(victims),
        -earliest_of_highest,
    )


def _epoch(timestamp: str) -> float:
    try:
        return datetime.fromisoformat(timestamp).timestamp()
    except ValueError:
        return 0.0
