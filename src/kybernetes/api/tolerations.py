"""Tolerations against taints, as Kubernetes' `core/v1` helpers define them
(`Toleration.ToleratesTaint`, `TolerationsTolerateTaint`, `GetMatchingTolerations`).

`Toleration.tolerates(key, value, effect)`: an empty toleration effect matches every
effect, an empty key every key; operator `Equal` (or empty) then needs the same value,
`Exists` matches any value, and any other operator matches nothing. Missing JSON
fields read as "". The scheduler keeps `Toleration`s (hashable, for memo keys); the
controllers test JSON tolerations (`tolerates`, `matching_tolerations`).

Pure functions and immutable values; nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Toleration:
    """A pod's toleration (see module docstring for the matching rules)."""

    key: str
    operator: str
    value: str
    effect: str

    @classmethod
    def from_json(cls, toleration: Mapping[str, Any]) -> Toleration:
        """The toleration of a pod spec's `tolerations` entry."""
        return cls(
            toleration.get("key") or "",
            toleration.get("operator") or "",
            toleration.get("value") or "",
            toleration.get("effect") or "",
        )

    def tolerates(self, key: str, value: str, effect: str) -> bool:
        """`Toleration.ToleratesTaint`: empty effect/key match all; Exists ignores value."""
        if self.effect and self.effect != effect:
            return False
        if self.key and self.key != key:
            return False
        if self.operator in ("", "Equal"):
            return self.value == value
        return self.operator == "Exists"


def tolerated(tolerations: Iterable[Toleration], key: str, value: str, effect: str) -> bool:
    """Whether any toleration tolerates the taint (`TolerationsTolerateTaint`)."""
    return any(t.tolerates(key, value, effect) for t in tolerations)


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """Whether the JSON `toleration` tolerates the JSON `taint`."""
    return Toleration.from_json(toleration).tolerates(
        taint.get("key") or "", taint.get("value") or "", taint.get("effect") or ""
    )


def matching_tolerations(
    taints: Iterable[Mapping[str, Any]], tolerations: Sequence[Mapping[str, Any]]
) -> tuple[bool, list[Mapping[str, Any]]]:
    """`GetMatchingTolerations`: (every taint tolerated, the first tolerating toleration
    of each taint, in taint order); (False, []) as soon as one taint is not tolerated."""
    used: list[Mapping[str, Any]] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used
