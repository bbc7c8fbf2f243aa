"""Tolerations against taints: Kubernetes' `ToleratesTaint` and `GetMatchingTolerations`."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.tolerations import Toleration, matching_tolerations, tolerated, tolerates

Obj = dict[str, Any]

TAINT: Obj = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, True),
        ({"key": "dedicated", "value": "gpu"}, True),  # operator defaults to Equal, any effect
        ({"key": "dedicated", "value": "cpu"}, False),
        ({"key": "dedicated"}, False),  # Equal with "" against "gpu"
        ({"key": "dedicated", "operator": "Exists"}, True),
        ({"key": "other", "operator": "Exists"}, False),
        ({"operator": "Exists"}, True),  # empty key + Exists: every taint
        ({"operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"value": "gpu"}, True),  # empty key matches any key; Equal compares values
        ({"key": "dedicated", "operator": "Lt", "value": "gpu"}, False),  # unknown operator
    ],
)
def test_tolerates(toleration: Obj, expected: bool) -> None:
    assert tolerates(toleration, TAINT) is expected
    parsed = Toleration.from_json(toleration)
    assert parsed.tolerates("dedicated", "gpu", "NoSchedule") is expected
    others = [Toleration("x", "Exists", "", ""), parsed]
    assert tolerated(others, "dedicated", "gpu", "NoSchedule") is expected


def test_a_taint_without_value_is_tolerated_by_an_equal_toleration_without_value() -> None:
    assert tolerates({"key": "k", "operator": "Equal"}, {"key": "k", "effect": "NoExecute"})
    assert not tolerates({"key": "k", "value": "v"}, {"key": "k", "effect": "NoExecute"})


def test_tolerated_needs_one_match() -> None:
    assert not tolerated([], "k", "v", "NoSchedule")
    assert not tolerated([Toleration("other", "Exists", "", "")], "k", "v", "NoSchedule")


def test_matching_tolerations_answers_the_first_match_of_each_taint() -> None:
    unreachable = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
    not_ready = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}
    wide = {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}
    narrow = {"key": "node.kubernetes.io/unreachable", "operator": "Exists"}
    assert matching_tolerations([unreachable, not_ready], [narrow, wide]) == (True, [narrow, wide])
    assert matching_tolerations([not_ready], [narrow]) == (False, [])
    assert matching_tolerations([], []) == (True, [])
