"""Hashing, fenceposts and replica arithmetic of the Deployment controller."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.controllers.deployment import compute_hash
from kybernetes.controllers.deployment.util import (
    equal_ignore_hash,
    max_surge,
    max_unavailable,
    safe_encode,
    scaled_value,
)


def rolling(replicas: int, surge: Any, unavailable: Any) -> dict[str, Any]:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {}}
    if surge is not None:
        strategy["rollingUpdate"]["maxSurge"] = surge
    if unavailable is not None:
        strategy["rollingUpdate"]["maxUnavailable"] = unavailable
    return {"spec": {"replicas": replicas, "strategy": strategy}}


def test_hash_is_stable_safe_and_depends_on_collision_count() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}
    reordered = {"spec": {"containers": []}, "metadata": {"labels": {"app": "web"}}}
    assert compute_hash(template, None) == compute_hash(reordered, None)
    assert compute_hash(template, None) != compute_hash(template, 1)
    assert set(compute_hash(template, None)) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert safe_encode("0123") == "4567"  # byte by byte: ord("0") % 27 = 21 -> "4"


def test_equal_ignore_hash() -> None:
    a = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {}}
    b = {"metadata": {"labels": {"app": "web"}}, "spec": {}}
    assert equal_ignore_hash(a, b)
    assert not equal_ignore_hash(a, {"metadata": {"labels": {"app": "x"}}, "spec": {}})


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (10, "25%", "25%", (3, 2)),  # surge rounds up, unavailable down
        (4, "25%", "25%", (1, 1)),
        (3, 0, 0, (0, 1)),  # both zero: one may be unavailable
        (3, 1, 5, (1, 3)),  # unavailable capped at replicas
        (1, "10%", "10%", (1, 0)),
    ],
)
def test_fenceposts(replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]) -> None:
    d = rolling(replicas, surge, unavailable)
    assert (max_surge(d), max_unavailable(d)) == expected


def test_recreate_has_no_surge_or_unavailability() -> None:
    d = {"spec": {"replicas": 3, "strategy": {"type": "Recreate"}}}
    assert (max_surge(d), max_unavailable(d)) == (0, 0)


def test_scaled_value_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        scaled_value("abc", 10, True)
